//! Shared by the integration tests: fixtures, building events, and the
//! Firehose contract check every response must pass.
#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cwl_firehose::{Config, FirehoseEvent, Summary, Transformer};
use serde_json::Value;
use std::path::{Path, PathBuf};

mod document;
#[allow(unused_imports, reason = "each test file uses its own part of it")]
pub use document::{Doc, OWNER, T0};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> Vec<u8> {
    let path = root().join("fixtures").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn gz(bytes: &[u8]) -> Vec<u8> {
    cwl_firehose::gzip(bytes)
}

/// A Firehose event with these (recordId, data) records.
pub fn event(records: &[(&str, &str)]) -> Vec<u8> {
    let records: Vec<Value> = records
        .iter()
        .map(|(id, data)| serde_json::json!({"recordId": id, "approximateArrivalTimestamp": 1764300000000u64, "data": data}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "invocationId": "test",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/test",
        "region": "us-east-1",
        "records": records,
    }))
    .unwrap()
}

/// A [`Doc`] with these (timestamp, message) events.
pub fn document(events: &[(i64, &str)]) -> Vec<u8> {
    events
        .iter()
        .fold(Doc::new(), |doc, (ts, message)| doc.event(*ts, message))
        .bytes()
}

/// The fixture events' names (`fixtures/events/NAME.json`), sorted.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("fixtures/events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    assert!(names.len() >= 6, "fixtures are missing: {names:?}");
    names
}

/// Every gzip member of `bytes`, inflated: a reference decoder independent
/// of the crate's, for bytes a test made or the crate wrote.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    #[allow(
        clippy::disallowed_methods,
        reason = "test bytes, bounded by what the test wrote"
    )]
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut out)
        .expect("gzip");
    out
}

/// The one zlib stream `bytes` holds, inflated (see [`gunzip`]).
pub fn unzlib(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    #[allow(
        clippy::disallowed_methods,
        reason = "test bytes, bounded by what the test wrote"
    )]
    std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(bytes), &mut out).expect("zlib");
    out
}

/// Runs the core on an event with no re-ingestion outcomes.
pub fn run(config: Config, event: &[u8]) -> (Vec<u8>, Summary) {
    let parsed = FirehoseEvent::parse(event).expect("a Firehose event");
    // Parts left pending: their records come back ProcessingFailed.
    let response = Transformer::new(config).process(&parsed, None).finish();
    (response.bytes, response.summary)
}

/// One response entry, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub record_id: String,
    pub result: String,
    /// The decoded lines of an Ok record, each parsed.
    pub lines: Vec<Value>,
    pub partition_keys: Option<Value>,
}

/// Checks a response against the Firehose contract for `event`: valid JSON,
/// every recordId exactly once and in input order, a valid result, base64
/// `data` on Ok records only, every line newline-terminated JSON.
pub fn check_contract(event: &[u8], response: &[u8]) -> Vec<Entry> {
    let event: Value = serde_json::from_slice(event).unwrap();
    let response: Value = serde_json::from_slice(response).expect("the response is JSON");
    let ids: Vec<&str> = event["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["recordId"].as_str().unwrap())
        .collect();
    let entries = response["records"].as_array().expect("records array");
    assert_eq!(entries.len(), ids.len(), "one entry per input record");
    let mut out = Vec::new();
    for (entry, id) in entries.iter().zip(ids) {
        assert_eq!(entry["recordId"], id, "recordIds in input order");
        let result = entry["result"].as_str().unwrap();
        assert!(
            ["Ok", "Dropped", "ProcessingFailed"].contains(&result),
            "result {result}"
        );
        let mut lines = Vec::new();
        if result == "Ok" {
            let data = STANDARD
                .decode(entry["data"].as_str().expect("Ok has data"))
                .expect("base64 data");
            assert!(
                data.ends_with(b"\n"),
                "the record's last line ends in a newline"
            );
            let text = String::from_utf8(data).expect("UTF-8 lines");
            for line in text.split_terminator('\n') {
                lines.push(
                    serde_json::from_str(line)
                        .unwrap_or_else(|e| panic!("line is not JSON ({e}): {line}")),
                );
            }
        } else {
            assert!(entry.get("data").is_none(), "no data on {result}");
        }
        out.push(Entry {
            record_id: id.to_string(),
            result: result.to_string(),
            lines,
            partition_keys: entry.get("metadata").map(|m| m["partitionKeys"].clone()),
        });
    }
    out
}

/// The expected line objects for a CloudWatch Logs document (independent of
/// the crate's writer: built from the parsed document with serde_json).
pub fn expected_lines(doc: &[u8]) -> Vec<Value> {
    let doc: Value = serde_json::from_slice(doc).unwrap();
    doc["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut line = serde_json::json!({
                "timestamp": e["timestamp"], "id": e["id"], "message": e["message"],
                "log_group": doc["logGroup"], "log_stream": doc["logStream"], "owner": doc["owner"],
            });
            if let Some(f) = e.get("extractedFields") {
                line["extracted_fields"] = f.clone();
            }
            line
        })
        .collect()
}

