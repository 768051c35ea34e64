//! Every limit, and every kind of bad input, with its pinned outcome: what
//! Firehose ends up with for the record (the README's "Failure behaviour"
//! table is this file in prose), and the shapes of good input that are easy
//! to get wrong. Each bad record sits between two good ones, which must stay
//! Ok: a bad record fails only itself.
mod common;

use common::{b64, expected_lines, gz, Doc};
use cwl_firehose::limits::{DEFAULT_INFLATE_CAP, LAMBDA_PAYLOAD_LIMIT};
use cwl_firehose::{Config, FirehoseEvent, PartOutcome, RecordError, Transformer};
use serde_json::{json, Value};

/// The record either side of the one under test.
fn good() -> Vec<u8> {
    Doc::new().group("g").stream("s").event(1, "good").bytes()
}

/// A DATA_MESSAGE document with these messages, as CloudWatch Logs writes it.
fn doc(group: &str, messages: &[&str]) -> Vec<u8> {
    Doc::new()
        .group(group)
        .stream("stream")
        .messages(messages)
        .bytes()
}

/// One record's outcome, the bad record between two good ones.
struct Outcome {
    result: String,
    lines: Vec<Value>,
    error: Option<RecordError>,
    response_len: usize,
}

fn outcome(data: Option<&str>, config: Config) -> Outcome {
    let good = gz64(&good());
    let mut records = vec![json!({"recordId": "before", "data": good})];
    records.push(match data {
        Some(d) => json!({"recordId": "bad", "data": d}),
        None => json!({"recordId": "bad"}),
    });
    records.push(json!({"recordId": "after", "data": good}));
    let event = serde_json::to_vec(&json!({ "records": records })).unwrap();
    let event = FirehoseEvent::parse(&event).unwrap();
    let budget = config.response_budget;
    let mut t = Transformer::new(config);
    let mut batch = t.process(&event, None);
    for part in batch.parts_mut() {
        part.outcome = PartOutcome::Accepted;
    }
    let done = batch.finish();
    let (response, failures) = (done.bytes, done.failures);
    if let Some(b) = budget {
        assert!(response.len() <= b);
    }
    let v: Value = serde_json::from_slice(&response).unwrap();
    let r = v["records"].as_array().unwrap();
    let ids: Vec<_> = r.iter().map(|e| e["recordId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["before", "bad", "after"]);
    for good in [&r[0], &r[2]] {
        assert_eq!(good["result"], "Ok", "a bad record fails only itself");
    }
    let lines = r[1]["data"]
        .as_str()
        .map(|d| {
            let bytes =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, d).unwrap();
            assert!(bytes.ends_with(b"\n"));
            bytes
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| serde_json::from_slice(l).unwrap())
                .collect()
        })
        .unwrap_or_default();
    Outcome {
        result: r[1]["result"].as_str().unwrap().to_string(),
        lines,
        error: failures.into_iter().next().map(|f| f.error),
        response_len: response.len(),
    }
}

fn gz64(bytes: &[u8]) -> String {
    b64(&gz(bytes))
}

fn no_budget() -> Config {
    Config {
        response_budget: None,
        ..Config::default()
    }
}

#[test]
fn bomb_past_the_inflate_cap_fails_alone() {
    // 65 MiB of spaces gzip to about 64 KiB.
    let mut bomb = b"{".to_vec();
    bomb.resize(DEFAULT_INFLATE_CAP + (1 << 20), b' ');
    let data = gz64(&bomb);
    assert!(data.len() < 200_000);
    let o = outcome(Some(&data), Config::default());
    assert_eq!(o.result, "ProcessingFailed");
    assert!(matches!(o.error, Some(RecordError::InflateCap { cap }) if cap == DEFAULT_INFLATE_CAP));
}

