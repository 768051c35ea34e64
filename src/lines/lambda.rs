//! `LAMBDA_FORMAT`: Lambda's own log formats read into fields.
//!
//! - The text format of the function's output,
//!   `2026-12-07T00:00:00.000Z\t<request id>\tINFO\t<message>` (Node.js and
//!   most runtimes) or `[INFO]\t2026-12-07T00:00:00.000Z\t<request id>\t<message>`
//!   (Python): `level` and `request_id`, and the message becomes what follows
//!   the prefix (merged by `MERGE_JSON_MESSAGE` like any message, so the JSON
//!   a function logs after the prefix is merged too). The prefix's timestamp
//!   is the event's own `timestamp`, already on the line.
//! - The platform's lines: `START`, `END` and `REPORT` in the text format,
//!   `platform.*` records in the JSON format: `platform` (`platform.start`,
//!   `platform.end`, `platform.report`, or the record's `type`),
//!   `request_id` and the report's figures as numbers (`duration_ms`,
//!   `billed_duration_ms`, `memory_size_mb`, `max_memory_used_mb`,
//!   `init_duration_ms`). The message stays whole.
//!
//! Anything else passes unchanged. The fields are read from the message as
//! the line shows it (masked when masking is on), so both readers give the
//! same fields.

use super::keys::{self, Key};
use crate::json::{push_int, push_str};
use memchr::memmem::Finder;
use serde::Deserialize;
use std::borrow::Cow;
use std::io::Write;
use std::sync::OnceLock;

/// A word searched for in many messages, its searcher built once:
/// `memmem::find` and `str::find` build one at every call, which costs more
/// than the search through a message.
struct Needle {
    word: &'static str,
    finder: OnceLock<Finder<'static>>,
}

impl Needle {
    const fn new(word: &'static str) -> Self {
        Self {
            word,
            finder: OnceLock::new(),
        }
    }

    /// Where the word first starts in `haystack` (as `str::find` says).
    #[inline]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        self.finder
            .get_or_init(|| Finder::new(self.word.as_bytes()))
            .find(haystack)
    }

    fn len(&self) -> usize {
        self.word.len()
    }
}

static PLATFORM_DOT: Needle = Needle::new("platform.");
static QUOTED_PLATFORM_DOT: Needle = Needle::new("\"platform.");
static TAB_DURATION: Needle = Needle::new("\tDuration");
static SPACE_DURATION: Needle = Needle::new(" Duration");
static BILLED_DURATION: Needle = Needle::new("Billed Duration");
static MEMORY_SIZE: Needle = Needle::new("Memory Size");
static MAX_MEMORY_USED: Needle = Needle::new("Max Memory Used");
static INIT_DURATION: Needle = Needle::new("Init Duration");

/// What a message told about itself.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Fields<'t> {
    pub level: Option<&'t str>,
    pub request_id: Option<Cow<'t, str>>,
    pub platform: Option<Cow<'t, str>>,
    pub duration_ms: Option<f64>,
    pub billed_duration_ms: Option<i64>,
    pub memory_size_mb: Option<i64>,
    pub max_memory_used_mb: Option<i64>,
    pub init_duration_ms: Option<f64>,
}

