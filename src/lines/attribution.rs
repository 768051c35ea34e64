//! Source attribution: the system fields a subscription filter can emit
//! into each event's `extractedFields` (`@aws.account`, `@aws.region`,
//! `@source.log`, for log groups centralized across accounts and Regions)
//! become the line's `source_account`, `source_region` and
//! `source_log_group`. Always on: a line gets them only when its event
//! carries them, so every other line is unchanged.
//!
//! Both readers hand the writer the same `extractedFields` bytes (the value
//! as the document holds it), so reading them here gives both the same
//! fields.

use super::keys;
use crate::json::push_str;
use crate::mask::{mask, Keep};
use serde::Deserialize;
use std::borrow::Cow;

/// The system fields of one event, as CloudWatch Logs names them.
#[derive(Deserialize)]
struct SystemFields<'a> {
    #[serde(borrow, rename = "@aws.account", default)]
    account: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "@aws.region", default)]
    region: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "@source.log", default)]
    log: Option<Cow<'a, str>>,
}

/// Appends `,"source_account":…,"source_region":…,"source_log_group":…`
/// (those present) for an event whose `extractedFields` are `raw`, and sets
/// `account` to the source account when it had none yet in this record.
/// Events without system fields cost one byte search: their
/// `extractedFields` (rare to begin with) hold no `@`.
#[inline]
pub(super) fn push_source_fields(
    out: &mut Vec<u8>,
    raw: &[u8],
    keep: Option<Keep>,
    scratch: &mut String,
    account: &mut Option<String>,
) {
    if raw.first() == Some(&b'{') && raw.contains(&b'@') {
        push_found(out, raw, keep, scratch, account);
    }
}

#[inline(never)]
fn push_found(
    out: &mut Vec<u8>,
    raw: &[u8],
    keep: Option<Keep>,
    scratch: &mut String,
    account: &mut Option<String>,
) {
    // Not an object, or a system field that is not a string: no attribution
    // (the fields stay in `extracted_fields` as they are).
    let Ok(fields) = serde_json::from_slice::<SystemFields<'_>>(raw) else {
        return;
    };
    if let (None, Some(a)) = (account.as_ref(), fields.account.as_deref()) {
        *account = Some(a.to_string());
    }
    let log_group = fields.log.as_deref().map(log_group_of);
    for (key, value) in [
        (&keys::SOURCE_ACCOUNT, fields.account.as_deref()),
        (&keys::SOURCE_REGION, fields.region.as_deref()),
        (&keys::SOURCE_LOG_GROUP, log_group),
    ] {
        let Some(value) = value else { continue };
        out.extend_from_slice(key.member);
        // Masked like every text field; not counted again: the same value
        // was counted where `extracted_fields` holds it.
        match keep.and_then(|keep| mask(value, keep, scratch)) {
            Some(_) => push_str(out, scratch),
            None => push_str(out, value),
        }
    }
}

/// The log group of `@source.log`: the value without the `account-id:` it
/// may start with (the form of Logs Insights' `@log`).
fn log_group_of(log: &str) -> &str {
    match log.split_once(':') {
        Some((account, group))
            if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            group
        }
        _ => log,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(raw: &str) -> (String, Option<String>) {
        let mut out = Vec::new();
        let mut account = None;
        push_source_fields(
            &mut out,
            raw.as_bytes(),
            None,
            &mut String::new(),
            &mut account,
        );
        (String::from_utf8(out).unwrap(), account)
    }

    #[test]
    fn system_fields_become_source_fields() {
        let (out, account) = fields(
            r#"{"@aws.account":"111122223333","@aws.region":"eu-west-1","@source.log":"111122223333:/aws/lambda/pay","ip":"1.2.3.4"}"#,
        );
        assert_eq!(
            out,
            r#","source_account":"111122223333","source_region":"eu-west-1","source_log_group":"/aws/lambda/pay""#
        );
        assert_eq!(account.as_deref(), Some("111122223333"));
        assert_eq!(
            fields(r#"{"@source.log":"/ecs/api"}"#).0,
            r#","source_log_group":"/ecs/api""#
        );
        // Nothing to attribute: nothing written.
        for raw in [
            r#"{"ip":"1.2.3.4"}"#,
            r#"{"user":"a@b"}"#,
            r#"{"@aws.account":12}"#,
            r#"["@aws.account"]"#,
        ] {
            assert_eq!(fields(raw), (String::new(), None), "{raw}");
        }
    }
}