#[test]
fn many_tiny_gzip_members_past_the_cap_fail_alone() {
    // 1,100 members of 64 KiB each: every member is small, their sum is not.
    let member = gz(&vec![b' '; 64 << 10]);
    let mut data = gz(b"{");
    for _ in 0..1100 {
        data.extend_from_slice(&member);
    }
    let o = outcome(Some(&b64(&data)), Config::default());
    assert_eq!(o.result, "ProcessingFailed");
    assert!(matches!(o.error, Some(RecordError::InflateCap { .. })));
}

#[test]
fn ten_thousand_events_give_ten_thousand_lines() {
    let messages: Vec<String> = (0..10_000).map(|i| format!("event {i}")).collect();
    let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    let o = outcome(Some(&gz64(&doc("/g", &refs))), Config::default());
    assert_eq!(o.result, "Ok");
    assert_eq!(o.lines.len(), 10_000);
    for (i, line) in o.lines.iter().enumerate() {
        assert_eq!(line["message"], messages[i]);
        assert_eq!(line["id"], format!("{i:056}"));
    }
    assert_eq!(o.lines, expected_lines(&doc("/g", &refs)));
}

#[test]
fn one_mib_message_is_one_line() {
    // CloudWatch Logs' largest event: 1,048,576 bytes less the 26 it counts per event.
    let message = "m".repeat(1_048_576 - 26);
    let o = outcome(Some(&gz64(&doc("/g", &[&message]))), Config::default());
    assert_eq!(o.result, "Ok");
    assert_eq!(o.lines.len(), 1);
    assert_eq!(o.lines[0]["message"], message);
}

#[test]
fn a_message_of_escapes_grows_sixfold_and_is_kept_or_failed_whole() {
    // Control characters escape to six bytes (\u0001): a 1 MiB message
    // writes a 6 MiB line, 8 MiB in base64: over any response on its own.
    let message = "\u{1}".repeat(1_048_550);
    let data = gz64(&doc("/g", &[&message]));
    let o = outcome(Some(&data), Config::default());
    assert_eq!(o.result, "ProcessingFailed");
    assert!(matches!(o.error, Some(RecordError::EventTooLarge { .. })));
    // With the budget off (the CLI's --no-budget) it is one line.
    let o = outcome(Some(&data), no_budget());
    assert_eq!(o.result, "Ok");
    assert_eq!(o.lines[0]["message"], message);
    assert!(o.response_len > 8 * 1_048_550);

    // Quotes and backslashes escape to two bytes: a 1 MiB message of them
    // (2 MiB line, 2.8 MB of base64) still fits a response.
    let message: String = ['"', '\\'].iter().cycle().take(1_048_550).collect();
    let o = outcome(Some(&gz64(&doc("/g", &[&message]))), Config::default());
    assert_eq!(o.result, "Ok");
    assert_eq!(o.lines[0]["message"], message);
}

#[test]
fn invalid_utf8_in_a_message_fails_the_record() {
    // CloudWatch Logs only sends UTF-8; anything else is not its document.
    let mut bytes = doc("/g", &["before XX after"]);
    let at = bytes.windows(2).position(|w| w == b"XX").unwrap();
    bytes[at] = 0xff;
    bytes[at + 1] = 0xfe;
    let o = outcome(Some(&gz64(&bytes)), Config::default());
    assert_eq!(o.result, "ProcessingFailed");
    assert!(matches!(o.error, Some(RecordError::Json(_))));
}

#[test]
fn surrogates_in_escapes() {
    let with = |escape: &str| {
        let d = format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{{"id":"1","timestamp":1,"message":"a{escape}b"}}]}}"#
        );
        outcome(Some(&gz64(d.as_bytes())), Config::default())
    };
    // A pair is one character.
    let o = with(r"\ud83d\ude00");
    assert_eq!(o.result, "Ok");
    assert_eq!(o.lines[0]["message"], "a😀b");
    // A lone surrogate is not a Unicode scalar: the document is refused.
    for lone in [r"\ud800", r"\udc00", r"\ud800\u0041", r"\ude00\ud83d"] {
        let o = with(lone);
        assert_eq!(o.result, "ProcessingFailed", "{lone}");
        assert!(matches!(o.error, Some(RecordError::Json(_))), "{lone}");
    }
}

