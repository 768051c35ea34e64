//! `LOG_GROUP_TAGS`: the log group's own tags written into every JSON line
//! of its records (`team`, `env`, `pci_scope`), so that a query selects by
//! what the group is, not by a list of group names. The core only holds the
//! tags it was given, per owner and log group, and notes the groups it saw
//! without them; reading the tags (an AWS API call) is the adapter's job,
//! and so is their lifetime (the adapter expires them).
//!
//! The members of a group are written once, when its tags are stored, and
//! added to the record-constant part of the line: a line costs nothing more
//! than their bytes.

use super::columns::parse_column_items;
use crate::json::push_str;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// At most this many tags (each is a column of the Glue table).
pub const MAX_GROUP_TAGS: usize = 10;

/// At most this many log groups are held; past it, the oldest half of what
/// is held is forgotten (read again when seen again).
pub const MAX_GROUPS: usize = 10_000;

/// Longest tag value written, in bytes: CloudWatch Logs' own limit (256
/// characters of at most 4 bytes). A longer value is not written.
pub const MAX_TAG_VALUE: usize = 1024;

/// The tags to copy: each a line field (a Glue column) and the tag key it
/// is read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupTagKeys {
    /// `(field, tag key)`, in order.
    fields: Vec<(String, String)>,
}

impl GroupTagKeys {
    /// None.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether there is none (the option is off).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The line fields, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.fields.iter().map(|(n, _)| n.as_str())
    }
}

/// `field` or `field=TagKey`, comma-separated (empty or `none`: no tag). A
/// field is a Glue column name, none of the table's own columns, each once;
/// alone, it is also the tag key (tag keys are case-sensitive: `Team` needs
/// `team=Team`).
impl FromStr for GroupTagKeys {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let fields = parse_column_items(s, MAX_GROUP_TAGS, |item| {
            let (name, key) = match item.split_once('=') {
                Some((name, key)) => (name.trim(), key.trim()),
                None => (item.trim(), item.trim()),
            };
            if key.is_empty() {
                return Err(format!("field {name:?} names no tag key"));
            }
            Ok((name, key.to_string()))
        })?;
        Ok(Self { fields })
    }
}

/// `field` or `field=TagKey`, as parsed.
impl fmt::Display for GroupTagKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, key)) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match name == key {
                true => f.write_str(name)?,
                false => write!(f, "{name}={key}")?,
            }
        }
        Ok(())
    }
}

/// One group's tags as the lines copy them.
#[derive(Debug)]
struct Entry {
    /// When the adapter read them.
    read_at: Instant,
    /// `,"field":"value"` of every configured tag the group has.
    members: Vec<u8>,
}

/// The tags known per owner and log group, and the groups seen without.
#[derive(Debug, Default)]
pub struct GroupTags {
    keys: GroupTagKeys,
    /// Owner, then log group: looked up by `&str` without a copy.
    table: HashMap<String, HashMap<String, Entry>>,
    /// Entries in `table`.
    held: usize,
    /// `(owner, log group)` of the records seen since the last
    /// [`Self::take_missing`] whose group had no entry, each once.
    missing: Vec<(String, String)>,
}

impl GroupTags {
    /// The table for `keys`, empty.
    pub fn new(keys: GroupTagKeys) -> Self {
        Self {
            keys,
            ..Self::default()
        }
    }

    /// The tags copied.
    pub fn keys(&self) -> &GroupTagKeys {
        &self.keys
    }

    /// The members a line of this group copies, or `None` (noted as
    /// missing) when its tags are not held.
    pub(crate) fn members(&mut self, owner: &str, group: &str) -> Option<&[u8]> {
        match self.table.get(owner).and_then(|g| g.get(group)) {
            Some(entry) => Some(&entry.members),
            None => {
                if !self.missing.iter().any(|(o, g)| o == owner && g == group) {
                    self.missing.push((owner.to_string(), group.to_string()));
                }
                None
            }
        }
    }

