//! Re-ingestion under the faults the Firehose and Kinesis APIs really
//! produce, for both sources: the Lambda handler (`cwl_firehose::lambda::
//! handle_at`, what the binary runs) with a real deadline, its real AWS SDK
//! client pointed (`AWS_ENDPOINT_URL`) at `tests/support/fault_proxy.py`, a
//! proxy on 127.0.0.1 in front of moto's server that answers each
//! PutRecordBatch / PutRecords call with success, a partial failure built
//! from moto's real answer, throttling, HTTP 500, a reset connection, an
//! answer slower than the per-call timeout, or an answer lost after moto
//! applied the call.
//!
//! Every round is checked against what moto holds afterwards:
//! - no event lost: each is a line of an Ok record, or accepted upstream, or
//!   its record is ProcessingFailed (kept by Firehose for replay);
//! - a record is Dropped only if every part of it was accepted;
//! - an event is delivered twice only where the proxy lost an answer after
//!   moto applied the call (at-least-once; counted and printed);
//! - the response fits the budget and comes back before the deadline, less
//!   the margin kept to send it;
//! - when the faults stop before the deadline, no record is ProcessingFailed.
//!
//! All rounds run at once (each on its own stream) so the file takes about
//! as long as the longest round. The proxy and moto stop with this process.

#![cfg(feature = "lambda")]

mod common;

use common::*;
use cwl_firehose::adapters::lambda::{handle_at, Function, Now};
use cwl_firehose::adapters::settings::Settings;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The response budget of every round: small, so most records overflow.
const BUDGET: usize = 40_000;
/// The per-call timeout the function is given; "slow" answers take longer.
/// Real answers take under a second even on a loaded machine; one that left
/// the proxy after `LATE_SECONDS` may still have missed the timeout, so its
/// records count like a lost answer's.
const CALL_TIMEOUT_MS: u64 = 3_000;
const SLOW_SECONDS: f64 = 3.5;
const LATE_SECONDS: f64 = 2.5;
/// What `lambda.rs` keeps back from the deadline to send the response.
const RESPONSE_MARGIN: Duration = Duration::from_millis(1_500);

fn moto_streams(
    proxy: &FaultProxy,
    command: &str,
    firehose: &[String],
    kinesis: &[String],
) -> Value {
    let out = Command::new(venv_tool("python"))
        .arg(root().join("tests/support/moto_streams.py"))
        .args([
            &proxy.moto,
            command,
            &firehose.join(","),
            &kinesis.join(","),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "moto_streams {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Firehose,
    Kinesis,
}

struct Round {
    name: String,
    source: Source,
    /// Fault weights per kind (see fault_proxy.py).
    weights: Value,
    /// How long faults last after the round's first call (`None`: past the deadline).
    fault_seconds: Option<f64>,
    /// From the start of the invocation.
    deadline: Duration,
    /// Add one record far over the budget, which is split into several parts.
    big_record: bool,
}

impl Round {
    fn stream(&self) -> String {
        let s = match self.source {
            Source::Firehose => "f",
            Source::Kinesis => "k",
        };
        format!("faults-{s}-{}", self.name)
    }
}

fn rounds() -> Vec<Round> {
    let mut out = Vec::new();
    for source in [Source::Firehose, Source::Kinesis] {
        // Each kind alone, for 3 s; then all of them with successes between.
        for kind in ["partial", "throttle", "http500", "reset", "slow", "lost"] {
            out.push(Round {
                name: kind.to_string(),
                source,
                weights: json!({ kind: 1 }),
                fault_seconds: Some(3.0),
                deadline: Duration::from_secs(12),
                big_record: kind == "partial",
            });
        }
        out.push(Round {
            name: "mixed".into(),
            source,
            weights: json!({"ok": 1, "partial": 2, "throttle": 2, "http500": 1, "reset": 1, "slow": 1, "lost": 1}),
            fault_seconds: Some(4.0),
            deadline: Duration::from_secs(12),
            big_record: true,
        });
        // Faults that outlast the deadline: nothing is accepted except what
        // a lost answer hides, so every overflowing record must come back
        // ProcessingFailed, in time, after retrying until the deadline.
        // (No slow answers here: each attempt is quick, so the last one
        // starts just before the deadline.)
        out.push(Round {
            name: "outlast".into(),
            source,
            weights: json!({"throttle": 2, "http500": 1, "reset": 1, "lost": 1}),
            fault_seconds: None,
            deadline: Duration::from_secs(7),
            big_record: true,
        });
        // Partial failures and throttling that never stop: some parts of a
        // split record get in, others not; only whole records may be Dropped.
        out.push(Round {
            name: "outlast-partial".into(),
            source,
            weights: json!({"partial": 1, "throttle": 3}),
            fault_seconds: None,
            deadline: Duration::from_secs(7),
            big_record: true,
        });
    }
    out
}

/// The round's documents: 650 small records (4 events each) and maybe one
/// big one (600 events, about 200 KB of lines). Event ids name the round.
fn documents(round: usize, big: bool) -> Vec<Vec<u8>> {
    let doc = |r: usize, n: usize, len: usize| -> Vec<u8> {
        let mut doc = Doc::new()
            .group("/app/faults")
            .stream(&format!("s-{round}"));
        for e in 0..n {
            let msg: String = format!(
                "GET /v1/items/{} 200 {}ms user={} ",
                r * 31 + e,
                (r * 7 + e) % 997,
                e
            )
            .repeat(len / 40 + 1)
            .chars()
            .take(len)
            .collect();
            let id = format!("{round:02}-{r:04}-{e:03}");
            doc = doc.event_with_id(&id, T0 + (r * 1000 + e) as i64, &msg);
        }
        doc.bytes()
    };
    let mut docs: Vec<Vec<u8>> = (0..650).map(|r| doc(r, 4, 150)).collect();
    if big {
        docs.insert(300, doc(9999, 600, 300));
    }
    docs
}

fn firehose_event(docs: &[Vec<u8>], kinesis_arn: Option<&str>, stream: &str) -> Vec<u8> {
    let records: Vec<Value> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut r = json!({"recordId": format!("r{i:04}"), "approximateArrivalTimestamp": 1_764_300_000_000u64, "data": b64(&gz(d))});
            if kinesis_arn.is_some() {
                r["kinesisRecordMetadata"] = json!({"shardId": "shardId-000000000000", "partitionKey": format!("pk-{i}")});
            }
            r
        })
        .collect();
    let mut e = json!({
        "invocationId": format!("faults-{stream}"), "region": "us-east-1", "records": records,
        "deliveryStreamArn": format!("arn:aws:firehose:us-east-1:123456789012:deliverystream/{stream}"),
    });
    if let Some(arn) = kinesis_arn {
        e["sourceKinesisStreamArn"] = json!(arn);
    }
    serde_json::to_vec(&e).unwrap()
}

