//! Every fixture event gives exactly its expected response and lines, passes
//! the Firehose contract, and each line equals the source event it came from.
mod common;

use base64::Engine;
use common::*;
use cwl_firehose::Config;

#[test]
fn every_fixture_gives_its_expected_response() {
    for name in fixture_names() {
        let event = fixture(&format!("events/{name}.json"));
        let (response, _) = run(Config::default(), &event);
        let expected = fixture(&format!("expected/{name}.response.json"));
        assert!(
            response == expected,
            "{name}: response differs from fixtures/expected/{name}.response.json"
        );

        let entries = check_contract(&event, &response);
        let lines: String = entries
            .iter()
            .flat_map(|e| &e.lines)
            .map(|l| serde_json::to_string(l).unwrap() + "\n")
            .collect();
        let expected_lines: String =
            String::from_utf8(fixture(&format!("expected/{name}.lines.ndjson")))
                .unwrap()
                .lines()
                .map(|l| {
                    serde_json::to_string(&serde_json::from_str::<serde_json::Value>(l).unwrap())
                        .unwrap()
                        + "\n"
                })
                .collect();
        assert_eq!(lines, expected_lines, "{name}: lines");
    }
}

#[test]
fn every_line_is_its_source_event() {
    for name in fixture_names() {
        let event_bytes = fixture(&format!("events/{name}.json"));
        let event: serde_json::Value = serde_json::from_slice(&event_bytes).unwrap();
        let (response, _) = run(Config::default(), &event_bytes);
        for (entry, record) in check_contract(&event_bytes, &response)
            .iter()
            .zip(event["records"].as_array().unwrap())
        {
            if entry.result != "Ok" {
                continue;
            }
            let raw = base64::engine::general_purpose::STANDARD
                .decode(record["data"].as_str().unwrap())
                .unwrap();
            let doc = if raw.starts_with(&[0x1f, 0x8b]) {
                gunzip(&raw)
            } else {
                raw
            };
            assert_eq!(
                entry.lines,
                expected_lines(&doc),
                "{name}/{}",
                entry.record_id
            );
        }
    }
}

#[test]
fn mixed_batch_fails_only_the_bad_records() {
    let event = fixture("events/mixed-batch.json");
    let (response, summary) = run(Config::default(), &event);
    let results: Vec<(String, String)> = check_contract(&event, &response)
        .into_iter()
        .map(|e| (e.record_id, e.result))
        .collect();
    let expected = [
        ("good-data", "Ok"),
        ("bad-base64", "ProcessingFailed"),
        ("control", "Dropped"),
        ("not-gzip-not-json", "ProcessingFailed"),
        ("truncated-gzip", "ProcessingFailed"),
        ("good-unicode", "Ok"),
        ("unknown-message-type", "ProcessingFailed"),
        ("data-no-events", "Dropped"),
        ("not-a-document", "ProcessingFailed"),
        ("empty-data", "ProcessingFailed"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(results, expected);
    assert_eq!(
        (
            summary.ok,
            summary.dropped,
            summary.processing_failed,
            summary.events_out
        ),
        (2, 2, 6, 8)
    );
}

#[test]
fn fixtures_are_real_shaped_firehose_events() {
    // aws_lambda_events' model of the event (which decodes `data` eagerly)
    // accepts every fixture without bad base64.
    for name in fixture_names().into_iter().filter(|n| n != "mixed-batch") {
        let event = fixture(&format!("events/{name}.json"));
        let parsed: aws_lambda_events::event::firehose::KinesisFirehoseEvent =
            serde_json::from_slice(&event).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!parsed.records.is_empty());
    }
}

#[test]
fn control_message_is_dropped_and_writes_nothing() {
    let event = fixture("events/control-message.json");
    let (response, summary) = run(Config::default(), &event);
    let entries = check_contract(&event, &response);
    assert_eq!(entries[0].result, "Dropped");
    assert_eq!(summary.events_out, 0);
}
