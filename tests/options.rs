//! The operator options: merged JSON messages read by DuckDB,
//! partition keys, replay of processing-failed/ files, metrics.
mod common;

use common::*;
use cwl_firehose::Config;
use cwl_firehose::{LineOptions, OutputFormat};
use std::process::Command;

fn lines_with(env: &[(&str, &str)], fixture_event: &str) -> Vec<u8> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"));
    cmd.args(["transform", "--lines", fixture_event])
        .current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn merged_fields_are_columns_for_duckdb() {
    let mut msgs = Vec::new();
    for i in 0..30 {
        let level = ["info", "warn", "error"][i % 3];
        msgs.push(format!(
            r#"{{"level":"{level}","status":{},"message":"inner {i}"}}"#,
            200 + i
        ));
    }
    msgs.push("plain text stays plain".to_string());
    let events: Vec<(i64, &str)> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| (i as i64, m.as_str()))
        .collect();
    let event = event(&[("r", &b64(&gz(&document(&events))))]);
    let dir = std::env::temp_dir().join(format!("cwl-firehose-options-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let event_file = dir.join("event.json");
    std::fs::write(&event_file, &event).unwrap();
    let lines = lines_with(
        &[("MERGE_JSON_MESSAGE", "true")],
        event_file.to_str().unwrap(),
    );
    let text = String::from_utf8(lines.clone()).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["level"], "info");
    assert_eq!(first["status"], 200);
    // The envelope's `message` wins; the message's own `message` is kept under the prefix.
    assert_eq!(
        first["message"],
        r#"{"level":"info","status":200,"message":"inner 0"}"#
    );
    assert_eq!(first["msg_message"], "inner 0");
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["message"], "plain text stays plain");
    assert!(last.get("level").is_none());

    let file = dir.join("merged.ndjson");
    std::fs::write(&file, &lines).unwrap();
    let rows = duckdb(&[format!(
        "select level, count(*) from read_ndjson('{}') where level is not null group by level order by level",
        file.display()
    )]);
    assert_eq!(rows, "[('error', 10), ('info', 10), ('warn', 10)]");
}

#[test]
fn merge_can_drop_message_and_add_time() {
    let lines = lines_with(
        &[
            ("MERGE_JSON_MESSAGE", "true"),
            ("MERGE_KEEP_MESSAGE", "false"),
            ("ADD_TIME", "true"),
        ],
        "fixtures/events/data-message.json",
    );
    let first: serde_json::Value =
        serde_json::from_slice(lines.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert!(first.get("message").is_none());
    assert_eq!(first["time"], "2025-11-28T03:20:00.123Z");
    assert_eq!(first["path"], "/v1/payments");
    // The access-log line is not JSON: it keeps its message.
    let second: serde_json::Value =
        serde_json::from_slice(lines.split(|&b| b == b'\n').nth(1).unwrap()).unwrap();
    assert!(second["message"].as_str().unwrap().starts_with("10.0.3.7"));
}

#[test]
fn message_format_is_the_blueprints_output() {
    let config = Config {
        lines: LineOptions {
            format: OutputFormat::Message,
            ..LineOptions::default()
        },
        ..Config::default()
    };
    let ev = fixture("events/multiline-unicode.json");
    let (response, _) = run(config, &ev);
    let v: serde_json::Value = serde_json::from_slice(&response).unwrap();
    let data = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        v["records"][0]["data"].as_str().unwrap(),
    )
    .unwrap();
    let source: serde_json::Value =
        serde_json::from_slice(&fixture("source/multiline-unicode.json")).unwrap();
    let expected: String = source["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}\n", e["message"].as_str().unwrap()))
        .collect();
    assert_eq!(String::from_utf8(data).unwrap(), expected);
}

#[test]
fn partition_keys_from_the_first_event() {
    let config = Config {
        partition_keys: true,
        ..Config::default()
    };
    let ev = fixture("events/mixed-batch.json");
    let (response, _) = run(config, &ev);
    let entries = check_contract(&ev, &response);
    assert_eq!(
        entries[0].partition_keys.clone().unwrap(),
        serde_json::json!({"log_group": "ecs_api", "owner": "123456789012", "year": "2025", "month": "11", "day": "28", "hour": "03"})
    );
    assert_eq!(
        entries[5].partition_keys.clone().unwrap()["log_group"],
        "aws_lambda_ledger"
    );
    assert!(
        entries[1].partition_keys.is_none(),
        "no metadata on failed records"
    );
}

#[test]
fn replay_of_processing_failed_files_gives_the_same_lines() {
    // Firehose's error output for the records of a fixture: one JSON object
    // per line with the original record as base64 rawData.
    let event: serde_json::Value =
        serde_json::from_slice(&fixture("events/multiline-unicode.json")).unwrap();
    let dir = std::env::temp_dir().join(format!("cwl-firehose-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut error_file = String::new();
    for r in event["records"].as_array().unwrap() {
        error_file.push_str(
            &serde_json::json!({
                "attemptsMade": 4, "arrivalTimestamp": 1764300000000u64, "errorCode": "Lambda.FunctionError",
                "errorMessage": "The Lambda function was successfully invoked but it returned an error result.",
                "attemptEndingTimestamp": 1764300060000u64, "rawData": r["data"],
                "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:cwl:$LATEST"
            })
            .to_string(),
        );
        error_file.push('\n');
    }
    let plain = dir.join("processing-failed-1");
    std::fs::write(&plain, &error_file).unwrap();
    let gzipped = dir.join("processing-failed-2.gz");
    std::fs::write(&gzipped, gz(error_file.as_bytes())).unwrap();

    let cli = env!("CARGO_BIN_EXE_cwl-firehose");
    let out = Command::new(cli)
        .args(["replay", "--lines"])
        .arg(&plain)
        .arg(&gzipped)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let once = fixture("expected/multiline-unicode.lines.ndjson");
    assert_eq!(out.stdout, [once.clone(), once].concat());

    // Without --lines it writes an event that transform accepts.
    let out = Command::new(cli)
        .arg("replay")
        .arg(&plain)
        .output()
        .unwrap();
    let event_file = dir.join("replayed.json");
    std::fs::write(&event_file, &out.stdout).unwrap();
    let out = Command::new(cli)
        .args(["transform", "--lines"])
        .arg(&event_file)
        .output()
        .unwrap();
    assert_eq!(
        out.stdout,
        fixture("expected/multiline-unicode.lines.ndjson")
    );

    // A line that is not an error record, and one whose rawData is not base64 (no
    // record Firehose wrote), are reported as unreadable, each with its line.
    let bad = dir.join("processing-failed-bad");
    std::fs::write(&bad, "not json\n{\"rawData\":\"!!!\"}\n").unwrap();
    let out = Command::new(cli)
        .args(["replay", "--lines"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("processing-failed-bad:1: not a processing-failed record"),
        "{stderr}"
    );
    assert!(
        stderr.contains("processing-failed-bad:2: rawData is not valid base64"),
        "{stderr}"
    );
}
