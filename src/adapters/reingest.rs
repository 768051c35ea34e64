//! Writes overflow records back with the AWS SDK: Firehose `PutRecordBatch`
//! into the delivery stream, or Kinesis `PutRecords` into the source stream
//! when the delivery stream reads from one (Firehose refuses PutRecordBatch
//! there). The only module that talks to AWS.
//!
//! Calls are chunked by both limits (500 records, 4 MiB), only the records a
//! call reports as failed are retried, with exponential backoff and full
//! jitter, and no attempt starts after the deadline. The SDK's own retries
//! are off so this is the one retry policy.

use crate::batch::{PartOutcome, ReingestPart};
use crate::error::ReingestError;
use crate::firehose::{arn_region, arn_resource_name};
use crate::limits::{MAX_BYTES_PER_CALL, MAX_RECORDS_PER_CALL};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use std::time::{Duration, Instant};

const BASE_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// One call never waits longer than this for an answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where overflow goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// PutRecordBatch into this delivery stream (by name).
    Firehose {
        /// The delivery stream's name.
        stream: String,
        /// Its region, from the ARN.
        region: Option<String>,
    },
    /// PutRecords into this Kinesis stream (by ARN).
    Kinesis {
        /// The source stream's ARN.
        stream_arn: String,
        /// Its region, from the ARN.
        region: Option<String>,
    },
}

impl Target {
    /// The source stream when the event has one, else the delivery stream.
    pub fn for_event(delivery_stream_arn: &str, source_kinesis_stream_arn: Option<&str>) -> Self {
        match source_kinesis_stream_arn.filter(|a| !a.is_empty()) {
            Some(arn) => Self::Kinesis {
                stream_arn: arn.to_string(),
                region: arn_region(arn).map(str::to_string),
            },
            None => Self::Firehose {
                stream: arn_resource_name(delivery_stream_arn).to_string(),
                region: arn_region(delivery_stream_arn).map(str::to_string),
            },
        }
    }

    fn region(&self) -> Option<&str> {
        match self {
            Self::Firehose { region, .. } | Self::Kinesis { region, .. } => region.as_deref(),
        }
    }
}

/// What re-ingestion did, for the summary line and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReingestStats {
    /// API calls made.
    pub calls: usize,
    /// Records sent again after a failed attempt.
    pub retries: usize,
    /// Records that finally failed.
    pub failed: usize,
}

/// Holds the SDK clients, built on the first overflow (nothing heavy at cold
/// start) and kept for the life of the process.
#[derive(Debug)]
pub struct Reingester {
    max_attempts: u32,
    clients: Option<(
        Option<String>,
        aws_sdk_firehose::Client,
        aws_sdk_kinesis::Client,
    )>,
    jitter: u64,
}

