//! The CLI as a user runs it: a subprocess on files and stdin.
mod common;

use common::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn cli(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args(args)
        .current_dir(root())
        .env_remove("OUTPUT_FORMAT")
        .env_remove("RESPONSE_BUDGET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

#[test]
fn transform_prints_the_lambda_response() {
    for name in ["data-message", "mixed-batch", "multiline-unicode"] {
        let out = cli(
            &["transform", &format!("fixtures/events/{name}.json")],
            None,
        );
        assert!(out.status.success());
        assert_eq!(
            out.stdout,
            fixture(&format!("expected/{name}.response.json")),
            "{name}"
        );
    }
}

#[test]
fn lines_prints_what_lands_in_s3_and_reads_stdin() {
    let event = fixture("events/multiline-unicode.json");
    let out = cli(&["transform", "--lines", "-"], Some(&event));
    assert!(out.status.success());
    assert_eq!(
        out.stdout,
        fixture("expected/multiline-unicode.lines.ndjson")
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("records_in=1 ok=1"), "{stderr}");
}

#[test]
fn failed_records_are_named_on_stderr_without_payload() {
    let out = cli(&["transform", "fixtures/events/mixed-batch.json"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("record truncated-gzip: ProcessingFailed: gzip stream is invalid"),
        "{stderr}"
    );
    assert!(
        stderr.contains("record unknown-message-type: ProcessingFailed"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("plain text, not gzip"),
        "payload leaked: {stderr}"
    );
}

#[test]
fn flags_override_the_environment() {
    let out = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args([
            "transform",
            "--lines",
            "--output-format",
            "message",
            "fixtures/events/raw-lines.json",
        ])
        .current_dir(root())
        .env("OUTPUT_FORMAT", "json")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        out.stdout,
        fixture("source/access-log.txt"),
        "message format gives back the raw lines"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args(["transform", "--lines", "fixtures/events/data-message.json"])
        .current_dir(root())
        .env("ADD_TIME", "true")
        .output()
        .unwrap();
    let first: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        first["time"], "2025-11-28T03:20:00.123Z",
        "the environment applies to the CLI too"
    );
}

#[test]
fn encode_round_trips_raw_lines() {
    let out = cli(
        &[
            "encode",
            "--raw-lines",
            "-",
            "--log-group",
            "/g",
            "--log-stream",
            "s",
        ],
        Some(b"one\ntwo \"2\"\n"),
    );
    assert!(out.status.success());
    let event = out.stdout;
    let out = cli(&["transform", "--lines", "-"], Some(&event));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["message"], "two \"2\"");
    assert_eq!(lines[1]["log_group"], "/g");
}

#[test]
fn unreadable_input_is_a_clear_error() {
    let out = cli(&["transform", "does/not/exist.json"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read does/not/exist.json"));

    let out = cli(&["transform", "-"], Some(b"{\"not\":\"firehose\"}"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Firehose event"));

    let out = cli(&["encode", "-"], Some(b"{\"messageType\":1}"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a CloudWatch Logs document"));
}

#[test]
fn help_on_every_command() {
    for args in [
        &["--help"][..],
        &["transform", "--help"],
        &["encode", "--help"],
    ] {
        let out = cli(args, None);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
}
