//! The deadline: records not started by it come back ProcessingFailed (so
//! Firehose keeps them) instead of the invocation timing out and failing the
//! whole batch. Deterministic: the deadlines are already past, or far ahead.

#![cfg(feature = "lambda")]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cwl_firehose::adapters::lambda::{handle_at, Function, Now};
use cwl_firehose::adapters::settings::Settings;
use cwl_firehose::gzip;
use cwl_firehose::{Config, FirehoseEvent, RecordError, Transformer};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

mod common;

use common::Doc;

fn event(n: usize) -> Vec<u8> {
    let data = STANDARD.encode(gzip(&Doc::new().event(1, "m").bytes()));
    let records: Vec<Value> = (0..n)
        .map(|i| json!({"recordId": format!("r{i}"), "data": data}))
        .collect();
    serde_json::to_vec(&json!({
        "invocationId": "deadline",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/d",
        "records": records,
    }))
    .unwrap()
}

fn results(response: &[u8]) -> Vec<(String, String)> {
    let v: Value = serde_json::from_slice(response).unwrap();
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["recordId"].as_str().unwrap().to_string(),
                r["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("r{i}")).collect()
}

#[test]
fn a_passed_deadline_fails_every_record_not_started() {
    let bytes = event(50);
    let ev = FirehoseEvent::parse(&bytes).unwrap();
    let mut t = Transformer::new(Config::default());
    let done = t.process(&ev, Some(Instant::now())).finish();
    let (response, summary, failures) = (done.bytes, done.summary, done.failures);
    assert_eq!(summary.processing_failed, 50);
    assert!(failures
        .iter()
        .all(|f| matches!(f.error, RecordError::Deadline)));
    let r = results(&response);
    assert_eq!(
        r.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        ids(50)
    );
    assert!(r.iter().all(|(_, result)| result == "ProcessingFailed"));
    // The same transformer, warm, with time left: everything Ok.
    let later = Instant::now() + Duration::from_secs(3600);
    let done = t.process(&ev, Some(later)).finish();
    let (response, summary) = (done.bytes, done.summary);
    assert_eq!(summary.ok, 50);
    assert!(results(&response).iter().all(|(_, r)| r == "Ok"));
}

/// The wall clock the handler is started at: fixed, so a slow machine
/// cannot move a deadline that is one second away.
const NOW_MS: u64 = 1_764_300_000_000;

fn invoke(deadline_ms: u64, n: usize) -> Vec<(String, String)> {
    let function = Function::new(&Settings::default());
    let payload =
        serde_json::value::RawValue::from_string(String::from_utf8(event(n)).unwrap()).unwrap();
    let mut context = Context::default();
    context.deadline = deadline_ms;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime
        .block_on(handle_at(
            &function,
            LambdaEvent::new(payload, context),
            Now {
                instant: Instant::now(),
                epoch_ms: NOW_MS,
            },
        ))
        .unwrap();
    results(response.as_str().as_bytes())
}

#[test]
fn lambda_with_a_near_deadline_returns_every_record_failed_in_time() {
    // One second left: less than the 1.5 s kept to send the response, so no
    // record may start; the invocation still answers, with every id.
    let r = invoke(NOW_MS + 1000, 20);
    assert_eq!(
        r.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        ids(20)
    );
    assert!(r.iter().all(|(_, result)| result == "ProcessingFailed"));
}

#[test]
fn lambda_with_time_left_transforms_everything() {
    let r = invoke(NOW_MS + 300_000, 20);
    assert_eq!(r.len(), 20);
    assert!(r.iter().all(|(_, result)| result == "Ok"));
}
