//! Automatic replay of `processing-failed/` against moto's S3 and Firehose on
//! 127.0.0.1, through the CLI (`cwl-firehose recover`) and through the
//! scheduled function under the real Lambda runtime (`cargo lambda watch`).
//!
//! The error output is the pipeline test's (`tests/support/firehose_sim.py`
//! around the real transformation function): a few minutes of its hour, two
//! of them throttled by Lambda (Firehose writes those batches whole to
//! processing-failed/ with `Lambda.InvokeLimitExceeded`, bad records
//! included), plus the records the function itself answered
//! `ProcessingFailed` for (a gzip bomb, one event larger than any response
//! at the stream's 1,000,000-byte budget).
//!
//! Checked: a run stopped mid-object resumes where it stopped (nothing
//! accepted is sent again); every transient record is put back into the
//! delivery stream and, through the function (`firehose_sim.py drain`),
//! delivers exactly the lines a first delivery gives (DuckDB, de-duplicated
//! by `id`, against `cwl-firehose replay --lines`); everything else is
//! quarantined in a report with its reason; a record that keeps failing is
//! put back at most N times; nothing under processing-failed/ is changed or
//! deleted.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

const BUDGET: &str = "1000000";
const REPLAY_STREAM: &str = "replay-direct";
const BUCKET: &str = "pipeline-logs";
const ERRORS: &str = "processing-failed/processing-failed/";

fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("RESPONSE_BUDGET", BUDGET.into()),
        ("REINGEST_CALL_TIMEOUT_MS", "2000".into()),
    ]
}

/// `cwl-firehose recover` with `args`, which must succeed: its tally
/// (stdout), its stderr.
fn recover(endpoint: &str, stream_arn: &str, args: &[&str]) -> (Value, String) {
    let (ok, tally, stderr) = try_recover(endpoint, stream_arn, args);
    assert!(ok, "recover {args:?}: {stderr}");
    (tally, stderr)
}

/// `cwl-firehose recover` with `args`: whether it succeeded, its tally, its stderr.
fn try_recover(endpoint: &str, stream_arn: &str, args: &[&str]) -> (bool, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"));
    cmd.args(["recover", "--bucket", BUCKET, "--stream-arn", stream_arn])
        .args(args)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE");
    for name in [
        "REPLAY_BUCKET",
        "REPLAY_PREFIX",
        "REPLAY_STATE_PREFIX",
        "REPLAY_DELIVERY_STREAM_ARN",
        "REPLAY_SOURCE_KINESIS_STREAM_ARN",
        "REPLAY_MAX_ATTEMPTS",
    ] {
        cmd.env_remove(name);
    }
    for (k, v) in aws_env(endpoint) {
        cmd.env(k, v);
    }
    let out: Output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (
        out.status.success(),
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}")),
        stderr,
    )
}

fn n(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing: {v}"))
}

fn listing(endpoint: &str, prefix: &str, text: bool) -> Vec<Value> {
    let mut args = vec!["list", "--moto", endpoint, "--prefix", prefix];
    if text {
        args.push("--text");
    }
    firehose_sim(&args).as_array().unwrap().clone()
}

fn files(report: &Value, prefix: &str) -> Vec<PathBuf> {
    report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["key"].as_str().unwrap().starts_with(prefix))
        .map(|o| PathBuf::from(o["file"].as_str().unwrap()))
        .collect()
}

fn ndjson(paths: &[PathBuf]) -> String {
    let list = paths
        .iter()
        .map(|p| format!("'{}'", p.display()))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "(select id, \"timestamp\", message, log_group, log_stream, owner from read_ndjson([{list}], columns = {{'id': 'VARCHAR', 'timestamp': 'BIGINT', 'message': 'VARCHAR', 'log_group': 'VARCHAR', 'log_stream': 'VARCHAR', 'owner': 'VARCHAR'}}))"
    )
}

fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// Writes an error object at `key` as Firehose does after throttled
/// invocations: one line per record (gzip when the key ends in `.gz`); its text.
fn put_error_object(endpoint: &str, key: &str, records: &[Vec<u8>]) -> String {
    let text: String = records
        .iter()
        .map(|data| {
            format!(
                "{}\n",
                json!({"attemptsMade": 4, "arrivalTimestamp": 1_764_300_600_000_i64,
                       "errorCode": "Lambda.InvokeLimitExceeded", "errorMessage": "Rate Exceeded.",
                       "attemptEndingTimestamp": 1_764_300_660_000_i64, "rawData": b64(data),
                       "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:f"})
            )
        })
        .collect();
    let dir = temp_dir("recover-objects");
    let file = dir.join(key.replace('/', "_"));
    std::fs::write(&file, &text).unwrap();
    let mut args = vec![
        "put",
        "--moto",
        endpoint,
        "--key",
        key,
        "--file",
        path_str(&file),
    ];
    if key.ends_with(".gz") {
        args.push("--gzip");
    }
    firehose_sim(&args);
    text
}

/// The id `firehose_sim.py` gives event `e` of record `r` in minute `m`.
fn event_id(m: u32, r: u32, e: u32) -> String {
    format!("{:3>56}", format!("{m:04}{r:06}{e:06}"))
}

