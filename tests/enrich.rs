//! Keeping what matters and saying where it came from: event filters,
//! Lambda's own log formats, source attribution and static fields, through
//! the whole record path (settings as the Lambda reads them, the response
//! Firehose gets, re-ingested parts), and the lines read by DuckDB with the
//! Glue table's types, then written to Parquet and read back.
mod common;

use common::*;
use cwl_firehose::adapters::settings::Settings;
use cwl_firehose::{Config, FirehoseEvent, Transformer};
use serde_json::{json, Value};
use std::collections::HashMap;

fn config(vars: &[(&str, &str)]) -> Config {
    let map: HashMap<&str, &str> = vars.iter().copied().collect();
    Settings::from_lookup(|k| map.get(k).map(|v| v.to_string()))
        .unwrap()
        .core
}

/// A document of `group` with these messages, one second apart.
fn doc(group: &str, messages: &[&str]) -> Vec<u8> {
    Doc::new().group(group).messages(messages).bytes()
}

fn records(docs: &[Vec<u8>]) -> Vec<u8> {
    let data: Vec<(String, String)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("r{i}"), b64(&gz(d))))
        .collect();
    let refs: Vec<(&str, &str)> = data.iter().map(|(i, d)| (i.as_str(), d.as_str())).collect();
    event(&refs)
}

fn messages(entry: &Entry) -> Vec<&str> {
    entry
        .lines
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect()
}

const ID: &str = "8f5a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b";

const FILTERS: &str = r#"[
    {"name":"health","drop":"GET /health"},
    {"name":"platform","log_groups":"^/aws/lambda/","drop":"^(START|END|REPORT) RequestId"},
    {"name":"worker_errors","log_groups":"^/ecs/worker$","keep":"level=error"},
    {"name":"pci","log_groups":"^/pci$","keep":"4111111111111111|411111\\*"}
]"#;

#[test]
fn filters_drop_events_and_records_and_count_by_rule() {
    let config = config(&[
        ("DROP_MESSAGES", "^DEBUG"),
        ("EVENT_FILTERS", FILTERS),
        ("MASK_PAN", "true"),
    ]);
    let report = format!("REPORT RequestId: {ID}\tDuration: 1.0 ms");
    let start = format!("START RequestId: {ID} Version: $LATEST");
    let event = records(&[
        doc(
            "/ecs/api",
            &[
                "GET /health 200",
                "order 1 paid",
                "DEBUG card 4111 1111 1111 1111",
            ],
        ),
        doc("/ecs/api", &["GET /health 200", "GET /health 503"]),
        doc("/aws/lambda/fn", &[&start, "hello", &report]),
        doc("/ecs/worker", &["level=info a", "level=error b"]),
        // The pattern sees the masked message: the card number itself never
        // matches, its masked form does.
        doc("/pci", &["pan 4111111111111111", "no card"]),
        doc("/other/lambda", &[&start]),
    ]);
    let (response, summary) = run(config, &event);
    let entries = check_contract(&event, &response);
    let results: Vec<&str> = entries.iter().map(|e| e.result.as_str()).collect();
    assert_eq!(results, ["Ok", "Dropped", "Ok", "Ok", "Ok", "Ok"]);
    assert_eq!(messages(&entries[0]), ["order 1 paid"]);
    assert_eq!(messages(&entries[2]), ["hello"]);
    assert_eq!(messages(&entries[3]), ["level=error b"]);
    assert_eq!(messages(&entries[4]), ["pan 411111******1111"]);
    assert_eq!(messages(&entries[5]), [start.as_str()]);
    assert_eq!(summary.events_out, 5);
    assert_eq!(summary.events_filtered, 8);
    let by_rule: Vec<(&str, usize)> = summary
        .events_filtered_by_rule
        .iter()
        .map(|(n, c)| (n.as_str(), *c))
        .collect();
    assert_eq!(
        by_rule,
        [
            ("drop_messages", 1),
            ("health", 3),
            ("platform", 2),
            ("worker_errors", 1),
            ("pci", 1)
        ]
    );
    // Masking counted the card of the dropped DEBUG line too.
    assert_eq!(summary.masked_pans, 2);
    assert!(summary.to_string().contains("events_filtered=8"));
}

/// Nothing configured: no counts, no per-rule list, lines as before.
#[test]
fn without_filters_nothing_is_counted() {
    let event = records(&[doc("/ecs/api", &["GET /health 200", "DEBUG x"])]);
    let (response, summary) = run(config(&[]), &event);
    let entries = check_contract(&event, &response);
    assert_eq!(messages(&entries[0]), ["GET /health 200", "DEBUG x"]);
    assert_eq!(summary.events_filtered, 0);
    assert!(summary.events_filtered_by_rule.is_empty());
}