    /// The groups seen without tags since the last call, each once; the
    /// list is emptied.
    pub fn take_missing(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.missing)
    }

    /// Holds `tags` (every tag of the group, key and value; those not
    /// configured are ignored) as the group's, read at `read_at`. An empty
    /// list is a group without tags, or one whose tags could not be read.
    pub fn insert<'t>(
        &mut self,
        owner: &str,
        group: &str,
        tags: impl IntoIterator<Item = (&'t str, &'t str)> + Clone,
        read_at: Instant,
    ) {
        let mut members = Vec::new();
        for (name, key) in &self.keys.fields {
            let value = tags.clone().into_iter().find(|(k, _)| k == key);
            if let Some((_, value)) = value.filter(|(_, v)| v.len() <= MAX_TAG_VALUE) {
                members.push(b',');
                push_str(&mut members, name);
                members.push(b':');
                push_str(&mut members, value);
            }
        }
        if self.held >= MAX_GROUPS {
            self.forget_oldest_half();
        }
        let entry = Entry { read_at, members };
        let groups = self.table.entry(owner.to_string()).or_default();
        if groups.insert(group.to_string(), entry).is_none() {
            self.held += 1;
        }
    }

    /// Forgets the tags read `ttl` or longer before `now`.
    pub fn expire(&mut self, now: Instant, ttl: Duration) {
        self.retain(|read_at| now.saturating_duration_since(read_at) < ttl);
    }

    fn forget_oldest_half(&mut self) {
        let mut times: Vec<Instant> = self
            .table
            .values()
            .flat_map(|g| g.values().map(|e| e.read_at))
            .collect();
        times.sort_unstable();
        if let Some(&median) = times.get(times.len() / 2) {
            self.retain(|read_at| read_at > median);
        }
    }

    fn retain(&mut self, keep: impl Fn(Instant) -> bool) {
        for groups in self.table.values_mut() {
            groups.retain(|_, e| keep(e.read_at));
        }
        self.table.retain(|_, g| !g.is_empty());
        self.held = self.table.values().map(HashMap::len).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: Option<&[u8]>) -> Option<&str> {
        m.map(|m| std::str::from_utf8(m).unwrap())
    }

    #[test]
    fn keys_are_parsed() {
        let k: GroupTagKeys = " team , cost_center=CostCenter,env".parse().unwrap();
        assert_eq!(k.to_string(), "team,cost_center=CostCenter,env");
        assert_eq!(
            k.names().collect::<Vec<_>>(),
            ["team", "cost_center", "env"]
        );
        assert!("".parse::<GroupTagKeys>().unwrap().is_empty());
        assert!("none".parse::<GroupTagKeys>().unwrap().is_empty());
        for (bad, words) in [
            ("Team", "lowercase"),
            ("owner", "own columns"),
            ("log_group=x", "own columns"),
            ("team=", "no tag key"),
            ("team,team=Team", "twice"),
        ] {
            let e = bad.parse::<GroupTagKeys>().unwrap_err();
            assert!(e.contains(words), "{bad}: {e}");
        }
        let many = (0..=MAX_GROUP_TAGS)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>();
        assert!(many.join(",").parse::<GroupTagKeys>().is_err());
    }

    #[test]
    fn members_in_setting_order_and_missing_noted_once() {
        let mut t = GroupTags::new("team,cost_center=CostCenter,env".parse().unwrap());
        assert_eq!(t.members("1", "/a"), None);
        assert_eq!(t.members("1", "/a"), None);
        assert_eq!(t.members("2", "/a"), None);
        assert_eq!(
            t.take_missing(),
            [("1".into(), "/a".into()), ("2".into(), "/a".into())]
        );
        assert!(t.take_missing().is_empty());
        let now = Instant::now();
        let tags = [
            ("env", "prod"),
            ("other", "x"),
            ("CostCenter", "c\"1"),
            ("team", "pay"),
        ];
        t.insert("1", "/a", tags, now);
        t.insert("2", "/a", [], now);
        assert_eq!(
            text(t.members("1", "/a")),
            Some(r#","team":"pay","cost_center":"c\"1","env":"prod""#)
        );
        assert_eq!(text(t.members("2", "/a")), Some(""));
        assert!(t.take_missing().is_empty());
        let long = "v".repeat(MAX_TAG_VALUE + 1);
        t.insert("3", "/a", [("team", long.as_str())], now);
        assert_eq!(text(t.members("3", "/a")), Some(""));
    }

    #[test]
    fn expired_and_capped() {
        let mut t = GroupTags::new("team".parse().unwrap());
        let start = Instant::now();
        t.insert("1", "/old", [("team", "a")], start);
        t.insert(
            "1",
            "/new",
            [("team", "b")],
            start + Duration::from_secs(10),
        );
        t.expire(start + Duration::from_secs(15), Duration::from_secs(10));
        assert_eq!(t.members("1", "/old"), None);
        assert!(t.members("1", "/new").is_some());
        t.expire(start + Duration::from_secs(20), Duration::from_secs(10));
        assert_eq!(t.held, 0);
        assert!(t.table.is_empty());

        for i in 0..MAX_GROUPS {
            let at = start + Duration::from_millis(i as u64);
            t.insert("1", &format!("/g{i}"), [], at);
        }
        assert_eq!(t.held, MAX_GROUPS);
        t.insert("1", "/last", [], start + Duration::from_secs(60));
        assert!(t.held <= MAX_GROUPS / 2 + 1, "{}", t.held);
        assert!(t.members("1", "/last").is_some());
        assert!(t.members("1", "/g0").is_none());
    }
}
