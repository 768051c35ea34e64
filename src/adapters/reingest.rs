//! Writes overflow records back with the AWS SDK: Firehose `PutRecordBatch`
//! into the delivery stream, or Kinesis `PutRecords` into the source stream
//! when the delivery stream reads from one (Firehose refuses PutRecordBatch
//! there). The only module on the record path that talks to AWS.
//!
//! Calls are chunked by both limits (500 records, 4 MiB). Only the records a
//! call did not get accepted are sent again, after capped exponential backoff
//! with full jitter, until every record is accepted or the deadline comes:
//! the attempt count is only an optional cap. Throttling (a throttled call,
//! or records a partly failed call refused) waits longer than a lost
//! connection or a server error. No call outlives the deadline: each one is
//! cut off at the per-call timeout or at the deadline, whichever is first.
//! Errors that no retry can fix (the stream does not exist, access denied, a
//! request the API rejects) stop at once. The SDK's own retries are off so
//! this is the one retry policy.

use crate::batch::{PartOutcome, ReingestPart};
use crate::error::ReingestError;
use crate::firehose::{arn_region, arn_resource_name};
use crate::limits::{MAX_BYTES_PER_CALL, MAX_RECORDS_PER_CALL};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_firehose::error::{ProvideErrorMetadata, SdkError};
use std::time::{Duration, Instant};

/// One call waits at most this long for its answer unless configured
/// otherwise (`REINGEST_CALL_TIMEOUT_MS`): a hung call is abandoned and its
/// records are retried, instead of the call eating the deadline.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// No call starts with less time than this before the deadline: it could
/// not be answered in time.
const MIN_CALL_TIME: Duration = Duration::from_millis(100);
/// After throttling (the API asked us to slow down): 200 ms doubling to 5 s.
const THROTTLED: Backoff = Backoff {
    base: Duration::from_millis(200),
    cap: Duration::from_secs(5),
};
/// After a connection error, a timeout or a server error: 50 ms doubling to 1 s.
const ERRORED: Backoff = Backoff {
    base: Duration::from_millis(50),
    cap: Duration::from_secs(1),
};

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
    /// Rounds of calls (the first included).
    pub attempts: u32,
    /// Records refused with throttling (a throttled call, or per-record
    /// errors of a partly failed one).
    pub throttled: usize,
    /// Calls that got no usable answer: connection errors, timeouts, server errors.
    pub call_errors: usize,
}

/// How a record's attempt failed, which decides the wait before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The API asked to slow down: wait longer.
    Throttled,
    /// No answer, a broken connection or a server error: retry soon.
    Errored,
    /// No retry can fix it: fail now.
    Permanent,
}

/// One record's result of one call.
type Attempt = Result<(), (Failure, String)>;

/// Exponential backoff, capped; the wait is drawn uniformly below it.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    base: Duration,
    cap: Duration,
}

/// Holds the SDK clients, built on the first overflow (nothing heavy at cold
/// start) and kept for the life of the process.
#[derive(Debug)]
pub struct Reingester {
    max_attempts: u32,
    call_timeout: Duration,
    clients: Option<(
        Option<String>,
        aws_sdk_firehose::Client,
        aws_sdk_kinesis::Client,
    )>,
    jitter: u64,
}

