//! Redaction end to end: secrets and personal data never reach the lines, in any field
//! written, are counted per detector, and nothing changes when it is off.
mod common;

use common::*;
use cwl_firehose::{Config, Keep, LineOptions, OutputFormat, Redact};

fn config(redact: Option<Redact>, mask: Option<Keep>, merge: bool) -> Config {
    Config {
        lines: LineOptions {
            redact,
            mask,
            merge_json_message: merge,
            ..LineOptions::default()
        },
        ..Config::default()
    }
}

const DOC: &[u8] = br#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/ecs/pay","logStream":"api ops@example.com","subscriptionFilters":["f"],
  "logEvents":[
    {"id":"1","timestamp":1,"message":"login bob@example.com from 10.0.0.1 card 4111 1111 1111 1111"},
    {"id":"2","timestamp":2,"message":"{\"level\":\"info\",\"password\":\"hunter2\",\"client\":\"2001:db8::1\",\"status\":200}"},
    {"id":"3","timestamp":3,"message":"Authorization: Bearer abcd1234efgh5678 key AKIAIOSFODNN7EXAMPLE","extractedFields":{"ip":"192.168.1.20","n":42}},
    {"id":"4","timestamp":4,"message":"request 5f0c6d8e-1b2a-4c3d-9e8f-0a1b2c3d4e5f took 12 ms version 1.2.3"}]}"#;

#[test]
fn every_field_is_redacted_and_counted() {
    let ev = event(&[("r", &b64(&gz(DOC)))]);
    let (response, summary) = run(
        config(Some(Redact::ALL), Some(Keep::First6Last4), true),
        &ev,
    );
    let lines = &check_contract(&ev, &response)[0].lines;
    assert_eq!(
        lines[0]["message"],
        "login [REDACTED:email] from [REDACTED:ipv4] card 4111 11** **** 1111"
    );
    assert_eq!(lines[0]["log_stream"], "api [REDACTED:email]");
    assert_eq!(
        lines[1]["password"], "[REDACTED:secret_value]",
        "merged from the redacted message"
    );
    assert_eq!(lines[1]["client"], "[REDACTED:ipv6]");
    assert_eq!(lines[1]["status"], 200);
    assert_eq!(
        lines[2]["message"],
        "Authorization: Bearer [REDACTED:authorization] key [REDACTED:aws_access_key_id]"
    );
    assert_eq!(lines[2]["extracted_fields"]["ip"], "[REDACTED:ipv4]");
    assert_eq!(lines[2]["extracted_fields"]["n"], 42);
    assert_eq!(
        lines[3]["message"],
        "request 5f0c6d8e-1b2a-4c3d-9e8f-0a1b2c3d4e5f took 12 ms version 1.2.3",
        "look-alikes untouched"
    );
    // The stream's address counts once per record, as masked card numbers there do.
    assert_eq!(summary.redacted_email, 1 + 1);
    assert_eq!(summary.redacted_ipv4, 2);
    assert_eq!(summary.redacted_ipv6, 1);
    assert_eq!(summary.redacted_secret_value, 1);
    assert_eq!(summary.redacted_authorization, 1);
    assert_eq!(summary.redacted_aws_access_key_id, 1);
    assert_eq!(summary.masked_pans, 1);
    let text = String::from_utf8_lossy(&response);
    assert!(!text.contains("hunter2") && !text.contains("bob@example.com"));
}

#[test]
fn message_mode_and_chosen_detectors() {
    let ev = event(&[("r", &b64(&gz(DOC)))]);
    let mut c = config(Some("email".parse().unwrap()), None, false);
    c.lines.format = OutputFormat::Message;
    let (response, summary) = run(c, &ev);
    let v: serde_json::Value = serde_json::from_slice(&response).unwrap();
    let data = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        v["records"][0]["data"].as_str().unwrap(),
    )
    .unwrap();
    let text = String::from_utf8(data).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "login [REDACTED:email] from 10.0.0.1 card 4111 1111 1111 1111"
    );
    // In message mode the stream name is not written, so not counted.
    assert_eq!(summary.redacted_email, 1);
    assert_eq!(summary.redacted_ipv4, 0);
}

#[test]
fn off_by_default_and_on_through_the_environment() {
    let ev = event(&[("r", &b64(&gz(DOC)))]);
    let (plain, summary) = run(Config::default(), &ev);
    assert!(String::from_utf8_lossy(&plain).len() > 10);
    assert_eq!(summary.redacted_email, 0);
    // `REDACT` set to nothing chosen is the same bytes as unset.
    let (again, _) = run(config(None, None, false), &ev);
    assert_eq!(plain, again);

    let out = transform_lines_with_env(&ev, &[("REDACT", "email,ipv4")]);
    let first = out.stdout.split(|&c| c == b'\n').next().unwrap();
    let line: serde_json::Value = serde_json::from_slice(first).unwrap();
    assert_eq!(
        line["message"],
        "login [REDACTED:email] from [REDACTED:ipv4] card 4111 1111 1111 1111"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("redacted_email=2"), "{stderr}");
    let bad = transform_lines_with_env(&ev, &[("REDACT", "emails")]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("REDACT"));
}

/// Twenty realistic custom rules: what they take, and the CLI reading them from a file as
/// the Lambda does (`REDACT_RULES_FILE`).
#[test]
fn custom_rules_from_a_file() {
    let rules_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/redact_rules.txt");
    let rules = std::fs::read_to_string(&rules_path).unwrap();
    let active: Vec<&str> = rules
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(active.len(), 20);
    // As one variable, `REDACT_RULES=` and the rules joined by newlines: docs/redaction.md
    // quotes this figure against Lambda's 4 KB.
    let bytes = "REDACT_RULES".len() + active.iter().map(|l| l.len() + 1).sum::<usize>() - 1;
    assert_eq!(bytes, 807);

    let doc = document(&[(
        1,
        "staff EMP-123456 paid with sk_live_abcdefghijklmnopqrstuvwx via bob@example.com",
    )]);
    let ev = event(&[("r", &b64(&gz(&doc)))]);
    let dir = std::env::temp_dir().join(format!("cwl-firehose-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run_cli = |rules_file: &std::path::Path, redact: &str| {
        let rules_file = rules_file.to_str().unwrap();
        transform_lines_with_env(
            &ev,
            &[("REDACT_RULES_FILE", rules_file), ("REDACT", redact)],
        )
    };
    let out = run_cli(&rules_path, "");
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        line["message"],
        "staff [REDACTED:employee_id] paid with [REDACTED:stripe_secret] via bob@example.com",
        "rules alone: no detector runs"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("redacted_custom=2"));
    let out = run_cli(&rules_path, "email");
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        line["message"],
        "staff [REDACTED:employee_id] paid with [REDACTED:stripe_secret] via [REDACTED:email]"
    );
    // A pattern that does not compile stops it before the first event, naming the rule.
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "fine=x+\nunclosed=ab(c\n").unwrap();
    let out = run_cli(&bad, "");
    assert!(!out.status.success() && out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("REDACT_RULES: rule \"unclosed\""),
        "{stderr}"
    );
    let out = run_cli(&dir.join("missing.txt"), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("REDACT_RULES_FILE"));
    std::fs::remove_dir_all(&dir).ok();
}