/// A tool installed by tests/run.sh into the test virtualenv.
pub fn venv_tool(name: &str) -> PathBuf {
    let venv = std::env::var_os("VENV_TEST")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv"));
    let path = venv.join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `bash tests/run.sh` once (it installs the pinned test tools into .venv)",
        path.display()
    );
    path
}

/// A free TCP port on 127.0.0.1, for a server that cannot bind port 0 itself.
/// Another process may take it before the server binds it: start such servers
/// with [`spawn_listening`], which tries again on a fresh port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the server `command(port)` builds on a free port and waits until it
/// listens. If it exits first (the port was taken between choosing and
/// binding it), tries again on a fresh port, up to five times.
pub fn spawn_listening(
    what: &str,
    mut command: impl FnMut(u16) -> std::process::Command,
) -> (KillOnDrop, u16) {
    for _ in 0..5 {
        let port = free_port();
        let child = command(port)
            .spawn()
            .unwrap_or_else(|e| panic!("{what} starts: {e}"));
        let mut child = KillOnDrop(child);
        if wait_for_port(&mut child.0, port, what) {
            return (child, port);
        }
    }
    panic!("{what} exited before listening, five times on five ports");
}

/// Waits until `child` (or a process it started) listens on 127.0.0.1:port:
/// true once it does, false if it exits first. A listener of another process
/// on that port does not count.
fn wait_for_port(child: &mut std::process::Child, port: u16, what: &str) -> bool {
    for _ in 0..600 {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if listener_pid(port).is_some_and(|pid| descends_from(pid, child.id())) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{what} did not listen on 127.0.0.1:{port} within 60 s");
}

/// The process holding the listening socket on 127.0.0.1:port, from
/// /proc/net/tcp (the socket's inode) and /proc/*/fd (who holds it).
fn listener_pid(port: u16) -> Option<u32> {
    let local = format!("0100007F:{port:04X}");
    let tcp = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let inode = tcp.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // local_address, st (0A is LISTEN), inode
        (f.get(1) == Some(&local.as_str()) && f.get(3) == Some(&"0A")).then(|| f.get(9).copied())?
    })?;
    let socket = std::path::PathBuf::from(format!("socket:[{inode}]"));
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let fds = std::fs::read_dir(entry.path().join("fd")).ok()?;
            fds.flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == socket))
                .then_some(pid)
        })
}

