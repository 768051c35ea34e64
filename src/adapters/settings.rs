//! Settings from environment variables, shared by the Lambda and the CLI so a
//! fixture behaves the same locally and in Lambda. Pure: the caller passes
//! the lookup, so tests need no process environment.

use crate::exclude::ExcludeList;
use crate::filter::EventFilters;
use crate::limits::{DEFAULT_INFLATE_CAP, DEFAULT_RESPONSE_BUDGET};
use crate::lines::{GroupTagKeys, LineOptions, MergeColumns, OutputFormat, StaticFields};
use crate::mask::{Keep, PanKey};
use crate::pipeline::Config;
use crate::redact::{Redact, Rules};
use std::time::Duration;

/// Default cap on attempts per re-ingested record: none. Re-ingestion
/// retries until the invocation's deadline; `REINGEST_MAX_ATTEMPTS` may add a
/// count cap (the first try included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = u32::MAX;

/// Default longest wait for one re-ingestion call's answer, in milliseconds.
pub const DEFAULT_CALL_TIMEOUT_MS: u64 = 10_000;

/// Default time the log groups' tags are kept before they are read again.
pub const DEFAULT_GROUP_TAGS_TTL_SECONDS: u64 = 300;

/// The variables read, with their meaning, for `--help` and the README.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "INFLATE_CAP",
        "largest inflated record in bytes (default 16777216)",
    ),
    (
        "RESPONSE_BUDGET",
        "largest response in bytes (default 6000000)",
    ),
    (
        "REINGEST",
        "re-ingest records that overflow the budget: true|false (default true)",
    ),
    (
        "REINGEST_MAX_ATTEMPTS",
        "cap on attempts per re-ingested record; unset or 0 = none, retry until the deadline (default)",
    ),
    (
        "REINGEST_CALL_TIMEOUT_MS",
        "longest wait for one PutRecordBatch/PutRecords answer in ms (default 10000)",
    ),
    ("OUTPUT_FORMAT", "json|message (default json)"),
    (
        "ADD_TIME",
        "add an ISO-8601 UTC `time` field: true|false (default false)",
    ),
    (
        "MERGE_JSON_MESSAGE",
        "merge a JSON-object message's fields into the line (default false)",
    ),
    (
        "MERGE_KEEP_MESSAGE",
        "with MERGE_JSON_MESSAGE, keep `message` too (default true)",
    ),
    (
        "MERGE_COLUMNS",
        "merged fields typed as the Glue table's columns: name:type,... with types \
         string|bigint|int|double|boolean|timestamp; a value that does not fit is left out \
         (default none; turns MERGE_JSON_MESSAGE on unless it is false)",
    ),
    (
        "PARTITION_KEYS",
        "return metadata.partitionKeys for dynamic partitioning (default false)",
    ),
    (
        "EXCLUDE_LOG_GROUPS",
        "log groups whose records are Dropped: GROUP or ACCOUNT:GROUP, `*` ends a prefix, \
         comma-separated, or none (default: the function's own log group, \
         AWS_LAMBDA_LOG_GROUP_NAME, in its own account)",
    ),
    ("MASK_PAN", "mask card numbers: true|false (default false)"),
    (
        "DROP_MESSAGES",
        "events whose message (masked) matches this regular expression get no line (default none)",
    ),
    (
        "KEEP_MESSAGES",
        "only events whose message (masked) matches this regular expression get a line (default none)",
    ),
    (
        "EVENT_FILTERS",
        "more drop/keep rules, per log group: a JSON list of \
         {\"name\":N,\"log_groups\":REGEX,\"drop\":REGEX} or {...,\"keep\":REGEX}; \
         name and log_groups optional (default none)",
    ),
    (
        "LAMBDA_FORMAT",
        "read Lambda's log formats into level, request_id, platform and the REPORT figures: \
         true|false (default false)",
    ),
    (
        "STATIC_FIELDS",
        "fields added to every JSON line: name=value,... (names as MERGE_COLUMNS'; default none)",
    ),
    (
        "LOG_GROUP_TAGS",
        "the log group's tags added to every JSON line: field or field=TagKey,... (fields \
         as MERGE_COLUMNS'; a tag the group lacks is left out; default none)",
    ),
    (
        "LOG_GROUP_TAGS_TTL_SECONDS",
        "seconds the tags read for a log group are kept (default 300)",
    ),
    (
        "MASK_PAN_KEEP",
        "digits of a PAN left readable: first6last4|last4 (default first6last4)",
    ),
    (
        "REDACT",
        "redact secrets and personal data: all, or detectors comma-separated: \
         aws_access_key_id,aws_secret_key,authorization,jwt,private_key,url_credentials,\
         secret_value,email,ipv4,ipv6,phone,my_number (default none)",
    ),
    (
        "REDACT_RULES",
        "custom redaction rules, one name=regex per line (`regex` crate syntax; a value \
         becomes [REDACTED:name]); turns redaction on (default none)",
    ),
    (
        "REDACT_RULES_FILE",
        "a file holding REDACT_RULES, for rule sets past Lambda's 4 KB of variables: a path \
         in the deployment package or a layer (/opt/...), read once at start (default none)",
    ),
    (
        "PAN_TOKEN_KEY",
        "with MASK_PAN, follow each masked card number with its token, HMAC-SHA-256 of the \
         PAN under this key (32-4096 bytes; the CLI's way; default none)",
    ),
    (
        "PAN_TOKEN_SECRET_ARN",
        "the Lambda's way: the Secrets Manager secret holding that key, read once per cold \
         start (default none)",
    ),
];

