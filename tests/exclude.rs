//! `EXCLUDE_LOG_GROUPS`: a record of an excluded log group comes
//! back `Dropped` and is counted, so a subscription that ships the
//! pipeline's own logs back into it costs one dropped record, not a loop.
//! The default excludes the function's own log group (what Lambda passes as
//! `AWS_LAMBDA_LOG_GROUP_NAME`) in the function's own account only. The
//! Lambda's side of this runs under the real runtime in `tests/lambda_runtime.rs`.
mod common;

use common::*;
use cwl_firehose::{Config, ExcludeList};
use serde_json::json;
use std::process::Command;

/// The stream's account in every event here.
const ACCOUNT: &str = "123456789012";

fn doc(owner: &str, group: &str) -> Vec<u8> {
    Doc::new().owner(owner).group(group).event(1, "m").bytes()
}

/// Records: the function's group in its own account, the same name in
/// another account, and an ordinary group.
fn records() -> Vec<u8> {
    let ev = serde_json::to_vec(&json!({
        "deliveryStreamArn": format!("arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/s"),
        "records": [
            {"recordId": "own", "data": b64(&gz(&doc(ACCOUNT, "/aws/lambda/cwl")))},
            {"recordId": "other-account", "data": b64(&gz(&doc("999999999999", "/aws/lambda/cwl")))},
            {"recordId": "app", "data": b64(&gz(&doc(ACCOUNT, "/ecs/api")))},
        ],
    }))
    .unwrap();
    ev
}

fn results(response: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(response).unwrap();
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_own_log_group_is_dropped_only_in_the_own_account() {
    let ev = records();
    let config = Config {
        exclude: ExcludeList::own_group("/aws/lambda/cwl"),
        ..Config::default()
    };
    let (response, summary) = run(config, &ev);
    assert_eq!(results(&response), ["Dropped", "Ok", "Ok"]);
    assert_eq!((summary.excluded, summary.dropped), (1, 1));
    check_contract(&ev, &response);

    // Nothing excluded without a list.
    let (response, summary) = run(Config::default(), &ev);
    assert_eq!(results(&response), ["Ok", "Ok", "Ok"]);
    assert_eq!(summary.excluded, 0);
}

fn cli(env: &[(&str, &str)], event: &[u8]) -> (Vec<u8>, String) {
    let dir = std::env::temp_dir().join(format!("cwl-firehose-exclude-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("event.json");
    std::fs::write(&file, event).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"));
    cmd.args(["transform", "--no-reingest"])
        .arg(&file)
        .env_remove("AWS_LAMBDA_LOG_GROUP_NAME")
        .env_remove("EXCLUDE_LOG_GROUPS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_reads_the_same_variables() {
    let ev = records();
    // Without either variable: nothing is excluded.
    let (response, stderr) = cli(&[], &ev);
    assert_eq!(results(&response), ["Ok", "Ok", "Ok"]);
    assert!(stderr.contains(" excluded=0 "), "{stderr}");
    // The function's own log group, as Lambda names it: only this account's.
    let own = [("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/cwl")];
    let (response, stderr) = cli(&own, &ev);
    assert_eq!(results(&response), ["Dropped", "Ok", "Ok"]);
    assert!(stderr.contains(" excluded=1 "), "{stderr}");
    // An explicit list replaces the default: any account, prefixes.
    let (response, _) = cli(
        &[
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/cwl"),
            ("EXCLUDE_LOG_GROUPS", "/aws/lambda/*"),
        ],
        &ev,
    );
    assert_eq!(results(&response), ["Dropped", "Dropped", "Ok"]);
    let (response, _) = cli(
        &[(
            "EXCLUDE_LOG_GROUPS",
            "999999999999:/aws/lambda/cwl,/ecs/api",
        )],
        &ev,
    );
    assert_eq!(results(&response), ["Ok", "Dropped", "Dropped"]);
    // `none` turns it off.
    let (response, _) = cli(
        &[
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/cwl"),
            ("EXCLUDE_LOG_GROUPS", "none"),
        ],
        &ev,
    );
    assert_eq!(results(&response), ["Ok", "Ok", "Ok"]);
    // A malformed list is a configuration error, not a silent no-op.
    let out = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args(["transform", "-"])
        .env("EXCLUDE_LOG_GROUPS", "12:/x")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("EXCLUDE_LOG_GROUPS"));
}
