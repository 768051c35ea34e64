//! `LOG_GROUP_TAGS`: the log groups' own tags, read with the real AWS SDK
//! from moto's CloudWatch Logs on 127.0.0.1, in every line of the group's
//! records, by the CLI and by the Lambda under `cargo lambda watch` (whose
//! warm cache holds the tags for the TTL); a group without tags, or tags
//! that cannot be read, never fail a record; DuckDB reads the columns.
mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const TAGS: &str = "team,env,cost_center=CostCenter";

/// `tests/support/moto_logs.py` against `moto`.
fn moto_logs(moto: &MotoServer, args: &[&str]) {
    let out = Command::new(venv_tool("python"))
        .arg(root().join("tests/support/moto_logs.py"))
        .arg(&moto.endpoint)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "moto_logs {args:?}: {}\nmoto's log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        moto.log_tail()
    );
}

/// moto with `/app/pay` (three tags, two of them configured by [`TAGS`]
/// under their own key, one under another) and `/app/bare` (no tag).
fn moto() -> MotoServer {
    let moto = MotoServer::start();
    moto_logs(
        &moto,
        &[
            "create",
            "/app/pay",
            "team=payments",
            "CostCenter=c-1",
            "other=x",
        ],
    );
    moto_logs(&moto, &["create", "/app/bare"]);
    moto
}

/// An event of one record per document.
fn event_of(docs: &[Doc]) -> Vec<u8> {
    let data: Vec<(String, String)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("r{i}"), b64(&gz(&d.bytes()))))
        .collect();
    let refs: Vec<(&str, &str)> = data.iter().map(|(i, d)| (i.as_str(), d.as_str())).collect();
    event(&refs)
}

/// An event of one record per group, two events each, in a file.
fn event_file(dir: &Path, groups: &[&str]) -> std::path::PathBuf {
    let docs: Vec<Doc> = groups
        .iter()
        .map(|g| Doc::new().group(g).messages(["a", "b"]))
        .collect();
    let file = dir.join(format!("event-{}.json", groups.len()));
    std::fs::write(&file, event_of(&docs)).unwrap();
    file
}

const AWS_ENV: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// `cwl-firehose transform --lines` with these variables: the lines and the
/// summary.
fn transform(file: &Path, env: &[(&str, &str)]) -> (Vec<Value>, String) {
    let (stdout, summary) = transform_raw(file, env);
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, summary)
}

