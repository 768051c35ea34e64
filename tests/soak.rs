//! A warm soak: one function process answering many invocations in a row,
//! as a busy delivery stream keeps one Lambda instance warm.
//!
//! The function is the release build SAM makes (`cargo lambda build
//! --release --bin cwl-firehose-lambda` into target/sam-build with the faster
//! profile of tests/support/release_build.rs, so after tests/sam_build.rs it
//! is already built), run as Lambda runs it against a Runtime API endpoint on
//! 127.0.0.1 this test serves (tests/support/runtime_api.rs), with the
//! environment, memory size and timeout template.yaml gives it at its
//! parameters' defaults (MASK_PAN=true included). Overflow is re-ingested
//! through the real AWS SDK into moto's Firehose API on 127.0.0.1 (started
//! here); the delivery stream has a Redshift destination, which moto accepts
//! and discards, so moto's memory stays bounded however long the soak runs
//! (what re-ingestion writes is checked by tests/reingest.rs).
//!
//! The events cycle through: max-size events (6 MB, overflow re-ingested),
//! small ones (1 MB), one with a gzip bomb, one with bad records (and card
//! numbers to mask) built here, and the mixed-batch fixture. Asserted:
//! - no invocation fails, and every response equals, byte for byte, the
//!   response the library computes in this process for that event with the
//!   same settings and every re-ingested record accepted (which passes the
//!   Firehose contract check: every recordId once, in order, valid results);
//! - RSS after warm-up stays flat: sampled at the end of every cycle, the
//!   median of the second half is at most 10% above the highest sample of
//!   the first half (steady growth moves the median past every earlier
//!   state; what the allocator keeps between cycles only switches states);
//! - peak RSS (VmHWM) under 128 MiB, the smallest Lambda memory size;
//! - time per max event: reported; the only bound is loose (the median of
//!   the last quarter of max events at most 4x that of the first quarter).
//!
//! `SOAK_INVOCATIONS=N` runs a longer soak (CI runs the default 245: 25-55 s
//! here, with the machine shared); the figures are printed (`--nocapture`).

mod common;
#[path = "support/release_build.rs"]
mod release_build;
#[path = "support/runtime_api.rs"]
mod runtime_api;
#[path = "support/template.rs"]
mod template;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{check_contract, fixture, gz, log_tail, venv_tool, KillOnDrop, MotoServer};
use cwl_firehose::adapters::settings::Settings;
use cwl_firehose::{FirehoseEvent, PartOutcome, Summary, Transformer};
use cwl_firehose_lab::generate::Size;
use runtime_api::{spawn_function, Outcome, RuntimeApi};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// CI's soak: enough cycles for a trend, well under a minute.
const DEFAULT_INVOCATIONS: usize = 240;
const LIMIT: u64 = 128 << 20;
/// The stream the generated events name (`cwl_firehose_lab::generate`).
const STREAM: &str = "cwl-logs";

struct Kind {
    name: String,
    event: Vec<u8>,
    expected: Vec<u8>,
    summary: Summary,
    is_max: bool,
}

/// A seeded benchmark event of the lab's.
fn generate(size: Size, seed: u64) -> Vec<u8> {
    cwl_firehose_lab::generate::event(size, seed, None)
}