/// The keys a line of `fields` gets, in the order they are written: the
/// merged fields after them must not take one.
impl Fields<'_> {
    pub(super) fn keys(&self) -> impl Iterator<Item = &'static str> {
        // In the order of LAMBDA_KEYS, which is the order `push` writes.
        let present = [
            self.level.is_some(),
            self.request_id.is_some(),
            self.platform.is_some(),
            self.duration_ms.is_some(),
            self.billed_duration_ms.is_some(),
            self.memory_size_mb.is_some(),
            self.max_memory_used_mb.is_some(),
            self.init_duration_ms.is_some(),
        ];
        keys::LAMBDA_KEYS
            .into_iter()
            .zip(present)
            .filter_map(|(key, on)| on.then_some(key))
    }

    /// Appends the fields found, as members of the line.
    pub(super) fn push(&self, out: &mut Vec<u8>) {
        let text = |out: &mut Vec<u8>, key: &Key, v: Option<&str>| {
            if let Some(v) = v {
                out.extend_from_slice(key.member);
                push_str(out, v);
            }
        };
        text(out, &keys::LEVEL, self.level);
        text(out, &keys::REQUEST_ID, self.request_id.as_deref());
        text(out, &keys::PLATFORM, self.platform.as_deref());
        let float = |out: &mut Vec<u8>, key: &Key, v: Option<f64>| {
            // Finite only (JSON has no other). Rust writes an f64 without an
            // exponent, in its shortest round-trip form: a JSON number.
            if let Some(v) = v.filter(|v| v.is_finite()) {
                out.extend_from_slice(key.member);
                let _ = write!(out, "{v}");
            }
        };
        let int = |out: &mut Vec<u8>, key: &Key, v: Option<i64>| {
            if let Some(v) = v {
                out.extend_from_slice(key.member);
                push_int(out, v);
            }
        };
        float(out, &keys::DURATION_MS, self.duration_ms);
        int(out, &keys::BILLED_DURATION_MS, self.billed_duration_ms);
        int(out, &keys::MEMORY_SIZE_MB, self.memory_size_mb);
        int(out, &keys::MAX_MEMORY_USED_MB, self.max_memory_used_mb);
        float(out, &keys::INIT_DURATION_MS, self.init_duration_ms);
    }
}

/// Reads `text` (the message as the line shows it): the fields, and the
/// message the line keeps (the text after the prefix, or all of it).
pub(super) fn read(text: &str) -> Option<(Fields<'_>, &str)> {
    let first = *text.as_bytes().first()?;
    match first {
        b'0'..=b'9' => app_line(text, false),
        b'[' => app_line(text, true),
        b'S' | b'E' | b'R' => platform_text(text).map(|f| (f, text)),
        b'{' => platform_json(text).map(|f| (f, text)),
        _ => None,
    }
}

/// Whether `message` may be in one of Lambda's formats, judged from its bytes
/// as they are written, decoded text or a JSON string body with its escapes
/// (`unicode`: a body with a `\u` escape), so that the usual message is
/// passed on without being decoded. Never `false` for a message [`read`]
/// accepts once decoded: a body's bytes up to its first escape are its
/// text's, and each test below holds for both.
pub(super) fn may_be(message: &[u8], unicode: bool) -> bool {
    // What a prefix has, written as text or as a body: a tab, or the
    // escape of one (or of anything: the first escape ends what is known).
    let tab_or_escape =
        |n: usize| memchr::memchr2(b'\\', b'\t', message.get(..n).unwrap_or(message)).is_some();
    match message.first() {
        // The Node prefix's tab follows a time of at most 35 characters;
        // the Python one's, `[WARNING]`.
        Some(b'0'..=b'9' | b'[') => tab_or_escape(36),
        Some(b'S' | b'E' | b'R') => {
            [&b"START "[..], b"END ", b"REPORT "]
                .iter()
                .any(|p| message.starts_with(p))
                || tab_or_escape(7)
        }
        // `"platform.` as text, `\"platform.` as a body; a body that may
        // spell any of it with `\u` escapes is decoded to be sure.
        Some(b'{') => unicode || PLATFORM_DOT.find(message).is_some(),
        Some(b'\\') => true,
        _ => false,
    }
}

const LEVELS: [&str; 7] = [
    "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL",
];

/// `timestamp\trequest_id\tLEVEL\tmessage`, or with `python`
/// `[LEVEL]\ttimestamp\trequest_id\tmessage`.
fn app_line(text: &str, python: bool) -> Option<(Fields<'_>, &str)> {
    let mut parts = text.splitn(4, '\t');
    let (a, b, c, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    app_fields([a, b, c], python).map(|fields| (fields, rest))
}

/// The fields of an application line's three first parts (what its first
/// three tabs end).
fn app_fields([a, b, c]: [&str; 3], python: bool) -> Option<Fields<'_>> {
    let (time, id, level) = if python {
        (b, c, a.strip_prefix('[')?.strip_suffix(']')?)
    } else {
        (a, b, c)
    };
    (is_time(time) && is_request_id(id) && LEVELS.contains(&level)).then(|| Fields {
        level: Some(level),
        request_id: Some(Cow::Borrowed(id)),
        ..Fields::default()
    })
}