#[test]
fn duplicate_keys_fail_the_record() {
    // serde refuses a duplicated field rather than guess which one counts.
    for d in [
        r#"{"messageType":"DATA_MESSAGE","messageType":"CONTROL_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[]}"#,
        r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"a","message":"b"}]}"#,
    ] {
        let o = outcome(Some(&gz64(d.as_bytes())), Config::default());
        assert_eq!(o.result, "ProcessingFailed", "{d}");
        // The log line names the position, not the (payload) value.
        let e = o.error.unwrap();
        assert!(matches!(e, RecordError::Json(_)));
        assert!(e.to_string().contains("wrong type or value"), "{e}");
    }
}

#[test]
fn lines_that_repeat_a_long_group_are_capped() {
    // Each line repeats the log group, so a 64 KiB group and 2,000 empty
    // events (a record of under 1 KB of gzip) would write 131 MB of lines,
    // and a 1,000 KiB record terabytes: lines are capped at twice the
    // inflate cap, and the record fails alone.
    let group = "g".repeat(64 << 10);
    let events = vec![json!({"id": "", "timestamp": 0, "message": ""}); 2000];
    let shape = |events: &[Value]| {
        gz64(
            &serde_json::to_vec(&json!({"messageType": "DATA_MESSAGE", "owner": "o",
            "logGroup": group, "logStream": "s", "logEvents": events}))
            .unwrap(),
        )
    };
    let data = shape(&events);
    assert!(data.len() < 1000);
    let config = Config {
        inflate_cap: 1 << 20,
        response_budget: None,
        ..Config::default()
    };
    let o = outcome(Some(&data), config);
    assert_eq!(o.result, "ProcessingFailed");
    assert!(matches!(
        o.error,
        Some(RecordError::LinesCap { cap: 2_097_152 })
    ));
    assert!(o.response_len < 1000);
    // Under the cap the same shape is fine.
    let o = outcome(Some(&shape(&events[..10])), Config::default());
    assert_eq!(o.result, "Ok");
    assert_eq!(o.lines.len(), 10);
}