impl Reingester {
    /// A re-ingester that tries each record at most `max_attempts` times.
    pub fn new(max_attempts: u32) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        Self {
            max_attempts: max_attempts.max(1),
            clients: None,
            jitter: seed | 1,
        }
    }

    /// Writes every part to `target` and records each one's outcome; a part
    /// not accepted by `deadline` is `Failed` (its record is then kept by
    /// Firehose under `processing-failed/`).
    pub async fn put_parts(
        &mut self,
        target: &Target,
        parts: &mut [ReingestPart],
        deadline: Instant,
    ) -> ReingestStats {
        let (outcomes, stats) = self.put(target, parts, deadline).await;
        for (part, outcome) in parts.iter_mut().zip(outcomes) {
            part.outcome = match outcome {
                Ok(()) => PartOutcome::Accepted,
                Err(e) => PartOutcome::Failed(e),
            };
        }
        stats
    }

    /// Writes `records` to `target`; one outcome per record, in order.
    async fn put(
        &mut self,
        target: &Target,
        records: &[ReingestPart],
        deadline: Instant,
    ) -> (Vec<Result<(), ReingestError>>, ReingestStats) {
        let mut outcomes: Vec<Result<(), ReingestError>> =
            vec![Err(ReingestError::Deadline); records.len()];
        let mut stats = ReingestStats::default();
        if records.is_empty() {
            return (outcomes, stats);
        }
        let (firehose, kinesis) = self.clients(target.region()).await;
        let mut pending: Vec<usize> = (0..records.len()).collect();
        for attempt in 0..self.max_attempts {
            if attempt > 0 {
                let wait = self.backoff(attempt);
                if Instant::now() + wait >= deadline {
                    break;
                }
                tokio::time::sleep(wait).await;
                stats.retries += pending.len();
            }
            let mut still_failing = Vec::new();
            for chunk in chunks(&pending, records) {
                if Instant::now() >= deadline {
                    still_failing.extend_from_slice(chunk);
                    continue;
                }
                stats.calls += 1;
                let results = match target {
                    Target::Firehose { stream, .. } => {
                        put_firehose(&firehose, stream, chunk, records).await
                    }
                    Target::Kinesis { stream_arn, .. } => {
                        put_kinesis(&kinesis, stream_arn, chunk, records).await
                    }
                };
                for (&i, result) in chunk.iter().zip(results) {
                    if result.is_err() {
                        still_failing.push(i);
                    }
                    if let Some(slot) = outcomes.get_mut(i) {
                        *slot = result;
                    }
                }
            }
            pending = still_failing;
            if pending.is_empty() {
                break;
            }
        }
        stats.failed = outcomes.iter().filter(|o| o.is_err()).count();
        (outcomes, stats)
    }

    async fn clients(
        &mut self,
        region: Option<&str>,
    ) -> (aws_sdk_firehose::Client, aws_sdk_kinesis::Client) {
        let wanted = region.map(str::to_string);
        if let Some((r, f, k)) = &self.clients {
            if *r == wanted {
                return (f.clone(), k.clone());
            }
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(CALL_TIMEOUT)
                    .build(),
            );
        if let Some(r) = &wanted {
            loader = loader.region(Region::new(r.clone()));
        }
        let config = loader.load().await;
        let clients = (
            aws_sdk_firehose::Client::new(&config),
            aws_sdk_kinesis::Client::new(&config),
        );
        self.clients = Some((wanted, clients.0.clone(), clients.1.clone()));
        clients
    }

    /// Exponential backoff with full jitter (xorshift: no RNG crate needed).
    fn backoff(&mut self, attempt: u32) -> Duration {
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let ceiling = BASE_BACKOFF
            .saturating_mul(1 << attempt.min(16))
            .min(MAX_BACKOFF);
        let ms = u64::try_from(ceiling.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        Duration::from_millis(self.jitter % ms + 1)
    }
}

/// Splits `pending` (indexes into `records`) into calls within both limits.
fn chunks<'p>(pending: &'p [usize], records: &[ReingestPart]) -> Vec<&'p [usize]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (pos, &i) in pending.iter().enumerate() {
        let size = records.get(i).map_or(0, |r| {
            r.data.len() + r.partition_key.as_ref().map_or(0, String::len)
        });
        if pos > start && (pos - start == MAX_RECORDS_PER_CALL || bytes + size > MAX_BYTES_PER_CALL)
        {
            out.extend(pending.get(start..pos));
            (start, bytes) = (pos, 0);
        }
        bytes += size;
    }
    if start < pending.len() {
        out.extend(pending.get(start..));
    }
    out
}

async fn put_firehose(
    client: &aws_sdk_firehose::Client,
    stream: &str,
    chunk: &[usize],
    records: &[ReingestPart],
) -> Vec<Result<(), ReingestError>> {
    use aws_sdk_firehose::primitives::Blob;
    use aws_sdk_firehose::types::Record;
    let mut batch = Vec::with_capacity(chunk.len());
    for &i in chunk {
        let data = records.get(i).map(|r| r.data.clone()).unwrap_or_default();
        match Record::builder().data(Blob::new(data)).build() {
            Ok(r) => batch.push(r),
            Err(e) => {
                return vec![
                    Err(ReingestError::Call {
                        error: e.to_string()
                    });
                    chunk.len()
                ]
            }
        }
    }
    match client
        .put_record_batch()
        .delivery_stream_name(stream)
        .set_records(Some(batch))
        .send()
        .await
    {
        Err(e) => vec![
            Err(ReingestError::Call {
                error: error_text(&e)
            });
            chunk.len()
        ],
        Ok(out) => per_record(
            chunk.len(),
            out.request_responses()
                .iter()
                .map(|a| (a.error_code(), a.error_message())),
        ),
    }
}

