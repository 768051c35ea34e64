//! What lands in S3, read by a real SQL engine: DuckDB's `read_ndjson` (the
//! same one-object-per-line reading Athena's JSON SerDes do) counts one row
//! per log event and sees the values in their columns.
mod common;

use common::*;
use std::process::Command;

/// One query's rows.
fn query(sql: &str) -> String {
    duckdb(&[sql.to_string()])
}

#[test]
fn one_row_per_event_with_values_in_columns() {
    let dir = std::env::temp_dir().join(format!("cwl-firehose-duckdb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lines = dir.join("lines.ndjson");
    let out = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args(["transform", "--lines", "fixtures/events/mixed-batch.json"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&lines, &out.stdout).unwrap();
    let file = lines.display();

    // 3 events from the good DATA record + 5 from the unicode one; the
    // multi-line stack trace is still one row.
    assert_eq!(
        query(&format!("select count(*) from read_ndjson('{file}')")),
        "[(8,)]"
    );
    assert_eq!(
        query(&format!(
            "select log_group, count(*), min(timestamp), typeof(min(timestamp)) from read_ndjson('{file}') group by 1 order by 1"
        )),
        "[('/aws/lambda/ledger', 5, 1764300002000, 'BIGINT'), ('/ecs/api', 3, 1764300000123, 'BIGINT')]"
    );
    let trace = query(&format!(
        "select message like 'ERROR Unhandled%' and message like '%ValueError: balance < 0\n' \
         from read_ndjson('{file}') where id = '37410584574183921230437362510734123457201093650436898900'"
    ));
    assert_eq!(trace, "[(True,)]");
    assert_eq!(
        query(&format!(
            "select message from read_ndjson('{file}') where id = '37410584574183921230437362510734123457201093650436898901'"
        )),
        "[('Zahlung über 12,50 € für Müller – 東京 – emoji 😀 – RTL שלום',)]"
    );
    assert_eq!(
        query(&format!("select extracted_fields.verb from read_ndjson('{file}') where extracted_fields is not null")),
        "[('SELECT',)]"
    );
}
