//! `STATIC_FIELDS`: `name=value` pairs written into every line
//! (`env=prod,pci_scope=cde`), so that "every event of the cardholder-data
//! environment" is one predicate instead of a list of log groups. The
//! members are written once, when the setting is read; each line copies
//! them.

use super::columns::parse_column_items;
use crate::json::push_str;
use std::fmt;
use std::str::FromStr;

/// At most this many fields (each is a column of the Glue table).
pub const MAX_STATIC_FIELDS: usize = 10;

/// The static fields, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticFields {
    fields: Vec<(String, String)>,
    /// `,"name":"value"` of every field: what each line copies.
    members: Vec<u8>,
}

impl StaticFields {
    /// None.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.fields.iter().map(|(n, _)| n.as_str())
    }

    /// `,"name":"value"` of every field.
    #[inline]
    pub(crate) fn members(&self) -> &[u8] {
        &self.members
    }
}

/// `name=value,…` (empty or `none`: no field). Names are Glue column names,
/// none of the table's own columns, each once; a value is any text without
/// `,` (written as a JSON string).
impl FromStr for StaticFields {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let fields = parse_column_items(s, MAX_STATIC_FIELDS, |item| {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| format!("{:?} is not name=value", item.trim()))?;
            Ok((name.trim(), value.trim().to_string()))
        })?;
        let mut out = Self {
            fields,
            members: Vec::new(),
        };
        for (name, value) in &out.fields {
            out.members.push(b',');
            push_str(&mut out.members, name);
            out.members.push(b':');
            push_str(&mut out.members, value);
        }
        Ok(out)
    }
}

/// `name=value,…`, as parsed.
impl fmt::Display for StaticFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{name}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_and_written_once() {
        let f: StaticFields = " env=prod , pci_scope=cde,note=a \"b\"".parse().unwrap();
        assert_eq!(f.to_string(), "env=prod,pci_scope=cde,note=a \"b\"");
        assert_eq!(
            std::str::from_utf8(f.members()).unwrap(),
            r#","env":"prod","pci_scope":"cde","note":"a \"b\"""#
        );
        assert!("".parse::<StaticFields>().unwrap().is_empty());
        assert!("none".parse::<StaticFields>().unwrap().is_empty());
        for (bad, words) in [
            ("env", "not name=value"),
            ("Env=x", "lowercase"),
            ("owner=x", "own columns"),
            ("source_account=x", "own columns"),
            ("year=2025", "own columns"),
            ("a=1,a=2", "twice"),
        ] {
            let e = bad.parse::<StaticFields>().unwrap_err();
            assert!(e.contains(words), "{bad}: {e}");
        }
        let many = (0..=MAX_STATIC_FIELDS)
            .map(|i| format!("f{i}=v"))
            .collect::<Vec<_>>();
        assert!(many.join(",").parse::<StaticFields>().is_err());
    }
}