/// A small generated event with bad records, each bad in its own way,
/// between its good ones, so each must fail alone; the generator writes no
/// card numbers, so a record with some comes last.
fn bad_records_event() -> (Vec<u8>, usize) {
    let mut event: Value = serde_json::from_slice(&generate(Size::Small, 3)).unwrap();
    let good: Vec<Value> = event["records"].as_array().unwrap().clone();
    let truncated = {
        let data = STANDARD.decode(good[0]["data"].as_str().unwrap()).unwrap();
        STANDARD.encode(&data[..data.len() / 2])
    };
    let bad = [
        "!!not base64!!".to_string(),
        STANDARD.encode(b"plain text, not gzip and not JSON"),
        truncated,
        STANDARD.encode(gz(br#"{"messageType":"SOMETHING_ELSE","logEvents":[]}"#)),
        STANDARD.encode(gz(b"[1, 2, 3]")),
        String::new(),
    ];
    let mut records = Vec::new();
    for (i, data) in bad.iter().enumerate() {
        if let Some(g) = good.get(i) {
            records.push(g.clone());
        }
        records.push(json!({
            "recordId": format!("bad-{i}"),
            "approximateArrivalTimestamp": 1_764_300_000_000u64,
            "data": data,
        }));
    }
    records.extend(good.iter().skip(bad.len()).cloned());
    // And a good record with card numbers (Visa's test PAN) to mask.
    let pans = common::document(&[
        (
            1_764_300_000_000,
            "payment ok card=4111111111111111 amount=12.00",
        ),
        (
            1_764_300_000_001,
            r#"{"pan":"4111 1111 1111 1111","cvv":"123"}"#,
        ),
    ]);
    records.push(json!({
        "recordId": "pans",
        "approximateArrivalTimestamp": 1_764_300_000_000u64,
        "data": STANDARD.encode(gz(&pans)),
    }));
    event["records"] = json!(records);
    (serde_json::to_vec(&event).unwrap(), bad.len())
}

/// The function as template.yaml declares it, at its parameters' defaults
/// (the environment tests/sam_build.rs reads from the built template).
fn function() -> template::Function {
    template::read_function(
        &release_build::tool("VENV_TEMPLATE", ".venv-template", "python"),
        &release_build::repo().join("template.yaml"),
    )
}

fn settings(env: &[(String, String)]) -> Settings {
    Settings::from_lookup(|k| {
        env.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    })
    .unwrap()
}

/// The response for `event` from the library in this process, with every
/// re-ingested record accepted (moto accepts every PutRecordBatch record).
fn expected(settings: &Settings, name: &str, event: Vec<u8>, is_max: bool) -> Kind {
    let parsed = FirehoseEvent::parse(&event).unwrap();
    let mut batch = Transformer::new(settings.core.clone()).process(&parsed, None);
    for part in batch.parts_mut() {
        part.outcome = PartOutcome::Accepted;
    }
    let response = batch.finish();
    let (expected, summary) = (response.bytes, response.summary);
    drop(parsed);
    check_contract(&event, &expected);
    Kind {
        name: name.to_string(),
        event,
        expected,
        summary,
        is_max,
    }
}

/// The cycle of events, each with its expected response.
fn kinds(settings: &Settings) -> Vec<Kind> {
    let (bad, spoiled) = bad_records_event();
    let kinds = vec![
        expected(settings, "max-1", generate(Size::Max, 1), true),
        expected(settings, "small-1", generate(Size::Small, 1), false),
        expected(settings, "bad-records", bad, false),
        expected(settings, "bomb", generate(Size::Bomb, 1), false),
        expected(settings, "max-2", generate(Size::Max, 2), true),
        expected(settings, "small-2", generate(Size::Small, 2), false),
        expected(
            settings,
            "mixed-batch",
            fixture("events/mixed-batch.json"),
            false,
        ),
    ];
    // The mix does what it is for.
    let by = |n: &str| &kinds.iter().find(|k| k.name == n).unwrap().summary;
    for max in ["max-1", "max-2"] {
        assert!(by(max).parts > 0, "{max} overflows and is re-ingested");
    }
    assert_eq!(by("bad-records").processing_failed, spoiled);
    assert!(
        by("bad-records").masked_pans >= 2,
        "the card numbers are masked"
    );
    assert_eq!(by("bomb").processing_failed, 1, "the bomb fails alone");
    assert!(by("small-1").ok > 0 && by("small-1").processing_failed == 0);
    kinds
}

/// moto's server with the delivery stream the events name.
fn start_moto() -> MotoServer {
    let moto = MotoServer::start();
    // A Redshift destination: moto accepts its records and keeps nothing.
    const SETUP: &str = r#"
import sys, boto3
firehose = boto3.client("firehose", endpoint_url=sys.argv[1], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")
firehose.create_delivery_stream(
    DeliveryStreamName=sys.argv[2], DeliveryStreamType="DirectPut",
    RedshiftDestinationConfiguration={
        "RoleARN": "arn:aws:iam::123456789012:role/firehose",
        "ClusterJDBCURL": "jdbc:redshift://soak.example:5439/logs",
        "CopyCommand": {"DataTableName": "logs"},
        "Username": "soak", "Password": "soak-password",
        "S3Configuration": {"RoleARN": "arn:aws:iam::123456789012:role/firehose",
                            "BucketARN": "arn:aws:s3:::soak-backup"}})
"#;
    let out = Command::new(venv_tool("python"))
        .args(["-c", SETUP, &moto.endpoint, STREAM])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "moto setup: {}\nmoto's log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        moto.log_tail()
    );
    moto
}

/// VmRSS and VmHWM of a process, in bytes.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .map(|v| v.trim().parse::<u64>().unwrap() * 1024)
            .unwrap_or_else(|| panic!("{name} missing in /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
fn one_warm_function_answers_many_mixed_invocations() {
    let invocations: usize = std::env::var("SOAK_INVOCATIONS")
        .ok()
        .map(|v| v.parse().expect("SOAK_INVOCATIONS is a number"))
        .unwrap_or(DEFAULT_INVOCATIONS);
    let function = function();
    let mut env = function.env.clone();
    let kinds = kinds(&settings(&env));
    let cycles = invocations.div_ceil(kinds.len()).max(4);
    // Warm-up: the first tenth of the cycles, at least two.
    let warm_cycles = (cycles / 10).max(2);

    let bootstrap = release_build::cargo_lambda_build();
    let moto = start_moto();
    let mut api = RuntimeApi::start();
    env.push(("AWS_ENDPOINT_URL".to_string(), moto.endpoint.clone()));
    let log: PathBuf = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("soak-function.log");
    let timeout = Duration::from_secs(function.number("Timeout"));
    let memory_mb = function.number("MemorySize") as u32;
    let mut process = KillOnDrop(spawn_function(&bootstrap, &api, memory_mb, &env, &log));
    let pid = process.0.id();

    let mut max_ms: Vec<f64> = Vec::new();
    let mut cycle_rss: Vec<u64> = Vec::new();
    let started = std::time::Instant::now();
    for cycle in 0..cycles {
        for kind in &kinds {
            let answer = api
                .invoke(kind.event.clone(), timeout, || {
                    process.0.try_wait().unwrap().is_none()
                })
                .unwrap_or_else(|e| {
                    panic!("cycle {cycle}, {}: {e}\n{}", kind.name, log_tail(&log))
                });
            match answer.outcome {
                Outcome::Response(response) => assert!(
                    response == kind.expected,
                    "cycle {cycle}, {}: the response differs from the expected one",
                    kind.name
                ),
                Outcome::Error { error_type, body } => panic!(
                    "cycle {cycle}, {}: invocation error {error_type:?}: {}",
                    kind.name,
                    String::from_utf8_lossy(&body)
                ),
            }
            if kind.is_max {
                max_ms.push(answer.elapsed.as_secs_f64() * 1000.0);
            }
        }
        cycle_rss.push(memory(pid).0);
    }
    let elapsed = started.elapsed();
    let (rss_end, peak) = memory(pid);
    assert_eq!(api.init_error(), None);

    let done = cycles * kinds.len();
    // RSS at a cycle's end is in one of a few states, whatever the code:
    // glibc keeps or returns the last max event's buffers (seen on one build:
    // 21.4 or 37.3 MiB; on another 23.0, 38.9 or 51.7 MiB), and a run can stay
    // in a high state for many cycles, so medians of a few samples flip, and a
    // run can visit a low state once. Steady growth moves the median of the
    // second half after warm-up past every state of the first half: that
    // median is compared with the first half's highest cycle end.
    let after_warm = &cycle_rss[warm_cycles..];
    let (first_half, second_half) = after_warm.split_at(after_warm.len() / 2);
    let warm = *first_half.iter().max().unwrap();
    let mut second = second_half.to_vec();
    second.sort_unstable();
    let end = second[second.len() / 2];
    let highest = *cycle_rss[warm_cycles..].iter().max().unwrap();
    let quarter = (max_ms.len() / 4).max(1);
    let first = median(&mut max_ms[..quarter].to_vec());
    let last = median(&mut max_ms[max_ms.len() - quarter..].to_vec());
    let all = median(&mut max_ms.clone());
    eprintln!(
        "soak: {done} invocations ({cycles} cycles of {}) in {:.1} s; RSS after warm-up \
         ({warm_cycles} cycles) {:.1} MiB, at the end {:.1} MiB (highest cycle end of the \
         first half, median of the second), highest cycle end after warm-up {:.1} MiB, last sample {:.1} MiB; peak (VmHWM) \
         {:.1} MiB; max event: median {all:.0} ms (first quarter {first:.0} ms, last quarter \
         {last:.0} ms, {} max events)",
        kinds.len(),
        elapsed.as_secs_f64(),
        mib(warm),
        mib(end),
        mib(highest),
        mib(rss_end),
        mib(peak),
        max_ms.len()
    );
    let step = cycle_rss.len().div_ceil(16);
    eprintln!(
        "soak: RSS at cycle ends (every {step}th, MiB): {:?}",
        cycle_rss
            .iter()
            .step_by(step)
            .map(|&b| (mib(b) * 10.0).round() / 10.0)
            .collect::<Vec<_>>()
    );
    assert!(
        end * 10 <= warm * 11,
        "RSS grew after warm-up: {:.1} MiB -> {:.1} MiB",
        mib(warm),
        mib(end)
    );
    assert!(peak < LIMIT, "peak RSS {:.1} MiB", mib(peak));
    assert!(
        last <= first * 4.0,
        "max events slowed down: median {first:.0} ms -> {last:.0} ms"
    );
}
