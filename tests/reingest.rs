//! Response budget, splitting and re-ingestion against a real Firehose and
//! Kinesis API: moto's server on 127.0.0.1, started here, driven through the
//! real AWS SDK for Rust by the CLI (`AWS_ENDPOINT_URL`). What moto received
//! is read back and decoded, so every event is accounted for exactly once.
mod common;

use common::*;
use std::collections::BTreeMap;
use std::process::Command;

struct Moto {
    server: MotoServer,
    kinesis_arn: String,
}

fn start_moto() -> Moto {
    let server = MotoServer::start();
    let setup = moto_client(&server, "setup");
    let setup: serde_json::Value = serde_json::from_slice(&setup).unwrap();
    Moto {
        server,
        kinesis_arn: setup["kinesis_arn"].as_str().unwrap().to_string(),
    }
}

fn moto_client(moto: &MotoServer, command: &str) -> Vec<u8> {
    let out = Command::new(venv_tool("python"))
        .arg(root().join("tests/support/moto_client.py"))
        .args([&moto.endpoint, command])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "moto_client {command}: {}\nmoto's log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        moto.log_tail()
    );
    out.stdout
}

/// A document of `n` events with ids `first..first+n` and messages of about
/// `len` bytes that compress like real logs (a template plus varying fields).
fn doc(first: usize, n: usize, len: usize) -> Vec<u8> {
    let mut seed = first as u64 * 2_654_435_761 + 1;
    let mut doc = Doc::new().group("/app/big").stream("s");
    for id in first..first + n {
        let mut msg = String::with_capacity(len);
        while msg.len() < len {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            msg.push_str(&format!(
                "{{\"level\":\"info\",\"user\":{},\"latency_ms\":{},\"path\":\"/v1/items/{}\"}} ",
                seed >> 40,
                (seed >> 20) % 1000,
                (seed >> 8) % 100_000
            ));
        }
        msg.truncate(len);
        doc = doc.event_with_id(&format!("{id:056}"), T0 + id as i64, &msg);
    }
    doc.bytes()
}

/// A Firehose event of these documents (gzip, base64), optionally from a Kinesis source.
fn firehose_event(docs: &[Vec<u8>], kinesis_arn: Option<&str>) -> Vec<u8> {
    let records: Vec<serde_json::Value> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut r = serde_json::json!({"recordId": format!("r{i:04}"), "approximateArrivalTimestamp": 1, "data": b64(&gz(d))});
            if kinesis_arn.is_some() {
                r["kinesisRecordMetadata"] = serde_json::json!({"shardId": "shardId-000000000000", "partitionKey": format!("pk-{i}")});
            }
            r
        })
        .collect();
    let mut e = serde_json::json!({
        "invocationId": "i", "region": "us-east-1", "records": records,
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/logs",
    });
    if let Some(arn) = kinesis_arn {
        e["sourceKinesisStreamArn"] = serde_json::json!(arn);
    }
    serde_json::to_vec(&e).unwrap()
}

/// Runs `cwl-firehose transform` on `event` with re-ingestion pointed at `endpoint`.
fn transform(endpoint: &str, event: &[u8], args: &[&str]) -> (Vec<u8>, String) {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "cwl-firehose-reingest-{}-{call}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("event.json");
    std::fs::write(&file, event).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .arg("transform")
        .args(args)
        .arg(&file)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("RESPONSE_BUDGET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "transform failed: {stderr}");
    (out.stdout, stderr)
}

/// The documents in one PutRecordBatch call as moto stored it (records are
/// concatenated gzip members, each one document).
fn documents_in(object: &[u8]) -> Vec<serde_json::Value> {
    let plain = gunzip(object);
    serde_json::Deserializer::from_slice(&plain)
        .into_iter::<serde_json::Value>()
        .map(Result::unwrap)
        .collect()
}

fn s3_objects(moto: &Moto) -> Vec<Vec<u8>> {
    let list: Vec<String> =
        serde_json::from_slice(&moto_client(&moto.server, "s3-objects")).unwrap();
    list.iter()
        .map(|o| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, o).unwrap())
        .collect()
}

