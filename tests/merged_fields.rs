//! MERGE_JSON_MESSAGE and MERGE_COLUMNS, read by real engines. A corpus of
//! messages as real loggers write them goes through the function; DuckDB
//! then reads every line with its own inference (one column per key, no line
//! collapsed into one JSON value) and, with the Glue table's schema given
//! explicitly, writes Parquet that reads back one row per event holding the
//! declared columns' values. Spark (Glue ETL), which matches keys to columns
//! by exact spelling, reads the CLI's lines with the table's schema and with
//! its own inference, and reads every declared column as Athena does. A
//! property test checks the key rule on random key sets: no line ever has two
//! keys equal ignoring case, or an empty one.
mod common;

use common::*;
use cwl_firehose::adapters::settings::Settings;
use cwl_firehose::{Config, FirehoseEvent, Summary, Transformer};
use proptest::prelude::*;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The declared columns of the corpus run (the template would pass the same
/// list to the Glue table).
const COLUMNS: &str = "level:string,status:int,statuscode:int,duration_ms:double,elapsed:double,\
    latency:double,request_id:string,requestid:string,cold_start:boolean,ok:boolean,ts:timestamp,\
    at:timestamp,msg_timestamp:timestamp,msg_time:timestamp,attempt:int,user_id:bigint,\
    order_id:bigint,responsetime:int";

/// The Glue table's own columns (template.yaml, LogEventsTable).
const LINE_SCHEMA: &[(&str, &str)] = &[
    ("timestamp", "bigint"),
    ("id", "string"),
    ("message", "string"),
    ("log_group", "string"),
    ("log_stream", "string"),
    ("owner", "string"),
    ("extracted_fields", "map<string,string>"),
    ("time", "string"),
    ("source_account", "string"),
    ("source_region", "string"),
    ("source_log_group", "string"),
];

/// Messages in the shapes these loggers write (hand-written after each one's
/// documented output format, values invented), and the cases around them.
const CORPUS: &[(&str, &str)] = &[
    (
        "Serilog CompactJsonFormatter (CLEF), ASP.NET Core request logging",
        r#"{"@t":"2025-11-28T03:19:00.1234567Z","@mt":"HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0000} ms","@r":["12.3456"],"RequestMethod":"GET","RequestPath":"/api/orders","StatusCode":200,"Elapsed":12.3456,"SourceContext":"Serilog.AspNetCore.RequestLoggingMiddleware","RequestId":"0HMV8LK2N1QJ5:00000001","ConnectionId":"0HMV8LK2N1QJ5"}"#,
    ),
    (
        ".NET Microsoft.Extensions.Logging JSON console formatter (scopes on, timestamp format set)",
        r#"{"Timestamp":"2025-11-28T03:19:00.123Z","EventId":14,"LogLevel":"Information","Category":"Microsoft.Hosting.Lifetime","Message":"Now listening on: http://[::]:8080","State":{"Message":"Now listening on: http://[::]:8080","address":"http://[::]:8080","{OriginalFormat}":"Now listening on: {address}"},"Scopes":[]}"#,
    ),
    (
        "Logback with logstash-logback-encoder's LogstashEncoder",
        r#"{"@timestamp":"2025-11-28T04:19:00.123+01:00","@version":"1","message":"Started Application in 3.2 seconds (process running for 3.9)","logger_name":"com.example.Application","thread_name":"main","level":"INFO","level_value":20000}"#,
    ),
    (
        "Log4j2 EcsLayout (Elastic Common Schema): dotted keys, a stack trace",
        r#"{"@timestamp":"2025-11-28T03:19:00.123Z","ecs.version":"1.2.0","log.level":"ERROR","message":"Payment failed","process.thread.name":"http-nio-8080-exec-1","log.logger":"com.example.PaymentService","error.type":"java.lang.IllegalStateException","error.message":"card declined","error.stack_trace":"java.lang.IllegalStateException: card declined\n\tat com.example.PaymentService.charge(PaymentService.java:42)"}"#,
    ),
    (
        "Go zap production encoder (ts: epoch seconds as a float)",
        r#"{"level":"info","ts":1764299940.123456,"caller":"server/main.go:42","msg":"request handled","status":200,"latency":0.000123,"request_id":"5b0c6f1e-3f7c-4b7e-9d37-0b6f1f2e8c11"}"#,
    ),
    (
        "Go logrus JSONFormatter, a WithField value as a string",
        r#"{"attempt":"3","level":"warning","msg":"retrying upstream","time":"2025-11-28T03:19:00Z"}"#,
    ),
    (
        "Go log/slog JSONHandler, a struct logged with its exported field names",
        r#"{"time":"2025-11-28T03:19:00.123456789Z","level":"ERROR","msg":"db timeout","user":{"ID":7,"Name":"ann","id":"legacy-7"},"status":503}"#,
    ),
    (
        "pino with pino-http (Node.js): numeric level, epoch milliseconds, request headers",
        r#"{"level":30,"time":1764299940123,"pid":4242,"hostname":"ip-10-0-1-7","req":{"id":1,"method":"GET","url":"/orders","headers":{"Host":"api","host":"api.internal"}},"res":{"statusCode":200},"responseTime":12,"msg":"request completed"}"#,
    ),
    (
        "Python python-json-logger JsonFormatter, extra fields as strings",
        r#"{"asctime":"2025-11-28 03:19:00,123","levelname":"INFO","name":"app.auth","message":"user logged in","user_id":"42","duration_ms":"0.25"}"#,
    ),
    (
        "AWS Lambda Powertools for Python Logger, a 30-digit order number",
        r#"{"level":"INFO","location":"handler:12","message":"Processing order","timestamp":"2025-11-28 03:19:00,123+0000","service":"orders","cold_start":true,"function_name":"orders","function_memory_size":"256","function_arn":"arn:aws:lambda:eu-west-1:123456789012:function:orders","function_request_id":"c6af9ac6-7b61-11e6-9a41-93e812345678","xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793","order_id":123456789012345678901234567890}"#,
    ),
    (
        "Lambda's JSON log format (LoggingConfig LogFormat JSON), a handler's own line",
        r#"{"timestamp":"2025-11-28T03:19:00.123Z","level":"INFO","requestId":"79b4f56e-95b1-4643-9700-2807f4e68189","message":"hello from the handler"}"#,
    ),
    (
        "winston (Node.js) json format with timestamp()",
        r#"{"level":"info","message":"listening on 8080","service":"api","timestamp":"2025-11-28T03:19:00.123Z"}"#,
    ),
    (
        "a Go map[string]any logged with a blank key",
        r#"{"":"blank name","ok":true,"count":2}"#,
    ),
    (
        "request ids and HTTP headers logged in several spellings",
        r#"{"RequestId":"a","requestId":"b","REQUESTID":"c","Headers":{"Content-Type":"application/json","content-type":"text/plain"}}"#,
    ),
    (
        "arrays, nested arrays, arrays of objects, empty containers",
        r#"{"tags":["a","b"],"matrix":[[1,2],[3]],"items":[{"SKU":"x","sku":"y"}],"empty":{},"none":[]}"#,
    ),
    (
        "nulls under declared and undeclared keys",
        r#"{"level":null,"status":null,"user":null,"ok":null}"#,
    ),
    (
        "values that do not fit their declared columns",
        r#"{"level":42,"status":"OK","duration_ms":"slow","request_id":{"id":1},"ok":"yes","at":"yesterday","attempt":2.5,"user_id":true,"latency":"n/a"}"#,
    ),
    (
        "the line from the issue",
        r#"{"Message":"x","ID":5,"level":"a","Level":"b","Timestamp":"t"}"#,
    ),
    (
        "Hive internal column names, and a string that looks like keys",
        r#"{"_col0":"x","_col2":"y","note":"{\"Level\":1,\"level\":2}"}"#,
    ),
    (
        "pretty-printed JSON (Python json.dumps(obj, indent=2))",
        "{\n  \"level\": \"debug\",\n  \"details\": {\n    \"a\": 1,\n    \"b\": [\n      1,\n      2\n    ]\n  }\n}",
    ),
    (
        "non-ASCII keys: German (distinct in lowercase) and Greek (one key in lowercase)",
        r#"{"Straße":"x","STRASSE":"y","ΟΔΟΣ":"a","οδος":"b"}"#,
    ),
    ("not an object: a plain text line", "GET /health 200 1ms"),
    ("not an object: a JSON array", r#"[{"level":"info"}]"#),
];

/// Keys renamed and values left out in the corpus, counted by hand from the
/// rule (docs/schema.md) message by message, in order:
/// 0+2+1+1+0+1+2+2+1+2+2+2+1+3+1+0+0+4+2+0+1 and 1 (order_id) + 7 + 1 ("t").
const RENAMED: usize = 28;
const REJECTED: usize = 9;

fn settings(vars: &[(&str, &str)]) -> Config {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_lookup(|k| map.get(k).cloned())
        .expect("valid settings")
        .core
}

/// The corpus as one CloudWatch Logs record (the first event with
/// `extractedFields`), through the function; its lines and summary.
fn run_corpus(config: Config) -> (String, Summary) {
    let messages: Vec<&str> = CORPUS.iter().map(|(_, m)| *m).collect();
    run(config, &messages)
}

/// A Firehose event of one record holding `messages`, one event each (the
/// first with `extractedFields`).
fn messages_event(messages: &[&str]) -> Vec<u8> {
    let events: Vec<(i64, &str)> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (1_764_300_000_000 + i as i64, *m))
        .collect();
    let mut doc: Value = serde_json::from_slice(&document(&events)).unwrap();
    doc["logEvents"][0]["extractedFields"] = serde_json::json!({"verb": "GET", "status": "200"});
    event(&[("r1", &b64(&gz(&serde_json::to_vec(&doc).unwrap())))])
}

fn run(config: Config, messages: &[&str]) -> (String, Summary) {
    let event = messages_event(messages);
    let parsed = FirehoseEvent::parse(&event).unwrap();
    let response = Transformer::new(Config {
        keep_lines: true,
        ..config
    })
    .process(&parsed, None)
    .finish();
    let entries = check_contract(&event, &response.bytes);
    assert_eq!(entries[0].result, "Ok");
    (
        String::from_utf8(response.lines().to_vec()).unwrap(),
        response.summary,
    )
}

/// Every object's keys, in order, duplicates kept (serde_json's `Value`
/// would keep only the last of two equal keys).
struct Keys<'a>(&'a mut Vec<Vec<String>>);