struct Outcome {
    event: Vec<u8>,
    response: Vec<u8>,
    elapsed: Duration,
    /// Seconds on the handler's wall clock (started at [`T0`]): the
    /// invocation's deadline, and when it answered.
    deadline: f64,
    answered: f64,
}

#[test]
fn reingestion_outlasts_faults_and_loses_nothing() {
    let suite_started = Instant::now();
    let proxy = FaultProxy::start();
    let rounds = rounds();
    let firehose_streams: Vec<String> = rounds
        .iter()
        .filter(|r| r.source == Source::Firehose)
        .map(Round::stream)
        .collect();
    let kinesis_streams: Vec<String> = rounds
        .iter()
        .filter(|r| r.source == Source::Kinesis)
        .map(Round::stream)
        .collect();
    let setup = moto_streams(&proxy, "setup", &firehose_streams, &kinesis_streams);

    // The only test in this binary: nothing else reads the environment while
    // it is set, and every SDK client below is built after it.
    std::env::set_var(
        "AWS_ENDPOINT_URL",
        format!("http://127.0.0.1:{}", proxy.port),
    );
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");

    let mut plans = serde_json::Map::new();
    for (i, round) in rounds.iter().enumerate() {
        let mut plan = json!({"seed": 1000 + i, "weights": round.weights, "slow_seconds": SLOW_SECONDS, "late_seconds": LATE_SECONDS});
        if let Some(s) = round.fault_seconds {
            plan["seconds"] = json!(s);
        }
        plans.insert(round.stream(), plan);
    }
    proxy.control("POST", "/__faults/plan", &Value::Object(plans));

    let settings = Settings::from_lookup(|name| match name {
        "RESPONSE_BUDGET" => Some(BUDGET.to_string()),
        "REINGEST_CALL_TIMEOUT_MS" => Some(CALL_TIMEOUT_MS.to_string()),
        _ => None,
    })
    .unwrap();
    assert_eq!(settings.max_attempts, u32::MAX, "no count cap by default");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcomes: Vec<Outcome> = runtime.block_on(async {
        let events: Vec<Vec<u8>> = rounds
            .iter()
            .enumerate()
            .map(|(i, round)| {
                let stream = round.stream();
                let arn = match round.source {
                    Source::Kinesis => setup["kinesis_arns"][&stream].as_str(),
                    Source::Firehose => None,
                };
                firehose_event(&documents(i, round.big_record), arn, &stream)
            })
            .collect();
        let mut tasks = Vec::new();
        for (round, event) in rounds.iter().zip(events) {
            let function = Arc::new(Function::new(&settings));
            // The handler's wall clock starts at T0 with the round, so the
            // deadline is measured from the same instant whatever the machine does.
            let now = Now {
                instant: Instant::now(),
                epoch_ms: T0 as u64,
            };
            let deadline_ms = now.epoch_ms + round.deadline.as_millis() as u64;
            tasks.push(tokio::spawn(async move {
                let payload = serde_json::value::RawValue::from_string(
                    String::from_utf8(event.clone()).unwrap(),
                )
                .unwrap();
                let mut context = Context::default();
                context.deadline = deadline_ms;
                let started = Instant::now();
                let response = handle_at(&function, LambdaEvent::new(payload, context), now)
                    .await
                    .unwrap();
                Outcome {
                    event,
                    response: response.as_str().as_bytes().to_vec(),
                    elapsed: started.elapsed(),
                    deadline: deadline_ms as f64 / 1000.0,
                    answered: (now.epoch_ms as f64 + now.instant.elapsed().as_secs_f64() * 1000.0)
                        / 1000.0,
                }
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });

    let upstream = moto_streams(&proxy, "read", &firehose_streams, &kinesis_streams);
    let report = proxy.control("GET", "/__faults/report", &json!({}));
    println!(
        "slowest moto answer: {} s",
        report["_slowest_upstream_seconds"]
    );

    let mut faulted: BTreeMap<(String, String), u64> = BTreeMap::new();
    let (mut total_calls, mut total_faulted, mut duplicates, mut kept_and_delivered) =
        (0u64, 0u64, 0usize, 0usize);
    let mut failed_with_time_left = 0usize;
    let mut events_total = 0usize;
    let mut late_calls = 0u64;
    println!(
        "{:<24} {:>6} {:>7} {:>5} {:>7} {:>6} {:>5} {:>8}  faults",
        "round", "calls", "faulted", "ok", "dropped", "failed", "dups", "time"
    );
    for (round, outcome) in rounds.iter().zip(&outcomes) {
        let stream = round.stream();
        let label = format!("{:?}/{}", round.source, round.name);
        let entries = check_contract(&outcome.event, &outcome.response);
        assert!(
            outcome.response.len() <= BUDGET,
            "{label}: response {} bytes",
            outcome.response.len()
        );
        // Re-ingestion stops at the deadline less the response margin; the
        // answer follows within a few hundred milliseconds (a cancelled call).
        let margin = RESPONSE_MARGIN.as_secs_f64();
        assert!(
            outcome.answered <= outcome.deadline - margin + 0.3,
            "{label}: answered {:.2} s before the deadline",
            outcome.deadline - outcome.answered
        );

        // Events per record, from the input.
        let event: Value = serde_json::from_slice(&outcome.event).unwrap();
        let record_events: Vec<Vec<String>> = event["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let gz = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    r["data"].as_str().unwrap(),
                )
                .unwrap();
                let doc: Value = serde_json::from_slice(&gunzip(&gz)).unwrap();
                doc["logEvents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["id"].as_str().unwrap().to_string())
                    .collect()
            })
            .collect();

        // What moto holds, and what the function returned.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let upstream_docs: Vec<(Vec<String>, Option<String>)> = match round.source {
            Source::Firehose => upstream["firehose"][&stream]
                .as_array()
                .unwrap()
                .iter()
                .map(|ids| (strings(ids), None))
                .collect(),
            Source::Kinesis => upstream["kinesis"][&stream]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        strings(&r["ids"]),
                        Some(r["partition_key"].as_str().unwrap().to_string()),
                    )
                })
                .collect(),
        };
        for (ids, _) in &upstream_docs {
            for id in ids {
                *seen.entry(id.clone()).or_default() += 1;
            }
        }
        let accepted: BTreeSet<String> = seen.keys().cloned().collect();
        for line in entries.iter().flat_map(|e| &e.lines) {
            *seen
                .entry(line["id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        let r = &report[&stream];
        let lost: BTreeSet<String> = strings(&r["lost_event_ids"])
            .into_iter()
            .chain(strings(&r["late_event_ids"]))
            .collect();
        late_calls += r["late_calls"].as_u64().unwrap();

        // Lost: neither a line of an Ok record, nor accepted upstream, nor
        // in a record Firehose keeps (ProcessingFailed).
        let kept: BTreeSet<&String> = entries
            .iter()
            .zip(&record_events)
            .filter(|(e, _)| e.result == "ProcessingFailed")
            .flat_map(|(_, ids)| ids)
            .collect();
        let lost_events = record_events
            .iter()
            .flatten()
            .filter(|id| !seen.contains_key(*id) && !kept.contains(id))
            .count();
        assert_eq!(lost_events, 0, "{label}: events lost");
        events_total += record_events.iter().map(Vec::len).sum::<usize>();

        let mut failed = 0;
        for (i, (entry, ids)) in entries.iter().zip(&record_events).enumerate() {
            match entry.result.as_str() {
                "Ok" => {
                    let lines: Vec<&str> = entry
                        .lines
                        .iter()
                        .map(|l| l["id"].as_str().unwrap())
                        .collect();
                    assert_eq!(lines, *ids, "{label}: record {i} lines");
                }
                "Dropped" => {
                    // Re-ingested: every part, so every event, accepted upstream.
                    for id in ids {
                        assert!(
                            accepted.contains(id),
                            "{label}: record {i} Dropped but event {id} was never accepted"
                        );
                    }
                }
                "ProcessingFailed" => {
                    failed += 1;
                    // Kept by Firehose: replaying it delivers again whatever
                    // of it already got in (a lost answer, a split part).
                    kept_and_delivered += ids.iter().filter(|id| accepted.contains(*id)).count();
                }
                other => panic!("{label}: result {other}"),
            }
        }
        // Partition keys: each Kinesis record goes back with its record's own.
        if round.source == Source::Kinesis {
            for (ids, pk) in &upstream_docs {
                let origin = record_events
                    .iter()
                    .position(|r| r.contains(&ids[0]))
                    .unwrap();
                assert_eq!(
                    pk.as_deref(),
                    Some(format!("pk-{origin}").as_str()),
                    "{label}"
                );
            }
        }
        // Duplicates only where an answer was lost after moto applied the call.
        let mut dups = 0;
        for (id, &n) in &seen {
            if n > 1 {
                assert!(
                    lost.contains(id),
                    "{label}: event {id} delivered {n} times without a lost answer"
                );
                dups += n - 1;
            }
        }
        duplicates += dups;
        if round.fault_seconds.is_some() {
            assert_eq!(
                failed, 0,
                "{label}: records ProcessingFailed although the faults stopped before the deadline"
            );
        } else {
            // It kept trying until the deadline, not a handful of attempts:
            // the last call started no earlier than one call's timeout (plus
            // a second for a loaded machine) before the end of the time
            // allowed, since a call that hangs that long leaves no time for
            // another.
            let last = r["last_call_at"].as_f64().unwrap();
            let end = outcome.deadline - margin;
            let slack = CALL_TIMEOUT_MS as f64 / 1000.0 + 1.0;
            assert!(
                last >= end - slack,
                "{label}: the last call started {:.1} s before the end of the time allowed",
                end - last
            );
            if round.name == "outlast" {
                assert!(failed > 0, "{label}: nothing could be accepted");
            }
        }
        failed_with_time_left += if round.fault_seconds.is_some() {
            failed
        } else {
            0
        };

        let calls = r["calls"].as_u64().unwrap();
        let mut kinds = Vec::new();
        let mut round_faulted = 0;
        for (kind, n) in r["faulted"].as_object().unwrap() {
            let n = n.as_u64().unwrap();
            *faulted
                .entry((format!("{:?}", round.source), kind.clone()))
                .or_default() += n;
            round_faulted += n;
            kinds.push(format!("{kind}={n}"));
        }
        assert!(round_faulted > 0, "{label}: no call was faulted");
        total_calls += calls;
        total_faulted += round_faulted;
        let count = |result: &str| entries.iter().filter(|e| e.result == result).count();
        println!(
            "{label:<24} {calls:>6} {round_faulted:>7} {:>5} {:>7} {failed:>6} {dups:>5} {:>7.2}s  {}",
            count("Ok"),
            count("Dropped"),
            outcome.elapsed.as_secs_f64(),
            kinds.join(" ")
        );
    }
    // Every kind of fault happened, for both sources.
    for source in ["Firehose", "Kinesis"] {
        for kind in ["partial", "throttle", "http500", "reset", "slow", "lost"] {
            assert!(
                faulted
                    .get(&(source.to_string(), kind.to_string()))
                    .copied()
                    .unwrap_or(0)
                    > 0,
                "{source}: no {kind} fault happened"
            );
        }
    }
    println!(
        "rounds {} | events {events_total}, lost 0 | calls {total_calls}, faulted {total_faulted}: {} | \
         ProcessingFailed while time remained {failed_with_time_left} | duplicates {duplicates} \
         (all after lost or late answers; {late_calls} answers late) | events of ProcessingFailed records already delivered \
         {kept_and_delivered} | {:.1} s",
        rounds.len(),
        faulted
            .iter()
            .map(|((s, k), n)| format!("{s}/{k}={n}"))
            .collect::<Vec<_>>()
            .join(" "),
        suite_started.elapsed().as_secs_f64()
    );
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}