/// Whether `pid` is `ancestor` or one of its descendants.
fn descends_from(mut pid: u32, ancestor: u32) -> bool {
    while pid > 1 {
        if pid == ancestor {
            return true;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
        else {
            return false;
        };
        pid = ppid;
    }
    false
}

/// moto's server on 127.0.0.1 (`tests/support/moto_server.py`), on a port it
/// bound itself, so no other test can take it in between. Stopped when
/// dropped; its request log is kept for failure messages ([`MotoServer::log_tail`]).
pub struct MotoServer {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    pub endpoint: String,
    log: PathBuf,
}

impl MotoServer {
    pub fn start() -> Self {
        use std::io::BufRead;
        let log = std::env::temp_dir().join(format!(
            "cwl-firehose-moto-{}-{:?}.log",
            std::process::id(),
            std::thread::current().id()
        ));
        let stderr = std::fs::File::create(&log).unwrap();
        let mut child = std::process::Command::new(venv_tool("python"))
            .arg(root().join("tests/support/moto_server.py"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("moto_server.py starts");
        let stdin = child.stdin.take();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse::<u16>().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "moto_server.py said {line:?}; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        MotoServer {
            child,
            stdin,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The last lines moto logged, for a failing test's message.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The last 20 lines of a log file, for a failing test's message.
pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Kills a child process when dropped, so a failing test leaves no server behind.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `cargo lambda watch` serving the Lambda binary on 127.0.0.1 (the real
/// runtime API), stopped when dropped.
pub struct Watch {
    _child: KillOnDrop,
    pub port: u16,
    /// The binary served.
    pub bin: &'static str,
}

/// PATH with the test virtualenv's `cargo-lambda` first.
pub fn cargo_lambda_path() -> String {
    let cargo_lambda = venv_tool("cargo-lambda");
    format!(
        "{}:{}",
        cargo_lambda.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Starts `cargo lambda watch` for `cwl-firehose-lambda` with these extra
/// environment variables for the function.
pub fn start_watch(env: &[(&str, &str)]) -> Watch {
    start_watch_of("cwl-firehose-lambda", env)
}

/// Starts `cargo lambda watch` for the Lambda binary `bin`.
pub fn start_watch_of(bin: &'static str, env: &[(&str, &str)]) -> Watch {
    let (child, port) = spawn_listening("cargo lambda watch", |port| {
        let mut cmd = std::process::Command::new("cargo");
        cmd.args([
            "lambda",
            "watch",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
        ])
        .args(["--ignore-changes", "--bin", bin])
        .current_dir(root())
        .env("PATH", cargo_lambda_path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    });
    Watch {
        _child: child,
        port,
        bin,
    }
}

/// `cargo lambda invoke` of the watched function with this event file.
pub fn lambda_invoke(watch: &Watch, data_file: &Path) -> std::process::Output {
    std::process::Command::new("cargo")
        .args([
            "lambda",
            "invoke",
            watch.bin,
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &watch.port.to_string(),
            "--output-format",
            "json",
            "--data-file",
        ])
        .arg(data_file)
        .current_dir(root())
        .env("PATH", cargo_lambda_path())
        .output()
        .expect("cargo lambda invoke runs")
}

/// The first invocation starts the function, and builds it if `cargo test`
/// has not: a few bounded tries, so a slow build does not fail the test.
pub fn warm_up(watch: &Watch) {
    let event = root().join("fixtures/events/data-message.json");
    let mut last = String::new();
    for _ in 0..5 {
        let out = lambda_invoke(watch, &event);
        if out.status.success() {
            return;
        }
        last = String::from_utf8_lossy(&out.stderr).to_string();
    }
    panic!("the function never answered under cargo lambda watch: {last}");
}

/// A fresh directory under the system temp dir for this test process.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cwl-firehose-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `tests/support/fault_proxy.py` with the moto server it starts behind it
/// (both on 127.0.0.1). It stops by itself when this is dropped (its stdin
/// closes) or after its lifetime; kill is the backstop.
pub struct FaultProxy {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    /// The proxy's port: point AWS_ENDPOINT_URL here.
    pub port: u16,
    /// moto itself, for setting up and reading back (no faults).
    pub moto: String,
}

impl FaultProxy {
    pub fn start() -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(venv_tool("python"))
            .arg(root().join("tests/support/fault_proxy.py"))
            .args(["--lifetime", "600"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("fault_proxy.py starts");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words.first(), Some(&"READY"), "fault proxy said {line:?}");
        FaultProxy {
            port: words[1].parse().unwrap(),
            moto: format!("http://127.0.0.1:{}", words[2]),
            child,
            stdin: Some(stdin),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One request to the proxy's control endpoint (`/__faults/...`); its JSON answer.
    pub fn control(&self, method: &str, path: &str, body: &Value) -> Value {
        use std::io::{Read, Write};
        let body = body.to_string();
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        #[allow(
            clippy::disallowed_methods,
            reason = "the test's own proxy on 127.0.0.1 answers a few hundred bytes"
        )]
        s.read_to_string(&mut answer).unwrap();
        let (_, json) = answer.split_once("\r\n\r\n").unwrap();
        serde_json::from_str(json).unwrap()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Closing stdin makes it stop moto and exit; give it 10 s to.
        drop(self.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/support/firehose_sim.py ARGS` (Firehose's part around the real
/// function, and its helpers): the JSON it prints.
pub fn firehose_sim(args: &[&str]) -> Value {
    support_script("firehose_sim.py", args)
}

/// `python tests/support/SCRIPT ARGS` in the test virtualenv, which must
/// succeed: the JSON it prints.
pub fn support_script(script: &str, args: &[&str]) -> Value {
    let out = std::process::Command::new(venv_tool("python"))
        .arg(root().join("tests/support").join(script))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} {args:?}: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs `statements` in one DuckDB connection (the pinned Python package);
/// the last one's rows, as Python prints them.
pub fn duckdb(statements: &[String]) -> String {
    let out = std::process::Command::new(venv_tool("python"))
        .args([
            "-c",
            "import duckdb, sys\nc = duckdb.connect()\nfor s in sys.argv[1:-1]: c.execute(s)\nprint(c.execute(sys.argv[-1]).fetchall())",
        ])
        .args(statements)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `cwl-firehose transform --lines` on `event` (written to a temporary file) with the
/// variables `env` set: what a local run with those settings prints.
pub fn transform_lines_with_env(event: &[u8], env: &[(&str, &str)]) -> std::process::Output {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!(
        "cwl-firehose-transform-{}-{n}.json",
        std::process::id()
    ));
    std::fs::write(&file, event).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args(["transform", "--lines"])
        .arg(&file)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    out
}
