//! Writes one newline-terminated line per log event into a reused buffer.
//!
//! The default line is one JSON object (the contract with the Glue table):
//! `{"timestamp":…,"id":"…","message":"…","log_group":"…","log_stream":"…","owner":"…"}`
//! with `time`, `extracted_fields` and merged message fields appended when
//! configured or present. The record-constant part (group, stream, owner) is
//! escaped once per record, not once per event.

use crate::cwl::{LogEvent, LogsDocument};
use crate::json::{push_int, push_str};
use crate::mask::{mask, Keep};
use std::borrow::Cow;

/// What each line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// One JSON object per event (the default).
    #[default]
    Json,
    /// The raw message and `\n`: byte for byte what AWS's blueprint writes.
    Message,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "message" => Ok(Self::Message),
            other => Err(format!(
                "unknown output format {other:?} (expected json or message)"
            )),
        }
    }
}

/// Prefix under which a merged message field is kept when its key collides
/// with one of the line's own keys.
pub const MERGE_COLLISION_PREFIX: &str = "msg_";

/// Keys the line itself writes; merged message fields never overwrite them.
const LINE_KEYS: [&str; 8] = [
    "timestamp",
    "id",
    "message",
    "log_group",
    "log_stream",
    "owner",
    "time",
    "extracted_fields",
];

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineOptions {
    pub format: OutputFormat,
    /// Add `time`, the ISO-8601 UTC form of `timestamp`.
    pub add_time: bool,
    /// Merge the top-level fields of a message that is a JSON object.
    pub merge_json_message: bool,
    /// With `merge_json_message`, keep `message` too.
    pub keep_message: bool,
    /// Mask card numbers (PCI DSS 3.5.1) in every text field written.
    pub mask: Option<Keep>,
}

impl Default for LineOptions {
    fn default() -> Self {
        Self {
            format: OutputFormat::Json,
            add_time: false,
            merge_json_message: false,
            keep_message: true,
            mask: None,
        }
    }
}

/// Appends `s` as a JSON string, masked first when `mask` is on; returns the
/// values masked.
pub(crate) fn push_masked_str(
    out: &mut Vec<u8>,
    s: &str,
    mask: Option<Keep>,
    scratch: &mut String,
) -> usize {
    match mask.and_then(|keep| crate::mask::mask(s, keep, scratch)) {
        Some(n) => {
            push_str(out, scratch);
            n
        }
        None => {
            push_str(out, s);
            0
        }
    }
}

/// Writes lines; holds the per-record tail so it is built once per record.
#[derive(Debug, Default)]
pub struct LineWriter {
    options: LineOptions,
    tail: Vec<u8>,
    /// Masked text of the current message (and of the group and stream names); reused.
    scratch: String,
    scratch_fields: String,
    /// Values masked in the current record.
    masked: usize,
}

impl LineWriter {
    pub fn new(options: LineOptions) -> Self {
        Self {
            options,
            tail: Vec::new(),
            scratch: String::new(),
            scratch_fields: String::new(),
            masked: 0,
        }
    }

    pub fn options(&self) -> &LineOptions {
        &self.options
    }

    /// Card numbers and verification codes masked in the last record written.
    pub fn masked(&self) -> usize {
        self.masked
    }

    /// Appends one line per event of `doc` to `out`, and the end offset of
    /// each line (relative to `out`'s start) to `ends`.
    pub fn write_document(
        &mut self,
        doc: &LogsDocument<'_>,
        out: &mut Vec<u8>,
        ends: &mut Vec<usize>,
    ) {
        self.write_document_within(doc, out, ends, usize::MAX);
    }

    /// Like [`write_document`](Self::write_document), but stops and returns
    /// `false` as soon as `out` holds more than `limit` bytes. Lines repeat
    /// the record's group, stream and owner, so a small document (one long
    /// log group, many empty events) could otherwise write gigabytes.
    pub fn write_document_within(
        &mut self,
        doc: &LogsDocument<'_>,
        out: &mut Vec<u8>,
        ends: &mut Vec<usize>,
        limit: usize,
    ) -> bool {
        self.start_record(doc);
        ends.reserve(doc.log_events.len());
        for event in &doc.log_events {
            self.write_event(event, out);
            ends.push(out.len());
            if out.len() > limit {
                return false;
            }
        }
        true
    }

    /// Prepares the record-constant part of the line. With masking on, the
    /// group and stream names are masked too (counted once per record).
    fn start_record(&mut self, doc: &LogsDocument<'_>) {
        self.tail.clear();
        self.masked = 0;
        if self.options.format == OutputFormat::Json {
            let mut scratch = std::mem::take(&mut self.scratch);
            self.tail.extend_from_slice(b",\"log_group\":");
            self.masked += push_masked_str(
                &mut self.tail,
                &doc.log_group,
                self.options.mask,
                &mut scratch,
            );
            self.tail.extend_from_slice(b",\"log_stream\":");
            self.masked += push_masked_str(
                &mut self.tail,
                &doc.log_stream,
                self.options.mask,
                &mut scratch,
            );
            self.scratch = scratch;
            self.tail.extend_from_slice(b",\"owner\":");
            push_str(&mut self.tail, &doc.owner);
        }
    }