impl Reingester {
    /// Retries until the deadline, and at most `max_attempts` rounds of calls
    /// (the first included); `u32::MAX` is no count cap at all.
    pub fn new(max_attempts: u32) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        Self {
            max_attempts: max_attempts.max(1),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            clients: None,
            jitter: seed | 1,
        }
    }

    /// The longest one call may wait for its answer (at least 1 ms).
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Writes every part to `target` and records each one's outcome. Returns
    /// by `deadline` (plus at most the time to cancel a call); a part not
    /// accepted by then is `Failed` with the last error it got, and its record
    /// is kept by Firehose under `processing-failed/`.
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
                Err(reason) => PartOutcome::Failed(ReingestError::NotAccepted { reason }),
            };
        }
        stats
    }

    /// Writes `records` to `target`; one outcome per record, in order. Returns
    /// by `deadline` (plus at most the time to cancel a call): a record not
    /// accepted by then keeps the last error it got.
    async fn put(
        &mut self,
        target: &Target,
        records: &[ReingestPart],
        deadline: Instant,
    ) -> (Vec<Result<(), String>>, ReingestStats) {
        let mut outcomes: Vec<Result<(), String>> =
            vec![Err("not attempted before the deadline".into()); records.len()];
        let mut stats = ReingestStats::default();
        if records.is_empty() {
            return (outcomes, stats);
        }
        let (firehose, kinesis) = self.clients(target.region()).await;
        let mut pending: Vec<usize> = (0..records.len()).collect();
        let last_start = deadline.checked_sub(MIN_CALL_TIME).unwrap_or(deadline);
        loop {
            stats.attempts += 1;
            let mut still_failing = Vec::new();
            let mut throttled = false;
            for chunk in chunks(&pending, records) {
                let left = deadline.saturating_duration_since(Instant::now());
                if left < MIN_CALL_TIME {
                    still_failing.extend_from_slice(chunk);
                    continue;
                }
                stats.calls += 1;
                let timeout = left.min(self.call_timeout);
                let call = async {
                    match target {
                        Target::Firehose { stream, .. } => {
                            put_firehose(&firehose, stream, chunk, records).await
                        }
                        Target::Kinesis { stream_arn, .. } => {
                            put_kinesis(&kinesis, stream_arn, chunk, records).await
                        }
                    }
                };
                let results = match tokio::time::timeout(timeout, call).await {
                    Ok(results) => results,
                    Err(_) => {
                        let text = format!("no answer within {} ms", timeout.as_millis());
                        vec![Err((Failure::Errored, text)); chunk.len()]
                    }
                };
                let whole_call_failed = results
                    .iter()
                    .all(|r| matches!(r, Err((Failure::Errored, _))));
                stats.call_errors += usize::from(whole_call_failed);
                for (&i, result) in chunk.iter().zip(results) {
                    let outcome = match result {
                        Ok(()) => Ok(()),
                        Err((failure, text)) => {
                            if failure == Failure::Throttled {
                                throttled = true;
                                stats.throttled += 1;
                            }
                            if failure != Failure::Permanent {
                                still_failing.push(i);
                            }
                            Err(text)
                        }
                    };
                    if let Some(slot) = outcomes.get_mut(i) {
                        *slot = outcome;
                    }
                }
            }
            pending = still_failing;
            let now = Instant::now();
            if pending.is_empty() || stats.attempts >= self.max_attempts || now >= last_start {
                break;
            }
            let backoff = if throttled { THROTTLED } else { ERRORED };
            // The last attempt may start early rather than not at all.
            let wait = self.backoff(backoff, stats.attempts).min(last_start - now);
            tokio::time::sleep(wait).await;
            stats.retries += pending.len();
        }
        let stopped = if stats.attempts >= self.max_attempts {
            "attempt cap reached"
        } else {
            "deadline reached"
        };
        for &i in &pending {
            if let Some(Err(text)) = outcomes.get_mut(i) {
                text.push_str(&format!(" ({} attempts, {stopped})", stats.attempts));
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
        // Timeouts are applied per call in `put` (the per-call timeout or the
        // time left, whichever is shorter).
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::disabled());
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

    /// Full jitter: uniform in [1 ms, min(cap, base * 2^(attempt-1))]
    /// (xorshift: no RNG crate needed).
    fn backoff(&mut self, backoff: Backoff, attempt: u32) -> Duration {
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let ceiling = backoff
            .base
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(backoff.cap);
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
) -> Vec<Attempt> {
    use aws_sdk_firehose::primitives::Blob;
    use aws_sdk_firehose::types::Record;
    let mut batch = Vec::with_capacity(chunk.len());
    for &i in chunk {
        let data = records.get(i).map(|r| r.data.clone()).unwrap_or_default();
        match Record::builder().data(Blob::new(data)).build() {
            Ok(r) => batch.push(r),
            Err(e) => return vec![Err((Failure::Permanent, e.to_string())); chunk.len()],
        }
    }
    match client
        .put_record_batch()
        .delivery_stream_name(stream)
        .set_records(Some(batch))
        .send()
        .await
    {
        Err(e) => vec![Err(call_failure(&e)); chunk.len()],
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
) -> Vec<Attempt> {
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
            Err(e) => return vec![Err((Failure::Permanent, e.to_string())); chunk.len()],
        }
    }
    match client
        .put_records()
        .stream_arn(stream_arn)
        .set_records(Some(batch))
        .send()
        .await
    {
        Err(e) => vec![Err(call_failure(&e)); chunk.len()],
        Ok(out) => per_record(
            chunk.len(),
            out.records()
                .iter()
                .map(|a| (a.error_code(), a.error_message())),
        ),
    }
}

/// One result per record sent, from the call's per-record answers (error
/// code and message, both absent on success); a missing answer is a failure.
fn per_record<'a>(
    sent: usize,
    answers: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<Attempt> {
    let mut out: Vec<Attempt> = answers
        .take(sent)
        .map(|answer| match answer {
            (None, _) => Ok(()),
            (Some(code), message) => Err((
                record_failure(code),
                format!("{code}: {}", message.unwrap_or_default()),
            )),
        })
        .collect();
    out.resize(
        sent,
        Err((Failure::Errored, "no per-record answer".to_string())),
    );
    out
}

/// A per-record error code of a partly failed call. Firehose answers
/// `ServiceUnavailableException` or `InternalFailure`, Kinesis
/// `ProvisionedThroughputExceededException` or `InternalFailure`; a KMS
/// problem with the stream's key does not go away by retrying.
fn record_failure(code: &str) -> Failure {
    match code {
        c if is_throttling(c) => Failure::Throttled,
        "KMSAccessDeniedException"
        | "KMSDisabledException"
        | "KMSInvalidStateException"
        | "KMSNotFoundException"
        | "KMSOptInRequired"
        | "InvalidKMSResourceException" => Failure::Permanent,
        _ => Failure::Errored,
    }
}

fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "ServiceUnavailableException"
            | "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "Throttling"
            | "ThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "LimitExceededException"
            | "KMSThrottlingException"
            | "SlowDown"
    )
}