/// A record too large for any response is split from its events' spans:
/// with filters on, the parts hold only the events that have lines (the
/// dropped ones first, last and in between included), each once, and
/// reading the parts again gives the same lines.
#[test]
fn a_split_record_re_ingests_only_the_kept_events() {
    let vars = [("DROP_MESSAGES", "^DEBUG"), ("RESPONSE_BUDGET", "6000")];
    let padding = "x".repeat(600);
    let all: Vec<String> = (0..24)
        .map(|i| {
            let kind = if i % 3 == 0 || i == 23 {
                "DEBUG"
            } else {
                "keep"
            };
            format!("{kind} {i} {padding}")
        })
        .collect();
    let kept: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|m| !m.starts_with("DEBUG"))
        .collect();
    let document = Doc::new().group("/ecs/api").messages(&all).bytes();
    let event = records(&[document]);
    let parsed = FirehoseEvent::parse(&event).unwrap();
    let mut transformer = Transformer::new(config(&vars));
    let batch = transformer.process(&parsed, None);
    let parts: Vec<Vec<u8>> = batch.parts().iter().map(|p| gunzip(&p.data)).collect();
    assert!(parts.len() > 1, "{} parts", parts.len());
    let mut re_sent = Vec::new();
    for part in &parts {
        let part: Value = serde_json::from_slice(part).expect("each part is a document");
        assert_eq!(part["logGroup"], "/ecs/api");
        for e in part["logEvents"].as_array().unwrap() {
            re_sent.push(e["message"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(re_sent, kept);
    // Read again (as re-ingestion makes Firehose do): the kept lines, once.
    let again = records(&parts);
    let (response, summary) = run(config(&[("DROP_MESSAGES", "^DEBUG")]), &again);
    let lines: Vec<String> = check_contract(&again, &response)
        .iter()
        .flat_map(|e| {
            messages(e)
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(lines, kept);
    assert_eq!(summary.events_filtered, 0);
}

/// Centralized events carry system fields in `extractedFields`: the line
/// gets the source fields and the partition key the source account; the
/// same document without them is written as before.
#[test]
fn source_attribution_and_the_owner_partition_key() {
    let system = json!({"@aws.account": "111122223333", "@aws.region": "eu-west-1",
                        "@source.log": "111122223333:/aws/lambda/pay"});
    let with = Doc::new()
        .group("/central/pay")
        .raw_event(
            json!({"id": "1", "timestamp": T0, "message": "paid", "extractedFields": system}),
        )
        .raw_event(json!({"id": "2", "timestamp": T0 + 1, "message": "plain"}))
        .bytes();
    let without = Doc::new().group("/central/pay").event(T0, "paid").bytes();
    let event = records(&[with, without.clone()]);
    let (response, _) = run(config(&[("PARTITION_KEYS", "true")]), &event);
    let entries = check_contract(&event, &response);
    let line = &entries[0].lines[0];
    assert_eq!(line["source_account"], "111122223333");
    assert_eq!(line["source_region"], "eu-west-1");
    assert_eq!(line["source_log_group"], "/aws/lambda/pay");
    assert_eq!(line["owner"], OWNER);
    assert_eq!(line["extracted_fields"]["@aws.account"], "111122223333");
    assert!(entries[0].lines[1].get("source_account").is_none());
    assert_eq!(
        entries[0].partition_keys.as_ref().unwrap()["owner"],
        "111122223333"
    );
    assert_eq!(entries[1].partition_keys.as_ref().unwrap()["owner"], OWNER);
    assert_eq!(entries[1].lines, expected_lines(&without));
}

/// `LAMBDA_FORMAT` and `STATIC_FIELDS` together with merging: the prefix's
/// fields, the message after it merged, a merged key that takes one of the
/// line's keys renamed, and the platform's figures as numbers.
#[test]
fn lambda_format_and_static_fields() {
    let config = config(&[
        ("LAMBDA_FORMAT", "true"),
        ("MERGE_JSON_MESSAGE", "true"),
        ("STATIC_FIELDS", "env=prod,pci_scope=cde"),
    ]);
    let app = format!(
        "2026-12-07T00:00:00.000Z\t{ID}\tINFO\t{{\"level\":\"info\",\"env\":\"x\",\"n\":1}}\n"
    );
    let report = format!("REPORT RequestId: {ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\n");
    let event = records(&[doc("/aws/lambda/fn", &[&app, &report, "plain text"])]);
    let (response, _) = run(config, &event);
    let lines = &check_contract(&event, &response)[0].lines;
    let first = &lines[0];
    assert_eq!(first["level"], "INFO");
    assert_eq!(first["request_id"], ID);
    assert_eq!(
        first["message"],
        "{\"level\":\"info\",\"env\":\"x\",\"n\":1}\n"
    );
    assert_eq!(first["msg_level"], "info");
    assert_eq!(first["msg_env"], "x");
    assert_eq!(first["n"], 1);
    assert_eq!(first["env"], "prod");
    assert_eq!(first["pci_scope"], "cde");
    let second = &lines[1];
    assert_eq!(second["platform"], "platform.report");
    assert_eq!(second["duration_ms"], 12.34);
    assert_eq!(second["billed_duration_ms"], 13);
    assert_eq!(second["memory_size_mb"], 128);
    assert_eq!(second["max_memory_used_mb"], 40);
    assert!(second.get("init_duration_ms").is_none());
    assert_eq!(second["message"], report);
    let third = &lines[2];
    assert_eq!(third["message"], "plain text");
    assert!(third.get("level").is_none());
    assert_eq!(third["env"], "prod");
}

/// The Glue table's columns for lines with every option on (template.yaml:
/// the line schema, `LambdaFormat`'s columns, `StaticFields`' columns).
const GLUE: &[(&str, &str)] = &[
    ("timestamp", "BIGINT"),
    ("id", "VARCHAR"),
    ("message", "VARCHAR"),
    ("log_group", "VARCHAR"),
    ("log_stream", "VARCHAR"),
    ("owner", "VARCHAR"),
    ("extracted_fields", "MAP(VARCHAR, VARCHAR)"),
    ("time", "VARCHAR"),
    ("source_account", "VARCHAR"),
    ("source_region", "VARCHAR"),
    ("source_log_group", "VARCHAR"),
    ("level", "VARCHAR"),
    ("request_id", "VARCHAR"),
    ("platform", "VARCHAR"),
    ("duration_ms", "DOUBLE"),
    ("billed_duration_ms", "BIGINT"),
    ("memory_size_mb", "BIGINT"),
    ("max_memory_used_mb", "BIGINT"),
    ("init_duration_ms", "DOUBLE"),
    ("env", "VARCHAR"),
    ("pci_scope", "VARCHAR"),
];

/// DuckDB reads every new column with its declared type, and the lines
/// written to Parquet with the Glue schema read back one row per kept event.
#[test]
fn duckdb_reads_the_new_columns_and_parquet_keeps_one_row_per_kept_event() {
    let config = config(&[
        ("LAMBDA_FORMAT", "true"),
        ("STATIC_FIELDS", "env=prod,pci_scope=cde"),
        ("DROP_MESSAGES", "^DEBUG"),
    ]);
    let system = json!({"@aws.account": "111122223333", "@aws.region": "eu-west-1",
                        "@source.log": "111122223333:/aws/lambda/pay"});
    let report = format!("REPORT RequestId: {ID}\tDuration: 12.5 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 150.25 ms\t\n");
    let app = format!("2026-12-07T00:00:00.000Z\t{ID}\tWARN\tslow\n");
    let document = Doc::new()
        .group("/aws/lambda/pay")
        .raw_event(
            json!({"id": "1", "timestamp": T0, "message": report, "extractedFields": system}),
        )
        .event_with_id("2", T0 + 1, &app)
        .event_with_id("3", T0 + 2, "DEBUG dropped")
        .event_with_id("4", T0 + 3, "plain")
        .bytes();
    let event = records(&[document]);
    let (response, summary) = run(config, &event);
    let entries = check_contract(&event, &response);
    assert_eq!(summary.events_out, 3);
    let dir = temp_dir("enrich-duckdb");
    let lines = dir.join("lines.ndjson");
    let text: String = entries[0].lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&lines, text).unwrap();
    let parquet = dir.join("lines.parquet");
    let columns = GLUE
        .iter()
        .map(|(n, t)| format!("'{n}': '{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let read = format!(
        "read_json('{}', format = 'newline_delimited', columns = {{{columns}}})",
        lines.display()
    );
    let types = duckdb(&[format!(
        "select {} from {read} where id = '1'",
        GLUE.iter()
            .map(|(n, _)| format!("typeof(\"{n}\")"))
            .collect::<Vec<_>>()
            .join(", ")
    )]);
    let expected: Vec<String> = GLUE.iter().map(|(_, t)| format!("'{t}'")).collect();
    assert_eq!(types, format!("[({})]", expected.join(", ")));
    assert_eq!(
        duckdb(&[format!(
            "select source_account, source_log_group, platform, duration_ms, billed_duration_ms, \
             memory_size_mb, max_memory_used_mb, init_duration_ms, env from {read} where id = '1'"
        )]),
        "[('111122223333', '/aws/lambda/pay', 'platform.report', 12.5, 13, 128, 40, 150.25, 'prod')]"
    );
    assert_eq!(
        duckdb(&[format!(
            "select level, request_id, message from {read} where id = '2'"
        )]),
        format!("[('WARN', '{ID}', 'slow\\n')]")
    );
    let copied = duckdb(&[
        format!(
            "copy (select * from {read}) to '{}' (format parquet)",
            parquet.display()
        ),
        format!(
            "select count(*), count(distinct id), count(level), count(source_account), \
             count(env) from read_parquet('{}')",
            parquet.display()
        ),
    ]);
    assert_eq!(copied, "[(3, 3, 1, 1, 3)]");
    let _ = std::fs::remove_dir_all(&dir);
}
