//! Memory as a test: the CLI (the Lambda's code path, on files) runs as a
//! child on the largest realistic event and on bombs, and its peak RSS, read
//! with `wait4` (by a small Python process that forks it), must stay within
//! what the README promises: 128 MiB, the smallest Lambda memory size.
//!
//! Uses the CLI cargo builds with the test (`cargo test --release --test
//! memory` for the release build), or the binary `CWL_FIREHOSE_BIN` names.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cwl_firehose::gzip;
use cwl_firehose::limits::{DEFAULT_INFLATE_CAP, MAX_FAILED_OBJECT};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Stdio};

mod common;

use common::{Doc, T0};

const LIMIT: u64 = 128 << 20;

fn cli() -> PathBuf {
    std::env::var_os("CWL_FIREHOSE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_cwl-firehose")))
}

/// Runs `cwl-firehose transform --no-budget EVENT`; returns peak RSS in
/// bytes and the response.
fn run(name: &str, event: Vec<u8>) -> (u64, Value) {
    run_with(name, event, &[])
}

/// [`run`] with these environment variables set.
fn run_with(name: &str, event: Vec<u8>, vars: &[(&str, &str)]) -> (u64, Value) {
    let run = measure(name, event, &["transform", "--no-budget"], vars);
    assert_eq!(run.code, 0, "cwl-firehose transform {name}: {}", run.stderr);
    let response = serde_json::from_slice(&run.stdout).unwrap();
    (run.rss, response)
}

