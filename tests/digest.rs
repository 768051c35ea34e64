//! Signed digests against moto's S3 (versioned, and with Object Lock) and
//! KMS (ECC_NIST_P256 sign, get-public-key) on 127.0.0.1, through the CLI:
//! `cwl-firehose digest` builds a chain over delivered objects, `verify`
//! accepts it, and each way of tampering with an object or a digest makes
//! `verify` fail naming the key.
mod common;

use common::*;
use std::path::PathBuf;
use std::process::{Command, Output};

const BUCKET: &str = "audit-logs";
/// Late-arrival allowance for the tests: above the whole seconds S3 lists
/// `LastModified` in, far below the hour of a real stack.
const LATE: &str = "2";

struct Archive {
    moto: MotoServer,
    key_id: String,
    public_pem: String,
    dir: PathBuf,
}

impl Archive {
    fn start(lock: bool) -> Self {
        let moto = MotoServer::start();
        let dir = std::env::temp_dir().join(format!(
            "cwl-firehose-digest-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut args = vec!["setup", BUCKET];
        if lock {
            args.push("lock");
        }
        let mut a = Archive {
            moto,
            key_id: String::new(),
            public_pem: String::new(),
            dir,
        };
        let setup: serde_json::Value = serde_json::from_slice(&a.client(&args)).unwrap();
        a.key_id = setup["key_id"].as_str().unwrap().to_string();
        a.public_pem = setup["public_pem"].as_str().unwrap().to_string();
        a
    }

    fn client(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new(venv_tool("python"))
            .arg(root().join("tests/support/digest_client.py"))
            .arg(&self.moto.endpoint)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "digest_client {args:?}: {}\nmoto's log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.moto.log_tail()
        );
        out.stdout
    }

    /// Delivers an object the way Firehose does: gzip of NDJSON lines.
    fn deliver(&self, key: &str, lines: &str) {
        let file = self.dir.join("object");
        std::fs::write(&file, gz(lines.as_bytes())).unwrap();
        self.client(&["put", BUCKET, key, path_str(&file)]);
    }

    fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
            .args(args)
            .env("AWS_ENDPOINT_URL", &self.moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .env_remove("DIGEST_BUCKET")
            .env_remove("DIGEST_KEY_ID")
            .env_remove("DIGEST_PREFIX")
            .env_remove("DIGEST_LATE_ARRIVAL_SECONDS")
            .output()
            .unwrap()
    }

    /// Writes the next digest; its key.
    fn digest(&self) -> String {
        let out = self.cli(&[
            "digest",
            "--bucket",
            BUCKET,
            "--key-id",
            &self.key_id,
            "--late-arrival-seconds",
            LATE,
        ]);
        assert!(
            out.status.success(),
            "digest: {}\nmoto's log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.moto.log_tail()
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// `verify` with the key from KMS: (success, findings on stdout, stderr).
    fn verify(&self, extra: &[&str]) -> (bool, String, String) {
        let mut args = vec!["verify", "--bucket", BUCKET, "--key-id", &self.key_id];
        args.extend_from_slice(extra);
        let out = self.cli(&args);
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn digest_document(&self, key: &str) -> serde_json::Value {
        let got: serde_json::Value =
            serde_json::from_slice(&self.client(&["get", BUCKET, key])).unwrap();
        let mut doc: serde_json::Value =
            serde_json::from_str(got["body"].as_str().unwrap()).unwrap();
        doc["_metadata"] = got["metadata"].clone();
        doc["_lock_mode"] = got["lock_mode"].clone();
        doc
    }
}

impl Drop for Archive {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const DATA_1: &str = "logs/2026/12/07/01/cwl-firehose-1-2026-12-07-01-10-00-a1.gz";
const DATA_2: &str = "logs/2026/12/07/01/cwl-firehose-1-2026-12-07-01-25-00-b2.gz";
const DATA_3: &str = "logs/2026/12/07/02/cwl-firehose-1-2026-12-07-02-05-00-c3.gz";
const FAILED: &str =
    "processing-failed/processing-failed/2026/12/07/02/cwl-firehose-1-2026-12-07-02-06-00-d4";

fn line(id: u32) -> String {
    format!("{{\"timestamp\":1765072800{id:03},\"id\":\"{id:056}\",\"message\":\"request {id}\",\"log_group\":\"/ecs/api\",\"log_stream\":\"api/1\",\"owner\":\"123456789012\"}}\n")
}

/// Three digests: two objects, then one more and a processing-failed/
/// object, then nothing new. Returns the archive and the digest keys.
fn chain(lock: bool) -> (Archive, Vec<String>) {
    let a = Archive::start(lock);
    a.deliver(DATA_1, &(line(1) + &line(2)));
    a.deliver(DATA_2, &line(3));
    let d1 = a.digest();
    a.deliver(DATA_3, &line(4));
    let failed = a.dir.join("failed");
    std::fs::write(&failed, "{\"attemptsMade\":4,\"arrivalTimestamp\":1765072800000,\"errorCode\":\"Lambda.FunctionError\",\"errorMessage\":\"The Lambda function was successfully invoked but it returned an error result.\",\"attemptEndingTimestamp\":1765073100000,\"rawData\":\"H4sIAAAAAAAA/wMAAAAAAAAAAAA=\",\"lambdaArn\":\"arn:aws:lambda:us-east-1:123456789012:function:f\"}\n").unwrap();
    a.client(&["put", BUCKET, FAILED, path_str(&failed)]);
    let d2 = a.digest();
    let d3 = a.digest();
    (a, vec![d1, d2, d3])
}

#[test]
fn a_chain_over_delivered_objects_verifies() {
    let (a, keys) = chain(false);
    assert_eq!(
        keys,
        [
            "digests/00000000000000000001.json",
            "digests/00000000000000000002.json",
            "digests/00000000000000000003.json"
        ]
    );
    let listed = |k: &str| -> Vec<String> {
        a.digest_document(k)["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(listed(&keys[0]), [DATA_1, DATA_2]);
    // The late-arrival margin re-lists nothing the first digest holds.
    assert_eq!(listed(&keys[1]), [DATA_3, FAILED]);
    // Nothing new: a digest all the same, so a gap would show.
    assert!(listed(&keys[2]).is_empty());
    let d2 = a.digest_document(&keys[1]);
    assert_eq!(d2["previous"]["key"], keys[0].as_str());
    assert_eq!(d2["sequence"], 2);
    assert_eq!(d2["signing_algorithm"], "ECDSA_SHA_256");
    assert!(d2["_metadata"]["signature"].as_str().unwrap().len() > 100);
    let first = &d2["objects"][0];
    assert_eq!(
        first["sha256"].as_str().unwrap().len(),
        64,
        "hex SHA-256: {first}"
    );

    let (ok, findings, stderr) = a.verify(&[]);
    assert!(ok, "verify failed:\n{findings}\n{stderr}");
    assert_eq!(findings, "");
    assert!(stderr.contains("3 digests, 4 objects checked"), "{stderr}");

    // An auditor with only the public key (no KMS call at all).
    let pem = a.dir.join("public.pem");
    std::fs::write(&pem, &a.public_pem).unwrap();
    let out = a.cli(&["verify", "--bucket", BUCKET, "--public-key", path_str(&pem)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Another key's public half: every digest is refused.
    let other = Archive::start(false);
    std::fs::write(&pem, &other.public_pem).unwrap();
    let out = a.cli(&["verify", "--bucket", BUCKET, "--public-key", path_str(&pem)]);
    assert!(!out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout
            .matches("does not verify with the trusted key")
            .count(),
        3,
        "{stdout}"
    );
}

/// verify's findings on a fresh chain after `digest_client.py COMMAND` on
/// the key `pick` chooses among the digest keys (verify must fail), and
/// those keys.
fn tampered(command: &str, pick: fn(&[String]) -> String) -> (String, Vec<String>) {
    let (a, keys) = chain(false);
    a.client(&[command, BUCKET, &pick(&keys)]);
    let (ok, findings, _) = a.verify(&[]);
    assert!(!ok, "verify passed after {command}");
    (findings, keys)
}

#[test]
fn a_changed_object_is_named() {
    let (findings, keys) = tampered("flip", |_| DATA_2.to_string());
    assert!(
        findings.starts_with(&format!("object changed: {DATA_2} (version ")),
        "{findings}"
    );
    assert!(
        findings.contains(&format!("listed in {}", keys[0])),
        "{findings}"
    );
    assert_eq!(findings.lines().count(), 1, "{findings}");
}

#[test]
fn a_deleted_object_is_named() {
    let (findings, keys) = tampered("delete", |_| FAILED.to_string());
    assert!(
        findings.starts_with(&format!("object deleted: {FAILED} (version ")),
        "{findings}"
    );
    assert!(findings.contains(&keys[1]), "{findings}");
    assert_eq!(findings.lines().count(), 1, "{findings}");
}

#[test]
fn an_object_added_outside_the_chain_is_named() {
    let a = Archive::start(false);
    // An object hidden (delete marker) before any digest, restored after:
    // current again with its old LastModified, which no digest lists.
    let hidden = "logs/2026/12/07/00/cwl-firehose-1-2026-12-07-00-59-00-e5.gz";
    a.deliver(hidden, &line(9));
    a.client(&["delete", BUCKET, hidden]);
    a.deliver(DATA_1, &line(1));
    std::thread::sleep(std::time::Duration::from_millis(3_100));
    a.digest();
    a.digest();
    assert!(a.verify(&[]).0);
    a.client(&["restore", BUCKET, hidden]);
    let (ok, findings, _) = a.verify(&[]);
    assert!(!ok);
    assert!(
        findings.starts_with(&format!(
            "object added outside the chain: {hidden} (version "
        )),
        "{findings}"
    );
    assert_eq!(findings.lines().count(), 1, "{findings}");
}

#[test]
fn an_edited_digest_is_named() {
    let (findings, keys) = tampered("edit", |k| k[0].clone());
    assert!(
        findings.starts_with(&format!("digest changed: {}: ", keys[0])),
        "{findings}"
    );
}

#[test]
fn a_deleted_digest_is_named() {
    // In the middle of the chain: a gap in the sequence.
    let (findings, keys) = tampered("delete", |k| k[1].clone());
    assert!(
        findings.starts_with(&format!("digest missing: {}: ", keys[1])),
        "{findings}"
    );
    // The first: the oldest left names a previous digest that is gone.
    let (findings, keys) = tampered("delete", |k| k[0].clone());
    assert!(
        findings.starts_with(&format!("digest missing: {}: ", keys[0])),
        "{findings}"
    );
}

#[test]
fn digests_carry_the_buckets_object_lock_and_a_time_range_verifies_alone() {
    let (a, keys) = chain(true);
    let d = a.digest_document(&keys[0]);
    assert_eq!(d["_lock_mode"], "GOVERNANCE", "{d}");
    assert!(a.verify(&[]).0);
    // From the second digest on: the first is only the anchor of the links.
    let mut since = Vec::new();
    cwl_firehose::internals::push_iso8601(&mut since, d["listed_at_ms"].as_i64().unwrap() + 1);
    let since = String::from_utf8(since).unwrap();
    let (ok, findings, stderr) = a.verify(&["--since", &since]);
    assert!(ok, "{findings}{stderr}");
    assert!(stderr.contains("3 digests, 2 objects checked"), "{stderr}");
}

/// The scheduled function under the real runtime (`cargo lambda watch`):
/// each invocation writes the next digest and verifies the one before, and
/// says what it found.
#[test]
fn the_scheduled_function_digests_then_verifies_the_digest_before() {
    let a = Archive::start(false);
    a.deliver(DATA_1, &line(1));
    a.deliver(DATA_2, &line(2));
    let watch = start_watch_of(
        "cwl-firehose-digest-lambda",
        &[
            ("AWS_ENDPOINT_URL", a.moto.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("DIGEST_BUCKET", BUCKET),
            ("DIGEST_KEY_ID", a.key_id.as_str()),
            ("DIGEST_LATE_ARRIVAL_SECONDS", LATE),
        ],
    );
    let event = a.dir.join("scheduled.json");
    std::fs::write(&event, r#"{"version":"0","id":"e","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-12-07T03:00:00Z","region":"us-east-1","resources":[],"detail":{}}"#).unwrap();
    let run = || -> serde_json::Value {
        // The first invocation also builds the function: a few bounded tries.
        let mut last = String::new();
        for _ in 0..5 {
            let out = lambda_invoke(&watch, &event);
            if out.status.success() {
                return serde_json::from_slice(&out.stdout).expect("a JSON answer");
            }
            last = String::from_utf8_lossy(&out.stderr).to_string();
        }
        panic!(
            "the digest function never answered: {last}\nmoto's log:\n{}",
            a.moto.log_tail()
        );
    };
    let first = run();
    assert_eq!(
        first["digest"], "digests/00000000000000000001.json",
        "{first}"
    );
    assert_eq!(first["written"], true);
    assert_eq!(first["objects"], 2);
    assert_eq!(first["findings"], serde_json::json!([]));
    // A change to an object of the digest before is found by the next run.
    a.client(&["flip", BUCKET, DATA_1]);
    let second = run();
    assert_eq!(
        second["digest"], "digests/00000000000000000002.json",
        "{second}"
    );
    // The new version is an object like any other: it is listed.
    assert_eq!(second["objects"], 1);
    let findings = second["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{second}");
    assert!(
        findings[0]
            .as_str()
            .unwrap()
            .starts_with(&format!("object changed: {DATA_1} (version ")),
        "{second}"
    );
    // Nothing new, nothing wrong in the digest before: a digest all the same.
    let third = run();
    assert_eq!(
        third["digest"], "digests/00000000000000000003.json",
        "{third}"
    );
    assert_eq!(third["objects"], 0);
    assert_eq!(third["findings"], serde_json::json!([]));
    // What the CLI sees is the same chain.
    let (ok, stdout, _) = a.verify(&[]);
    assert!(!ok);
    assert!(stdout.contains(DATA_1), "{stdout}");
}
