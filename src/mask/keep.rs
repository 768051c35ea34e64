//! How much of a card number stays readable: the one setting of masking.

use std::fmt;
use std::str::FromStr;

/// How much of a PAN stays readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keep {
    /// First 6 and last 4 digits: the most PCI DSS 3.4.1 allows to be displayed.
    #[default]
    First6Last4,
    /// Last 4 digits only.
    Last4,
}

impl Keep {
    /// Digits left readable at the start of a PAN.
    pub(super) const fn head(self) -> usize {
        match self {
            Keep::First6Last4 => 6,
            Keep::Last4 => 0,
        }
    }
}

/// Digits left readable at the end of a PAN, in both modes.
pub(super) const TAIL: usize = 4;

impl fmt::Display for Keep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Keep::First6Last4 => "first6last4",
            Keep::Last4 => "last4",
        })
    }
}

/// The text given for a [`Keep`] was neither `first6last4` nor `last4`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseKeepError(String);

impl fmt::Display for ParseKeepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid PAN mask mode {:?}: expected \"first6last4\" or \"last4\"",
            self.0
        )
    }
}

impl std::error::Error for ParseKeepError {}

impl FromStr for Keep {
    type Err = ParseKeepError;

    /// Accepts `first6last4` and `last4`, ignoring ASCII case and surrounding whitespace
    /// (values come from environment variables).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("first6last4") {
            Ok(Keep::First6Last4)
        } else if t.eq_ignore_ascii_case("last4") {
            Ok(Keep::Last4)
        } else {
            Err(ParseKeepError(s.to_owned()))
        }
    }
}
