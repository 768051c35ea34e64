//! The whole loop, end to end, for both sources: an hour of CloudWatch Logs
//! traffic (compressed in time) through Firehose's documented behaviour around
//! the real function, with faults on every re-ingestion path, and DuckDB
//! reading every object at the end.
//!
//! What plays which part:
//! - the function: the Lambda binary under `cargo lambda watch` (the real
//!   Lambda runtime API), RESPONSE_BUDGET 1,000,000 (the template's lowest),
//!   re-ingesting through `tests/support/fault_proxy.py` into moto;
//! - Firehose: `tests/support/firehose_sim.py`, which buffers records into
//!   invocations (at most 1 MB of compressed input each, at least one per
//!   simulated minute), checks each response as Firehose does, concatenates
//!   Ok data into GZIP objects under `logs/YYYY/MM/DD/HH/` in moto's S3,
//!   writes ProcessingFailed records as Firehose's error objects under
//!   `processing-failed/processing-failed/...` (rawData, errorCode
//!   Lambda.ProcessingFailedStatus, attemptsMade, arrivalTimestamp,
//!   errorMessage, attemptEndingTimestamp, lambdaArn), and feeds what the
//!   function re-ingested back through it: read from moto's Kinesis stream
//!   (Kinesis source) or from the objects moto's delivery stream wrote for
//!   the function's PutRecordBatch calls (DirectPut). The Firehose behaviour
//!   it relies on is cited, with AWS's documentation, in that file's
//!   docstring;
//! - the operator: `cwl-firehose replay --lines` on the error objects, its
//!   lines added to the delivered objects;
//! - Athena: DuckDB's `read_ndjson` over every object.
//!
//! cargo lambda sends the function's timeout where Lambda sends an epoch
//! deadline, so here the function uses its fallback re-ingestion time (60 s);
//! tests/reingest_faults.rs covers real deadlines. The faults never stop
//! (every kind once, then drawn per call), so every overflowing invocation
//! retries through them.
//!
//! Checked: every deliverable source event is in S3, once when
//! de-duplicated by `id`; events that must never arrive (bombs, bad records,
//! the control message) do not; duplicates only where an answer was lost or
//! late (at-least-once); nothing in processing-failed/ but the bad records,
//! the bomb and the one event too large for any Firehose record (so nothing
//! went there because re-ingestion gave up while time remained); replay gives
//! back that event and names the rest as still failing; every response was
//! within the budget and the contract.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BUDGET: usize = 1_000_000;

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

struct Run {
    source: &'static str,
    report: Value,
    events: usize,
    distinct: usize,
    duplicates: usize,
    error_records: usize,
    recovered: usize,
    seconds: f64,
}