#[test]
fn processing_failed_is_replayed_quarantined_resumed_and_bounded() {
    let moto = MotoServer::start();
    let endpoint = moto.endpoint.as_str();
    let env = aws_env(endpoint);
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let watch = start_watch(&env_ref);
    warm_up(&watch);
    let dir = temp_dir("recover");
    let out = dir.to_str().unwrap();
    let port = watch.port.to_string();

    // The pipeline's error output: minutes 7 and 12 throttled (minute 7
    // holds four bad records, minute 12 a burst), 33 the bomb, 50 the event
    // larger than any response.
    let run = firehose_sim(&[
        "run",
        "--moto",
        endpoint,
        "--lambda-port",
        &port,
        "--source",
        "direct",
        "--out",
        out,
        "--minutes",
        "0,7,12,33,50",
        "--throttle-minutes",
        "7,12",
    ]);
    assert_eq!(run["failed_invocations"], json!(0), "{run}");
    let throttled = n(&run, "throttled_records");
    let failed_by_function = n(&run, "processing_failed");
    assert_eq!(
        failed_by_function, 2,
        "the bomb and the oversize event: {run}"
    );
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected_ids.json")).unwrap()).unwrap();
    let bad = expected["kinds"]["bad"].as_u64().unwrap();
    assert_eq!(bad, 4, "{expected}");
    let transient = throttled - bad;
    let permanent = bad + failed_by_function;
    let error_objects = listing(endpoint, ERRORS, false);
    assert!(error_objects.len() >= 3, "{error_objects:?}");

    let stream_arn = firehose_sim(&["create-stream", "--moto", endpoint, "--name", REPLAY_STREAM])
        ["arn"]
        .as_str()
        .unwrap()
        .to_string();

    // 1. The CLI, stopped after 100 records: mid-object (minute 12's burst
    // alone has 120 records).
    let started = std::time::Instant::now();
    let (first, stderr) = recover(endpoint, &stream_arn, &["--max-records", "100"]);
    let first_seconds = started.elapsed().as_secs_f64();
    println!("{}", stderr.trim());
    assert_eq!(n(&first, "replayed"), 100, "{first}");
    assert!(
        first["stopped"].as_str().unwrap().contains("record limit"),
        "{first}"
    );
    assert!(n(&first, "objects_left") >= 1, "{first}");
    let ledger = listing(endpoint, "replay/ledger.json", true);
    assert_eq!(ledger.len(), 1);

    // 2. The scheduled function under the Lambda runtime resumes and finishes.
    let mut fenv = env_ref.clone();
    fenv.extend([
        ("REPLAY_BUCKET", BUCKET),
        ("REPLAY_DELIVERY_STREAM_ARN", stream_arn.as_str()),
    ]);
    let fwatch = start_watch_of("cwl-firehose-replay-lambda", &fenv);
    let event = dir.join("scheduled.json");
    std::fs::write(&event, r#"{"version":"0","id":"e","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2025-11-28T06:00:00Z","region":"us-east-1","resources":[],"detail":{}}"#).unwrap();
    let scheduled = {
        let mut last = String::new();
        let mut answer = None;
        for _ in 0..5 {
            let out = lambda_invoke(&fwatch, &event);
            if out.status.success() {
                answer = Some(serde_json::from_slice::<Value>(&out.stdout).unwrap());
                break;
            }
            last = String::from_utf8_lossy(&out.stderr).to_string();
        }
        answer.unwrap_or_else(|| {
            panic!(
                "the replay function never answered: {last}\nmoto's log:\n{}",
                moto.log_tail()
            )
        })
    };
    assert_eq!(scheduled["stopped"], Value::Null, "{scheduled}");
    assert_eq!(n(&scheduled, "objects_left"), 0, "{scheduled}");
    assert_eq!(n(&scheduled, "not_accepted"), 0, "{scheduled}");
    // The lines the first run settled in the object it stopped in are
    // skipped, and the sums below show nothing was sent twice.
    assert!(n(&scheduled, "already_settled") > 0, "{scheduled}");
    assert_eq!(
        n(&first, "replayed") + n(&scheduled, "replayed"),
        transient,
        "{first}\n{scheduled}"
    );
    assert_eq!(
        n(&first, "quarantined") + n(&scheduled, "quarantined"),
        permanent,
        "{first}\n{scheduled}"
    );
    assert_eq!(
        n(&first, "objects_finished") + n(&scheduled, "objects_finished"),
        error_objects.len() as u64
    );

    // 3. A third run (the CLI again) finds everything done.
    let (third, _) = recover(endpoint, &stream_arn, &[]);
    assert_eq!(n(&third, "replayed"), 0, "{third}");
    assert_eq!(n(&third, "quarantined"), 0, "{third}");
    assert_eq!(n(&third, "objects_done_before"), error_objects.len() as u64);

    // The quarantine reports: one line per record that never passes, with its reason.
    let reports = listing(endpoint, "replay/quarantine/", true);
    let entries: Vec<Value> = reports
        .iter()
        .flat_map(|r| {
            r["text"]
                .as_str()
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(entries.len() as u64, permanent, "{entries:?}");
    let reasons: Vec<&str> = entries
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    for needle in [
        "neither gzip nor a JSON document",
        "gzip stream is invalid",
        "unknown messageType",
        "exceeds the cap",
        "a single log event needs",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(needle)),
            "no {needle:?} in {reasons:?}"
        );
    }
    for e in &entries {
        assert!(e["source_key"].as_str().unwrap().starts_with(ERRORS), "{e}");
        assert!(e["line"].as_u64().unwrap() >= 1, "{e}");
        assert_eq!(e["sha256"].as_str().unwrap().len(), 64, "{e}");
        let cause = e["cause"].as_str().unwrap();
        match e["error_code"].as_str().unwrap() {
            "Lambda.InvokeLimitExceeded" => assert_eq!(cause, "invocation"),
            "Lambda.ProcessingFailedStatus" => assert_eq!(cause, "record"),
            other => panic!("error code {other}"),
        }
    }

    // 4. What was put back goes through the function as Firehose takes it.
    let drained = firehose_sim(&[
        "drain",
        "--moto",
        endpoint,
        "--lambda-port",
        &port,
        "--stream",
        REPLAY_STREAM,
        "--out",
        out,
    ]);
    assert_eq!(drained["failed_invocations"], json!(0), "{drained}");
    assert_eq!(drained["processing_failed"], json!(0), "{drained}");
    assert_eq!(drained["contract_violations"], json!([]), "{drained}");

    // Exactly the lines a first delivery gives: the function on the same
    // records with nothing in the way (`replay --lines`, no budget), less
    // the event no response at this budget can hold (quarantined).
    let error_files = files(&run, ERRORS);
    let replay = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args(["replay", "--lines"])
        .args(&error_files)
        .env("RESPONSE_BUDGET", BUDGET)
        .output()
        .unwrap();
    let first_delivery = dir.join("first-delivery.ndjson");
    std::fs::write(&first_delivery, &replay.stdout).unwrap();
    let oversize = event_id(50, 9700, 0);
    let replayed = ndjson(&files(&drained, "logs/"));
    let reference = format!(
        "(select * from {} where id <> '{oversize}')",
        ndjson(&[first_delivery])
    );
    let counts = duckdb(&[format!(
        "select (select count(*) from (select distinct * from {replayed} except select distinct * from {reference})), \
                (select count(*) from (select distinct * from {reference} except select distinct * from {replayed})), \
                (select count(*) from {replayed}), (select count(distinct id) from {replayed}), \
                (select count(distinct id) from {reference})"
    )]);
    let c = numbers(&counts);
    assert_eq!(
        (c[0], c[1]),
        (0, 0),
        "replayed lines differ from a first delivery: {counts}"
    );
    assert_eq!(c[2], c[3], "duplicates without any fault: {counts}");
    assert!(c[3] > 1000, "{counts}");

    // Every deliverable event of these minutes is in the bucket once
    // de-duplicated, but the quarantined one; nothing that must never arrive is.
    let everything = ndjson(
        &files(&run, "logs/")
            .into_iter()
            .chain(files(&drained, "logs/"))
            .collect::<Vec<_>>(),
    );
    let ids_csv = dir.join("ids.csv");
    duckdb(&[
        format!(
            "copy (select distinct id from {everything}) to '{}' (header false)",
            ids_csv.display()
        ),
        "select 1".into(),
    ]);
    let got: BTreeSet<String> = std::fs::read_to_string(&ids_csv)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let deliverable: BTreeSet<String> = expected["deliverable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .filter(|id| *id != oversize)
        .collect();
    assert_eq!(
        got.symmetric_difference(&deliverable).count(),
        0,
        "missing {:?}, unexpected {:?}",
        deliverable.difference(&got).take(3).collect::<Vec<_>>(),
        got.difference(&deliverable).take(3).collect::<Vec<_>>()
    );
    for id in expected["never"].as_array().unwrap() {
        assert!(!got.contains(id.as_str().unwrap()), "{id} delivered");
    }

    // 5. At most N: a put-back record that fails again lands in a new error
    // object with the same bytes; it is put back until its count reaches N
    // (here 2, it has 1), then quarantined.
    // Minute 12's object: the burst, every record of it put back once.
    let burst = listing(endpoint, ERRORS, true)
        .into_iter()
        .map(|o| o["text"].as_str().unwrap().to_string())
        .max_by_key(|t| t.lines().count())
        .unwrap();
    assert!(burst.contains("InvokeLimitExceeded"));
    let line = burst.lines().next().unwrap().to_string();
    let again = dir.join("again.json");
    std::fs::write(&again, format!("{line}\n")).unwrap();
    let put_again = |name: &str| {
        let key = format!("{ERRORS}2025/11/28/06/{name}");
        firehose_sim(&[
            "put",
            "--moto",
            endpoint,
            "--key",
            &key,
            "--file",
            path_str(&again),
        ]);
        key
    };
    put_again("again-1");
    // A stream that refuses it (it does not exist): not accepted, the run
    // fails and says so, and the refused attempt is not counted.
    let missing = stream_arn.replace(REPLAY_STREAM, "no-such-stream");
    let (ok, refused, stderr) = try_recover(endpoint, &missing, &["--max-replays", "2"]);
    assert!(!ok, "{stderr}");
    assert_eq!(n(&refused, "not_accepted"), 1, "{refused}");
    assert!(
        refused["stopped"]
            .as_str()
            .unwrap()
            .contains("did not accept"),
        "{refused}"
    );
    let (second_replay, _) = recover(endpoint, &stream_arn, &["--max-replays", "2"]);
    assert_eq!(n(&second_replay, "replayed"), 1, "{second_replay}");
    let key = put_again("again-2");
    let (limited, _) = recover(endpoint, &stream_arn, &["--max-replays", "2"]);
    assert_eq!(n(&limited, "replayed"), 0, "{limited}");
    assert_eq!(n(&limited, "quarantined"), 1, "{limited}");
    let report = listing(endpoint, &format!("replay/quarantine/{key}"), true);
    let text = report[0]["text"].as_str().unwrap();
    assert!(text.contains("put back 2 times (the limit)"), "{text}");

    // 6. Nothing under processing-failed/ was changed or deleted.
    let after = listing(endpoint, ERRORS, false);
    for before in &error_objects {
        assert!(
            after
                .iter()
                .any(|a| a["key"] == before["key"] && a["sha256"] == before["sha256"]),
            "{} changed or gone",
            before["key"]
        );
    }
    println!(
        "recover: {} error objects, {} lines: {transient} put back, {permanent} quarantined; \
         the first CLI run put back 100 records in {first_seconds:.2} s (moto on 127.0.0.1, \
         the ledger written before and after each batch)",
        error_objects.len(),
        throttled + failed_by_function,
    );
}

/// The replay's throughput, for docs/operations.md (not a check): one error
/// object of 5,000 distinct throttled records (20 events each) in moto's S3,
/// `cwl-firehose recover` into moto's delivery stream; records and MB (of
/// the records' bytes put back) per second of the whole run: listing,
/// reading and inflating the object, deciding every record, the calls and
/// the ledger writes.
/// `cargo test --release --test recover replay_throughput -- --ignored --nocapture`
#[test]
#[ignore]
fn replay_throughput() {
    const RECORDS: usize = 5_000;
    let moto = MotoServer::start();
    let endpoint = moto.endpoint.as_str();
    let stream_arn = firehose_sim(&["create-stream", "--moto", endpoint, "--name", REPLAY_STREAM])
        ["arn"]
        .as_str()
        .unwrap()
        .to_string();
    let records: Vec<Vec<u8>> = (0..RECORDS)
        .map(|r| {
            let events: Vec<(i64, String)> = (0..20)
                .map(|e| {
                    (
                        1_764_300_600_000 + e,
                        format!("GET /v1/orders/{r}/{e} 200 {}", "x".repeat(80)),
                    )
                })
                .collect();
            let events: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
            gz(&document(&events))
        })
        .collect();
    let object = put_error_object(
        endpoint,
        &format!("{ERRORS}2025/11/28/03/throughput.json.gz"),
        &records,
    );
    let started = std::time::Instant::now();
    let (tally, _) = recover(endpoint, &stream_arn, &[]);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(n(&tally, "replayed"), RECORDS as u64, "{tally}");
    let bytes = n(&tally, "bytes_replayed") as f64;
    println!(
        "replay throughput: {RECORDS} records ({:.1} MB of records, {:.1} MB error object) in {seconds:.2} s: \
         {:.0} records/s, {:.2} MB/s (moto on 127.0.0.1)",
        bytes / 1e6,
        object.len() as f64 / 1e6,
        RECORDS as f64 / seconds,
        bytes / 1e6 / seconds
    );
}

/// A delivery stream that reads from a Kinesis data stream refuses
/// `PutRecordBatch`: records are put back into the source stream with
/// Kinesis `PutRecords`, byte for byte as they were.
#[test]
fn a_kinesis_sourced_stream_gets_its_records_back_in_the_source_stream() {
    let moto = MotoServer::start();
    let endpoint = moto.endpoint.as_str();
    let moto_client = |command: &str| support_script("moto_client.py", &[endpoint, command]);
    let kinesis_arn = moto_client("setup")["kinesis_arn"]
        .as_str()
        .unwrap()
        .to_string();
    let records: Vec<Vec<u8>> = (0..3)
        .map(|r| gz(&document(&[(1_764_300_600_000, &format!("event {r}"))])))
        .collect();
    put_error_object(
        endpoint,
        &format!("{ERRORS}2025/11/28/03/kinesis-0001"),
        &records,
    );
    let (tally, stderr) = recover(
        endpoint,
        "arn:aws:firehose:us-east-1:123456789012:deliverystream/logs",
        &["--source-stream-arn", &kinesis_arn],
    );
    assert_eq!(n(&tally, "replayed"), 3, "{tally}\n{stderr}");
    let got: BTreeSet<String> = moto_client("kinesis-records")
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["data"].as_str().unwrap().to_string())
        .collect();
    let want: BTreeSet<String> = records.iter().map(|d| b64(d)).collect();
    assert_eq!(got, want);
    // The delivery stream got nothing (it would refuse it).
    assert_eq!(moto_client("s3-objects"), json!([]));
}
