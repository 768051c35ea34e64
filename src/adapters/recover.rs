//! Replays Firehose's `processing-failed/` error output without a person:
//! the replay core (`crate::replay`) driven over the bucket ([`Archive`])
//! and the stream ([`Reingester`], the re-ingestion of the record path,
//! with its retries to the deadline). `cwl-firehose recover` and the
//! scheduled replay function both call [`recover`].
//!
//! A record that can pass is put back *as it was* (its original bytes) into
//! the delivery stream, or into the source Kinesis stream when the delivery
//! stream reads from one: it then goes through the transformation function
//! again, exactly as Firehose would have delivered it the first time (same
//! lines, same partitioning, same object layout). Nothing is ever deleted:
//! quarantined records stay where they are, listed in a report; progress
//! lives in the ledger and the done markers under the state prefix.

use super::archive::Archive;
use super::reingest::{Reingester, Target};
use crate::batch::{PartOutcome, ReingestPart};
use crate::limits::{MAX_FAILED_OBJECT, MAX_RECORDS_PER_CALL};
use crate::pipeline::Transformer;
use crate::replay::classify::decide;
use crate::replay::error_output::{object_text, parse, ErrorObject, Unreadable};
use crate::replay::ledger::{
    quarantine_report, record_key, Ledger, Settled, DEFAULT_KEEP_MS, DEFAULT_MAX_REPLAYS,
    MAX_LEDGER_BYTES,
};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// The bucket that holds the error output.
pub const ENV_BUCKET: &str = "REPLAY_BUCKET";
/// Where the error objects are (the stream's error output prefix and type).
pub const ENV_PREFIX: &str = "REPLAY_PREFIX";
/// Where the ledger, the done markers and the quarantine reports go.
pub const ENV_STATE_PREFIX: &str = "REPLAY_STATE_PREFIX";
/// The delivery stream records are put back into (ARN, or name).
pub const ENV_STREAM: &str = "REPLAY_DELIVERY_STREAM_ARN";
/// The source Kinesis stream, when the delivery stream reads from one.
pub const ENV_SOURCE_STREAM: &str = "REPLAY_SOURCE_KINESIS_STREAM_ARN";
/// How often one record is put back at most.
pub const ENV_MAX_REPLAYS: &str = "REPLAY_MAX_ATTEMPTS";
/// The error output of the template's stream: its `ErrorOutputPrefix` with
/// the `processing-failed` error type.
pub const DEFAULT_PREFIX: &str = "processing-failed/processing-failed/";
/// The state prefix by default.
pub const DEFAULT_STATE_PREFIX: &str = "replay/";
/// The CloudWatch namespace of the replay function's metrics.
pub const METRICS_NAMESPACE: &str = "CwlFirehose/Replay";
/// No batch of records starts with less time than this before the deadline:
/// its re-ingestion and the two ledger writes around it need it.
const MIN_BATCH_TIME: Duration = Duration::from_secs(5);
/// Why a run stopped at `Options::max_records`.
const LIMIT_REACHED: &str = "the record limit of this run was reached";
/// What re-ingestion leaves for the ledger write after it.
const LEDGER_WRITE_TIME: Duration = Duration::from_secs(2);

/// What to replay, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the error objects are.
    pub prefix: String,
    /// Where the ledger, done markers and quarantine reports go.
    pub state_prefix: String,
    /// The delivery stream (ARN or name): the target, and the stream the
    /// records are decided for (its account is "own" for exclusion).
    pub stream_arn: String,
    /// The source Kinesis stream, when the delivery stream reads from one.
    pub source_stream_arn: Option<String>,
    /// How often one record is put back at most.
    pub max_replays: u32,
    /// Records put back in this run at most (`None`: no limit).
    pub max_records: Option<usize>,
    /// How long a record's count is kept after its last replay.
    pub keep_ms: i64,
}

impl Options {
    /// Where things go under the state prefix.
    fn ledger_key(&self) -> String {
        format!("{}ledger.json", self.state_prefix)
    }

    fn done_prefix(&self) -> String {
        format!("{}done/", self.state_prefix)
    }