/// [`transform`], its lines as written.
fn transform_raw(file: &Path, env: &[(&str, &str)]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args(["transform", "--lines"])
        .arg(file)
        .envs(AWS_ENV)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "transform failed: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

/// `(log_group, team, env, cost_center)` of a line (`None`: absent).
type Tagged = (String, Option<String>, Option<String>, Option<String>);

/// [`Tagged`] of each line.
fn tags_of(lines: &[Value]) -> Vec<Tagged> {
    let field = |l: &Value, k: &str| {
        l.get(k)
            .map(|v| v.as_str().expect("a tag is a string").to_string())
    };
    lines
        .iter()
        .map(|l| {
            (
                l["log_group"].as_str().unwrap().to_string(),
                field(l, "team"),
                field(l, "env"),
                field(l, "cost_center"),
            )
        })
        .collect()
}

fn pay(team: &str) -> Tagged {
    (
        "/app/pay".into(),
        Some(team.into()),
        None,
        Some("c-1".into()),
    )
}

fn bare() -> Tagged {
    ("/app/bare".into(), None, None, None)
}

#[test]
fn the_cli_writes_each_groups_tags_and_a_failed_read_fails_no_record() {
    let moto = moto();
    let dir = temp_dir("group-tags-cli");
    let file = event_file(&dir, &["/app/pay", "/app/bare", "/app/pay"]);

    let (lines, summary) = transform(
        &file,
        &[
            ("LOG_GROUP_TAGS", TAGS),
            ("AWS_ENDPOINT_URL", &moto.endpoint),
        ],
    );
    assert_eq!(
        tags_of(&lines),
        [
            pay("payments"),
            pay("payments"),
            bare(),
            bare(),
            pay("payments"),
            pay("payments")
        ],
        "{summary}"
    );
    assert!(
        summary.contains(" ok=3 ") && summary.contains("group_tags_read=2 group_tags_failed=0"),
        "{summary}"
    );
    // The tags follow the record's constant fields, in the setting's order;
    // `other` is not configured.
    let (raw, _) = transform_raw(
        &file,
        &[
            ("LOG_GROUP_TAGS", TAGS),
            ("AWS_ENDPOINT_URL", &moto.endpoint),
        ],
    );
    assert!(
        raw.lines()
            .next()
            .unwrap()
            .ends_with(r#","owner":"123456789012","team":"payments","cost_center":"c-1"}"#),
        "{raw}"
    );

    // Nothing listening: the tags cannot be read; every record is Ok all
    // the same, the lines without tags, and the failures are counted.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let (lines, summary) = transform(
        &file,
        &[("LOG_GROUP_TAGS", TAGS), ("AWS_ENDPOINT_URL", &nowhere)],
    );
    assert_eq!(lines.len(), 6);
    assert!(tags_of(&lines)
        .iter()
        .all(|(_, t, e, c)| t.is_none() && e.is_none() && c.is_none()));
    assert!(
        summary.contains(" ok=3 ") && summary.contains("group_tags_read=0 group_tags_failed=2"),
        "{summary}"
    );

    // Off: no call, no field.
    let (lines, summary) = transform(&file, &[("AWS_ENDPOINT_URL", &nowhere)]);
    assert_eq!(lines.len(), 6);
    assert!(tags_of(&lines)
        .iter()
        .all(|(_, t, _, c)| t.is_none() && c.is_none()));
    assert!(
        summary.contains("group_tags_read=0 group_tags_failed=0"),
        "{summary}"
    );

    // DuckDB reads the tags as the Glue table declares them (strings; an
    // absent tag is null), and Parquet keeps one row per line.
    let ndjson = dir.join("lines.json");
    let (lines, _) = transform(
        &file,
        &[
            ("LOG_GROUP_TAGS", TAGS),
            ("AWS_ENDPOINT_URL", &moto.endpoint),
        ],
    );
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&ndjson, text).unwrap();
    let parquet = dir.join("lines.parquet");
    let read = format!(
        "read_json('{}', format = 'newline_delimited', columns = {{log_group: 'VARCHAR', \
         team: 'VARCHAR', env: 'VARCHAR', cost_center: 'VARCHAR'}})",
        ndjson.display()
    );
    assert_eq!(
        duckdb(&[format!(
            "select log_group, typeof(team), count(team), count(env), count(cost_center), count(*) \
             from {read} group by all order by log_group"
        )]),
        "[('/app/bare', 'VARCHAR', 0, 0, 0, 2), ('/app/pay', 'VARCHAR', 4, 0, 4, 4)]"
    );
    assert_eq!(
        duckdb(&[
            format!(
                "copy (select * from {read}) to '{}' (format parquet)",
                parquet.display()
            ),
            format!(
                "select count(*), count(team) from read_parquet('{}')",
                parquet.display()
            ),
        ]),
        "[(6, 4)]"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cargo lambda invoke` of `event`: the lines of the response, whose
/// every record is Ok.
fn lambda_lines(watch: &Watch, event: &Path) -> Vec<Value> {
    let out = lambda_invoke(watch, event);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_contract(&std::fs::read(event).unwrap(), &out.stdout)
        .into_iter()
        .inspect(|e| assert_eq!(e.result, "Ok", "{e:?}"))
        .flat_map(|e| e.lines)
        .collect()
}

/// The warm function holds the tags it read for the TTL: a tag changed
/// after the first invocation shows only once the TTL is over (here, with a
/// TTL of 0, at once).
#[test]
fn the_lambda_holds_the_tags_for_the_ttl() {
    let moto = moto();
    let dir = temp_dir("group-tags-lambda");
    let file = event_file(&dir, &["/app/pay", "/app/bare"]);
    let mut env = AWS_ENV.to_vec();
    env.extend([
        ("LOG_GROUP_TAGS", TAGS),
        ("AWS_ENDPOINT_URL", &moto.endpoint),
    ]);
    let held = start_watch(&env);
    env.push(("LOG_GROUP_TAGS_TTL_SECONDS", "0"));
    let fresh = start_watch(&env);
    warm_up(&held);
    warm_up(&fresh);

    let expected = [pay("payments"), pay("payments"), bare(), bare()];
    assert_eq!(tags_of(&lambda_lines(&held, &file)), expected);
    assert_eq!(tags_of(&lambda_lines(&fresh, &file)), expected);
    moto_logs(&moto, &["tag", "/app/pay", "team=risk"]);
    assert_eq!(tags_of(&lambda_lines(&held, &file)), expected);
    assert_eq!(
        tags_of(&lambda_lines(&fresh, &file)),
        [pay("risk"), pay("risk"), bare(), bare()]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The core alone: the tags the adapter stored are in the lines of their
/// group's records (none in the lines of a group not stored, which is
/// noted), and a merged key that takes a tag field's name is renamed
/// whether or not the group has that tag.
#[test]
fn the_core_writes_the_tags_it_holds_and_notes_the_groups_without() {
    use cwl_firehose::adapters::settings::Settings;
    use cwl_firehose::{FirehoseEvent, Transformer};
    let settings = Settings::from_lookup(|k| match k {
        "LOG_GROUP_TAGS" => Some(TAGS.to_string()),
        "MERGE_JSON_MESSAGE" => Some("true".to_string()),
        _ => None,
    })
    .unwrap();
    let docs = [
        Doc::new().group("/app/pay").messages([r#"{"team":"x"}"#]),
        Doc::new().group("/app/bare").messages([r#"{"team":"y"}"#]),
    ];
    let event = event_of(&docs);
    let parsed = FirehoseEvent::parse(&event).unwrap();
    let mut transformer = Transformer::new(settings.core);
    let tags = transformer.group_tags_mut().unwrap();
    let tagged = [("team", "payments"), ("CostCenter", "c-1")];
    tags.insert(OWNER, "/app/pay", tagged, std::time::Instant::now());
    let response = transformer.process(&parsed, None).finish();
    let lines: Vec<Value> = check_contract(&event, &response.bytes)
        .into_iter()
        .flat_map(|e| e.lines)
        .collect();
    assert_eq!(tags_of(&lines), [pay("payments"), bare()]);
    assert_eq!(lines[0]["msg_team"], "x");
    assert_eq!(lines[1]["msg_team"], "y");
    let missing = transformer.group_tags_mut().unwrap().take_missing();
    assert_eq!(missing, [(OWNER.to_string(), "/app/bare".to_string())]);
}
