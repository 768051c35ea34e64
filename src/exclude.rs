//! Log groups whose records are dropped (`EXCLUDE_LOG_GROUPS`): defence in
//! depth against a subscription that ships the pipeline's own logs back into
//! it, which would bill every turn of the loop. A misconfigured subscription
//! then costs one dropped record per batch, not a loop.

use std::fmt;

/// Which log groups, of which accounts, are excluded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExcludeList {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    account: Account,
    group: String,
    /// The entry ended in `*`: `group` is a prefix.
    prefix: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Account {
    /// Any account.
    Any,
    /// The function's own account: the one in the delivery stream's ARN.
    Own,
    /// This account id.
    Id(String),
}

impl ExcludeList {
    /// Nothing excluded.
    pub fn none() -> Self {
        Self::default()
    }

    /// The default: `group` (the function's own log group) in the function's
    /// own account only. The same name in another account is someone else's
    /// log group and is kept.
    pub fn own_group(group: &str) -> Self {
        Self {
            entries: vec![Entry {
                account: Account::Own,
                group: group.to_string(),
                prefix: false,
            }],
        }
    }

    /// Parses `EXCLUDE_LOG_GROUPS`: `none`, or comma-separated entries, each
    /// `LOG_GROUP` (any account) or `ACCOUNT_ID:LOG_GROUP` (log group names
    /// cannot hold `:`); an entry ending in `*` matches by prefix.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("none") {
            return Ok(Self::none());
        }
        let mut entries = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (account, group) = match item.split_once(':') {
                Some((id, group)) => {
                    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(format!(
                            "EXCLUDE_LOG_GROUPS entry {item:?}: {id:?} is not a 12-digit account id"
                        ));
                    }
                    (Account::Id(id.to_string()), group)
                }
                None => (Account::Any, item),
            };
            let (group, prefix) = match group.strip_suffix('*') {
                Some(p) => (p, true),
                None => (group, false),
            };
            if group.is_empty() && !prefix {
                return Err(format!(
                    "EXCLUDE_LOG_GROUPS entry {item:?} names no log group"
                ));
            }
            entries.push(Entry {
                account,
                group: group.to_string(),
                prefix,
            });
        }
        Ok(Self { entries })
    }

    /// Whether nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a record of `group` from account `owner` is excluded, for a
    /// function in `own_account` (`None` when the event does not say).
    pub fn excludes(&self, own_account: Option<&str>, owner: &str, group: &str) -> bool {
        self.entries.iter().any(|e| {
            let account = match &e.account {
                Account::Any => true,
                Account::Own => own_account == Some(owner),
                Account::Id(id) => id == owner,
            };
            let name = if e.prefix {
                group.starts_with(&e.group)
            } else {
                group == e.group
            };
            account && name
        })
    }
}

/// The list as `EXCLUDE_LOG_GROUPS` would spell it (`own:` for the default's
/// own-account entry, which has no spelling of its own).
impl fmt::Display for ExcludeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries.is_empty() {
            return f.write_str("none");
        }
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match &e.account {
                Account::Any => {}
                Account::Own => f.write_str("own:")?,
                Account::Id(id) => write!(f, "{id}:")?,
            }
            f.write_str(&e.group)?;
            if e.prefix {
                f.write_str("*")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_group_only_in_own_account() {
        let l = ExcludeList::own_group("/aws/lambda/cwl");
        assert!(l.excludes(Some("111111111111"), "111111111111", "/aws/lambda/cwl"));
        assert!(!l.excludes(Some("111111111111"), "222222222222", "/aws/lambda/cwl"));
        assert!(!l.excludes(None, "111111111111", "/aws/lambda/cwl"));
        assert!(!l.excludes(Some("111111111111"), "111111111111", "/aws/lambda/cwl2"));
    }

    #[test]
    fn parses_entries() {
        let l = ExcludeList::parse(" /a , 222222222222:/b, /aws/kinesisfirehose/*,").unwrap();
        assert!(l.excludes(None, "333333333333", "/a"));
        assert!(l.excludes(None, "222222222222", "/b"));
        assert!(!l.excludes(None, "333333333333", "/b"));
        assert!(l.excludes(None, "1", "/aws/kinesisfirehose/x"));
        assert!(!l.excludes(None, "1", "/aws/kinesis"));
        assert_eq!(l.to_string(), "/a,222222222222:/b,/aws/kinesisfirehose/*");
        assert!(ExcludeList::parse("none").unwrap().is_empty());
        assert!(ExcludeList::parse("12:/x").is_err());
        assert!(ExcludeList::parse("222222222222:").is_err());
    }
}