impl<'de> DeserializeSeed<'de> for Keys<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Keys<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let at = self.0.len();
        self.0.push(Vec::new());
        while let Some(k) = map.next_key::<String>()? {
            self.0[at].push(k);
            map.next_value_seed(Keys(&mut *self.0))?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Keys(&mut *self.0))?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

fn object_keys(json: &str) -> Vec<Vec<String>> {
    let mut keys = Vec::new();
    let mut de = serde_json::Deserializer::from_str(json);
    Keys(&mut keys).deserialize(&mut de).expect("JSON");
    de.end().expect("one value");
    keys
}

/// The documented fold: Unicode lowercase per character, final sigma as sigma.
fn fold(key: &str) -> String {
    key.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ς' { 'σ' } else { c })
        .collect()
}

/// No object of the line has an empty key or two keys equal ignoring case,
/// by the documented fold or by the full lowercase of the SerDes' Java.
fn assert_athena_keys(line: &str) {
    for keys in object_keys(line) {
        for k in &keys {
            assert!(!k.is_empty(), "empty key in {line}");
        }
        for lower in [fold, |k: &str| k.to_lowercase()] {
            let mut seen: Vec<String> = keys.iter().map(|k| lower(k)).collect();
            seen.sort();
            let n = seen.len();
            seen.dedup();
            assert_eq!(
                seen.len(),
                n,
                "keys equal ignoring case: {keys:?} in {line}"
            );
        }
    }
}