    fn quarantine_key(&self, source: &str) -> String {
        format!("{}quarantine/{source}.jsonl", self.state_prefix)
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Error objects listed under the prefix.
    pub objects_listed: usize,
    /// Of those, finished by earlier runs.
    pub objects_done_before: usize,
    /// Finished by this run.
    pub objects_finished: usize,
    /// Left for a later run (not reached, or not every line settled).
    pub objects_left: usize,
    /// Records put back and accepted by the stream.
    pub replayed: usize,
    /// Lines quarantined (records that never pass, unreadable lines).
    pub quarantined: usize,
    /// Records with nothing to deliver now (`Dropped`).
    pub nothing_to_deliver: usize,
    /// Records sent but not accepted by the deadline (tried again later).
    pub not_accepted: usize,
    /// Lines settled by earlier runs of unfinished objects.
    pub already_settled: usize,
    /// Bytes of error objects read.
    pub bytes_read: u64,
    /// Bytes of records put back and accepted.
    pub bytes_replayed: u64,
    /// Why the run stopped before the end, if it did.
    pub stopped: Option<String>,
}

/// The ledger as read, and the ETag it must be written over.
struct Stored {
    ledger: Ledger,
    etag: Option<String>,
    key: String,
}

impl Stored {
    async fn read(archive: &Archive, key: String) -> Result<Self, String> {
        Ok(match archive.read_tagged(&key, MAX_LEDGER_BYTES).await? {
            Some((bytes, etag)) => Self {
                ledger: Ledger::parse(&bytes).map_err(|e| format!("{key}: {e}"))?,
                etag: Some(etag),
                key,
            },
            None => Self {
                ledger: Ledger::default(),
                etag: None,
                key,
            },
        })
    }

