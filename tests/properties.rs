//! Properties of a whole batch, over arbitrary mixes of good and bad records
//! (proptest), in both output formats: every recordId exactly once and in
//! order; one line per event, each parsing back to its event (JSON lines), or
//! each message and `\n` in order (message mode); with the budget on, no
//! response over it, and every event either in the response, or re-ingested,
//! or its record ProcessingFailed (kept by Firehose).

#[path = "../fuzz/checks.rs"]
mod checks;
#[allow(
    clippy::duplicate_mod,
    reason = "fuzz/checks.rs includes the document builder by path too"
)]
mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::Doc;
use cwl_firehose::gzip;
use cwl_firehose::{
    Config, Disposition, FirehoseEvent, LineOptions, OutputFormat, PartOutcome, ReingestError,
    Transformer,
};
use proptest::prelude::*;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
struct Event {
    timestamp: i64,
    message: String,
}

#[derive(Debug, Clone)]
enum Input {
    /// A DATA_MESSAGE with these events; `encoding`: 0 gzip, 1 plain JSON, 2 two gzip members.
    Good {
        group: String,
        events: Vec<Event>,
        encoding: u8,
    },
    /// Anything that is not a document, as `data`.
    Bad(String),
    /// A record whose `data` is missing.
    NoData,
    Control,
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            1 => prop::sample::select(vec!['"', '\\', '\n', '\u{0}', '\u{1f}', '\u{2028}', '😀']),
        ],
        0..max,
    )
    .prop_map(String::from_iter)
}

fn input() -> impl Strategy<Value = Input> {
    let event =
        (any::<i64>(), text(60)).prop_map(|(timestamp, message)| Event { timestamp, message });
    prop_oneof![
        6 => (text(20), prop::collection::vec(event, 0..30), 0u8..3)
            .prop_map(|(group, events, encoding)| Input::Good { group, events, encoding }),
        1 => prop_oneof![
            text(30),
            prop::collection::vec(any::<u8>(), 0..60).prop_map(|b| STANDARD.encode(b)),
            prop::collection::vec(any::<u8>(), 0..60).prop_map(|b| STANDARD.encode(gzip(&b))),
            Just(STANDARD.encode(&gzip(b"{\"messageType\":\"DATA_MESSAGE\"")[..20])),
        ]
        .prop_map(Input::Bad),
        1 => Just(Input::NoData),
        1 => Just(Input::Control),
    ]
}

fn document(group: &str, events: &[Event]) -> Vec<u8> {
    events
        .iter()
        .fold(Doc::new().group(group).stream("s"), |doc, e| {
            doc.event(e.timestamp, &e.message)
        })
        .bytes()
}

fn data(input: &Input) -> Option<String> {
    Some(match input {
        Input::Good { group, events, encoding } => {
            let doc = document(group, events);
            match encoding {
                0 => STANDARD.encode(gzip(&doc)),
                1 => STANDARD.encode(&doc),
                _ => {
                    let (a, b) = doc.split_at(doc.len() / 2);
                    STANDARD.encode([gzip(a), gzip(b)].concat())
                }
            }
        }
        Input::Bad(s) => s.clone(),
        Input::NoData => return None,
        Input::Control => STANDARD.encode(gzip(br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#)),
    })
}

/// The lines `events` of `group` become: JSON lines, or each message and `\n`
/// (a message holding `\n` is several lines there, as in AWS's blueprint).
fn expected_lines(
    format: OutputFormat,
    group: &str,
    stream: &str,
    owner: &str,
    events: &[(i64, String, String)],
) -> Vec<String> {
    events
        .iter()
        .map(|(timestamp, id, message)| match format {
            OutputFormat::Json => {
                checks::expected_line(*timestamp, id, message, group, stream, owner)
            }
            OutputFormat::Message => format!("{message}\n"),
        })
        .collect()
}

fn input_lines(format: OutputFormat, group: &str, events: &[Event]) -> Vec<String> {
    let events: Vec<(i64, String, String)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.timestamp, format!("{i:056}"), e.message.clone()))
        .collect();
    expected_lines(format, group, "s", common::OWNER, &events)
}