/// How a whole call failed, and its text. Nothing came back (a connection
/// error, a timeout, an unreadable answer) or a server error: retry soon.
/// Throttling: retry later. Any other error answer is about the request or
/// the account (no such stream, access denied, invalid request): fail now.
fn call_failure<E>(e: &SdkError<E>) -> (Failure, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = match e {
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            match s.err().code() {
                Some(code) if is_throttling(code) => Failure::Throttled,
                _ if status == 429 => Failure::Throttled,
                _ if status >= 500 => Failure::Errored,
                // Transient despite a 4xx status (clock skew, slow upload).
                Some("RequestTimeout" | "RequestTimeoutException" | "RequestExpired") => {
                    Failure::Errored
                }
                _ => Failure::Permanent,
            }
        }
        SdkError::ConstructionFailure(_) => Failure::Permanent,
        _ => Failure::Errored,
    };
    (failure, error_text(e))
}

/// The SDK error with its causes, on one line.
pub(crate) fn error_text(e: &dyn std::error::Error) -> String {
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
                Err((
                    Failure::Throttled,
                    "ServiceUnavailableException: Slow down.".to_string()
                )),
                Err((Failure::Errored, "no per-record answer".to_string()))
            ]
        );
        assert_eq!(record_failure("InternalFailure"), Failure::Errored);
        assert_eq!(
            record_failure("ProvisionedThroughputExceededException"),
            Failure::Throttled
        );
        assert_eq!(record_failure("KMSDisabledException"), Failure::Permanent);
    }

    #[test]
    fn backoff_is_capped_full_jitter() {
        let mut r = Reingester::new(u32::MAX);
        for attempt in 1..40 {
            let ceiling = THROTTLED
                .base
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(THROTTLED.cap);
            let waits: Vec<Duration> = (0..200).map(|_| r.backoff(THROTTLED, attempt)).collect();
            assert!(waits
                .iter()
                .all(|w| *w >= Duration::from_millis(1) && *w <= ceiling));
            // Jittered: not one value repeated.
            assert!(waits.iter().any(|w| *w != waits[0]), "attempt {attempt}");
        }
        let waits: Vec<Duration> = (0..500).map(|_| r.backoff(ERRORED, 30)).collect();
        assert!(waits.iter().all(|w| *w <= ERRORED.cap));
        assert!(waits.iter().any(|w| *w > ERRORED.cap / 2));
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