    fn write_event(&mut self, event: &LogEvent<'_>, out: &mut Vec<u8>) {
        // Mask before anything is written, so every field derived from the
        // message (merged fields included) sees only the masked text.
        let mut scratch = std::mem::take(&mut self.scratch);
        let message: &str = match self.options.mask {
            Some(keep) => match mask(&event.message, keep, &mut scratch) {
                Some(n) => {
                    self.masked += n;
                    &scratch
                }
                None => &event.message,
            },
            None => &event.message,
        };
        self.write_event_text(event, message, out);
        self.scratch = scratch;
    }

    fn write_event_text(&mut self, event: &LogEvent<'_>, message: &str, out: &mut Vec<u8>) {
        let opts = self.options;
        if opts.format == OutputFormat::Message {
            out.extend_from_slice(message.as_bytes());
            out.push(b'\n');
            return;
        }
        let merged = if opts.merge_json_message {
            json_object_fields(message)
        } else {
            None
        };
        out.extend_from_slice(b"{\"timestamp\":");
        push_int(out, event.timestamp);
        out.extend_from_slice(b",\"id\":");
        push_str(out, &event.id);
        if merged.is_none() || opts.keep_message {
            out.extend_from_slice(b",\"message\":");
            push_str(out, message);
        }
        out.extend_from_slice(&self.tail);
        if opts.add_time {
            out.extend_from_slice(b",\"time\":\"");
            push_iso8601(out, event.timestamp);
            out.push(b'"');
        }
        if let Some(fields) = event.extracted_fields {
            out.extend_from_slice(b",\"extracted_fields\":");
            self.push_extracted_fields(fields.get(), out);
        }
        for (key, value) in merged.iter().flatten() {
            out.push(b',');
            if LINE_KEYS.contains(&key.as_ref()) {
                let prefixed = format!("{MERGE_COLLISION_PREFIX}{key}");
                push_str(out, &prefixed);
            } else {
                push_str(out, key);
            }
            out.push(b':');
            out.extend_from_slice(value.get().as_bytes());
        }
        out.extend_from_slice(b"}\n");
    }
}

impl LineWriter {
    /// `extractedFields` as they came, masked when masking is on. Masking
    /// only turns digits into `*`, which keeps strings valid but not numbers:
    /// a masked value that is no longer JSON is written as a JSON string.
    fn push_extracted_fields(&mut self, raw: &str, out: &mut Vec<u8>) {
        let Some(keep) = self.options.mask else {
            out.extend_from_slice(raw.as_bytes());
            return;
        };
        let mut scratch = std::mem::take(&mut self.scratch_fields);
        match mask(raw, keep, &mut scratch) {
            None => out.extend_from_slice(raw.as_bytes()),
            Some(n) => {
                self.masked += n;
                if serde_json::from_str::<serde::de::IgnoredAny>(&scratch).is_ok() {
                    out.extend_from_slice(scratch.as_bytes());
                } else {
                    push_str(out, &scratch);
                }
            }
        }
        self.scratch_fields = scratch;
    }
}

type Fields<'m> = Vec<(Cow<'m, str>, &'m serde_json::value::RawValue)>;

/// The top-level fields of `message` when it is exactly one JSON object, in
/// their order, values as raw JSON; `None` for anything else.
fn json_object_fields(message: &str) -> Option<Fields<'_>> {
    let trimmed = message.trim_ascii_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Fields<'de>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
            while let Some(entry) =
                map.next_entry::<Cow<'de, str>, &'de serde_json::value::RawValue>()?
            {
                fields.push(entry);
            }
            Ok(fields)
        }
    }
    let mut de = serde_json::Deserializer::from_str(trimmed);
    let fields = serde::Deserializer::deserialize_map(&mut de, V).ok()?;
    de.end().ok()?;
    Some(fields)
}

/// Appends epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC), the form
/// Athena's `from_iso8601_timestamp` and Parquet conversion read.
pub fn push_iso8601(out: &mut Vec<u8>, epoch_ms: i64) {
    let secs = epoch_ms.div_euclid(1000);
    let ms = epoch_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let two = |out: &mut Vec<u8>, v: i64| {
        out.push(b'0' + (v / 10 % 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    };
    if (0..=9999).contains(&y) {
        for div in [1000, 100, 10, 1] {
            out.push(b'0' + (y / div % 10) as u8);
        }
    } else {
        push_int(out, y);
    }
    out.push(b'-');
    two(out, m);
    out.push(b'-');
    two(out, d);
    out.push(b'T');
    two(out, sod / 3600);
    out.push(b':');
    two(out, sod / 60 % 60);
    out.push(b':');
    two(out, sod % 60);
    out.push(b'.');
    out.push(b'0' + (ms / 100) as u8);
    two(out, ms % 100);
    out.push(b'Z');
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(ms: i64) -> String {
        let mut v = Vec::new();
        push_iso8601(&mut v, ms);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn iso8601() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_764_300_000_123), "2025-11-28T03:20:00.123Z");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        // Absurd timestamps still give a line, never a panic.
        let _ = iso(i64::MAX);
        let _ = iso(i64::MIN);
    }

    #[test]
    fn object_fields() {
        let f = json_object_fields(r#" {"level":"info","n":1,"o":{"a":[1]}}"#).unwrap();
        let keys: Vec<_> = f.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["level", "n", "o"]);
        assert_eq!(f[2].1.get(), r#"{"a":[1]}"#);
        assert!(json_object_fields("[1]").is_none());
        assert!(json_object_fields("{\"a\":1} trailing").is_none());
        assert!(json_object_fields("{not json").is_none());
        assert!(json_object_fields("plain text").is_none());
    }
}
