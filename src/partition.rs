//! `metadata.partitionKeys` for Firehose dynamic partitioning.
//!
//! Keys: `log_group` (made safe for an S3 prefix), `owner`, and the UTC
//! `year`/`month`/`day`/`hour` of the record's FIRST event: a record whose
//! events span an hour boundary lands whole in its first event's hour.

use crate::json::push_str;
use crate::lines::time::civil_from_days;

/// Appends `,"metadata":{"partitionKeys":{…}}` for a record of `log_group`
/// (as the lines show it) from account `owner` whose first event is at `ts`.
pub fn push_partition_keys_for(out: &mut Vec<u8>, log_group: &str, owner: &str, ts: i64) {
    let secs = ts.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let h = secs.rem_euclid(86_400) / 3600;
    out.extend_from_slice(b",\"metadata\":{\"partitionKeys\":{\"log_group\":");
    push_str(out, &sanitize_log_group(log_group));
    out.extend_from_slice(b",\"owner\":");
    push_str(out, owner);
    out.extend_from_slice(
        format!(
            ",\"year\":\"{y:04}\",\"month\":\"{m:02}\",\"day\":\"{d:02}\",\"hour\":\"{h:02}\"}}}}"
        )
        .as_bytes(),
    );
}

/// A log group name as one S3 prefix segment: the leading `/` removed and
/// every character other than ASCII letters, digits, `.`, `_` and `-`
/// replaced by `_` (`/aws/lambda/api` → `aws_lambda_api`); empty → `unknown`.
pub fn sanitize_log_group(name: &str) -> String {
    let cleaned: String = name
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "unknown".to_string()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes() {
        assert_eq!(sanitize_log_group("/aws/lambda/api"), "aws_lambda_api");
        assert_eq!(sanitize_log_group("/ecs/api v2#1"), "ecs_api_v2_1");
        assert_eq!(sanitize_log_group(""), "unknown");
        assert_eq!(sanitize_log_group("a.b-c_d"), "a.b-c_d");
    }
}
