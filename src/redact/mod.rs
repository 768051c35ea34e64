//! Redaction of secrets and personal data in every text a line holds: each value a
//! detector finds is replaced by `[REDACTED:<detector>]` and counted per detector.
//!
//! What each detector matches, and what it does not, is docs/redaction.md; the names are
//! in [`Detector`]. Redaction reads decoded text (the line writer decodes a JSON body
//! before it) and runs after masking, so a masked card number is never redacted again.
//!
//! # Cost
//! Two passes find where a value may start (`find`): one case-sensitive automaton for
//! the fixed words (`AKIA`…, `eyJ`, `-----BEGIN `, `Bearer`), and one SIMD pass that marks
//! the bytes a detector or a key's separator may stand at (`simd::redact_marks16`). A key
//! is read back from its separator, and its keywords looked for only when its last three
//! bytes may end a secret's key. Only there does a detector read on, each a bounded
//! distance. Nothing is written until the first value is found. A JSON body whose only
//! escapes are `\"` (a JSON line inside a message) is read as it is, not decoded
//! (`redact_body`); another body escaped as the line writer escapes keeps its escapes
//! (the kept parts are copied from it).
//! The reference, every keyword at every byte, is `find::find_at_every_byte` (tests).
//!
//! # Layout
//! - `detector`: the names, the set `REDACT` turns on, the counts.
//! - `find`: where each detector looks, and what it accepts.
//! - this file: overlapping finds resolved, and the redacted copy written.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod detector;
mod find;
mod rules;

#[cfg(test)]
use detector::COUNT;
pub use detector::{Detector, Redact, Tally};
use find::{find_all, Found, Label};
pub use rules::Rules;

/// Redacts with one set of detectors and the custom rules, reusing its scratch space from
/// text to text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    found: Vec<Found>,
    rules: Rules,
}

impl Redactor {
    /// A redactor that applies `rules` too.
    pub fn with_rules(rules: Rules) -> Self {
        Self {
            found: Vec::new(),
            rules,
        }
    }

    /// Writes `text` with every value the detectors of `set` find replaced into `out`
    /// (cleared first), adds what was found to `tally` and returns `true`; returns
    /// `false` when nothing was found.
    ///
    /// Where two finds overlap the one that starts first wins (the longer, at the same
    /// start; the first in [`Detector::ALL`], at the same range).
    pub fn redact(
        &mut self,
        text: &[u8],
        set: Redact,
        out: &mut Vec<u8>,
        tally: &mut Tally,
    ) -> bool {
        out.clear();
        out.reserve(text.len());
        self.write(text, set, out, tally, |out, a, b| {
            out.extend_from_slice(text.get(a..b).unwrap_or_default());
        })
    }

    /// [`Self::redact`] for a JSON string body `raw` whose only escapes are `\"`, read as
    /// it is: writes the body of the redacted text as `json::push_str` would write it, or
    /// returns `None` (having written nothing) for another body, or when custom rules are
    /// set (a pattern reads the decoded text).
    ///
    /// The detectors treat `\"` as the quote it stands for (`find::escaped_quote`), and
    /// nothing else in such a body differs from its text, so they find the same values;
    /// each replaced range starts and ends beside the pair, never inside it, so the kept
    /// parts are the escaped text. Nothing is decoded, and the kept parts need no
    /// placing.
    pub(crate) fn redact_body(
        &mut self,
        raw: &[u8],
        set: Redact,
        out: &mut Vec<u8>,
        tally: &mut Tally,
    ) -> Option<bool> {
        if !self.rules.is_empty() || !crate::simd::only_quotes_escaped(raw) {
            return None;
        }
        Some(self.redact(raw, set, out, tally))
    }

    /// [`Self::redact`] for a text held as a JSON string body `raw` escaped exactly as
    /// `json::push_str` escapes (a canonical body): writes the body of the redacted text
    /// as `push_str` would, copying the kept parts from `raw` rather than escaping them
    /// again (a replacement needs no escape).
    pub(crate) fn redact_escaped(
        &mut self,
        text: &[u8],
        raw: &[u8],
        set: Redact,
        out: &mut Vec<u8>,
        tally: &mut Tally,
    ) -> bool {
        out.clear();
        out.reserve(raw.len());
        // The last text offset copied up to, and where it lies in `raw`.
        let mut at = (0, 0);
        self.write(text, set, out, tally, |out, a, b| {
            let ra = crate::json::escaped_offset(text, at, a);
            let rb = crate::json::escaped_offset(text, (a, ra), b);
            out.extend_from_slice(raw.get(ra..rb).unwrap_or_default());
            at = (b, rb);
        })
    }

    /// Finds, resolves overlaps (the first start wins; the longer at the same start;
    /// the first in [`Detector::ALL`] at the same range) and writes: the kept text
    /// `a..b` by `keep`, in order, each find by its replacement.
    fn write(
        &mut self,
        text: &[u8],
        set: Redact,
        out: &mut Vec<u8>,
        tally: &mut Tally,
        mut keep: impl FnMut(&mut Vec<u8>, usize, usize),
    ) -> bool {
        self.found.clear();
        find_all(text, set, &mut self.found);
        self.rules.find_all(text, &mut self.found);
        if self.found.is_empty() {
            return false;
        }
        self.found
            .sort_unstable_by_key(|f| (f.start, std::cmp::Reverse(f.end), f.label));
        let mut copied = 0;
        for f in &self.found {
            if f.start < copied || f.end <= f.start {
                continue;
            }
            keep(out, copied, f.start);
            out.extend_from_slice(b"[REDACTED:");
            let (name, detector) = match f.label {
                Label::Detector(d) => (d.name(), Some(d)),
                Label::Rule(i) => (self.rules.name(i), None),
            };
            out.extend_from_slice(name.as_bytes());
            out.push(b']');
            tally.add(detector);
            copied = f.end;
        }
        keep(out, copied, text.len());
        true
    }

    /// [`Self::redact`] on text: `None` when nothing was found.
    pub fn redact_str(&mut self, text: &str, set: Redact, tally: &mut Tally) -> Option<String> {
        let mut out = Vec::new();
        if !self.redact(text.as_bytes(), set, &mut out, tally) {
            return None;
        }
        // Every replaced range starts and ends beside ASCII syntax or at the text's ends,
        // so the copy is UTF-8; were it not, the lossy copy still hides what was found.
        Some(
            String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests;