/// Everything both binaries configure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// What the core needs.
    pub core: Config,
    /// Cap on attempts per re-ingested record, the first included;
    /// `u32::MAX` (the default) is no cap: retries stop at the deadline.
    pub max_attempts: u32,
    /// Longest wait for one re-ingestion call's answer.
    pub reingest_call_timeout: Duration,
    /// The secret holding the card-token key (`PAN_TOKEN_SECRET_ARN`): the Lambda reads
    /// it before its first event into `core.pan_key`.
    pub pan_token_secret_arn: Option<String>,
    /// How long the tags read for a log group are kept (`LOG_GROUP_TAGS`).
    pub group_tags_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            core: Config::default(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            reingest_call_timeout: Duration::from_millis(DEFAULT_CALL_TIMEOUT_MS),
            pan_token_secret_arn: None,
            group_tags_ttl: Duration::from_secs(DEFAULT_GROUP_TAGS_TTL_SECONDS),
        }
    }
}

impl Settings {
    /// Reads the variables through `get`; unset or empty means the default.
    /// A malformed value is an error (the function should not start).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let number = |name: &str, default: usize| -> Result<usize, String> {
            var(name).map_or(Ok(default), |v| {
                v.replace('_', "")
                    .parse()
                    .map_err(|_| format!("{name}={v:?} is not a whole number of bytes"))
            })
        };
        let flag = |name: &str, default: bool| -> Result<bool, String> {
            var(name).map_or(Ok(default), |v| {
                parse_bool(&v).ok_or(format!("{name}={v:?} is not true or false"))
            })
        };
        let format = match var("OUTPUT_FORMAT") {
            Some(v) => v
                .parse::<OutputFormat>()
                .map_err(|e| format!("OUTPUT_FORMAT: {e}"))?,
            None => OutputFormat::default(),
        };
        let budget = number("RESPONSE_BUDGET", DEFAULT_RESPONSE_BUDGET)?;
        let keep = match var("MASK_PAN_KEEP") {
            Some(v) => v
                .parse::<Keep>()
                .map_err(|e| format!("MASK_PAN_KEEP: {e}"))?,
            None => Keep::default(),
        };
        let mask = flag("MASK_PAN", false)?.then_some(keep);
        let redact = match var("REDACT") {
            Some(v) if v.eq_ignore_ascii_case("none") => None,
            Some(v) => Some(v.parse::<Redact>().map_err(|e| format!("REDACT: {e}"))?),
            None => None,
        };
        let redact_rules = match get("REDACT_RULES") {
            Some(v) => Rules::parse(&v).map_err(|e| format!("REDACT_RULES: {e}"))?,
            None => Rules::default(),
        };
        // Rules alone turn redaction on, with no detector.
        let redact = match redact {
            None if !redact_rules.is_empty() => Some(Redact::NONE),
            r => r,
        };
        let pan_key = match var("PAN_TOKEN_KEY") {
            Some(v) => {
                Some(PanKey::new(v.into_bytes()).map_err(|e| format!("PAN_TOKEN_KEY: {e}"))?)
            }
            None => None,
        };
        let pan_token_secret_arn = var("PAN_TOKEN_SECRET_ARN");
        if (pan_key.is_some() || pan_token_secret_arn.is_some()) && mask.is_none() {
            return Err("PAN_TOKEN_KEY and PAN_TOKEN_SECRET_ARN need MASK_PAN=true".to_string());
        }
        if pan_key.is_some() && pan_token_secret_arn.is_some() {
            return Err("set PAN_TOKEN_KEY or PAN_TOKEN_SECRET_ARN, not both".to_string());
        }
        let merge_columns = match var("MERGE_COLUMNS") {
            Some(v) => v
                .parse::<MergeColumns>()
                .map_err(|e| format!("MERGE_COLUMNS: {e}"))?,
            None => MergeColumns::none(),
        };
        // Declared columns need merging: on unless it was turned off, and
        // then the two settings contradict each other.
        let merge_json_message = flag("MERGE_JSON_MESSAGE", !merge_columns.is_empty())?;
        if !merge_json_message && !merge_columns.is_empty() {
            return Err(
                "MERGE_COLUMNS declares merged fields but MERGE_JSON_MESSAGE is false".to_string(),
            );
        }
        // The function's own log group (which Lambda names in
        // AWS_LAMBDA_LOG_GROUP_NAME) is excluded unless the list says otherwise.
        let exclude = match var("EXCLUDE_LOG_GROUPS") {
            Some(v) => ExcludeList::parse(&v)?,
            None => var("AWS_LAMBDA_LOG_GROUP_NAME")
                .map_or_else(ExcludeList::none, |g| ExcludeList::own_group(&g)),
        };
        let filters = EventFilters::from_settings(
            var("DROP_MESSAGES").as_deref(),
            var("KEEP_MESSAGES").as_deref(),
            var("EVENT_FILTERS").as_deref(),
        )
        .map_err(|e| format!("DROP_MESSAGES, KEEP_MESSAGES, EVENT_FILTERS: {e}"))?;
        let static_fields = match var("STATIC_FIELDS") {
            Some(v) => v
                .parse::<StaticFields>()
                .map_err(|e| format!("STATIC_FIELDS: {e}"))?,
            None => StaticFields::none(),
        };
        let lambda_format = flag("LAMBDA_FORMAT", false)?;
        let group_tags = match var("LOG_GROUP_TAGS") {
            Some(v) => v
                .parse::<GroupTagKeys>()
                .map_err(|e| format!("LOG_GROUP_TAGS: {e}"))?,
            None => GroupTagKeys::none(),
        };
        // One Glue column each: no two settings may name one.
        let lambda_keys: &[&str] = if lambda_format {
            &crate::lines::keys::LAMBDA_KEYS
        } else {
            &[]
        };
        for name in static_fields.names() {
            if merge_columns.iter().any(|(c, _)| c == name) {
                return Err(format!(
                    "STATIC_FIELDS and MERGE_COLUMNS both name {name:?} (one column each)"
                ));
            }
        }
        for name in group_tags.names() {
            let other = if static_fields.names().any(|n| n == name) {
                Some("STATIC_FIELDS")
            } else {
                merge_columns
                    .iter()
                    .any(|(c, _)| c == name)
                    .then_some("MERGE_COLUMNS")
            };
            if let Some(other) = other {
                return Err(format!(
                    "LOG_GROUP_TAGS and {other} both name {name:?} (one column each)"
                ));
            }
        }
        let named = static_fields
            .names()
            .map(|n| ("STATIC_FIELDS", n))
            .chain(merge_columns.iter().map(|(n, _)| ("MERGE_COLUMNS", n)))
            .chain(group_tags.names().map(|n| ("LOG_GROUP_TAGS", n)));
        for (setting, name) in named {
            if lambda_keys.contains(&name) {
                return Err(format!(
                    "{setting} names {name:?}, a field of LAMBDA_FORMAT=true (one column each)"
                ));
            }
        }
        Ok(Self {
            core: Config {
                inflate_cap: number("INFLATE_CAP", DEFAULT_INFLATE_CAP)?,
                response_budget: Some(budget),
                reingest: flag("REINGEST", true)?,
                partition_keys: flag("PARTITION_KEYS", false)?,
                exclude,
                keep_lines: false,
                lines: LineOptions {
                    format,
                    add_time: flag("ADD_TIME", false)?,
                    merge_json_message,
                    keep_message: flag("MERGE_KEEP_MESSAGE", true)?,
                    mask,
                    redact,
                },
                merge_columns,
                filters,
                static_fields,
                lambda_format,
                pan_key,
                redact_rules,
                group_tags,
            },
            max_attempts: match number("REINGEST_MAX_ATTEMPTS", 0)? {
                0 => DEFAULT_MAX_ATTEMPTS,
                n => u32::try_from(n)
                    .map_err(|_| "REINGEST_MAX_ATTEMPTS is too large".to_string())?,
            },
            reingest_call_timeout: Duration::from_millis(
                match number("REINGEST_CALL_TIMEOUT_MS", DEFAULT_CALL_TIMEOUT_MS as usize)? {
                    0 => return Err("REINGEST_CALL_TIMEOUT_MS must be at least 1".to_string()),
                    n => n as u64,
                },
            ),
            pan_token_secret_arn,
            group_tags_ttl: Duration::from_secs(number(
                "LOG_GROUP_TAGS_TTL_SECONDS",
                DEFAULT_GROUP_TAGS_TTL_SECONDS as usize,
            )? as u64),
        })
    }

    /// Reads the process environment; `REDACT_RULES_FILE` names a file whose text stands
    /// for `REDACT_RULES` (at most [`MAX_RULES_FILE`] bytes).
    pub fn from_env() -> Result<Self, String> {
        let rules = match std::env::var("REDACT_RULES_FILE")
            .ok()
            .filter(|p| !p.trim().is_empty())
        {
            Some(path) => Some(read_rules_file(path.trim())?),
            None => None,
        };
        Self::from_lookup(|name| match (name, &rules) {
            ("REDACT_RULES", Some(text)) => Some(text.clone()),
            _ => std::env::var(name).ok(),
        })
    }
}

