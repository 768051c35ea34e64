//! PCI DSS masking end to end: card numbers never reach the lines, in any
//! field written, and are counted.
mod common;

use common::*;
use cwl_firehose::Config;
use cwl_firehose::Keep;
use cwl_firehose::LineOptions;

fn masked_config(keep: Keep, merge: bool) -> Config {
    Config {
        lines: LineOptions {
            mask: Some(keep),
            merge_json_message: merge,
            ..LineOptions::default()
        },
        ..Config::default()
    }
}

#[test]
fn pans_and_cvv_are_masked_in_every_field() {
    let doc = br#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/ecs/pay","logStream":"s","subscriptionFilters":["f"],
      "logEvents":[
        {"id":"1","timestamp":1,"message":"charge card 4111 1111 1111 1111 amount 12.50"},
        {"id":"2","timestamp":2,"message":"{\"card\":\"5555555555554444\",\"cvv\":\"123\",\"level\":\"error\"}"},
        {"id":"3","timestamp":3,"message":"order 1764300000123 user 42 ip 10.0.0.1","extractedFields":{"pan":"378282246310005"}}]}"#;
    let ev = event(&[("r", &b64(&gz(doc)))]);
    let (response, summary) = run(masked_config(Keep::First6Last4, true), &ev);
    let lines = &check_contract(&ev, &response)[0].lines;
    assert_eq!(
        lines[0]["message"],
        "charge card 4111 11** **** 1111 amount 12.50"
    );
    assert_eq!(
        lines[1]["card"], "555555******4444",
        "merged fields come from the masked message"
    );
    assert_eq!(lines[1]["cvv"], "***");
    assert_eq!(
        lines[2]["message"], "order 1764300000123 user 42 ip 10.0.0.1",
        "look-alikes untouched"
    );
    assert_eq!(lines[2]["extracted_fields"]["pan"], "378282*****0005");
    assert_eq!(summary.masked_pans, 4);
    let text = String::from_utf8_lossy(&response);
    assert!(!text.contains("4111111111111111") && !text.contains("5555555555554444"));

    let (response, _) = run(masked_config(Keep::Last4, false), &ev);
    assert_eq!(
        check_contract(&ev, &response)[0].lines[0]["message"],
        "charge card **** **** **** 1111 amount 12.50"
    );
}

#[test]
fn masking_is_off_by_default_and_on_through_the_environment() {
    let doc = document(&[(1, "pan 4111111111111111")]);
    let ev = event(&[("r", &b64(&gz(&doc)))]);
    let (response, summary) = run(Config::default(), &ev);
    assert_eq!(
        check_contract(&ev, &response)[0].lines[0]["message"],
        "pan 4111111111111111"
    );
    assert_eq!(summary.masked_pans, 0);

    let out = transform_lines_with_env(&ev, &[("MASK_PAN", "true")]);
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["message"], "pan 411111******1111");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("masked_pans=1"), "{stderr}");
    assert!(!stderr.contains("4111111111111111"));
}

#[test]
fn group_and_stream_names_are_masked_too() {
    // Text fields written out besides the message: the group and stream
    // names (in every line, and the group in the S3 partition key).
    let doc = br#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/pay/4111111111111111","logStream":"card 5555 5555 5555 4444\t","subscriptionFilters":["f"],
      "logEvents":[{"id":"1","timestamp":1,"message":"a"},{"id":"2","timestamp":2,"message":"b 4242424242424242"}]}"#;
    let ev = event(&[("r", &b64(&gz(doc)))]);
    let mut config = masked_config(Keep::First6Last4, false);
    config.partition_keys = true;
    let (response, summary) = run(config, &ev);
    let entries = check_contract(&ev, &response);
    for line in &entries[0].lines {
        assert_eq!(line["log_group"], "/pay/411111******1111");
        assert_eq!(line["log_stream"], "card 5555 55** **** 4444\t");
    }
    assert_eq!(entries[0].lines[1]["message"], "b 424242******4242");
    // Group and stream count once per record, the message once.
    assert_eq!(summary.masked_pans, 3);
    assert_eq!(
        entries[0].partition_keys.as_ref().unwrap()["log_group"],
        "pay_411111______1111"
    );
    let text = String::from_utf8_lossy(&response);
    assert!(!text.contains("4111111111111111"), "{text}");

    // Masking off: the names come out as they are.
    let (response, _) = run(Config::default(), &ev);
    assert_eq!(
        check_contract(&ev, &response)[0].lines[0]["log_group"],
        "/pay/4111111111111111"
    );
}
