//! The detectors by name, the set of them a setting turns on (`REDACT`), and the counts
//! per detector.

use std::fmt;
use std::str::FromStr;

macro_rules! detectors {
    ($($variant:ident $name:literal),* $(,)?) => {
        /// One kind of secret or personal datum redaction finds (docs/redaction.md says
        /// exactly what each one matches and what it leaves).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Detector {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Detector {
            /// Every detector, in the order their counts are listed.
            pub const ALL: &'static [Detector] = &[$(Detector::$variant),*];

            /// The name `REDACT` lists and the replacement shows.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Detector::$variant => $name,)*
                }
            }
        }
    };
}

detectors! {
    AwsAccessKeyId "aws_access_key_id",
    AwsSecretKey "aws_secret_key",
    Authorization "authorization",
    Jwt "jwt",
    PrivateKey "private_key",
    UrlCredentials "url_credentials",
    SecretValue "secret_value",
    Email "email",
    Ipv4 "ipv4",
    Ipv6 "ipv6",
    Phone "phone",
    MyNumber "my_number",
}

/// How many detectors there are.
pub const COUNT: usize = Detector::ALL.len();

impl Detector {
    const fn bit(self) -> u16 {
        1 << self as u16
    }

    /// What replaces a value this detector found.
    pub fn replacement(self) -> String {
        format!("[REDACTED:{}]", self.name())
    }
}

/// The detectors turned on: `REDACT=all` or `REDACT=name,name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Redact(u16);

impl Redact {
    /// Every detector.
    pub const ALL: Redact = Redact((1 << COUNT) - 1);
    /// No detector: custom rules only.
    pub const NONE: Redact = Redact(0);

    /// Whether `d` is on.
    #[inline(always)]
    pub fn has(self, d: Detector) -> bool {
        self.0 & d.bit() != 0
    }

    /// Whether any of `ds` is on.
    #[inline(always)]
    pub(super) fn any(self, ds: &[Detector]) -> bool {
        ds.iter().any(|&d| self.has(d))
    }

    /// The set of the detectors whose bits are set in `bits` (tests).
    #[cfg(test)]
    pub(super) fn from_bits(bits: u16) -> Self {
        Redact(bits & Redact::ALL.0)
    }

    /// Whether none is on.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Redact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Redact::ALL {
            return f.write_str("all");
        }
        let names: Vec<&str> = Detector::ALL
            .iter()
            .filter(|&&d| self.has(d))
            .map(|d| d.name())
            .collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for Redact {
    type Err = String;

    /// `all`, or detector names joined by commas (ASCII case and spaces ignored).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut set = Redact(0);
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("all") {
                set = Redact::ALL;
                continue;
            }
            let d = Detector::ALL
                .iter()
                .find(|d| d.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    let known: Vec<&str> = Detector::ALL.iter().map(|d| d.name()).collect();
                    format!(
                        "unknown detector {name:?} (expected all or some of {})",
                        known.join(",")
                    )
                })?;
            set.0 |= d.bit();
        }
        if set.is_empty() {
            return Err("no detector named".to_string());
        }
        Ok(set)
    }
}

/// Values redacted, per detector (indexed by [`Detector`]), and by custom rules (the
/// last count, all rules together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally(pub [usize; COUNT + 1]);

impl Tally {
    /// The count of `d`.
    pub fn of(&self, d: Detector) -> usize {
        self.0.get(d as usize).copied().unwrap_or_default()
    }

    /// The count of every custom rule together.
    pub fn custom(&self) -> usize {
        self.0.get(COUNT).copied().unwrap_or_default()
    }

    /// Counts one value of detector `d`, or of a custom rule (`None`).
    pub(super) fn add(&mut self, d: Option<Detector>) {
        if let Some(n) = self.0.get_mut(d.map_or(COUNT, |d| d as usize)) {
            *n += 1;
        }
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}