/// Largest `REDACT_RULES_FILE` read.
pub const MAX_RULES_FILE: u64 = 256 * 1024;

/// The text of the rules file at `path`, capped.
fn read_rules_file(path: &str) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("REDACT_RULES_FILE={path:?}: {e}"))?;
    let mut text = String::new();
    #[allow(
        clippy::disallowed_methods,
        reason = "bounded by take(cap + 1) just before"
    )]
    file.take(MAX_RULES_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("REDACT_RULES_FILE={path:?}: {e}"))?;
    if text.len() as u64 > MAX_RULES_FILE {
        return Err(format!(
            "REDACT_RULES_FILE={path:?}: larger than {MAX_RULES_FILE} bytes"
        ));
    }
    Ok(text)
}

/// `true`/`false` and their usual spellings.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(settings(&[]).unwrap(), Settings::default());
        let s = settings(&[
            ("INFLATE_CAP", "1_000"),
            ("RESPONSE_BUDGET", "5000"),
            ("OUTPUT_FORMAT", "Message"),
            ("ADD_TIME", "yes"),
            ("PARTITION_KEYS", "true"),
            ("REINGEST", "false"),
            ("REINGEST_MAX_ATTEMPTS", "3"),
        ])
        .unwrap();
        assert_eq!(s.core.inflate_cap, 1000);
        assert_eq!(s.core.response_budget, Some(5000));
        assert_eq!(s.core.lines.format, OutputFormat::Message);
        assert!(s.core.lines.add_time && s.core.partition_keys && !s.core.reingest);
        assert_eq!(s.max_attempts, 3);
        assert_eq!(s.reingest_call_timeout, Duration::from_secs(10));
        // Unset or 0: no count cap (retries stop at the deadline).
        assert_eq!(settings(&[]).unwrap().max_attempts, u32::MAX);
        let s = settings(&[
            ("REINGEST_MAX_ATTEMPTS", "0"),
            ("REINGEST_CALL_TIMEOUT_MS", "1500"),
        ])
        .unwrap();
        assert_eq!(s.max_attempts, u32::MAX);
        assert_eq!(s.reingest_call_timeout, Duration::from_millis(1500));
        assert!(settings(&[("REINGEST_CALL_TIMEOUT_MS", "0")]).is_err());
        assert_eq!(s.core.lines.mask, None);
        let s = settings(&[("MASK_PAN", "true"), ("MASK_PAN_KEEP", "last4")]).unwrap();
        assert_eq!(s.core.lines.mask, Some(Keep::Last4));
        assert!(settings(&[("MASK_PAN", "true"), ("MASK_PAN_KEEP", "none")]).is_err());
        assert_eq!(s.core.lines.redact, None);
        assert_eq!(
            settings(&[("REDACT", "all")]).unwrap().core.lines.redact,
            Some(Redact::ALL)
        );
        let s = settings(&[("REDACT", "email, ipv4")]).unwrap();
        assert_eq!(s.core.lines.redact.unwrap().to_string(), "email,ipv4");
        assert_eq!(
            settings(&[("REDACT", "none")]).unwrap().core.lines.redact,
            None
        );
        let key = "k".repeat(32);
        let s = settings(&[("MASK_PAN", "true"), ("PAN_TOKEN_KEY", &key)]).unwrap();
        assert_eq!(
            s.core.pan_key,
            Some(PanKey::new(key.clone().into_bytes()).unwrap())
        );
        assert!(!format!("{s:?}").contains(&key), "the key is never shown");
        assert!(settings(&[("PAN_TOKEN_KEY", &key)])
            .unwrap_err()
            .contains("MASK_PAN"));
        assert!(settings(&[("MASK_PAN", "true"), ("PAN_TOKEN_KEY", "short")]).is_err());
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:k";
        let s = settings(&[("MASK_PAN", "true"), ("PAN_TOKEN_SECRET_ARN", arn)]).unwrap();
        assert_eq!(s.pan_token_secret_arn.as_deref(), Some(arn));
        let rules = "employee_id=EMP-\\d{6}\n# a comment\n\norder_ref = ORD[0-9]+";
        let s = settings(&[("REDACT_RULES", rules)]).unwrap();
        assert_eq!(
            s.core.lines.redact,
            Some(Redact::NONE),
            "rules alone turn it on"
        );
        assert_eq!(
            format!("{:?}", s.core.redact_rules),
            "[\"employee_id\", \"order_ref\"]"
        );
        let e = settings(&[("REDACT_RULES", "ok=a+\nbroken=a(b")]).unwrap_err();
        assert!(e.starts_with("REDACT_RULES: rule \"broken\""), "{e}");
        assert!(settings(&[("REDACT_RULES", "Bad Name=x")]).is_err());
        assert!(settings(&[("REDACT_RULES", "empty=a*")]).is_err());
        assert!(settings(&[("REDACT_RULES", "a=x\na=y")]).is_err());
        let e = settings(&[("REDACT", "email,ssn")]).unwrap_err();
        assert!(e.starts_with("REDACT: ") && e.contains("ssn"), "{e}");
    }

    #[test]
    fn malformed_values_are_errors() {
        assert!(settings(&[("INFLATE_CAP", "lots")])
            .unwrap_err()
            .contains("INFLATE_CAP"));
        assert!(settings(&[("ADD_TIME", "maybe")]).is_err());
        assert!(settings(&[("OUTPUT_FORMAT", "xml")]).is_err());
        assert!(settings(&[("EXCLUDE_LOG_GROUPS", "12:/x")]).is_err());
    }

    #[test]
    fn static_fields() {
        let s = settings(&[("STATIC_FIELDS", "env=prod,pci_scope=cde")]).unwrap();
        assert_eq!(s.core.static_fields.to_string(), "env=prod,pci_scope=cde");
        assert!(settings(&[("STATIC_FIELDS", "env")])
            .unwrap_err()
            .contains("STATIC_FIELDS"));
        let e = settings(&[
            ("STATIC_FIELDS", "env=prod"),
            ("MERGE_COLUMNS", "env:string"),
        ])
        .unwrap_err();
        assert!(e.contains("both name \"env\""), "{e}");
        assert!(
            settings(&[("LAMBDA_FORMAT", "true")])
                .unwrap()
                .core
                .lambda_format
        );
        for (var, value) in [
            ("STATIC_FIELDS", "level=x"),
            ("MERGE_COLUMNS", "duration_ms:double"),
        ] {
            let e = settings(&[(var, value), ("LAMBDA_FORMAT", "true")]).unwrap_err();
            assert!(e.contains("LAMBDA_FORMAT"), "{e}");
            assert!(settings(&[(var, value)]).is_ok());
        }
    }

    #[test]
    fn log_group_tags() {
        let s = settings(&[]).unwrap();
        assert!(s.core.group_tags.is_empty());
        assert_eq!(s.group_tags_ttl, Duration::from_secs(300));
        let s = settings(&[
            ("LOG_GROUP_TAGS", "team, cost_center=CostCenter"),
            ("LOG_GROUP_TAGS_TTL_SECONDS", "60"),
        ])
        .unwrap();
        assert_eq!(s.core.group_tags.to_string(), "team,cost_center=CostCenter");
        assert_eq!(s.group_tags_ttl, Duration::from_secs(60));
        for (vars, words) in [
            (&[("LOG_GROUP_TAGS", "Team")][..], "LOG_GROUP_TAGS: "),
            (
                &[("LOG_GROUP_TAGS_TTL_SECONDS", "soon")],
                "LOG_GROUP_TAGS_TTL_SECONDS",
            ),
            (
                &[("LOG_GROUP_TAGS", "env"), ("STATIC_FIELDS", "env=prod")],
                "LOG_GROUP_TAGS and STATIC_FIELDS both name \"env\"",
            ),
            (
                &[("LOG_GROUP_TAGS", "env"), ("MERGE_COLUMNS", "env:string")],
                "LOG_GROUP_TAGS and MERGE_COLUMNS both name \"env\"",
            ),
            (
                &[("LOG_GROUP_TAGS", "level"), ("LAMBDA_FORMAT", "true")],
                "LOG_GROUP_TAGS names \"level\", a field of LAMBDA_FORMAT",
            ),
        ] {
            let e = settings(vars).unwrap_err();
            assert!(e.contains(words), "{vars:?}: {e}");
        }
    }

    /// A bad pattern stops the function before its first event, and the
    /// error names the rule and the pattern.
    #[test]
    fn event_filters() {
        assert!(settings(&[]).unwrap().core.filters.is_empty());
        let s = settings(&[
            ("DROP_MESSAGES", "^DEBUG"),
            ("KEEP_MESSAGES", "level"),
            ("EVENT_FILTERS", r#"[{"name":"health","drop":"/health"}]"#),
        ])
        .unwrap();
        let names: Vec<&str> = s
            .core
            .filters
            .rules()
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(names, ["drop_messages", "keep_messages", "health"]);
        for (var, value, words) in [
            (
                "DROP_MESSAGES",
                "a(b",
                r#"rule "drop_messages": pattern "a(b""#,
            ),
            ("KEEP_MESSAGES", "[", r#"rule "keep_messages": pattern "[""#),
            (
                "EVENT_FILTERS",
                r#"[{"name":"x","drop":"?"}]"#,
                r#"rule "x": pattern "?""#,
            ),
            ("EVENT_FILTERS", "drop=x", "EVENT_FILTERS is not a list"),
        ] {
            let e = settings(&[(var, value)]).unwrap_err();
            assert!(e.contains(words), "{var}={value}: {e}");
        }
    }

    #[test]
    fn merge_columns() {
        let s = settings(&[("MERGE_COLUMNS", "level:string, status:int")]).unwrap();
        assert_eq!(s.core.merge_columns.to_string(), "level:string,status:int");
        assert!(
            s.core.lines.merge_json_message,
            "declared columns turn merging on"
        );
        let s = settings(&[
            ("MERGE_COLUMNS", "level:string"),
            ("MERGE_JSON_MESSAGE", "true"),
        ])
        .unwrap();
        assert!(s.core.lines.merge_json_message);
        assert!(settings(&[("MERGE_COLUMNS", "none")])
            .unwrap()
            .core
            .merge_columns
            .is_empty());
        for bad in [
            "level",
            "level:varchar",
            "Level:string",
            "message:string",
            "a:int,a:int",
        ] {
            let e = settings(&[("MERGE_COLUMNS", bad)]).unwrap_err();
            assert!(e.starts_with("MERGE_COLUMNS: "), "{bad}: {e}");
        }
        assert!(settings(&[
            ("MERGE_COLUMNS", "level:string"),
            ("MERGE_JSON_MESSAGE", "false"),
        ])
        .unwrap_err()
        .contains("MERGE_JSON_MESSAGE is false"));
    }

    #[test]
    fn excluded_log_groups() {
        let own = settings(&[("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/f")]).unwrap();
        assert_eq!(own.core.exclude, ExcludeList::own_group("/aws/lambda/f"));
        let listed = settings(&[
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/f"),
            ("EXCLUDE_LOG_GROUPS", "/a,/b*"),
        ])
        .unwrap();
        assert_eq!(listed.core.exclude.to_string(), "/a,/b*");
        let off = settings(&[
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/f"),
            ("EXCLUDE_LOG_GROUPS", "none"),
        ])
        .unwrap();
        assert!(off.core.exclude.is_empty());
    }
}