/// The declared columns of [`COLUMNS`], `(name, glue type)`.
fn declared() -> Vec<(&'static str, &'static str)> {
    COLUMNS
        .split(',')
        .map(|c| c.split_once(':').unwrap())
        .collect()
}

/// The Glue table's columns: the line's own, then the declared ones.
fn glue_columns() -> Vec<(&'static str, &'static str)> {
    LINE_SCHEMA.iter().copied().chain(declared()).collect()
}

/// Spellings of a declared name equal to it ignoring case: as declared,
/// upper case, each word capitalised, and alternating case both ways.
fn case_variants(name: &str) -> [String; 5] {
    let title: Vec<String> = name
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    let alternating = |upper_first: bool| -> String {
        name.chars()
            .enumerate()
            .map(|(i, c)| {
                if (i % 2 == 0) == upper_first {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    };
    [
        name.to_string(),
        name.to_ascii_uppercase(),
        title.join("_"),
        alternating(true),
        alternating(false),
    ]
}

/// A value that fits a declared type, as a message holds it, and as the
/// line writes it under the column.
fn fitting(glue_type: &str) -> (&'static str, Value) {
    match glue_type {
        "string" => (r#""v""#, Value::from("v")),
        "int" | "bigint" => (r#""7""#, Value::from(7)),
        "double" => ("7.25", Value::from(7.25)),
        "boolean" => ("true", Value::from(true)),
        "timestamp" => (
            r#""2025-11-28T04:19:00.5+01:00""#,
            Value::from("2025-11-28 03:19:00.5"),
        ),
        other => panic!("no value for {other}"),
    }
}

/// One message per spelling of [`case_variants`]: every declared column in
/// that spelling, so that across the messages each is spelt five ways.
fn variant_messages() -> Vec<String> {
    (0..5)
        .map(|v| {
            let fields: Vec<(String, String)> = declared()
                .into_iter()
                .map(|(name, ty)| (case_variants(name)[v].clone(), fitting(ty).0.to_string()))
                .collect();
            object(&fields)
        })
        .collect()
}

/// Runs `tests/support/SCRIPT ARGS…` with the test virtualenv's Python in
/// `dir` (removed after) and reads the one JSON object it prints. Spark, if
/// the script starts it, binds 127.0.0.1 only.
fn support_script(script: &str, args: &[PathBuf], dir: &Path) -> Value {
    let out = Command::new(venv_tool("python"))
        .arg(root().join("tests/support").join(script))
        .args(args)
        .current_dir(dir)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn line_of(lines: &str, index: usize) -> serde_json::Map<String, Value> {
    let line = lines.lines().nth(index).expect("a line per event");
    serde_json::from_str(line).unwrap()
}

#[test]
fn corpus_lines_keep_the_key_rule_and_the_declared_types() {
    let (lines, summary) = run_corpus(settings(&[
        ("MERGE_JSON_MESSAGE", "true"),
        ("MERGE_COLUMNS", COLUMNS),
    ]));
    assert_eq!(lines.lines().count(), CORPUS.len());
    assert_eq!(summary.events_out, CORPUS.len());
    for line in lines.lines() {
        assert_athena_keys(line);
    }
    assert_eq!(summary.merged_keys_renamed, RENAMED);
    assert_eq!(summary.merged_values_rejected, REJECTED);

    // The issue's line: the line's own keys win, the others are kept renamed.
    let issue = line_of(&lines, 17);
    assert_eq!(issue["message"], CORPUS[17].1);
    assert_eq!(issue["msg_Message"], "x");
    assert_eq!(issue["msg_ID"], 5);
    assert_eq!(issue["level"], "a");
    assert_eq!(issue["msg_Level"], "b");
    assert!(
        !issue.contains_key("msg_Timestamp"),
        "\"t\" is no timestamp"
    );
    // Converted to the declared types, under the declared spelling; the
    // undeclared keys spelt as the logger spelt them.
    let serilog = line_of(&lines, 0);
    assert_eq!(serilog["statuscode"], 200);
    assert_eq!(serilog["requestid"], "0HMV8LK2N1QJ5:00000001");
    assert_eq!(serilog["elapsed"], 12.3456);
    assert_eq!(serilog["@t"], "2025-11-28T03:19:00.1234567Z");
    assert_eq!(serilog["RequestPath"], "/api/orders");
    assert_eq!(serilog["extracted_fields"]["verb"], "GET");
    assert_eq!(
        line_of(&lines, 1)["msg_timestamp"],
        "2025-11-28 03:19:00.123"
    );
    assert_eq!(line_of(&lines, 4)["ts"], "2025-11-28 03:19:00.123456");
    assert_eq!(line_of(&lines, 5)["attempt"], 3);
    assert_eq!(line_of(&lines, 5)["msg_time"], "2025-11-28 03:19:00");
    let slog = line_of(&lines, 6);
    assert_eq!(
        slog["user"],
        serde_json::json!({"ID": 7, "Name": "ann", "msg_id": "legacy-7"})
    );
    let pino = line_of(&lines, 7);
    assert_eq!(pino["level"], "30");
    assert_eq!(pino["msg_time"], "2025-11-28 03:19:00.123");
    assert_eq!(pino["responsetime"], 12);
    assert_eq!(pino["res"], serde_json::json!({"statusCode": 200}));
    assert_eq!(
        pino["req"]["headers"],
        serde_json::json!({"Host": "api", "msg_host": "api.internal"})
    );
    assert_eq!(line_of(&lines, 8)["user_id"], 42);
    assert_eq!(line_of(&lines, 8)["duration_ms"], 0.25);
    let powertools = line_of(&lines, 9);
    assert_eq!(powertools["msg_timestamp"], "2025-11-28 03:19:00.123");
    assert_eq!(powertools["cold_start"], true);
    assert!(
        !powertools.contains_key("order_id"),
        "30 digits are no bigint"
    );
    assert_eq!(
        line_of(&lines, 10)["requestid"],
        "79b4f56e-95b1-4643-9700-2807f4e68189"
    );
    assert_eq!(line_of(&lines, 12)["msg_"], "blank name");
    let spellings = line_of(&lines, 13);
    assert_eq!(
        (
            &spellings["requestid"],
            &spellings["msg_requestId"],
            &spellings["msg_REQUESTID_2"]
        ),
        (&Value::from("a"), &Value::from("b"), &Value::from("c"))
    );
    assert_eq!(line_of(&lines, 15)["status"], Value::Null);
    let mismatches = line_of(&lines, 16);
    assert_eq!(mismatches["level"], "42");
    assert_eq!(mismatches["request_id"], r#"{"id":1}"#);
    for left_out in [
        "status",
        "duration_ms",
        "ok",
        "at",
        "attempt",
        "user_id",
        "latency",
    ] {
        assert!(!mismatches.contains_key(left_out), "{left_out}");
    }
    assert_eq!(line_of(&lines, 18)["msg__col2"], "y");
    assert_eq!(
        line_of(&lines, 19)["details"]["b"],
        serde_json::json!([1, 2])
    );
    assert_eq!(line_of(&lines, 20)["msg_οδος"], "b");
    assert!(
        !line_of(&lines, 21).contains_key("msg_"),
        "plain text is not merged"
    );

    // The same events without MERGE_COLUMNS: the key rule holds all the same.
    let (unguarded, summary) = run_corpus(settings(&[("MERGE_JSON_MESSAGE", "true")]));
    for line in unguarded.lines() {
        assert_athena_keys(line);
    }
    assert_eq!(summary.merged_keys_renamed, RENAMED);
    assert_eq!(summary.merged_values_rejected, 0);
}

#[test]
fn every_declared_column_is_written_in_its_declared_spelling() {
    let messages = variant_messages();
    let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    let (lines, summary) = run(settings(&[("MERGE_COLUMNS", COLUMNS)]), &refs);
    assert_eq!(lines.lines().count(), messages.len());
    for (v, line) in lines.lines().enumerate() {
        assert_athena_keys(line);
        let top = object_keys(line).swap_remove(0);
        let fields = line_of(&lines, v);
        for (name, ty) in declared() {
            // Exactly one key names the column ignoring case: the declared
            // name, with the value typed.
            let spelt: Vec<&String> = top.iter().filter(|k| k.to_lowercase() == name).collect();
            assert_eq!(spelt, [name], "{} in {line}", case_variants(name)[v]);
            assert_eq!(fields[name], fitting(ty).1, "{name} in {line}");
        }
    }
    assert_eq!(summary.merged_keys_renamed, 0);
    assert_eq!(summary.merged_values_rejected, 0);
    // Merged without MERGE_COLUMNS, every key keeps the message's spelling.
    let (unguarded, _) = run(settings(&[("MERGE_JSON_MESSAGE", "true")]), &refs);
    for (v, line) in unguarded.lines().enumerate() {
        let top = object_keys(line).swap_remove(0);
        for (name, _) in declared() {
            assert!(top.contains(&case_variants(name)[v]), "{line}");
        }
    }
}

/// The CLI's lines for `messages` (one record), with the variables `env` only.
fn cli_lines(env: &[(&str, &str)], messages: &[&str], dir: &Path) -> String {
    let file = dir.join("event.json");
    std::fs::write(&file, messages_event(messages)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args(["transform", "--lines", "--no-reingest"])
        .arg(&file)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8(out.stdout).unwrap();
    assert_eq!(lines.lines().count(), messages.len());
    lines
}

/// Spark matches a line's keys to the table's columns by exact spelling (a
/// Glue ETL job reading the table, `spark.read.schema(…).json(…)`), Athena's
/// SerDes ignoring case: with MERGE_COLUMNS both read the same value in every
/// declared column, and Spark's own inference takes one column per declared
/// field, however the loggers spelt it.
#[test]
fn spark_reads_every_declared_column_as_athena_does() {
    let dir = temp_dir("merged-spark");
    let variants = variant_messages();
    let messages: Vec<&str> = CORPUS
        .iter()
        .map(|(_, m)| *m)
        .chain(variants.iter().map(String::as_str))
        .collect();
    let lines = cli_lines(&[("MERGE_COLUMNS", COLUMNS)], &messages, &dir);
    let unguarded = cli_lines(&[("MERGE_JSON_MESSAGE", "true")], &messages, &dir);
    let varying = cli_lines(
        &[("MERGE_COLUMNS", COLUMNS)],
        &[
            r#"{"level":"info","headers":{"Content-Type":"application/json"}}"#,
            r#"{"level":"info","headers":{"content-type":"text/plain"}}"#,
        ],
        &dir,
    );
    // The lines of the variant messages alone (after the corpus's).
    let variant_lines = |all: &str| -> String {
        all.lines()
            .skip(CORPUS.len())
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let files = [
        ("lines.ndjson", lines.clone()),
        ("unguarded.ndjson", unguarded.clone()),
        ("glue.json", serde_json::to_string(&glue_columns()).unwrap()),
        ("varying.ndjson", varying),
        ("variants.ndjson", variant_lines(&lines)),
        ("unguarded-variants.ndjson", variant_lines(&unguarded)),
    ];
    let mut args = Vec::new();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
        args.push(dir.join(name));
    }
    args.insert(3, dir.clone());
    let result = support_script("merged_fields_spark.py", &args, &dir);
    eprintln!("spark: {}", result["seconds"]);

    // With the table's schema: every row, every column as Athena reads it.
    let explicit = &result["explicit"];
    assert_eq!(explicit["rows"], messages.len());
    assert_eq!(explicit["mismatches"], serde_json::json!([]));
    // Not vacuous: every declared column has values (the variant messages
    // hold each one five times, in five spellings).
    for (name, _) in declared() {
        let n = explicit["non_null"][name].as_u64().unwrap();
        assert!(n >= 5, "{name}: {n} values");
    }
    // Spark's inference over the variant lines: one column per declared
    // field, in its spelling. Over the corpus it still fails, on an
    // undeclared key spelt two ways (`msg_Message` from .NET's `Message`,
    // `msg_message` from Logback's `message`): declaring is the remedy.
    assert!(
        result["corpus_inferred"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("COLUMN_ALREADY_EXISTS") && e.contains("`msg_message`")),
        "{}",
        result["corpus_inferred"]
    );
    let inferred = &result["inferred"];
    assert_eq!(inferred["error"], Value::Null, "{inferred}");
    let columns: Vec<&str> = inferred["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for (name, _) in declared() {
        let spelt: Vec<&&str> = columns
            .iter()
            .filter(|c| c.to_lowercase() == name)
            .collect();
        assert_eq!(spelt, [&name], "{columns:?}");
    }

    // The control, merged without MERGE_COLUMNS: keys keep the loggers'
    // spellings, Spark reads NULL where Athena reads a value, and its
    // inference fails on one key spelt several ways.
    let control = &result["unguarded"];
    let missed = control["explicit"]["mismatches"].as_array().unwrap();
    assert!(
        missed
            .iter()
            .any(|m| m[1] == "statuscode" && m[2] == "200" && m[3].is_null()),
        "{control}"
    );
    assert!(control["inferred"]["error"]
        .as_str()
        .is_some_and(|e| e.contains("COLUMN_ALREADY_EXISTS")));

    // Nested keys that vary in case between events (not columns, so kept as
    // spelt): Spark's inference keeps the first spelling and reads the
    // other as NULL (docs/schema.md).
    let varying = &result["varying"];
    assert_eq!(
        varying["headers_fields"],
        serde_json::json!(["Content-Type"])
    );
    assert_eq!(
        varying["headers"],
        serde_json::json!([{"Content-Type": "application/json"}, {"Content-Type": null}])
    );
}

#[test]
fn duckdb_reads_every_line_and_writes_parquet_with_the_declared_columns() {
    let dir = std::env::temp_dir().join(format!("cwl-firehose-merged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (lines, _) = run_corpus(settings(&[("MERGE_COLUMNS", COLUMNS)]));
    let (unguarded, _) = run_corpus(settings(&[("MERGE_JSON_MESSAGE", "true")]));
    // Two events whose nested keys differ only in case: each line keeps the
    // rule, but DuckDB's inference unions the keys of all of them.
    let (varying, _) = run(
        settings(&[("MERGE_COLUMNS", COLUMNS)]),
        &[
            r#"{"level":"info","headers":{"Content-Type":"application/json"}}"#,
            r#"{"level":"info","headers":{"content-type":"text/plain"}}"#,
        ],
    );
    let glue = glue_columns();
    let (lines_path, unguarded_path, glue_path, varying_path) = (
        dir.join("lines.ndjson"),
        dir.join("unguarded.ndjson"),
        dir.join("glue.json"),
        dir.join("varying.ndjson"),
    );
    std::fs::write(&varying_path, &varying).unwrap();
    std::fs::write(&lines_path, &lines).unwrap();
    std::fs::write(&unguarded_path, &unguarded).unwrap();
    std::fs::write(&glue_path, serde_json::to_vec(&glue).unwrap()).unwrap();
    let result = support_script(
        "merged_fields_duckdb.py",
        &[
            lines_path,
            unguarded_path,
            glue_path,
            dir.clone(),
            varying_path,
        ],
        &dir,
    );

    // DuckDB's own reading: one row per event, one column per key.
    let auto = &result["auto"];
    assert_eq!(auto["count"], CORPUS.len());
    let columns: HashMap<&str, &str> = auto["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_str().unwrap(), c[1].as_str().unwrap()))
        .collect();
    for (name, ty) in [
        ("timestamp", "BIGINT"),
        ("id", "VARCHAR"),
        ("message", "VARCHAR"),
        ("level", "VARCHAR"),
        ("status", "BIGINT"),
        ("statuscode", "BIGINT"),
        ("duration_ms", "DOUBLE"),
        ("attempt", "BIGINT"),
        ("cold_start", "BOOLEAN"),
        ("ok", "BOOLEAN"),
        ("msg_Message", "VARCHAR"),
        ("msg_", "VARCHAR"),
        ("log.level", "VARCHAR"),
    ] {
        assert_eq!(columns.get(name).copied(), Some(ty), "{name}: {columns:?}");
    }
    // The controls: lines as they were written before the key rule fail
    // the same checks.
    let control = &result["control"];
    let empty_key = control["empty_key"].as_array().unwrap();
    assert_eq!(empty_key.len(), 1, "{control}");
    assert_eq!(empty_key[0][0], "json", "one value per line: {control}");
    assert!(control["nested_duplicate"]
        .as_str()
        .is_some_and(|e| e.contains("Duplicate name")));
    assert!(control["issue_line_openx"]
        .as_str()
        .is_some_and(|e| e.starts_with("Duplicate key")));

    // With the Glue schema: Parquet with one row per event and, in every
    // row, the declared columns' values as the lines hold them.
    let parquet = &result["parquet"];
    assert_eq!(parquet["rows"], CORPUS.len());
    assert_eq!(parquet["distinct_ids"], CORPUS.len());
    assert_eq!(parquet["mismatches"], serde_json::json!([]));
    let value =
        |event: usize, column: &str| parquet["values"][format!("{event:056}")][column].clone();
    assert_eq!(value(0, "statuscode"), "200");
    assert_eq!(value(0, "requestid"), "0HMV8LK2N1QJ5:00000001");
    assert_eq!(value(4, "ts"), "2025-11-28 03:19:00.123456");
    assert_eq!(value(7, "level"), "30");
    assert_eq!(value(7, "responsetime"), "12");
    assert_eq!(value(9, "order_id"), Value::Null);
    assert_eq!(value(9, "cold_start"), "True");
    assert_eq!(value(16, "status"), Value::Null);
    assert_eq!(value(17, "level"), "a");
    // The lines as they are, with the Glue schema: DuckDB matches keys
    // exactly (as Spark does) and reads every declared value the SerDes read.
    assert_eq!(result["exact_mismatches"], serde_json::json!([]));
    // Merged without MERGE_COLUMNS, the same events do not fit the schema.
    let unguarded_error = result["unguarded_error"].as_str().unwrap_or_default();
    assert!(
        unguarded_error.contains("Failed to cast"),
        "{unguarded_error}"
    );

    // Nested keys that vary in case between events: DuckDB's inference
    // refuses them (a limit of DuckDB's schema detection: docs/schema.md);
    // the Glue schema reads them, as Athena does.
    let varying = &result["varying"];
    assert!(varying["auto_error"]
        .as_str()
        .is_some_and(|e| e.contains("Duplicate name")));
    assert_eq!(varying["explicit_rows"], 2);
    assert_eq!(varying["depth1_rows"], 2);
}

/// Keys from the cases that matter (the line's own keys, case variants,
/// renamed-looking keys, empty, Hive's `_colN`, Unicode case pairs) and
/// random short ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "id",
            "ID",
            "Id",
            "message",
            "MESSAGE",
            "Message",
            "msg_message",
            "msg_MESSAGE_2",
            "msg_id",
            "msg_id_2",
            "msg_ID_3",
            "time",
            "Time",
            "timestamp",
            "extracted_fields",
            "log_group",
            "owner",
            "",
            "msg_",
            "msg__2",
            "_col1",
            "_COL2",
            "_col",
            "level",
            "Level",
            "LEVEL",
            "msg_level",
            "msg_Level_2",
            "k",
            "K",
            "\u{212a}",
            "ΟΔΟΣ",
            "οδος",
            "οδοσ",
            "\u{130}",
            "i\u{307}",
            "a.b",
            "A.B",
            "@t",
            "Straße",
            "STRASSE",
        ])
        .prop_map(str::to_string),
        "[a-cA-C_]{1,3}",
        "msg_[a-cA-C]{0,2}(_[2-4])?",
    ]
}

/// A JSON value: scalars, or an object or array of them with keys from [`key`].
fn value() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("1".to_string()),
        Just("null".to_string()),
        Just("\"s\"".to_string()),
        Just("true".to_string()),
    ];
    prop_oneof![
        3 => scalar.clone(),
        1 => prop::collection::vec((key(), scalar.clone()), 0..6).prop_map(|fields| object(&fields)),
        1 => prop::collection::vec(
            prop::collection::vec((key(), scalar), 0..4).prop_map(|f| object(&f)),
            0..3
        )
        .prop_map(|items| format!("[{}]", items.join(","))),
    ]
}

/// An object written as text: duplicate keys stay.
fn object(fields: &[(String, String)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
        .collect();
    format!("{{{}}}", body.join(","))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// No line has two keys equal ignoring case or an empty key, and no
    /// field is lost: every field of the message is in the line, in order,
    /// under its own key or `msg_KEY[_n]`, and under its own key whenever
    /// that key collides with nothing (by the documented fold).
    #[test]
    fn merged_keys_are_unique_ignoring_case(fields in prop::collection::vec((key(), value()), 0..24)) {
        let message = object(&fields);
        let (lines, _) = {
            let doc = document(&[(1_764_300_000_000, &message)]);
            let event = event(&[("r1", &b64(&gz(&doc)))]);
            let parsed = FirehoseEvent::parse(&event).unwrap();
            let config = Config { keep_lines: true, ..settings(&[("MERGE_JSON_MESSAGE", "true")]) };
            let response = Transformer::new(config).process(&parsed, None).finish();
            (String::from_utf8(response.lines().to_vec()).unwrap(), response.summary)
        };
        let line = lines.trim_end_matches('\n');
        prop_assert_eq!(lines.lines().count(), 1);
        assert_athena_keys(line);
        let top = object_keys(line).swap_remove(0);
        let merged = &top[6..];
        prop_assert_eq!(merged.len(), fields.len(), "{}", line);
        let mut taken: Vec<String> = top[..6].iter().map(|k| fold(k)).collect();
        taken.extend(["time", "extracted_fields"].map(String::from));
        for ((original, _), written) in fields.iter().zip(merged) {
            let hive = fold(original)
                .strip_prefix("_col")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            let free = !original.is_empty() && !taken.contains(&fold(original)) && !hive;
            if free {
                prop_assert_eq!(written, original);
            } else {
                let rest = written.strip_prefix("msg_").unwrap_or_default();
                prop_assert!(
                    rest == original
                        || rest.strip_prefix(original.as_str()).is_some_and(|s| s
                            .strip_prefix('_')
                            .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n >= 2))),
                    "{} became {}", original, written
                );
            }
            taken.push(fold(written));
        }
    }
}
