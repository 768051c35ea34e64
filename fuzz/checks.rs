//! The properties the fuzz targets check, shared with `tests/fuzz_corpus.rs`,
//! which replays the committed corpus through them on the stable toolchain.
//! Each check panics (fails) when a property does not hold.
//!
//! - [`record_data`]: arbitrary bytes as one record's `data`, raw and
//!   base64-wrapped, between two good records: a response, every id once and
//!   in order, the good records untouched.
//! - [`event`]: arbitrary bytes as the whole event: a clean parse error or a
//!   well-formed response.
//! - [`round_trip`]: a CloudWatch Logs document built from the bytes, encoded
//!   as CloudWatch Logs would, transformed (and re-ingested parts transformed
//!   again) gives back exactly its events, one line each, in order.
//! - [`mask`]: arbitrary text through the PAN masking: no panic, only ASCII
//!   digits change (to `*`), and the check the line writer runs on escaped
//!   messages never says no where masking finds something.

#![allow(dead_code)]

#[path = "../tests/common/document.rs"]
pub mod document;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cwl_firehose::{Config, Disposition, DropReason, PartOutcome, ReingestError, Transformer};
use cwl_firehose::{FirehoseEvent, FirehoseRecord};
use document::Doc;
use std::borrow::Cow;

/// The inflate cap the fuzz checks run with: small, so a bomb is cheap.
pub const FUZZ_INFLATE_CAP: usize = 64 << 10;

/// A CloudWatch Logs document that must always come out Ok, and its line.
fn good_doc() -> Vec<u8> {
    Doc::new()
        .group("/g")
        .stream("s")
        .event_with_id("1", 5, "ok")
        .bytes()
}
const GOOD_LINE: &str = "{\"timestamp\":5,\"id\":\"1\",\"message\":\"ok\",\"log_group\":\"/g\",\"log_stream\":\"s\",\"owner\":\"123456789012\"}\n";

fn record<'a>(id: &'a str, data: Option<String>) -> FirehoseRecord<'a> {
    FirehoseRecord {
        record_id: Cow::Borrowed(id),
        data: data.map(Cow::Owned),
        kinesis_record_metadata: None,
    }
}

fn event_of(records: Vec<FirehoseRecord<'_>>) -> FirehoseEvent<'_> {
    FirehoseEvent {
        invocation_id: Cow::Borrowed("fuzz"),
        delivery_stream_arn: Cow::Borrowed("arn:aws:firehose:us-east-1:1:deliverystream/f"),
        region: None,
        source_kinesis_stream_arn: None,
        records,
    }
}

/// One response entry, as parsed back.
#[derive(Debug)]
pub struct Entry {
    pub record_id: String,
    pub result: String,
    pub data: Option<Vec<u8>>,
}

/// Checks the response is what Firehose accepts for `ids`: valid JSON, every
/// id exactly once and in order, a known result, base64 `data` exactly on Ok
/// records, and (budget on) within the budget. Returns the entries.
pub fn check_response(response: &[u8], ids: &[&str], budget: Option<usize>) -> Vec<Entry> {
    if let Some(b) = budget {
        assert!(
            response.len() <= b,
            "response {} > budget {b}",
            response.len()
        );
    }
    let v: serde_json::Value = serde_json::from_slice(response).expect("response is JSON");
    let records = v["records"].as_array().expect("records array");
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "only `records`");
    assert_eq!(records.len(), ids.len(), "one entry per record");
    let mut out = Vec::with_capacity(records.len());
    for (r, id) in records.iter().zip(ids) {
        assert_eq!(r["recordId"].as_str(), Some(*id), "ids in order");
        let result = r["result"].as_str().expect("result").to_string();
        let data = match result.as_str() {
            "Ok" => Some(
                STANDARD
                    .decode(r["data"].as_str().expect("Ok has data"))
                    .expect("data is base64"),
            ),
            "Dropped" | "ProcessingFailed" => {
                assert!(r.get("data").is_none(), "no data unless Ok");
                None
            }
            other => panic!("unknown result {other:?}"),
        };
        out.push(Entry {
            record_id: id.to_string(),
            result,
            data,
        });
    }
    out
}

