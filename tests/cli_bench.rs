//! `cwl-firehose bench` as a user runs it: a subprocess on the fixtures. No
//! timing thresholds (speed is checked by benchmarks): the figures must be
//! there, positive, and agree with each other and with `transform`.
mod common;

use common::*;
use serde_json::Value;
use std::process::{Command, Output};

/// Settings a test does not set come from nowhere: the caller's shell is ignored.
const SETTINGS_VARS: [&str; 10] = [
    "OUTPUT_FORMAT",
    "ADD_TIME",
    "MERGE_JSON_MESSAGE",
    "MERGE_KEEP_MESSAGE",
    "PARTITION_KEYS",
    "MASK_PAN",
    "MASK_PAN_KEEP",
    "RESPONSE_BUDGET",
    "INFLATE_CAP",
    "REINGEST",
];

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"));
    cmd.args(args).current_dir(root());
    for var in SETTINGS_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied()).output().unwrap()
}

fn bench(event: &str, extra: &[&str], env: &[(&str, &str)]) -> Value {
    let mut args = vec!["bench", event, "--iterations", "3", "--json"];
    args.extend_from_slice(extra);
    let out = cli(&args, env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn num(v: &Value, path: &str) -> f64 {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number in {v}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300)
}

/// `transform`'s summary line on stderr, as name -> count.
fn transform_summary(event: &str, extra: &[&str]) -> Vec<(String, u64)> {
    let mut args = vec!["transform", "--no-reingest", event];
    args.extend_from_slice(extra);
    let out = cli(&args, &[]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("records_in="))
        .unwrap()
        .to_string();
    line.split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

fn get(summary: &[(String, u64)], key: &str) -> f64 {
    summary.iter().find(|(k, _)| k == key).unwrap().1 as f64
}

#[test]
fn json_report_has_the_figures_and_they_agree() {
    let event = "fixtures/events/mixed-batch.json";
    let r = bench(event, &[], &[]);

    assert_eq!(r["iterations"], 3);
    let median = num(&r, "median_ms");
    assert!(median > 0.0);
    assert!(num(&r, "min_ms") <= median && median <= num(&r, "max_ms"));
    // CPU time is read on Linux only; where it is, it is positive.
    assert!(r["median_cpu_ms"].is_null() || num(&r, "median_cpu_ms") > 0.0);
    let mut sum = 0.0;
    for stage in ["base64_decode", "inflate", "lines", "base64_encode"] {
        let ms = num(&r, &format!("stages_ms.{stage}"));
        assert!(ms > 0.0, "{stage}: {ms}");
        sum += ms;
    }
    assert_eq!(r["stages_ms"].as_object().unwrap().len(), 4);
    assert!(close(num(&r, "stages_sum_ms"), sum));
    assert!(num(&r, "peak_rss_mib") > 0.0);

    // The same path and settings as `transform`: the same counts.
    let t = transform_summary(event, &[]);
    for (ours, theirs) in [
        ("records", "records_in"),
        ("ok", "ok"),
        ("dropped", "dropped"),
        ("processing_failed", "processing_failed"),
        ("events_out", "events_out"),
        ("input_base64_bytes", "bytes_in"),
        ("line_bytes_out", "bytes_out"),
        ("response_bytes", "response_bytes"),
    ] {
        assert_eq!(num(&r, ours), get(&t, theirs), "{ours}");
    }
    assert!(num(&r, "ok") > 0.0 && num(&r, "processing_failed") > 0.0);
    assert_eq!(num(&r, "overflowed"), 0.0);

    // Throughput is bytes over the median.
    let secs = median / 1e3;
    let mbs = |bytes: &str| num(&r, bytes) / 1e6 / secs;
    assert!(close(
        num(&r, "mb_per_s.input_base64"),
        mbs("input_base64_bytes")
    ));
    assert!(close(num(&r, "mb_per_s.lines_out"), mbs("line_bytes_out")));
    assert!(num(&r, "inflated_bytes") > 0.0);

    // The cost follows from the median, the memory size and the prices.
    let l = &r["lambda_arm64"];
    assert_eq!(l["memory_mb"], 256);
    assert!(close(num(l, "cpu_share"), 256.0 / 1769.0));
    let from = l["from"].as_str().unwrap();
    assert!(from == "median_cpu_ms" || r["median_cpu_ms"].is_null());
    assert!(close(
        num(l, "estimated_duration_ms"),
        num(&r, from) / num(l, "cpu_share")
    ));
    let billed = num(l, "billed_ms");
    assert_eq!(billed, num(l, "estimated_duration_ms").ceil());
    let usd = 0.25 * billed / 1e3 * num(l, "usd_per_gb_second") + num(l, "usd_per_request");
    assert!(close(num(l, "usd_per_invocation"), usd));
    assert!(close(
        num(l, "usd_per_gb_of_lines"),
        usd * 1e9 / num(&r, "line_bytes_out")
    ));
}

#[test]
fn settings_come_from_flags_and_environment_like_transform() {
    let event = "fixtures/events/data-message.json";
    let r = bench(
        event,
        &["--memory-mb", "3008"],
        &[("OUTPUT_FORMAT", "message")],
    );
    assert_eq!(r["settings"]["output_format"], "message");
    assert_eq!(r["settings"]["reingest"], false);
    assert_eq!(r["lambda_arm64"]["cpu_share"], 1.0);

    let r = bench(event, &["--mask-pan", "--add-time"], &[]);
    assert_eq!(r["settings"]["mask_pan"], "first6last4");
    assert_eq!(r["settings"]["add_time"], true);
    let t = transform_summary(event, &["--mask-pan", "--add-time"]);
    assert_eq!(num(&r, "line_bytes_out"), get(&t, "bytes_out"));

    // Over a tiny budget the record is failed, not re-ingested (nothing is
    // sent anywhere, even where credentials exist).
    let r = bench(event, &["--budget", "100"], &[("REINGEST", "true")]);
    assert_eq!(r["overflowed"], 1);
    assert_eq!(r["processing_failed"], 1);
    assert_eq!(r["line_bytes_out"], 0);
    assert!(r["lambda_arm64"]["usd_per_gb_of_lines"].is_null());
}

#[test]
fn text_report_and_help() {
    let out = cli(
        &[
            "bench",
            "fixtures/events/data-message.json",
            "--iterations",
            "2",
        ],
        &[],
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for part in ["median", "inflate", "base64 encode", "peak RSS", "per GB"] {
        assert!(text.contains(part), "{part}:\n{text}");
    }
    let help = cli(&["bench", "--help"], &[]);
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("re-ingestion is always OFF"), "{help}");
    assert!(!help.contains("--lines"), "{help}");
    assert!(cli(
        &[
            "bench",
            "fixtures/events/data-message.json",
            "--iterations",
            "0"
        ],
        &[]
    )
    .status
    .code()
    .is_some_and(|c| c != 0));
}
