//! One bad input per test, each failing only its own record, plus the shapes
//! of good input that are easy to get wrong.
mod common;

use common::*;
use cwl_firehose::Config;

/// The result of a record `data` placed between two good records: the good
/// ones must stay Ok whatever the middle one is.
fn result_between_good_records(data: &str, config: Config) -> (String, Vec<serde_json::Value>) {
    let good = b64(&gz(&document(&[(1, "before")])));
    let ev = event(&[("g1", &good), ("x", data), ("g2", &good)]);
    let (response, _) = run(config, &ev);
    let entries = check_contract(&ev, &response);
    assert_eq!(entries[0].result, "Ok");
    assert_eq!(entries[2].result, "Ok");
    (entries[1].result.clone(), entries[1].lines.clone())
}

fn failed(data: &str) {
    assert_eq!(
        result_between_good_records(data, Config::default()).0,
        "ProcessingFailed"
    );
}

#[test]
fn invalid_base64() {
    failed("not base64!");
    failed("QUJD="); // wrong padding
}

#[test]
fn empty_data() {
    failed("");
}

#[test]
fn not_gzip() {
    failed(&b64(b"just some text"));
    failed(&b64(&[0x1f, 0x8c, 0, 0]));
}

#[test]
fn truncated_gzip() {
    let g = gz(&document(&[(1, "hello")]));
    for cut in [3, 10, g.len() / 2, g.len() - 1] {
        failed(&b64(&g[..cut]));
    }
}

#[test]
fn trailing_garbage_after_a_member_fails() {
    let mut g = gz(&document(&[(1, "hello")]));
    g.extend_from_slice(b"garbage");
    failed(&b64(&g));
}

#[test]
fn two_members_are_one_document() {
    let doc = document(&[(1, "split across two gzip members")]);
    let (a, b) = doc.split_at(doc.len() / 2);
    let mut g = gz(a);
    g.extend(gz(b));
    let (result, lines) = result_between_good_records(&b64(&g), Config::default());
    assert_eq!(result, "Ok");
    assert_eq!(lines, expected_lines(&doc));
}

#[test]
fn inflate_over_the_cap_fails() {
    let doc = document(&[(1, &"x".repeat(10_000))]);
    let config = Config {
        inflate_cap: doc.len() - 1,
        ..Config::default()
    };
    assert_eq!(
        result_between_good_records(&b64(&gz(&doc)), config).0,
        "ProcessingFailed"
    );
    let config = Config {
        inflate_cap: doc.len(),
        ..Config::default()
    };
    assert_eq!(result_between_good_records(&b64(&gz(&doc)), config).0, "Ok");
}

#[test]
fn not_json_and_json_that_is_not_a_document() {
    failed(&b64(&gz(b"not json at all")));
    failed(&b64(&gz(b"[1,2,3]")));
    failed(&b64(&gz(b"{\"messageType\":\"DATA_MESSAGE\"")));
    failed(&b64(&gz(b"\"a string\"")));
}

#[test]
fn missing_fields() {
    for doc in [
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s"}"#,
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logEvents":[]}"#,
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","message":"m"}]}"#,
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":"soon","message":"m"}]}"#,
    ] {
        failed(&b64(&gz(doc.as_bytes())));
    }
}

#[test]
fn unknown_keys_are_ignored() {
    let doc = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],
        "policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[{"id":"1","timestamp":5,"message":"m","newKey":{"a":1}}]}"#;
    let (result, lines) = result_between_good_records(&b64(&gz(doc.as_bytes())), Config::default());
    assert_eq!(result, "Ok");
    assert_eq!(lines[0]["message"], "m");
}

#[test]
fn unknown_message_type_fails() {
    let doc = r#"{"messageType":"SOMETHING_NEW","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[]}"#;
    failed(&b64(&gz(doc.as_bytes())));
}

#[test]
fn ten_thousand_events_in_one_record() {
    let msgs: Vec<String> = (0..10_000).map(|i| format!("event number {i}")).collect();
    let events: Vec<(i64, &str)> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| (i as i64, m.as_str()))
        .collect();
    let doc = document(&events);
    let (result, lines) = result_between_good_records(&b64(&gz(&doc)), Config::default());
    assert_eq!(result, "Ok");
    assert_eq!(lines.len(), 10_000);
    assert_eq!(lines, expected_lines(&doc));
}

#[test]
fn one_mib_message() {
    let msg: String = (0..(1 << 20))
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let doc = document(&[(7, &msg)]);
    let (result, lines) = result_between_good_records(&b64(&gz(&doc)), Config::default());
    assert_eq!(result, "Ok");
    assert_eq!(lines[0]["message"].as_str().unwrap().len(), 1 << 20);
}

#[test]
fn non_string_data_fails_alone() {
    let good = b64(&gz(&document(&[(1, "ok")])));
    let ev = format!(
        r#"{{"records":[{{"recordId":"a","data":"{good}"}},{{"recordId":"b","data":42}},{{"recordId":"c"}},{{"recordId":"d","data":"{good}"}}]}}"#
    );
    let (response, _) = run(Config::default(), ev.as_bytes());
    let results: Vec<String> = check_contract(ev.as_bytes(), &response)
        .into_iter()
        .map(|e| e.result)
        .collect();
    assert_eq!(
        results,
        ["Ok", "ProcessingFailed", "ProcessingFailed", "Ok"]
    );
}

#[test]
fn not_a_firehose_event_is_the_only_invocation_error() {
    for bad in [
        &b"{}"[..],
        b"[]",
        b"null",
        b"{\"records\":5}",
        b"{\"records\":[{\"data\":\"x\"}]}",
        b"not json",
    ] {
        assert!(cwl_firehose::FirehoseEvent::parse(bad).is_err());
    }
    // An empty batch is a valid event with an empty response.
    let (response, _) = run(Config::default(), br#"{"records":[]}"#);
    assert_eq!(response, br#"{"records":[]}"#);
}