/// Every Ok record's data: newline-terminated lines, each one JSON object
/// with the line's keys.
pub fn check_lines(data: &[u8]) -> usize {
    assert!(
        data.is_empty() || data.ends_with(b"\n"),
        "last line ends with \\n"
    );
    let mut n = 0;
    for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).expect("line is JSON");
        let o = v.as_object().expect("line is an object");
        for key in [
            "timestamp",
            "id",
            "message",
            "log_group",
            "log_stream",
            "owner",
        ] {
            assert!(o.contains_key(key), "line has {key}");
        }
        n += 1;
    }
    n
}

thread_local! {
    /// Warm transformers, reused from input to input as a warm Lambda reuses
    /// them from invocation to invocation: budget off, on, and off with
    /// masking on (MASK_PAN=true).
    static WARM: std::cell::RefCell<[Transformer; 3]> = std::cell::RefCell::new(
        [(None, false), (Some(6_000_000), false), (None, true)].map(|(budget, mask)| {
            let mut config = Config {
                inflate_cap: FUZZ_INFLATE_CAP,
                response_budget: budget,
                ..Config::default()
            };
            if mask {
                config.lines.mask = Some(cwl_firehose::Keep::First6Last4);
            }
            Transformer::new(config)
        }),
    );
    static GOOD: String = STANDARD.encode(cwl_firehose::gzip(&good_doc()));
}

/// Property (1): arbitrary bytes as a record's `data`.
pub fn record_data(bytes: &[u8]) {
    let good = GOOD.with(|g| g.clone());
    let wrapped = String::from_utf8_lossy(bytes).into_owned();
    let raw = STANDARD.encode(bytes);
    let ids = ["good-1", "raw", "good-2", "wrapped", "good-3"];
    let ev = event_of(vec![
        record(ids[0], Some(good.clone())),
        record(ids[1], Some(raw)),
        record(ids[2], Some(good.clone())),
        record(ids[3], Some(wrapped)),
        record(ids[4], Some(good)),
    ]);
    WARM.with_borrow_mut(|warm| {
        for t in warm.iter_mut() {
            let budget = t.config().response_budget;
            let mut batch = t.process(&ev, None);
            accept_all(&mut batch);
            let done = batch.finish();
            let (response, summary) = (done.bytes, done.summary);
            let entries = check_response(&response, &ids, budget);
            assert_eq!(summary.records_in, ids.len());
            assert_eq!(
                summary.ok + summary.dropped + summary.processing_failed,
                ids.len()
            );
            for i in [0, 2, 4] {
                assert_eq!(entries[i].result, "Ok", "a good record stays Ok");
                assert_eq!(entries[i].data.as_deref(), Some(GOOD_LINE.as_bytes()));
            }
            for e in &entries {
                if let Some(data) = &e.data {
                    check_lines(data);
                }
            }
        }
    });
}

/// Every part handed to re-ingestion accepted.
fn accept_all(batch: &mut cwl_firehose::Batch<'_>) {
    for part in batch.parts_mut() {
        part.outcome = PartOutcome::Accepted;
    }
}

/// Property (2): arbitrary bytes as the whole event.
pub fn event(bytes: &[u8]) {
    let Ok(ev) = FirehoseEvent::parse(bytes) else {
        return; // a clean error: the only way an invocation may fail
    };
    let ids: Vec<&str> = ev.records.iter().map(|r| &*r.record_id).collect();
    let budget = bytes.first().map(|&b| 200 + usize::from(b) * 16);
    let mut t = Transformer::new(Config {
        inflate_cap: FUZZ_INFLATE_CAP,
        response_budget: budget,
        ..Config::default()
    });
    let mut batch = t.process(&ev, None);
    // Alternate between every re-ingestion succeeding and failing.
    if bytes.len().is_multiple_of(2) {
        accept_all(&mut batch);
    } else {
        for part in batch.parts_mut() {
            part.outcome = PartOutcome::Failed(ReingestError::NotAccepted {
                reason: "no".into(),
            });
        }
    }
    let done = batch.finish();
    let (response, summary, failures) = (done.bytes, done.summary, done.failures);
    // A budget smaller than the empty-data response cannot be honoured.
    let floor = empty_response_len(&ids);
    let entries = check_response(&response, &ids, budget.filter(|&b| b >= floor));
    assert_eq!(summary.processing_failed, failures.len());
    for e in &entries {
        if let Some(data) = &e.data {
            check_lines(data);
        }
    }
}