/// [`read`] of an application line on its JSON string body escaped as
/// [`push_str`] escapes, not decoded: the fields, and where in `body` the
/// message the line keeps starts. In such a body every tab is written `\t`,
/// and a prefix with no other escape is its text's bytes, so the answer is
/// the text's. `None` when that is not so, or the line is not one: the
/// decoded text then decides.
pub(super) fn app_line_in_body(body: &[u8]) -> Option<(Fields<'_>, usize)> {
    let python = match body.first()? {
        b'0'..=b'9' => false,
        b'[' => true,
        _ => return None,
    };
    // Where each of the three first parts ends (at a `\t`).
    let mut ends = [0; 3];
    let mut from = 0;
    for end in &mut ends {
        let escape = from + memchr::memchr(b'\\', body.get(from..)?)?;
        if body.get(escape + 1) != Some(&b't') {
            return None;
        }
        *end = escape;
        from = escape + 2;
    }
    // The prefix holds no escape but its tabs': it is text, and its parts
    // end at ASCII bytes.
    let prefix = std::str::from_utf8(body.get(..from)?).ok()?;
    let parts = [
        prefix.get(..ends[0])?,
        prefix.get(ends[0] + 2..ends[1])?,
        prefix.get(ends[1] + 2..ends[2])?,
    ];
    app_fields(parts, python).map(|fields| (fields, from))
}

/// An ISO-8601 time as Lambda writes it: `2026-12-07T00:00:00.000Z`.
fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    (20..=35).contains(&b.len())
        && b.get(4) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && b.iter().take(4).all(u8::is_ascii_digit)
}

/// A request id: a UUID (hex digits and `-`, 36 characters).
fn is_request_id(s: &str) -> bool {
    // Without a branch per byte: a UUID's digits are random, and a test
    // that stops at each mispredicts. `b | 0x20` is `a`-`f` for `A`-`F`,
    // `a`-`f` and nothing else.
    s.len() == 36
        && s.bytes().fold(true, |ok, b| {
            ok & ((b.wrapping_sub(b'0') < 10) | ((b | 0x20).wrapping_sub(b'a') < 6) | (b == b'-'))
        })
}

/// `START RequestId: … Version: …`, `END RequestId: …`, `REPORT RequestId:
/// …\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax
/// Memory Used: 40 MB\tInit Duration: 150.00 ms` (tab- or space-separated).
fn platform_text(text: &str) -> Option<Fields<'_>> {
    let (kind, rest) = text.split_once(' ')?;
    let platform = match kind {
        "START" => "platform.start",
        "END" => "platform.end",
        "REPORT" => "platform.report",
        _ => return None,
    };
    let rest = rest.strip_prefix("RequestId: ")?;
    let end = rest
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let id = rest.get(..end)?;
    if !is_request_id(id) {
        return None;
    }
    let rest = rest.get(end..).unwrap_or_default();
    let figure = |label: &Needle, unit: &str| -> Option<&str> {
        let at = label.find(rest.as_bytes())? + label.len();
        let tail = rest.get(at..)?.strip_prefix(": ")?;
        let (value, after) = tail.split_once(' ')?;
        after.starts_with(unit).then_some(value)
    };
    let float = |label, unit| figure(label, unit).and_then(|v| v.parse::<f64>().ok());
    let int = |label, unit| figure(label, unit).and_then(|v| v.parse::<i64>().ok());
    let report = kind == "REPORT";
    Some(Fields {
        request_id: Some(Cow::Borrowed(id)),
        platform: Some(Cow::Borrowed(platform)),
        // "Billed Duration" and "Init Duration" contain "Duration": the
        // plain one is the first, which comes before both.
        duration_ms: report
            .then(|| float(&TAB_DURATION, "ms").or_else(|| float(&SPACE_DURATION, "ms")))
            .flatten(),
        billed_duration_ms: report.then(|| int(&BILLED_DURATION, "ms")).flatten(),
        memory_size_mb: report.then(|| int(&MEMORY_SIZE, "MB")).flatten(),
        max_memory_used_mb: report.then(|| int(&MAX_MEMORY_USED, "MB")).flatten(),
        init_duration_ms: report.then(|| float(&INIT_DURATION, "ms")).flatten(),
        ..Fields::default()
    })
}

