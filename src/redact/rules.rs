//! Custom rules: a name and a regular expression an operator adds without a rebuild, one
//! per line as `name=pattern` (`#` starts a comment line). The `regex` crate's patterns:
//! matched in time linear in the text, with no backtracking, whatever the pattern; a
//! pattern that does not compile is an error naming its rule, before the first event.

use super::find::{Found, Label};
use regex::{Regex, RegexBuilder};
use std::fmt;
use std::sync::Arc;

/// Most rules read.
pub const MAX_RULES: usize = 200;
/// Longest rule name.
const MAX_NAME: usize = 40;
/// Largest compiled program of one pattern (the `regex` crate's own bound, lowered): a
/// pattern past it is refused rather than slowing every line.
const SIZE_LIMIT: usize = 1 << 20;

/// One rule.
#[derive(Debug)]
struct Rule {
    name: String,
    pattern: String,
    regex: Regex,
}

/// The custom rules, shared by every writer (cheap to clone).
#[derive(Clone, Default)]
pub struct Rules(Arc<Vec<Rule>>);

impl Rules {
    /// Parses `text`: one `name=pattern` per line; blank lines and lines starting with `#`
    /// are skipped. Names are 1-40 of `a-z0-9_`, each used once.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rules: Vec<Rule> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, pattern) = line
                .split_once('=')
                .ok_or_else(|| format!("line {}: expected name=pattern", n + 1))?;
            let name = name.trim();
            if name.is_empty()
                || name.len() > MAX_NAME
                || !name
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
            {
                return Err(format!(
                    "line {}: rule name {name:?} is not 1-{MAX_NAME} of a-z, 0-9, _",
                    n + 1
                ));
            }
            if rules.iter().any(|r| r.name == name) {
                return Err(format!("rule {name:?} is named twice"));
            }
            if rules.len() == MAX_RULES {
                return Err(format!("more than {MAX_RULES} rules"));
            }
            let regex = RegexBuilder::new(pattern)
                .size_limit(SIZE_LIMIT)
                .build()
                .map_err(|e| format!("rule {name:?}: {e}"))?;
            if regex.is_match("") {
                return Err(format!("rule {name:?} matches the empty text"));
            }
            rules.push(Rule {
                name: name.to_string(),
                pattern: pattern.to_string(),
                regex,
            });
        }
        Ok(Self(Arc::new(rules)))
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The name of rule `i`.
    pub(super) fn name(&self, i: usize) -> &str {
        self.0.get(i).map_or("", |r| r.name.as_str())
    }

    /// Appends every match of every rule in `b`.
    pub(super) fn find_all(&self, b: &[u8], found: &mut Vec<Found>) {
        // Matched on text, so a match never splits a character. Every text written is
        // UTF-8; a text that were not would be left to the detectors.
        let Some(text) = (!self.0.is_empty())
            .then(|| std::str::from_utf8(b).ok())
            .flatten()
        else {
            return;
        };
        for (i, rule) in self.0.iter().enumerate() {
            for m in rule.regex.find_iter(text) {
                found.push(Found {
                    start: m.start(),
                    end: m.end(),
                    label: Label::Rule(i),
                });
            }
        }
    }
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|r| &r.name))
            .finish()
    }
}

/// Rules are equal when they are written the same.
impl PartialEq for Rules {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(other.0.iter())
                .all(|(a, b)| a.name == b.name && a.pattern == b.pattern)
    }
}

impl Eq for Rules {}
