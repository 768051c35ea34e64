//! The Lambda binary under the real runtime: `cargo lambda watch` serves the
//! Lambda runtime API on 127.0.0.1 and `cargo lambda invoke` sends fixture
//! events to it, as a user would try the function locally.
mod common;

use common::*;

/// No overflow in these events; a re-ingestion would have nowhere to go.
const NO_ENDPOINT: (&str, &str) = ("AWS_ENDPOINT_URL", "http://127.0.0.1:9");

fn start(env: &[(&str, &str)]) -> Watch {
    let mut all = vec![NO_ENDPOINT];
    all.extend_from_slice(env);
    let watch = start_watch(&all);
    // The first invocation builds the function if `cargo test` did not.
    warm_up(&watch);
    watch
}

#[test]
fn fixtures_through_the_real_runtime() {
    let watch = start(&[]);
    for name in [
        "mixed-batch",
        "data-message",
        "multiline-unicode",
        "already-decompressed",
        "control-message",
    ] {
        let file = root().join(format!("fixtures/events/{name}.json"));
        let out = lambda_invoke(&watch, &file);
        assert!(
            out.status.success(),
            "{name}: invoke failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON response");
        let expected: serde_json::Value =
            serde_json::from_slice(&fixture(&format!("expected/{name}.response.json"))).unwrap();
        assert_eq!(
            got, expected,
            "{name}: the Lambda's response differs from the golden response"
        );
        check_contract(&std::fs::read(&file).unwrap(), &out.stdout);
    }

    // Only an event that is not a Firehose event at all fails the invocation.
    let dir = std::env::temp_dir().join(format!("cwl-firehose-lambda-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("not-firehose.json");
    std::fs::write(&bad, br#"{"hello":"world"}"#).unwrap();
    let out = lambda_invoke(&watch, &bad);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success() || text.contains("not a Firehose transformation event"),
        "a non-Firehose event must fail the invocation: {text}"
    );
    assert!(
        text.contains("not a Firehose transformation event"),
        "{text}"
    );
    // And the function keeps serving afterwards.
    let out = lambda_invoke(&watch, &root().join("fixtures/events/data-message.json"));
    assert!(out.status.success());
}

/// `EXCLUDE_LOG_GROUPS` reaches the function: without it the fixtures above
/// come back as golden; with it an excluded group's record is `Dropped`,
/// and the same name in another account is not.
#[test]
fn excluded_log_groups_through_the_real_runtime() {
    let doc = |owner: &str, group: &str| Doc::new().owner(owner).group(group).event(1, "m").bytes();
    let event = serde_json::to_vec(&serde_json::json!({
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/s",
        "records": [
            {"recordId": "own", "data": b64(&gz(&doc("123456789012", "/aws/lambda/pipeline")))},
            {"recordId": "other", "data": b64(&gz(&doc("999999999999", "/aws/lambda/pipeline")))},
        ],
    }))
    .unwrap();
    let dir = std::env::temp_dir().join(format!("cwl-firehose-lambda-x-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("exclude.json");
    std::fs::write(&file, &event).unwrap();
    let watch = start(&[("EXCLUDE_LOG_GROUPS", "123456789012:/aws/lambda/pipeline")]);
    let out = lambda_invoke(&watch, &file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries = check_contract(&event, &out.stdout);
    let results: Vec<&str> = entries.iter().map(|e| e.result.as_str()).collect();
    assert_eq!(results, ["Dropped", "Ok"]);
}