fn event_ids(doc: &serde_json::Value) -> Vec<String> {
    doc["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// Counts each event id across the response lines and the re-ingested documents.
fn count_ids(
    response_lines: &[Entry],
    reingested: &[serde_json::Value],
) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for line in response_lines.iter().flat_map(|e| &e.lines) {
        *seen
            .entry(line["id"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    for id in reingested.iter().flat_map(event_ids) {
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

#[test]
fn max_size_batch_stays_under_budget_and_loses_nothing() {
    let moto = start_moto();
    // ~6 MB of request whose output is several times the 6,000,000-byte budget.
    let mut docs = Vec::new();
    let mut next = 0;
    let mut request = 0;
    while request < 5_800_000 {
        let d = doc(next, 400, 300);
        next += 400;
        request += b64(&gz(&d)).len() + 80;
        docs.push(d);
    }
    let event = firehose_event(&docs, None);
    assert!(
        event.len() > 5_500_000 && event.len() <= 6_291_456,
        "request is {} bytes",
        event.len()
    );

    let (response, stderr) = transform(&moto.server.endpoint, &event, &[]);
    assert!(
        response.len() <= 6_000_000,
        "response is {} bytes",
        response.len()
    );
    let entries = check_contract(&event, &response);
    let dropped = entries.iter().filter(|e| e.result == "Dropped").count();
    assert!(dropped > 0, "the batch must overflow: {stderr}");
    assert!(
        entries.iter().all(|e| e.result != "ProcessingFailed"),
        "{stderr}"
    );

    let objects = s3_objects(&moto);
    let reingested: Vec<serde_json::Value> = objects.iter().flat_map(|o| documents_in(o)).collect();
    assert_eq!(
        reingested.len(),
        dropped,
        "one re-ingested document per dropped record (no split needed)"
    );
    let seen = count_ids(&entries, &reingested);
    assert_eq!(seen.len(), next, "every event delivered");
    assert!(seen.values().all(|&c| c == 1), "no event twice");
    for o in &objects {
        assert!(o.len() <= 4 << 20, "a PutRecordBatch call over 4 MiB");
    }
}

#[test]
fn a_record_far_over_the_budget_is_split_recursively() {
    let moto = start_moto();
    let big = doc(0, 3000, 400); // ~1.3 MB of lines
    let event = firehose_event(&[doc(10_000, 5, 50), big.clone()], None);
    let budget = 150_000;
    let (response, stderr) = transform(
        &moto.server.endpoint,
        &event,
        &["--budget", &budget.to_string()],
    );
    assert!(response.len() <= budget);
    let entries = check_contract(&event, &response);
    assert_eq!(entries[0].result, "Ok");
    assert_eq!(entries[1].result, "Dropped", "{stderr}");
    let reingested: Vec<serde_json::Value> = s3_objects(&moto)
        .iter()
        .flat_map(|o| documents_in(o))
        .collect();
    assert!(
        reingested.len() >= 10,
        "split into {} parts",
        reingested.len()
    );
    let seen = count_ids(&entries, &reingested);
    assert_eq!(seen.len(), 3005);
    assert!(seen.values().all(|&c| c == 1));

    // Each part, when it comes back, fits the budget on its own: transform it
    // alone with re-ingestion off and it is Ok.
    let parts: Vec<Vec<u8>> = reingested
        .iter()
        .map(|d| serde_json::to_vec(d).unwrap())
        .collect();
    for part in parts.chunks(1) {
        let e = firehose_event(part, None);
        let (r, _) = transform(
            "http://127.0.0.1:9",
            &e,
            &["--budget", &budget.to_string(), "--no-reingest"],
        );
        assert!(r.len() <= budget);
        assert_eq!(check_contract(&e, &r)[0].result, "Ok");
    }
    assert!(stderr.contains(" split=1 "), "{stderr}");
}

#[test]
fn a_single_event_over_the_limit_fails_and_is_not_reingested() {
    let moto = start_moto();
    let event = firehose_event(&[doc(0, 1, 200_000), doc(1, 3, 20)], None);
    let (response, stderr) = transform(&moto.server.endpoint, &event, &["--budget", "100000"]);
    let entries = check_contract(&event, &response);
    assert_eq!(entries[0].result, "ProcessingFailed");
    assert!(stderr.contains("a single log event needs"), "{stderr}");
    assert_eq!(entries[1].result, "Ok");
    assert!(s3_objects(&moto).is_empty(), "nothing re-ingested");
}

#[test]
fn kinesis_source_gets_put_records_with_original_partition_keys() {
    let moto = start_moto();
    let docs: Vec<Vec<u8>> = (0..6).map(|i| doc(i * 100, 100, 200)).collect();
    let event = firehose_event(&docs, Some(&moto.kinesis_arn));
    let (response, stderr) = transform(&moto.server.endpoint, &event, &["--budget", "60000"]);
    let entries = check_contract(&event, &response);
    let records: Vec<serde_json::Value> =
        serde_json::from_slice(&moto_client(&moto.server, "kinesis-records")).unwrap();
    let dropped: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].result == "Dropped")
        .collect();
    assert!(!dropped.is_empty(), "{stderr}");
    assert_eq!(records.len(), dropped.len());
    let mut keys: Vec<String> = records
        .iter()
        .map(|r| r["partition_key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    let mut expected: Vec<String> = dropped.iter().map(|i| format!("pk-{i}")).collect();
    expected.sort();
    assert_eq!(keys, expected, "original partition keys");
    let docs: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let data = base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                r["data"].as_str().unwrap(),
            )
            .unwrap();
            serde_json::from_slice(&gunzip(&data)).unwrap()
        })
        .collect();
    let seen = count_ids(&entries, &docs);
    assert_eq!(seen.len(), 600);
    assert!(seen.values().all(|&c| c == 1));
    assert!(s3_objects(&moto).is_empty(), "nothing went to Firehose");
}

#[test]
fn reingestion_failure_keeps_records_as_processing_failed() {
    let docs: Vec<Vec<u8>> = (0..4).map(|i| doc(i * 100, 100, 200)).collect();
    let event = firehose_event(&docs, None);
    // Endpoint down: nothing listens on port 1, and no test's server can be
    // given it (the kernel hands out ports from 32768 up, and a server of
    // another test could take a free port chosen here).
    let down = "http://127.0.0.1:1".to_string();
    let (response, stderr) =
        transform(&down, &event, &["--budget", "60000", "--max-attempts", "2"]);
    let entries = check_contract(&event, &response);
    assert!(response.len() <= 60_000);
    assert_eq!(entries[0].result, "Ok");
    assert!(
        entries[1..].iter().all(|e| e.result == "ProcessingFailed"),
        "{stderr}"
    );
    assert!(stderr.contains("re-ingestion failed"), "{stderr}");

    // A stream that does not exist: the API answers with an error.
    let moto = start_moto();
    let missing = String::from_utf8(event.clone())
        .unwrap()
        .replace("deliverystream/logs", "deliverystream/missing");
    let (response, stderr) = transform(
        &moto.server.endpoint,
        missing.as_bytes(),
        &["--budget", "60000", "--max-attempts", "2"],
    );
    let entries = check_contract(&event, &response);
    assert!(
        entries[1..].iter().all(|e| e.result == "ProcessingFailed"),
        "{stderr}"
    );
}

#[test]
fn calls_never_exceed_500_records_or_4_mib() {
    let moto = start_moto();
    let docs: Vec<Vec<u8>> = (0..1200).map(|i| doc(i * 2, 2, 40)).collect();
    let event = firehose_event(&docs, None);
    let (response, stderr) = transform(&moto.server.endpoint, &event, &["--budget", "60000"]);
    let entries = check_contract(&event, &response);
    let objects = s3_objects(&moto);
    let per_call: Vec<usize> = objects.iter().map(|o| documents_in(o).len()).collect();
    assert!(per_call.len() >= 3, "{per_call:?} {stderr}");
    assert!(per_call.iter().all(|&n| n <= 500), "{per_call:?}");
    let reingested: Vec<serde_json::Value> = objects.iter().flat_map(|o| documents_in(o)).collect();
    let seen = count_ids(&entries, &reingested);
    assert_eq!(seen.len(), 2400);
    assert!(seen.values().all(|&c| c == 1));
}

#[test]
fn no_reingest_marks_overflow_processing_failed() {
    let docs: Vec<Vec<u8>> = (0..4).map(|i| doc(i * 100, 100, 200)).collect();
    let event = firehose_event(&docs, None);
    let (response, _) = transform(
        "http://127.0.0.1:9",
        &event,
        &["--budget", "60000", "--no-reingest"],
    );
    let entries = check_contract(&event, &response);
    assert_eq!(entries[0].result, "Ok");
    assert!(entries[1..].iter().all(|e| e.result == "ProcessingFailed"));
}