    /// Writes the ledger over the version read; another writer meanwhile
    /// stops the run (nothing it counted is lost: it wrote first).
    async fn save(&mut self, archive: &Archive) -> Result<(), String> {
        let written = archive
            .put_over(&self.key, self.ledger.to_bytes(), self.etag.as_deref())
            .await?;
        match written {
            Some(etag) => {
                self.etag = Some(etag);
                Ok(())
            }
            None => Err(format!(
                "{} was changed by another run meanwhile: this run stops (one run at a time)",
                self.key
            )),
        }
    }
}

/// Replays every unfinished error object under `options.prefix`, oldest key
/// first, until done, `deadline`, or `options.max_records`: decides each
/// line (see `crate::replay`), puts back what passes, records progress, and
/// for every object all of whose lines are settled writes its quarantine
/// report (when it has one) and its done marker.
pub async fn recover(
    archive: &Archive,
    reingester: &mut Reingester,
    transformer: &mut Transformer,
    options: &Options,
    deadline: Instant,
) -> Result<Tally, String> {
    let now_ms = super::digest::now_ms;
    let mut tally = Tally::default();
    let listed = archive.sizes_under(&options.prefix).await?;
    let done_prefix = options.done_prefix();
    let done: HashSet<String> = archive
        .keys_under(&done_prefix)
        .await?
        .into_iter()
        .filter_map(|k| k.strip_prefix(&done_prefix).map(str::to_string))
        .collect();
    let mut stored = Stored::read(archive, options.ledger_key()).await?;
    let before = stored.ledger.clone();
    stored.ledger.objects.retain(|k, _| !done.contains(k));
    stored.ledger.prune(now_ms(), options.keep_ms);
    let mut dirty = stored.ledger != before;
    let target = Target::for_event(&options.stream_arn, options.source_stream_arn.as_deref());
    tally.objects_listed = listed.len();
    let mut sent = 0usize;
    let todo: Vec<&(String, i64)> = listed.iter().filter(|(k, _)| !done.contains(k)).collect();
    tally.objects_done_before = listed.len() - todo.len();
    for (key, size) in todo.iter().copied() {
        if tally.stopped.is_some() {
            break;
        }
        if deadline.saturating_duration_since(Instant::now()) < MIN_BATCH_TIME {
            tally.stopped = Some("the deadline came".into());
            break;
        }
        let unreadable = |reason: String| ErrorObject {
            records: Vec::new(),
            unreadable: vec![Unreadable { line: 0, reason }],
        };
        // Too large to read whole: quarantined as it is (reading it would fail every run).
        let object = if usize::try_from(*size).map_or(true, |s| s > MAX_FAILED_OBJECT) {
            unreadable(format!(
                "the object is larger than {MAX_FAILED_OBJECT} bytes: not read"
            ))
        } else {
            let Some((bytes, _)) = archive.read_capped(key, MAX_FAILED_OBJECT).await? else {
                continue;
            };
            tally.bytes_read += bytes.len() as u64;
            object_text(bytes).map_or_else(unreadable, |text| parse(&text))
        };
        let plan = stored
            .ledger
            .plan(key, &object, options.max_replays, |data| {
                decide(transformer, &options.stream_arn, data)
            });
        tally.already_settled += plan.already;
        tally.quarantined += plan.quarantined;
        tally.nothing_to_deliver += plan.nothing;
        dirty |= plan.quarantined + plan.nothing > 0;
        for chunk in plan.send.chunks(MAX_RECORDS_PER_CALL) {
            let room = options
                .max_records
                .map_or(chunk.len(), |m| m.saturating_sub(sent).min(chunk.len()));
            let limited = room < chunk.len();
            let Some(chunk) = chunk.get(..room).filter(|c| !c.is_empty()) else {
                tally.stopped = Some(LIMIT_REACHED.into());
                break;
            };
            if deadline.saturating_duration_since(Instant::now()) < MIN_BATCH_TIME {
                tally.stopped = Some("the deadline came".into());
                break;
            }
            let records: Vec<_> = chunk
                .iter()
                .filter_map(|&i| object.records.get(i))
                .collect();
            for r in &records {
                stored.ledger.count_replay(&record_key(&r.data), now_ms());
            }
            // Counted before sending: a run that dies now under-uses the limit.
            stored.save(archive).await?;
            let mut parts: Vec<ReingestPart> = records
                .iter()
                .map(|r| ReingestPart {
                    origin: r.line,
                    data: r.data.clone(),
                    partition_key: None,
                    outcome: PartOutcome::Pending,
                })
                .collect();
            let reingest_by = deadline.checked_sub(LEDGER_WRITE_TIME).unwrap_or(deadline);
            let stats = reingester.put_parts(&target, &mut parts, reingest_by).await;
            sent += parts.len();
            // Every call answered: what was not accepted was refused, not
            // taken with its answer lost, so that attempt is not counted.
            let surely_refused = stats.call_errors == 0;
            let mut refused = None;
            for part in &parts {
                let reason = match &part.outcome {
                    PartOutcome::Accepted => {
                        tally.replayed += 1;
                        tally.bytes_replayed += part.data.len() as u64;
                        stored.ledger.settle(key, part.origin, Settled::Replayed);
                        continue;
                    }
                    PartOutcome::Failed(e) => e.to_string(),
                    PartOutcome::Pending => "not attempted".to_string(),
                };
                tally.not_accepted += 1;
                if surely_refused {
                    stored.ledger.uncount_replay(&record_key(&part.data));
                }
                refused.get_or_insert(reason);
            }
            stored.save(archive).await?;
            dirty = false;
            if let Some(e) = refused {
                tally.stopped = Some(format!("the stream did not accept every record: {e}"));
                break;
            }
            if limited {
                tally.stopped = Some(LIMIT_REACHED.into());
                break;
            }
        }
        if stored.ledger.is_finished(key, object.lines()) {
            let progress = stored.ledger.finish(key);
            let summary = done_marker(&progress);
            if let Some(report) = quarantine_report(key, &progress) {
                archive
                    .put_new(
                        &options.quarantine_key(key),
                        report,
                        HashMap::new(),
                        None,
                        now_ms(),
                    )
                    .await?;
            }
            archive
                .put_new(
                    &format!("{done_prefix}{key}"),
                    summary,
                    HashMap::new(),
                    None,
                    now_ms(),
                )
                .await?;
            tally.objects_finished += 1;
            dirty = true;
        }
    }
    tally.objects_left = todo.len() - tally.objects_finished;
    if dirty {
        stored.save(archive).await?;
    }
    Ok(tally)
}

/// A finished object's done marker: what its lines became, counted.
fn done_marker(progress: &crate::replay::ledger::Progress) -> Vec<u8> {
    let count = |f: fn(&Settled) -> bool| progress.lines.values().filter(|s| f(s)).count();
    serde_json::json!({
        "replayed": count(|s| matches!(s, Settled::Replayed)),
        "nothing_to_deliver": count(|s| matches!(s, Settled::NothingToDeliver { .. })),
        "quarantined": count(|s| matches!(s, Settled::Quarantined { .. })),
    })
    .to_string()
    .into_bytes()
}

impl Tally {
    /// One CloudWatch EMF line (namespace [`METRICS_NAMESPACE`], dimension
    /// `FunctionName`): `RecordsReplayed`, `RecordsQuarantined` (the alarm
    /// reads it), `RecordsNothingToDeliver`, `RecordsNotAccepted`,
    /// `ObjectsFinished`, `ObjectsLeft`, `BytesReplayed`.
    pub fn emf_line(&self, function: &str, timestamp_ms: i64) -> String {
        let n = |v: usize| v as u64;
        super::metrics::emf_function_line(
            METRICS_NAMESPACE,
            function,
            timestamp_ms,
            &[
                ("RecordsReplayed", "Count", n(self.replayed)),
                ("RecordsQuarantined", "Count", n(self.quarantined)),
                (
                    "RecordsNothingToDeliver",
                    "Count",
                    n(self.nothing_to_deliver),
                ),
                ("RecordsNotAccepted", "Count", n(self.not_accepted)),
                ("ObjectsFinished", "Count", n(self.objects_finished)),
                ("ObjectsLeft", "Count", n(self.objects_left)),
                ("BytesReplayed", "Bytes", self.bytes_replayed),
            ],
            &[("Stopped", self.stopped.as_deref().unwrap_or(""))],
        )
    }