/// A `platform.*` record of Lambda's JSON log format.
fn platform_json(text: &str) -> Option<Fields<'_>> {
    #[derive(Deserialize)]
    struct Event<'a> {
        #[serde(borrow, rename = "type")]
        kind: Cow<'a, str>,
        #[serde(borrow, default)]
        record: Option<Record<'a>>,
    }
    #[derive(Deserialize)]
    struct Record<'a> {
        #[serde(borrow, rename = "requestId", default)]
        request_id: Option<Cow<'a, str>>,
        #[serde(default)]
        metrics: Option<Metrics>,
    }
    #[derive(Deserialize)]
    struct Metrics {
        #[serde(rename = "durationMs")]
        duration: Option<f64>,
        #[serde(rename = "billedDurationMs")]
        billed: Option<f64>,
        #[serde(rename = "memorySizeMB")]
        memory: Option<f64>,
        #[serde(rename = "maxMemoryUsedMB")]
        max_memory: Option<f64>,
        #[serde(rename = "initDurationMs")]
        init: Option<f64>,
    }
    // Cheap test first: most JSON messages are not platform records.
    QUOTED_PLATFORM_DOT.find(text.as_bytes())?;
    let event: Event<'_> = serde_json::from_str(text).ok()?;
    if !event.kind.starts_with("platform.") {
        return None;
    }
    let whole = |v: Option<f64>| {
        v.filter(|v| v.fract() == 0.0 && v.abs() < 9.0e15)
            .map(|v| v as i64)
    };
    let (request_id, metrics) = match event.record {
        Some(r) => (r.request_id, r.metrics),
        None => (None, None),
    };
    let m = metrics.as_ref();
    Some(Fields {
        level: None,
        request_id,
        platform: Some(event.kind),
        duration_ms: m.and_then(|m| m.duration),
        billed_duration_ms: whole(m.and_then(|m| m.billed)),
        memory_size_mb: whole(m.and_then(|m| m.memory)),
        max_memory_used_mb: whole(m.and_then(|m| m.max_memory)),
        init_duration_ms: m.and_then(|m| m.init),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Option<(String, &str)> {
        let (fields, rest) = read(text)?;
        let mut out = Vec::new();
        fields.push(&mut out);
        Some((String::from_utf8(out).unwrap(), rest))
    }

    const ID: &str = "8f5a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b";

    #[test]
    fn application_lines() {
        let node = format!("2026-12-07T00:00:00.000Z\t{ID}\tINFO\t{{\"level\":\"info\"}}\n");
        let (fields, rest) = line(&node).unwrap();
        assert_eq!(fields, format!(r#","level":"INFO","request_id":"{ID}""#));
        assert_eq!(rest, "{\"level\":\"info\"}\n");
        let python = format!("[ERROR]\t2026-12-07T00:00:00.123Z\t{ID}\tboom");
        let (fields, rest) = line(&python).unwrap();
        assert_eq!(fields, format!(r#","level":"ERROR","request_id":"{ID}""#));
        assert_eq!(rest, "boom");
        for other in [
            "hello",
            "2026-12-07 not the format",
            &format!("2026-12-07T00:00:00.000Z\t{ID}\tNOTICE\tx"),
            "2026-12-07T00:00:00.000Z\tnot-an-id\tINFO\tx",
            &format!("[INFO]\tyesterday\t{ID}\tx"),
            "{\"level\":\"info\"}",
            "",
        ] {
            assert_eq!(line(other), None, "{other}");
        }
    }

    #[test]
    fn request_ids_are_hex_digits_and_dashes() {
        for b in 0..=255u8 {
            let id = format!("{}{}", "0".repeat(35), char::from(b));
            let expected = b.is_ascii_hexdigit() || b == b'-';
            assert_eq!(is_request_id(&id), expected && b.is_ascii(), "{b:#x}");
        }
        assert!(is_request_id(ID));
        assert!(!is_request_id(&ID[1..]));
    }

    #[test]
    fn platform_lines() {
        let report = format!(
            "REPORT RequestId: {ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 150.5 ms\t\n"
        );
        let (fields, rest) = line(&report).unwrap();
        assert_eq!(
            fields,
            format!(
                r#","request_id":"{ID}","platform":"platform.report","duration_ms":12.34,"billed_duration_ms":13,"memory_size_mb":128,"max_memory_used_mb":40,"init_duration_ms":150.5"#
            )
        );
        assert_eq!(rest, report);
        // Spaces instead of tabs, no init duration.
        let spaced = format!("REPORT RequestId: {ID} Duration: 1.5 ms Billed Duration: 2 ms Memory Size: 128 MB Max Memory Used: 40 MB");
        let (fields, _) = line(&spaced).unwrap();
        assert!(
            fields.contains(r#""duration_ms":1.5,"billed_duration_ms":2"#),
            "{fields}"
        );
        assert!(!fields.contains("init_duration_ms"));
        let start = format!("START RequestId: {ID} Version: $LATEST\n");
        assert_eq!(
            line(&start).unwrap().0,
            format!(r#","request_id":"{ID}","platform":"platform.start""#)
        );
        let json = format!(
            r#"{{"time":"2026-12-07T00:00:00.000Z","type":"platform.report","record":{{"requestId":"{ID}","metrics":{{"durationMs":12.3,"billedDurationMs":13,"memorySizeMB":128,"maxMemoryUsedMB":40}},"status":"success"}}}}"#
        );
        assert_eq!(
            line(&json).unwrap().0,
            format!(
                r#","request_id":"{ID}","platform":"platform.report","duration_ms":12.3,"billed_duration_ms":13,"memory_size_mb":128,"max_memory_used_mb":40"#
            )
        );
        for other in [
            "START the engines",
            "END",
            "REPORT RequestId: short",
            r#"{"type":"function","record":"platform.x"}"#,
        ] {
            assert_eq!(line(other), None, "{other}");
        }
    }

    /// The bytes as a JSON string body: as `push_str` writes it, and with
    /// every character a `\u` escape.
    fn bodies(text: &str) -> [Vec<u8>; 2] {
        let mut canonical = Vec::new();
        crate::json::push_str(&mut canonical, text);
        let canonical = canonical[1..canonical.len() - 1].to_vec();
        let escaped = text
            .encode_utf16()
            .flat_map(|u| format!("\\u{u:04x}").into_bytes())
            .collect();
        [canonical, escaped]
    }

    /// Whether a body has a `\u` escape (what the reader's `unicode` says).
    fn has_unicode_escape(body: &[u8]) -> bool {
        let mut i = 0;
        while let Some(&b) = body.get(i) {
            if b == b'\\' {
                if body.get(i + 1) == Some(&b'u') {
                    return true;
                }
                i += 2;
            } else {
                i += 1;
            }
        }
        false
    }

    proptest::proptest! {
        /// The pre-check never passes on a message `read` accepts, as text or
        /// as a body with escapes of any kind.
        #[test]
        fn the_pre_check_never_misses(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "2026-12-07T00:00:00.000Z", ID, "INFO", "[WARNING]", "[INFO]", "\t", " ",
                "START", "END", "REPORT", "RequestId: ", "Duration: 1.5 ms",
                "{", "}", "\"type\":\"platform.start\"", "\"record\":{}", ",", "\"", "x",
                "\n", "é",
            ]), 0..12)
        ) {
            let text = parts.concat();
            if read(&text).is_some() {
                proptest::prop_assert!(may_be(text.as_bytes(), false), "{text:?}");
                for body in bodies(&text) {
                    proptest::prop_assert!(may_be(&body, has_unicode_escape(&body)), "{text:?} as {body:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// Read on a body escaped as `push_str` escapes, an application line
        /// gives the decoded text's fields, and keeps the body of its rest.
        #[test]
        fn the_body_reader_agrees_with_the_text(
            a in proptest::sample::select(vec![
                "2026-12-07T00:00:00.000Z", "2026-12-07T00:00:00.000Z", "[INFO]", "[WARNING]",
                "2026-12-07T00:00:00\"0Z", "x",
            ]),
            b in proptest::sample::select(vec![
                ID, ID, "2026-12-07T00:00:00.000Z", "2026-12-07T00:00:00.000Z", "bad",
            ]),
            c in proptest::sample::select(vec![ID, ID, "INFO", "INFO", "INF\\O", "\"INFO\""]),
            tabs in proptest::collection::vec(proptest::sample::select(vec![
                "\t", "\t", "\t", "\t", "\t", "\t", " ", "\t\t", "\\t", "\n",
            ]), 3),
            rest in proptest::collection::vec(proptest::sample::select(vec![
                "\t", " ", "\"", "\\", "\n", "\u{1}", "é", "x", "{\"a\":1}",
            ]), 0..6),
        ) {
            let text: String = [a, b, c]
                .iter()
                .zip(&tabs)
                .flat_map(|(p, t)| [*p, *t])
                .chain(rest.iter().copied())
                .collect();
            let [body, _] = bodies(&text);
            if let Some((fields, at)) = app_line_in_body(&body) {
                let (expected, rest) = read(&text).expect("the text reads too");
                proptest::prop_assert_eq!(&fields, &expected);
                let [rest_body, _] = bodies(rest);
                proptest::prop_assert_eq!(&body[at..], &rest_body[..]);
            }
        }
    }

    #[test]
    fn the_body_reader_reads_both_prefixes() {
        for text in [
            format!("2026-12-07T00:00:00.000Z\t{ID}\tINFO\t{{\"level\":\"info\"}}\n"),
            format!("[ERROR]\t2026-12-07T00:00:00.123Z\t{ID}\tboom"),
        ] {
            let [body, _] = bodies(&text);
            let (fields, at) = app_line_in_body(&body).expect("an application line");
            let (expected, rest) = read(&text).unwrap();
            assert_eq!(fields, expected);
            assert_eq!(body[at..], bodies(rest)[0]);
        }
        // Another escape in the prefix: the text decides.
        let quoted = format!("2026-12-07T00:00:00.000Z\t{ID}\t\"INFO\"\tx");
        assert_eq!(app_line_in_body(&bodies(&quoted)[0]), None);
    }

    #[test]
    fn the_pre_check_knows_every_sample() {
        let samples = [
            format!("2026-12-07T00:00:00.000Z\t{ID}\tINFO\tx"),
            format!("[ERROR]\t2026-12-07T00:00:00.123Z\t{ID}\tboom"),
            format!("START RequestId: {ID} Version: $LATEST"),
            format!("END RequestId: {ID}"),
            format!("REPORT RequestId: {ID}\tDuration: 1.5 ms"),
            format!(r#"{{"type":"platform.start","record":{{"requestId":"{ID}"}}}}"#),
        ];
        for text in &samples {
            assert!(read(text).is_some(), "{text}");
            assert!(may_be(text.as_bytes(), false));
            for body in bodies(text) {
                assert!(may_be(&body, has_unicode_escape(&body)), "{body:?}");
            }
        }
        // The usual messages are passed on without decoding.
        for usual in [
            &br#"{\"level\":\"info\",\"msg\":\"request completed\"}"#[..],
            b"10.0.0.1 - - [07/Dec/2026:00:00:00 +0000] \\\"GET / HTTP/1.1\\\" 200",
            b"Exception in thread main",
        ] {
            assert!(!may_be(usual, false), "{}", String::from_utf8_lossy(usual));
        }
    }
}