/// What one measured run of the CLI gave.
struct Measured {
    /// Peak RSS in bytes.
    rss: u64,
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `cwl-firehose ARGS INPUT` (`input` written to a file first) as a
/// child, with these environment variables set, and measures it.
fn measure(name: &str, input: Vec<u8>, args: &[&str], vars: &[(&str, &str)]) -> Measured {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let input_file = dir.join(format!("memory-{name}.in"));
    let output = dir.join(format!("memory-{name}.out"));
    let errors = dir.join(format!("memory-{name}.err"));
    std::fs::write(&input_file, &input).unwrap();
    drop(input);
    // Linux carries a parent's RSS (its high-water mark, with posix_spawn)
    // into the child's ru_maxrss, and this test process holds megabytes. A
    // small Python process forks the CLI and reads its rusage with wait4, so
    // the figure starts from Python's few MiB, not from ours.
    const MEASURE: &str = "import os, sys
pid = os.fork()
if pid == 0:
    for fd, path in ((1, sys.argv[1]), (2, sys.argv[2])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
    os.execv(sys.argv[3], sys.argv[3:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
";
    let mut cmd = Command::new("python3");
    cmd.args(["-c", MEASURE])
        .arg(&output)
        .arg(&errors)
        .arg(cli())
        .args(args)
        .arg(&input_file)
        .stdin(Stdio::null());
    for (var, _) in cwl_firehose::adapters::settings::VARIABLES {
        cmd.env_remove(var);
    }
    cmd.envs(vars.iter().copied());
    let measured = cmd.output().unwrap();
    assert!(measured.status.success(), "python3 measuring {name}");
    let measured = String::from_utf8(measured.stdout).unwrap();
    let (maxrss_kib, code) = measured.trim().split_once(' ').unwrap();
    Measured {
        // ru_maxrss is in KiB on Linux.
        rss: maxrss_kib.parse::<u64>().unwrap() * 1024,
        code: code.parse().unwrap(),
        stdout: std::fs::read(&output).unwrap(),
        stderr: std::fs::read_to_string(&errors).unwrap(),
    }
}

/// One measurement at a time, so no other test holds memory at the fork.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// gzip of `{` and `len` spaces, streamed: never `len` bytes in memory.
fn gzip_bomb(len: usize) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(b"{").unwrap();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..len / chunk.len() {
        enc.write_all(&chunk).unwrap();
    }
    enc.finish().unwrap()
}

/// A deterministic log line generator: words, numbers and ids, compressing
/// about as real application logs do.
struct Lines(u64);
impl Lines {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn line(&mut self, out: &mut String) {
        const WORDS: [&str; 16] = [
            "GET",
            "POST",
            "/api/v1/orders",
            "/health",
            "user",
            "session",
            "INFO",
            "WARN",
            "ERROR",
            "latency_ms",
            "status",
            "request_id",
            "cache",
            "miss",
            "hit",
            "retry",
        ];
        let n = 6 + self.next() % 20;
        for _ in 0..n {
            match self.next() % 4 {
                0 => out.push_str(&format!("{:x}", self.next())),
                1 => out.push_str(&(self.next() % 100_000).to_string()),
                _ => out.push_str(WORDS[(self.next() % 16) as usize]),
            }
            out.push(' ');
        }
    }
}

fn event(records: &[Vec<u8>]) -> Vec<u8> {
    let records: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, data)| json!({"recordId": format!("{i:056}"), "approximateArrivalTimestamp": 1764300000000u64, "data": STANDARD.encode(data)}))
        .collect();
    serde_json::to_vec(&json!({
        "invocationId": "memory",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/memory",
        "records": records,
    }))
    .unwrap()
}

/// A full CloudWatch Logs batch: up to 1,048,576 bytes (messages + 26 per
/// event) and 10,000 events.
fn full_document(gen: &mut Lines, seq: &mut u64) -> Vec<u8> {
    let mut doc = Doc::new()
        .group("/ecs/orders-api")
        .stream("orders-api/web/0123456789abcdef");
    let mut bytes = 0;
    while doc.event_count() < 10_000 {
        let mut m = String::new();
        gen.line(&mut m);
        if bytes + m.len() + 26 > 1_048_576 {
            break;
        }
        bytes += m.len() + 26;
        *seq += 1;
        doc = doc.event_with_id(&format!("{:056}", *seq), T0 + *seq as i64, &m);
    }
    doc.bytes()
}

#[test]
fn max_size_event_stays_under_128_mib() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Full CloudWatch Logs batches until the request is at Lambda's 6 MB.
    let mut gen = Lines(8);
    let mut seq = 0;
    let mut records = Vec::new();
    let mut request = 0;
    let mut inflated = 0;
    loop {
        let doc = full_document(&mut gen, &mut seq);
        let gz = gzip(&doc);
        let size = base64::encoded_len(gz.len(), true).unwrap() + 120;
        if request + size > 6_000_000 {
            break;
        }
        request += size;
        inflated += doc.len();
        records.push(gz);
    }
    let event = event(&records);
    let size = event.len();
    assert!(size > 5_500_000 && size <= 6_291_456, "{size}");
    let (rss, response) = run("max", event);
    eprintln!(
        "max-size event: {size} bytes, {} records, {inflated} bytes inflated: peak RSS {:.1} MiB",
        records.len(),
        rss as f64 / 1048576.0
    );
    let entries = response["records"].as_array().unwrap();
    assert_eq!(entries.len(), records.len());
    assert!(entries.iter().all(|e| e["result"] == "Ok"));
    assert!(rss <= LIMIT, "peak RSS {rss} > {LIMIT}");
}

#[test]
fn bomb_event_stays_under_128_mib() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A record that inflates past the inflate cap, between ordinary records.
    let bomb = gzip_bomb(DEFAULT_INFLATE_CAP * 2);
    let mut gen = Lines(9);
    let mut seq = 0;
    let ordinary = gzip(&full_document(&mut gen, &mut seq));
    let event = event(&[ordinary.clone(), bomb.clone(), ordinary, bomb]);
    let size = event.len();
    let (rss, response) = run("bomb", event);
    eprintln!(
        "bomb event: {size} bytes, two records inflating to 128 MiB each: peak RSS {:.1} MiB",
        rss as f64 / 1048576.0
    );
    let results: Vec<_> = response["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        results,
        ["Ok", "ProcessingFailed", "Ok", "ProcessingFailed"]
    );
    assert!(rss <= LIMIT, "peak RSS {rss} > {LIMIT}");
}