async fn put_kinesis(
    client: &aws_sdk_kinesis::Client,
    stream_arn: &str,
    chunk: &[usize],
    records: &[ReingestPart],
) -> Vec<Result<(), ReingestError>> {
    use aws_sdk_kinesis::primitives::Blob;
    use aws_sdk_kinesis::types::PutRecordsRequestEntry;
    let mut batch = Vec::with_capacity(chunk.len());
    for &i in chunk {
        let Some(r) = records.get(i) else { continue };
        // A Kinesis-sourced record always has a partition key; the fallback
        // only keeps a malformed event from failing the call.
        let key = r
            .partition_key
            .clone()
            .unwrap_or_else(|| format!("cwl-firehose-{}", r.origin));
        match PutRecordsRequestEntry::builder()
            .data(Blob::new(r.data.clone()))
            .partition_key(key)
            .build()
        {
            Ok(e) => batch.push(e),
            Err(e) => {
                return vec![
                    Err(ReingestError::Call {
                        error: e.to_string()
                    });
                    chunk.len()
                ]
            }
        }
    }
    match client
        .put_records()
        .stream_arn(stream_arn)
        .set_records(Some(batch))
        .send()
        .await
    {
        Err(e) => vec![
            Err(ReingestError::Call {
                error: error_text(&e)
            });
            chunk.len()
        ],
        Ok(out) => per_record(
            chunk.len(),
            out.records()
                .iter()
                .map(|a| (a.error_code(), a.error_message())),
        ),
    }
}

/// One outcome per record sent, from the call's per-record answers (error
/// code and message, both absent on success); a missing answer is a failure.
fn per_record<'a>(
    sent: usize,
    answers: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<Result<(), ReingestError>> {
    let mut out: Vec<Result<(), ReingestError>> = answers
        .take(sent)
        .map(|answer| match answer {
            (None, _) => Ok(()),
            // The message may echo request details; the code says what happened.
            (Some(code), _message) => Err(ReingestError::Rejected {
                code: code.to_string(),
            }),
        })
        .collect();
    out.resize(
        sent,
        Err(ReingestError::Call {
            error: "no per-record answer".to_string(),
        }),
    );
    out
}

/// The SDK error with its causes, on one line.
fn error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(size: usize) -> ReingestPart {
        ReingestPart {
            origin: 0,
            data: vec![0; size],
            partition_key: None,
            outcome: PartOutcome::Pending,
        }
    }

    #[test]
    fn chunks_respect_both_limits() {
        let records: Vec<_> = (0..1200).map(|_| rec(10)).collect();
        let pending: Vec<usize> = (0..1200).collect();
        let sizes: Vec<usize> = chunks(&pending, &records).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [500, 500, 200]);

        let records: Vec<_> = (0..10).map(|_| rec(1_000_000)).collect();
        let pending: Vec<usize> = (0..10).collect();
        let sizes: Vec<usize> = chunks(&pending, &records).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [4, 4, 2]);
    }

    #[test]
    fn per_record_answers() {
        let answers = [
            (None, None),
            (Some("ServiceUnavailableException"), Some("Slow down.")),
        ];
        assert_eq!(
            per_record(3, answers.into_iter()),
            [
                Ok(()),
                Err(ReingestError::Rejected {
                    code: "ServiceUnavailableException".to_string()
                }),
                Err(ReingestError::Call {
                    error: "no per-record answer".to_string()
                })
            ]
        );
    }

    #[test]
    fn targets() {
        let t = Target::for_event(
            "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs",
            None,
        );
        assert_eq!(
            t,
            Target::Firehose {
                stream: "logs".into(),
                region: Some("eu-west-1".into())
            }
        );
        let k = "arn:aws:kinesis:eu-west-1:123456789012:stream/src";
        assert!(matches!(
            Target::for_event("x", Some(k)),
            Target::Kinesis { .. }
        ));
    }
}