/// The events of a re-ingested part, as the lines it will become.
fn part_lines(format: OutputFormat, part: &[u8]) -> Vec<String> {
    let doc = common::gunzip(part);
    let v: Value = serde_json::from_slice(&doc).unwrap();
    let events: Vec<(i64, String, String)> = v["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["timestamp"].as_i64().unwrap(),
                e["id"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    expected_lines(
        format,
        v["logGroup"].as_str().unwrap(),
        v["logStream"].as_str().unwrap(),
        v["owner"].as_str().unwrap(),
        &events,
    )
}

fn split_lines(data: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(data).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'));
    text.split_inclusive('\n').map(str::to_string).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_event_is_delivered_reingested_or_kept(
        inputs in prop::collection::vec(input(), 0..12),
        budget in prop_oneof![Just(None), (6_000usize..40_000).prop_map(Some), Just(Some(6_000_000))],
        reingest_fails in prop::collection::vec(any::<bool>(), 64),
        format in prop_oneof![Just(OutputFormat::Json), Just(OutputFormat::Message)],
    ) {
        let ids: Vec<String> = (0..inputs.len()).map(|i| format!("id-{i}")).collect();
        let records: Vec<Value> = inputs.iter().zip(&ids).map(|(input, id)| match data(input) {
            Some(d) => json!({"recordId": id, "data": d}),
            None => json!({"recordId": id}),
        }).collect();
        let event = serde_json::to_vec(&json!({"records": records})).unwrap();
        let event = FirehoseEvent::parse(&event).unwrap();
        let lines = LineOptions { format, ..LineOptions::default() };
        let mut t = Transformer::new(Config { response_budget: budget, lines, ..Config::default() });
        let mut batch = t.process(&event, None);

        // Which parts each record was split into, and their outcomes.
        let parts: Vec<Option<std::ops::Range<usize>>> = batch.dispositions().iter().map(|d| match d {
            Disposition::Reingest { parts, .. } => Some(parts.clone()),
            _ => None,
        }).collect();
        let part_data: Vec<Vec<u8>> = batch.parts().iter().map(|r| r.data.clone()).collect();
        let outcomes: Vec<bool> = (0..batch.parts().len()).map(|i| !reingest_fails[i % 64]).collect();
        for (part, &accepted) in batch.parts_mut().iter_mut().zip(&outcomes) {
            part.outcome = if accepted {
                PartOutcome::Accepted
            } else {
                PartOutcome::Failed(ReingestError::NotAccepted { reason: "refused".into() })
            };
        }
        let done = batch.finish();
        let (response, summary) = (done.bytes, done.summary);

        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        // Every id once, in order; within the budget when it is on.
        let entries = checks::check_response(&response, &id_refs, budget);
        prop_assert_eq!(summary.ok + summary.dropped + summary.processing_failed, inputs.len());

        for (i, (input, entry)) in inputs.iter().zip(&entries).enumerate() {
            match input {
                Input::Good { group, events, .. } => {
                    let expected = input_lines(format, group, events);
                    match entry.result.as_str() {
                        "Ok" => {
                            let data = entry.data.as_deref().unwrap();
                            if format == OutputFormat::Json {
                                // One line per event, each its event.
                                let lines = split_lines(data);
                                prop_assert_eq!(lines.len(), events.len());
                                prop_assert_eq!(&lines, &expected);
                                prop_assert_eq!(checks::check_lines(data), events.len());
                            } else {
                                // Each message and its newline, in order, nothing else.
                                let messages = expected.concat();
                                prop_assert_eq!(std::str::from_utf8(data), Ok(messages.as_str()));
                            }
                        }
                        "Dropped" if events.is_empty() => {}
                        "Dropped" => {
                            // Re-ingested, every part accepted: together exactly its events.
                            let range = parts[i].clone().expect("dropped with events means re-ingested");
                            prop_assert!(range.clone().all(|p| outcomes[p]));
                            let lines: Vec<String> = range.flat_map(|p| part_lines(format, &part_data[p])).collect();
                            prop_assert_eq!(&lines, &expected);
                        }
                        _ => {
                            // Kept by Firehose: only when a part was refused.
                            let range = parts[i].clone().expect("a good record fails only by re-ingestion");
                            prop_assert!(range.clone().any(|p| !outcomes[p]));
                        }
                    }
                }
                Input::Control => prop_assert_eq!(entry.result.as_str(), "Dropped"),
                Input::NoData => prop_assert_eq!(entry.result.as_str(), "ProcessingFailed"),
                Input::Bad(_) => prop_assert_ne!(entry.result.as_str(), "Ok"),
            }
        }
    }
}