fn run_source(proxy: &FaultProxy, watch: &Watch, source: &'static str) -> Run {
    let started = Instant::now();
    let dir = temp_dir(&format!("pipeline-{source}"));
    let moto = proxy.moto.as_str();
    let out = dir.to_str().unwrap();
    let report = firehose_sim(&[
        "run",
        "--moto",
        moto,
        "--lambda-port",
        &watch.port.to_string(),
        "--source",
        source,
        "--out",
        out,
    ]);
    assert_eq!(report["failed_invocations"], json!(0), "{report}");
    assert_eq!(report["contract_violations"], json!([]), "{report}");
    assert!(
        report["max_response_bytes"].as_u64().unwrap() <= BUDGET as u64,
        "{report}"
    );
    assert!(
        report["reingested_back"].as_u64().unwrap() > 0,
        "the hour must overflow: {report}"
    );
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected_ids.json")).unwrap()).unwrap();
    let kinds = &expected["kinds"];
    let kind = |k: &str| kinds[k].as_u64().unwrap_or(0) as usize;

    let objects = &report["objects"];
    let keyed = |prefix: &str| -> Vec<(String, PathBuf)> {
        objects
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["key"].as_str().unwrap().starts_with(prefix))
            .map(|o| {
                (
                    o["key"].as_str().unwrap().to_string(),
                    PathBuf::from(o["file"].as_str().unwrap()),
                )
            })
            .collect()
    };
    let logs = keyed("logs/");
    let errors = keyed("processing-failed/processing-failed/");
    // The arrival hours of the simulated hour (03:30-04:30 UTC).
    for prefix in [
        "logs/2025/11/28/03/",
        "logs/2025/11/28/04/",
        "processing-failed/processing-failed/2025/11/28/",
    ] {
        assert!(
            objects
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["key"].as_str().unwrap().starts_with(prefix)),
            "{source}: no object under {prefix}"
        );
    }

    // The operator replays processing-failed/.
    let replay = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args(["replay", "--lines"])
        .args(errors.iter().map(|(_, f)| f))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&replay.stderr).to_string();
    // Bad records and the bomb still fail: replay says so and exits non-zero.
    assert!(!replay.status.success(), "{stderr}");
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("replay: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    let numbers: Vec<usize> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let (error_records, unreadable, still_failing) = (numbers[0], numbers[1], numbers[2]);
    assert_eq!(unreadable, 0, "{stderr}");
    // Only what no retry could deliver went to processing-failed/: nothing
    // because re-ingestion gave up while time remained.
    assert_eq!(
        error_records,
        kind("bad") + kind("bomb") + kind("oversize"),
        "{stderr}"
    );
    assert_eq!(still_failing, kind("bad") + kind("bomb"), "{stderr}");
    // Its lines join the delivered objects (as the operator uploads them).
    let replayed = dir.join("replayed.ndjson");
    std::fs::write(&replayed, &replay.stdout).unwrap();
    let recovered = read_lines(&replayed).len();

    // Athena's part: DuckDB over every object of this source.
    let objects: Vec<PathBuf> = logs.into_iter().map(|(_, f)| f).chain([replayed]).collect();
    let list = objects
        .iter()
        .map(|p| format!("'{}'", p.display()))
        .collect::<Vec<_>>()
        .join(",");
    let from = format!("read_ndjson([{list}])");
    let ids_csv = dir.join("ids.csv");
    let dups_csv = dir.join("dups.csv");
    let counts = duckdb(&[
        format!(
            "copy (select distinct id from {from}) to '{}' (header false)",
            ids_csv.display()
        ),
        format!(
            "copy (select id, count(*) - 1 from {from} group by id having count(*) > 1) to '{}' (header false)",
            dups_csv.display()
        ),
        format!("select count(*), count(distinct id), count(distinct log_group), min(timestamp), max(timestamp) from {from}"),
    ]);
    let numbers: Vec<i64> = counts
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let (events, distinct) = (numbers[0] as usize, numbers[1] as usize);
    assert_eq!(numbers[2], 3, "log groups: {counts}");
    assert!(
        numbers[3] >= 1_764_300_600_000 && numbers[4] < 1_764_300_600_000 + 3_600_000,
        "{counts}"
    );

    let got: BTreeSet<String> = read_lines(&ids_csv).into_iter().collect();
    let deliverable: BTreeSet<String> = expected["deliverable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let missing: Vec<&String> = deliverable.difference(&got).take(5).collect();
    let extra: Vec<&String> = got.difference(&deliverable).take(5).collect();
    assert!(
        missing.is_empty(),
        "{source}: {} events missing, e.g. {missing:?}",
        deliverable.difference(&got).count()
    );
    assert!(extra.is_empty(), "{source}: unexpected events {extra:?}");
    for id in expected["never"].as_array().unwrap() {
        assert!(
            !got.contains(id.as_str().unwrap()),
            "{source}: {id} delivered"
        );
    }
    assert_eq!(distinct, deliverable.len());

    // Duplicates only where an answer was lost or late after moto applied the call.
    let report_faults = proxy.control("GET", "/__faults/report", &json!({}));
    let r = &report_faults[format!("pipeline-{source}")];
    let lost: BTreeSet<&str> = r["lost_event_ids"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r["late_event_ids"].as_array().unwrap())
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut duplicates = 0;
    for line in read_lines(&dups_csv) {
        let (id, n) = line.split_once(',').unwrap();
        assert!(
            lost.contains(id),
            "{source}: {id} delivered more than once without a lost answer"
        );
        duplicates += n.parse::<usize>().unwrap();
    }
    assert_eq!(events - distinct, duplicates);
    // Every kind of fault happened on the way.
    let faulted = r["faulted"].as_object().unwrap();
    for kind in ["partial", "throttle", "http500", "reset", "slow", "lost"] {
        assert!(
            faulted.get(kind).and_then(Value::as_u64).unwrap_or(0) > 0,
            "{source}: no {kind} fault: {r}"
        );
    }
    Run {
        source,
        report,
        events,
        distinct,
        duplicates,
        error_records,
        recovered,
        seconds: started.elapsed().as_secs_f64(),
    }
}

#[test]
fn an_hour_of_traffic_through_the_whole_loop() {
    let started = Instant::now();
    let proxy = FaultProxy::start();
    let mut plans = serde_json::Map::new();
    for (i, source) in ["kinesis", "direct"].iter().enumerate() {
        plans.insert(
            format!("pipeline-{source}"),
            // Every kind once first (so each happens whatever the timing),
            // then drawn at random for every call. A lost answer is rare in
            // life and each one re-delivers a whole call (up to 500 records,
            // which come back through the function): once per source here.
            json!({"seed": 140 + i, "slow_seconds": 1.2, "late_seconds": 0.8,
                   "sequence": ["throttle", "partial", "http500", "reset", "slow", "lost"],
                   "weights": {"ok": 8, "partial": 3, "throttle": 1, "http500": 1, "reset": 1, "slow": 1}}),
        );
    }
    proxy.control("POST", "/__faults/plan", &Value::Object(plans));
    let proxy_url = proxy.url();
    let budget = BUDGET.to_string();
    let env = [
        ("AWS_ENDPOINT_URL", proxy_url.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("RESPONSE_BUDGET", budget.as_str()),
        ("REINGEST_CALL_TIMEOUT_MS", "1000"),
    ];
    let watch = start_watch(&env);
    // The first invocation starts the function (and builds it if needed).
    // The two sources run at once, each with its own function process.
    let watches = [watch, start_watch(&env)];
    for watch in &watches {
        warm_up(watch);
    }
    let warm_seconds = started.elapsed().as_secs_f64();
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["kinesis", "direct"]
            .iter()
            .zip(&watches)
            .map(|(source, watch)| {
                let proxy = &proxy;
                scope.spawn(move || run_source(proxy, watch, source))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let faults = proxy.control("GET", "/__faults/report", &json!({}));
    for run in &runs {
        let r = &faults[format!("pipeline-{}", run.source)];
        let rep = &run.report;
        println!(
            "{}: {} source records ({}), {} invocations, {} re-ingested records back, {} Ok, {} Dropped, \
             {} ProcessingFailed; re-ingestion calls {} (faulted {}); S3 {} objects, {} events, {} distinct, \
             {} duplicates; processing-failed {} records, replay recovered {} lines; {:.1} s (simulator {} s, \
             waiting for the function {} s, longest invocation {} s)",
            run.source,
            rep["source_records"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum::<u64>(),
            rep["source_records"],
            rep["invocations"],
            rep["reingested_back"],
            rep["ok"],
            rep["dropped"],
            rep["processing_failed"],
            r["calls"],
            r["faulted"],
            rep["s3_objects"],
            run.events,
            run.distinct,
            run.duplicates,
            run.error_records,
            run.recovered,
            run.seconds,
            rep["seconds"],
            rep["invocation_seconds_total"],
            rep["invocation_seconds_max"],
        );
    }
    let kinds: BTreeMap<String, u64> = ["kinesis", "direct"]
        .iter()
        .flat_map(|s| {
            faults[format!("pipeline-{s}")]["faulted"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                .collect::<Vec<_>>()
        })
        .fold(BTreeMap::new(), |mut m, (k, v)| {
            *m.entry(k).or_default() += v;
            m
        });
    println!(
        "pipeline: faulted calls by kind {kinds:?}; warm-up {warm_seconds:.1} s, total {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