/// The worst record found for memory: empty events (39 bytes each) up to
/// just under the inflate cap, a record of a few hundred KB. Every event
/// becomes a line, so it is bounded only by the lines cap (twice the inflate
/// cap) and the bound on events: under 128 MiB at the 16 MiB default and
/// even at 64 MiB.
#[test]
fn crafted_record_just_under_the_cap() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for cap in [DEFAULT_INFLATE_CAP, 64usize << 20] {
        let record = {
            use std::io::Write;
            let event = br#"{"id":"","timestamp":0,"message":""},"#;
            let n = (cap - 200) / event.len();
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            enc.write_all(br#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":["#).unwrap();
            let chunk = event.repeat(10_000);
            for _ in 0..(n - 1) / 10_000 {
                enc.write_all(&chunk).unwrap();
            }
            enc.write_all(&event.repeat((n - 1) % 10_000)).unwrap();
            enc.write_all(br#"{"id":"","timestamp":0,"message":""}]}"#)
                .unwrap();
            enc.finish().unwrap()
        };
        let cap_var = cap.to_string();
        let (rss, response) = run_with("crafted", event(&[record]), &[("INFLATE_CAP", &cap_var)]);
        eprintln!(
            "crafted record at INFLATE_CAP={cap}: peak RSS {:.1} MiB",
            rss as f64 / 1048576.0
        );
        assert_eq!(response["records"][0]["result"], "ProcessingFailed");
        assert!(
            rss <= LIMIT,
            "peak RSS {rss} > {LIMIT} at INFLATE_CAP={cap}"
        );
        // Bounded by the cap, whatever the cap.
        assert!(rss <= 5 * cap as u64, "peak RSS {rss} > 5 x INFLATE_CAP");
    }
}

/// The same bound on the lab's benchmark events (`generate --size max|bomb
/// --seed 1`, seeded, so the figures are repeatable).
#[test]
fn generated_benchmark_events_stay_under_128_mib() {
    use cwl_firehose_lab::generate::{event, Size};
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for (size, kind) in [("max", Size::Max), ("bomb", Size::Bomb)] {
        let (rss, response) = run(&format!("generated-{size}"), event(kind, 1, None));
        eprintln!(
            "generate --size {size}: peak RSS {:.1} MiB",
            rss as f64 / 1048576.0
        );
        assert!(response["records"]
            .as_array()
            .is_some_and(|r| !r.is_empty()));
        assert!(
            rss <= LIMIT,
            "peak RSS {rss} > {LIMIT} on generate --size {size}"
        );
    }
}

/// `replay` reads a processing-failed object whole before its records, so a
/// gzip bomb of one (1 GiB of spaces in about 1 MB) is refused at
/// `MAX_FAILED_OBJECT`, saying so, and never inflated past it.
#[test]
fn replay_refuses_a_gzip_bomb_object_within_its_cap() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bomb = gzip_bomb(4 * MAX_FAILED_OBJECT);
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    let run = measure("replay-bomb", bomb, &["replay", "--lines"], &[]);
    eprintln!(
        "replay of a 1 GiB gzip bomb: peak RSS {:.1} MiB",
        run.rss as f64 / 1048576.0
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let refused = format!(
        "memory-replay-bomb.in: not a readable gzip file: inflated size exceeds the cap of {MAX_FAILED_OBJECT} bytes"
    );
    assert!(run.stderr.contains(&refused), "{}", run.stderr);
    let bound = (MAX_FAILED_OBJECT + (64 << 20)) as u64;
    assert!(run.rss <= bound, "peak RSS {} > {bound}", run.rss);
}