    /// The run on one line, for people.
    pub fn describe(&self) -> String {
        format!(
            "{} objects listed ({} done before, {} finished now, {} left); records: {} replayed, \
             {} quarantined, {} nothing to deliver, {} not accepted, {} settled before; \
             {} bytes read, {} bytes replayed{}",
            self.objects_listed,
            self.objects_done_before,
            self.objects_finished,
            self.objects_left,
            self.replayed,
            self.quarantined,
            self.nothing_to_deliver,
            self.not_accepted,
            self.already_settled,
            self.bytes_read,
            self.bytes_replayed,
            self.stopped
                .as_deref()
                .map_or(String::new(), |s| format!("; stopped: {s}")),
        )
    }
}

/// The scheduled function's settings, from its environment (the
/// transformation settings come from the same variables as the
/// transformation function's: `adapters::settings`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The bucket.
    pub bucket: String,
    /// What to replay, and how.
    pub options: Options,
}

impl Settings {
    /// Reads [`ENV_BUCKET`], [`ENV_STREAM`], [`ENV_SOURCE_STREAM`],
    /// [`ENV_PREFIX`], [`ENV_STATE_PREFIX`] and [`ENV_MAX_REPLAYS`].
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let max_replays =
            match var(ENV_MAX_REPLAYS) {
                None => DEFAULT_MAX_REPLAYS,
                Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("{ENV_MAX_REPLAYS}={v:?} is not a count of at least 1")
                })?,
            };
        Ok(Self {
            bucket: var(ENV_BUCKET).ok_or_else(|| format!("{ENV_BUCKET} is not set"))?,
            options: Options {
                prefix: var(ENV_PREFIX).unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
                state_prefix: var(ENV_STATE_PREFIX)
                    .unwrap_or_else(|| DEFAULT_STATE_PREFIX.to_string()),
                stream_arn: var(ENV_STREAM).ok_or_else(|| format!("{ENV_STREAM} is not set"))?,
                source_stream_arn: var(ENV_SOURCE_STREAM),
                max_replays,
                max_records: None,
                keep_ms: DEFAULT_KEEP_MS,
            },
        })
    }
}