/// The size of a response where every record is ProcessingFailed.
pub fn empty_response_len(ids: &[&str]) -> usize {
    let mut out = Vec::new();
    for id in ids {
        cwl_firehose::internals::push_bare_entry(&mut out, id, "ProcessingFailed");
    }
    out.len() + ids.len().saturating_sub(1) + 14
}

/// Reads structure out of fuzz bytes; zeros once they run out.
pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    pub fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| acc << 8 | u64::from(self.byte()))
    }
    /// A string favouring what needs escaping: quotes, backslashes, control
    /// characters, non-ASCII, and JSON-looking text.
    pub fn string(&mut self, max: usize) -> String {
        let len = usize::from(self.byte()) % (max + 1);
        let mut s = String::with_capacity(len);
        for _ in 0..len {
            let b = self.byte();
            let c = match b % 8 {
                0 => ['"', '\\', '\n', '\t', '\u{0}', '\u{1f}', '\u{7f}', '/']
                    [usize::from(b / 8 % 8)],
                1 => {
                    ['é', '✓', '😀', '\u{2028}', '\u{feff}', '日', '{', '}'][usize::from(b / 8 % 8)]
                }
                2 => char::from_u32(u32::from(b) << 4 | u32::from(self.byte())).unwrap_or('?'),
                _ => char::from(b' ' + b % 95),
            };
            s.push(c);
        }
        s
    }
}

/// The line `LineWriter` must write for one event (default options).
pub fn expected_line(
    ts: i64,
    id: &str,
    message: &str,
    group: &str,
    stream: &str,
    owner: &str,
) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    format!(
        "{{\"timestamp\":{ts},\"id\":{},\"message\":{},\"log_group\":{},\"log_stream\":{},\"owner\":{}}}\n",
        q(id),
        q(message),
        q(group),
        q(stream),
        q(owner)
    )
}

/// Property (3): a document built from the bytes, encoded as CloudWatch Logs
/// would, comes back as exactly its events.
pub fn round_trip(bytes: &[u8]) {
    let mut u = Bytes(bytes);
    let owner = u.string(12);
    let group = u.string(24);
    let stream = u.string(24);
    let n = usize::from(u.byte()) % 40;
    let mut doc = Doc::new()
        .owner(&owner)
        .group(&group)
        .stream(&stream)
        .filters(&["fuzz"]);
    let mut expected = String::new();
    let mut longest = 0;
    for i in 0..n {
        let ts = u.u64() as i64;
        let id = format!("{i:056}");
        let max = if u.byte() % 8 == 0 { 255 } else { 40 };
        let message = u.string(max);
        let line = expected_line(ts, &id, &message, &group, &stream, &owner);
        longest = longest.max(line.len());
        expected.push_str(&line);
        doc = doc.event(ts, &message);
    }
    let json = doc.bytes();
    let mode = u.byte();
    let raw = match mode % 4 {
        // Firehose's own decompression on: plain JSON.
        0 => json.clone(),
        // Two gzip members, split anywhere.
        1 => {
            let at = usize::from(u.byte()) * json.len() / 256;
            let (a, b) = json.split_at(at);
            let mut two = cwl_firehose::gzip(a);
            two.extend(cwl_firehose::gzip(b));
            two
        }
        _ => cwl_firehose::gzip(&json),
    };
    // A budget every single event fits in, sometimes too small for the
    // record, so that it is split and re-ingested.
    let entry_room = 4096 + 256 + base64::encoded_len(longest, true).unwrap_or(0);
    let budget = match mode / 4 % 3 {
        0 => None,
        1 => Some(6_000_000),
        _ => Some(entry_room + usize::from(u.byte()) * 64),
    };
    let mut t = Transformer::new(Config {
        inflate_cap: FUZZ_INFLATE_CAP,
        response_budget: budget,
        ..Config::default()
    });
    let mut got = Vec::new();
    transform_all(&mut t, STANDARD.encode(&raw), budget, &mut got, 0);
    let got = String::from_utf8(got).expect("lines are UTF-8");
    assert_eq!(got, expected, "exactly the events, one line each, in order");
    assert_eq!(check_lines(got.as_bytes()), n);
}