/// The rest of the table: each bad input and its outcome.
#[test]
fn every_bad_input_fails_only_itself() {
    let control = gz64(&Doc::control().bytes());
    let whole = gz(&doc("/g", &["x"]));
    let truncated = b64(&whole[..whole.len() - 4]);
    let mut trailing = whole.clone();
    trailing.extend_from_slice(b"junk");
    let trailing = b64(&trailing);
    let missing =
        gz64(br#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logEvents":[]}"#);
    let wrong_type = gz64(br#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":1,"timestamp":1,"message":"m"}]}"#);
    let other = gz64(br#"{"messageType":"SOMETHING_NEW","owner":"o","logGroup":"g","logStream":"s","logEvents":[]}"#);
    let no_events = gz64(&doc("/g", &[]));
    let plain = b64(&doc("/g", &["plain"]));
    let not_json = gz64(b"{oops");
    let two_docs = gz64(&[doc("/g", &["a"]), doc("/g", &["b"])].concat());
    let cases: Vec<(&str, Option<&str>, &str, &str)> = vec![
        (
            "data missing",
            None,
            "ProcessingFailed",
            "missing or not a string",
        ),
        (
            "not base64",
            Some("@@@"),
            "ProcessingFailed",
            "not valid base64",
        ),
        (
            "base64 without padding",
            Some("e30"),
            "ProcessingFailed",
            "not valid base64",
        ),
        ("empty", Some(""), "ProcessingFailed", "empty"),
        (
            "not gzip or JSON",
            Some("aGVsbG8="),
            "ProcessingFailed",
            "neither gzip nor",
        ),
        (
            "truncated gzip",
            Some(&truncated),
            "ProcessingFailed",
            "gzip",
        ),
        (
            "garbage after gzip",
            Some(&trailing),
            "ProcessingFailed",
            "gzip",
        ),
        (
            "not JSON",
            Some(&not_json),
            "ProcessingFailed",
            "not a CloudWatch Logs document",
        ),
        (
            "two documents",
            Some(&two_docs),
            "ProcessingFailed",
            "not a CloudWatch Logs document",
        ),
        (
            "missing field",
            Some(&missing),
            "ProcessingFailed",
            "missing field",
        ),
        (
            "wrong field type",
            Some(&wrong_type),
            "ProcessingFailed",
            "wrong type",
        ),
        (
            "unknown messageType",
            Some(&other),
            "ProcessingFailed",
            "unknown messageType",
        ),
        ("control message", Some(&control), "Dropped", ""),
        ("no events", Some(&no_events), "Dropped", ""),
        ("plain JSON (Firehose decompressed)", Some(&plain), "Ok", ""),
    ];
    for (name, data, result, reason) in cases {
        let o = outcome(data, Config::default());
        assert_eq!(o.result, result, "{name}");
        let shown = o.error.map(|e| e.to_string()).unwrap_or_default();
        assert!(shown.contains(reason), "{name}: {shown}");
    }
}

/// More of each kind of bad input the table names: each fails only itself.
#[test]
fn more_bad_inputs_fail_only_themselves() {
    let whole = gz(&doc("/g", &["hello"]));
    let mut data: Vec<String> = vec![
        "not base64!".into(),
        "QUJD=".into(), // wrong padding
        b64(b"just some text"),
        b64(&[0x1f, 0x8c, 0, 0]), // one bit off the gzip magic
    ];
    for cut in [3, 10, whole.len() / 2, whole.len() - 1] {
        data.push(b64(&whole[..cut]));
    }
    for not_a_document in [
        &b"not json at all"[..],
        b"[1,2,3]",
        b"{\"messageType\":\"DATA_MESSAGE\"",
        b"\"a string\"",
        // Fields missing or of the wrong type.
        br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s"}"#,
        br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logEvents":[]}"#,
        br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","message":"m"}]}"#,
        br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":"soon","message":"m"}]}"#,
    ] {
        data.push(gz64(not_a_document));
    }
    for d in &data {
        let o = outcome(Some(d), Config::default());
        assert_eq!(o.result, "ProcessingFailed", "{d}");
        assert!(o.error.is_some(), "{d}");
    }
}

#[test]
fn two_gzip_members_are_one_document() {
    let doc = Doc::new().event(1, "split across two gzip members").bytes();
    let (a, b) = doc.split_at(doc.len() / 2);
    let mut members = gz(a);
    members.extend(gz(b));
    let o = outcome(Some(&b64(&members)), Config::default());
    assert_eq!(o.result, "Ok");
    assert_eq!(o.lines, expected_lines(&doc));
}

#[test]
fn the_inflate_cap_is_exact() {
    let doc = Doc::new().event(1, &"x".repeat(10_000)).bytes();
    let data = gz64(&doc);
    let cap = |inflate_cap| Config {
        inflate_cap,
        ..Config::default()
    };
    let o = outcome(Some(&data), cap(doc.len() - 1));
    assert_eq!(o.result, "ProcessingFailed");
    assert!(matches!(o.error, Some(RecordError::InflateCap { cap }) if cap == doc.len() - 1));
    assert_eq!(outcome(Some(&data), cap(doc.len())).result, "Ok");
}

#[test]
fn unknown_keys_are_ignored() {
    let doc = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],
        "policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[{"id":"1","timestamp":5,"message":"m","newKey":{"a":1}}]}"#;
    let o = outcome(Some(&gz64(doc.as_bytes())), Config::default());
    assert_eq!(o.result, "Ok");
    assert_eq!(o.lines.len(), 1);
    assert_eq!(o.lines[0]["message"], "m");
}

#[test]
fn data_that_is_not_a_string_fails_alone() {
    for data in [json!(null), json!(1), json!({"a": [1]}), json!(["x"])] {
        let event = serde_json::to_vec(&json!({"records": [
            {"recordId": "a", "data": data}, {"recordId": "b", "data": gz64(&good())}
        ]}))
        .unwrap();
        let event = FirehoseEvent::parse(&event).unwrap();
        let done = Transformer::new(Config::default())
            .process(&event, None)
            .finish();
        let (response, summary) = (done.bytes, done.summary);
        assert_eq!((summary.processing_failed, summary.ok), (1, 1), "{data}");
        let v: Value = serde_json::from_slice(&response).unwrap();
        assert_eq!(v["records"][0]["result"], "ProcessingFailed");
    }
}

#[test]
fn only_a_malformed_event_is_an_error() {
    for bad in [
        &b"{}"[..],
        b"[]",
        b"",
        b"null",
        b"{\"records\":5}",
        b"{\"records\":[{\"data\":\"x\"}]}",
        b"not json",
        b"\xff",
    ] {
        assert!(FirehoseEvent::parse(bad).is_err());
    }
    // An empty batch is a valid event with an empty response.
    let event = FirehoseEvent::parse(br#"{"records":[]}"#).unwrap();
    let done = Transformer::new(Config::default())
        .process(&event, None)
        .finish();
    assert_eq!(done.bytes, br#"{"records":[]}"#);
}

#[test]
fn more_than_100_000_events_fail_the_record() {
    // CloudWatch Logs sends at most 10,000 events; the bound keeps a crafted
    // document from building an unbounded event list on serde's path (which
    // the masking and merge options always take).
    let events = vec![json!({"id": "", "timestamp": 0, "message": ""}); 100_001];
    let doc = serde_json::to_vec(&json!({"messageType": "DATA_MESSAGE", "owner": "o",
        "logGroup": "g", "logStream": "s", "logEvents": events}))
    .unwrap();
    for mask in [None, Some(cwl_firehose::Keep::Last4)] {
        let mut config = Config {
            response_budget: None,
            ..Config::default()
        };
        config.lines.mask = mask;
        let o = outcome(Some(&gz64(&doc)), config);
        assert_eq!(o.result, "ProcessingFailed");
        let e = o.error.unwrap().to_string();
        assert!(e.contains("more than 100000 log events"), "{e}");
    }
}

/// Without a budget a response can be far larger than any Lambda may return
/// (the CLI, `bench`). A warm transformer starts the next such response at
/// the last one's length, so it is sized once, not grown by doubling; its
/// bytes are unchanged. A response a Lambda could return sizes nothing.
#[test]
fn a_warm_transformer_sizes_a_response_past_the_lambda_limit_once() {
    let message = "x".repeat(1000);
    let event = |records: usize, events: usize| {
        let data = gz64(&doc("/g", &vec![message.as_str(); events]));
        let records: Vec<Value> = (0..records)
            .map(|i| json!({"recordId": format!("r{i}"), "data": data}))
            .collect();
        serde_json::to_vec(&json!({ "records": records })).unwrap()
    };
    let (large, small) = (event(3, 10_000), event(1, 1_000));
    let (large, small) = (
        FirehoseEvent::parse(&large).unwrap(),
        FirehoseEvent::parse(&small).unwrap(),
    );
    let mut warm = Transformer::new(no_budget());
    let first = warm.process(&large, None).finish().bytes;
    assert!(first.len() > 32 << 20, "{} bytes", first.len());
    assert!(
        first.capacity() > first.len(),
        "the first grows by doubling"
    );
    let second = warm.process(&large, None).finish().bytes;
    assert!(second == first, "the same event gives the same bytes");
    assert_eq!(second.capacity(), second.len(), "reserved at its length");
    // A response under the limit in between: the next one grows again.
    let one = warm.process(&small, None).finish().bytes;
    assert!(one.len() < LAMBDA_PAYLOAD_LIMIT, "{} bytes", one.len());
    let third = warm.process(&large, None).finish().bytes;
    assert!(third == first);
    assert!(third.capacity() > third.len(), "grown by doubling");
}