/// Transforms one record; re-ingested parts are transformed in turn, in
/// place, as the invocation that receives them would.
fn transform_all(
    t: &mut Transformer,
    data: String,
    budget: Option<usize>,
    out: &mut Vec<u8>,
    depth: usize,
) {
    assert!(depth < 64, "splitting does not end");
    let ev = event_of(vec![record("r", Some(data))]);
    let mut batch = t.process(&ev, None);
    let parts: Vec<Vec<u8>> = batch.parts().iter().map(|r| r.data.clone()).collect();
    let decided = batch.dispositions().first();
    let (ok, reingested, no_events) = (
        matches!(decided, Some(Disposition::Ok { .. })),
        matches!(decided, Some(Disposition::Reingest { .. })),
        matches!(decided, Some(Disposition::Dropped(DropReason::NoEvents))),
    );
    // Kept for the failure message only: the batch is gone by then.
    let shown = if ok || reingested || no_events {
        String::new()
    } else {
        format!("{decided:?}")
    };
    accept_all(&mut batch);
    let response = batch.finish().bytes;
    let entries = check_response(&response, &["r"], budget);
    match entries[0].result.as_str() {
        "Ok" if ok => out.extend_from_slice(entries[0].data.as_deref().unwrap_or_default()),
        "Dropped" if reingested => {
            for p in parts {
                transform_all(t, STANDARD.encode(&p), budget, out, depth + 1);
            }
        }
        // A document without events is dropped, and has no lines.
        "Dropped" if no_events => {}
        result => panic!("record not delivered: {result}, {shown}"),
    }
}

/// Property (4): arbitrary text through the PAN masking.
pub fn mask(bytes: &[u8]) {
    use cwl_firehose::internals::{json_body_may_mask, mask, mask_bytes};
    use cwl_firehose::Keep;
    let text = String::from_utf8_lossy(bytes);
    let mut scratch = String::new();
    let mut raw = Vec::new();
    for keep in [Keep::First6Last4, Keep::Last4] {
        let found = mask(&text, keep, &mut scratch);
        // Bytes or text: the same answer.
        let found_bytes = mask_bytes(text.as_bytes(), keep, &mut raw);
        assert_eq!(found, found_bytes);
        let Some(n) = found else {
            continue;
        };
        assert!(n > 0);
        assert_eq!(scratch.as_bytes(), &raw[..]);
        assert_eq!(scratch.len(), text.len());
        for (a, b) in text.bytes().zip(scratch.bytes()) {
            assert!(a == b || (a.is_ascii_digit() && b == b'*'), "{a} -> {b}");
        }
        // The line writer decodes messages with `\u` escapes; the others are
        // checked as written, and must never be passed over.
        let quoted = serde_json::to_string(&*text).expect("a string");
        let body = &quoted[1..quoted.len() - 1];
        if !body.contains("\\u") {
            assert!(json_body_may_mask(body.as_bytes()), "missed: {body:?}");
        }
    }
    // Any bytes at all: no panic.
    if let Some(n) = mask_bytes(bytes, Keep::First6Last4, &mut raw) {
        assert!(n > 0 && raw.len() == bytes.len());
    }
    let _ = json_body_may_mask(bytes);
}
