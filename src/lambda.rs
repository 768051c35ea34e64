//! The Lambda adapter: event bytes in, response bytes out, one summary line
//! per invocation and one warning per failed record (its id and reason, never
//! its payload). Re-ingestion happens here, between the core's two phases.

use crate::config::Settings;
use crate::firehose::{byte_order_mark, FirehoseEvent};
use crate::metrics::{emf_line, AdapterCounts};
use crate::reingest::{Reingester, Target};
use crate::Transformer;
use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::{Error, LambdaEvent, LambdaInvocation};
use serde_json::value::RawValue;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// Time kept back from the invocation's deadline to send the response.
const RESPONSE_MARGIN: Duration = Duration::from_millis(1500);
/// Re-ingestion time when the context has no usable deadline.
const NO_DEADLINE_REINGEST_TIME: Duration = Duration::from_secs(60);
/// Share of the remaining time the transformation may use; the rest is for
/// re-ingestion.
const TRANSFORM_SHARE: f64 = 0.6;

/// The function's state, kept warm across invocations.
#[derive(Debug)]
pub struct Function {
    inner: Mutex<(Transformer, Reingester)>,
}

impl Function {
    pub fn new(settings: &Settings) -> Self {
        Self {
            inner: Mutex::new((
                Transformer::new(settings.core.clone()),
                Reingester::new(settings.max_attempts)
                    .with_call_timeout(settings.reingest_call_timeout),
            )),
        }
    }
}

/// The handler: a Firehose transformation event in, the response out. Fails
/// only when the input is not a Firehose event at all.
pub async fn handle(
    function: &Function,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<Box<RawValue>, Error> {
    let started = Instant::now();
    let (payload, context) = event.into_parts();
    let event = FirehoseEvent::parse(payload.get().as_bytes()).map_err(|e| {
        let reason = input_error(payload.get()).unwrap_or_else(|| e.to_string());
        format!("not a Firehose transformation event: {reason}")
    })?;
    let (transform_deadline, end) = match deadline_instant(context.deadline, started) {
        Some(deadline) => {
            let end = deadline
                .checked_sub(RESPONSE_MARGIN)
                .unwrap_or(started)
                .max(started);
            let share = end
                .saturating_duration_since(started)
                .mul_f64(TRANSFORM_SHARE);
            (Some(started + share), end)
        }
        None => {
            // Lambda always sends a future epoch deadline; local emulators
            // may not (cargo lambda sends the timeout as a duration). Failing
            // every record for that would be worse than running unbounded.
            tracing::warn!(
                deadline_ms = context.deadline,
                "the invocation deadline is not in the future; ignoring it"
            );
            (None, started + NO_DEADLINE_REINGEST_TIME)
        }
    };

    let mut guard = function.inner.lock().await;
    let (transformer, reingester) = &mut *guard;
    let batch = transformer.process(&event, transform_deadline);
    let target = Target::for_event(
        &event.delivery_stream_arn,
        event.source_kinesis_stream_arn.as_deref(),
    );
    let (outcomes, stats) = reingester.put(&target, &batch.reingest, end).await;
    let (response, summary, failures) = batch.finish(&outcomes);
    for (record_id, reason) in &failures {
        tracing::warn!(record_id = %record_id, reason = %reason, "record failed");
    }
    tracing::info!(
        records_in = summary.records_in,
        ok = summary.ok,
        dropped = summary.dropped,
        processing_failed = summary.processing_failed,
        events_out = summary.events_out,
        bytes_in = summary.bytes_in,
        bytes_out = summary.bytes_out,
        response_bytes = summary.response_bytes,
        reingested = summary.reingested,
        split = summary.split,
        parts = summary.parts,
        masked_pans = summary.masked_pans,
        reingest_calls = stats.calls,
        reingest_retries = stats.retries,
        reingest_failed = stats.failed,
        reingest_attempts = stats.attempts,
        reingest_throttled = stats.throttled,
        reingest_call_errors = stats.call_errors,
        duration_ms = started.elapsed().as_millis() as u64,
        "invocation summary"
    );
    // EMF goes to stdout as a line of its own (not through tracing, whose
    // JSON format would wrap it), where CloudWatch extracts the metrics.
    let counts = AdapterCounts {
        reingest_retries: stats.retries,
        reingest_failed: stats.failed,
        masked_pans: summary.masked_pans,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    println!(
        "{}",
        emf_line(
            &function_name,
            event.delivery_stream_name(),
            now_ms,
            &summary,
            &counts
        )
    );
    // The core writes valid JSON; the check is the runtime's only way in.
    let text = String::from_utf8(response).map_err(|e| format!("response is not UTF-8: {e}"))?;
    Ok(RawValue::from_string(text)?)
}

/// The context's deadline (epoch milliseconds) as an `Instant`, or `None`
/// when it is not in the future.
pub fn deadline_instant(deadline_ms: u64, now: Instant) -> Option<Instant> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let remaining = deadline_ms.checked_sub(now_ms).filter(|&ms| ms > 0)?;
    now.checked_add(Duration::from_millis(remaining))
}

/// The key of the object [`RejectByteOrderMark`] puts in place of a payload.
const INPUT_ERROR_KEY: &str = "cwlFirehoseInputError";

/// The reason [`RejectByteOrderMark`] left in place of a payload, if it did.
fn input_error(payload: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(payload).ok()?;
    Some(value.get(INPUT_ERROR_KEY)?.as_str()?.to_string())
}

/// A runtime layer that names a byte-order mark before the runtime parses the
/// payload (which would fail with only "expected value at line 1 column 1"
/// and never reach the handler): the payload is replaced by an object
/// carrying the reason, and [`handle`] fails the invocation with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RejectByteOrderMark;

impl<S> Layer<S> for RejectByteOrderMark {
    type Service = RejectByteOrderMarkService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RejectByteOrderMarkService { inner }
    }
}

/// The service [`RejectByteOrderMark`] wraps around the runtime's.
#[derive(Debug, Clone)]
pub struct RejectByteOrderMarkService<S> {
    inner: S,
}

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for RejectByteOrderMarkService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        if let Some(reason) = byte_order_mark(&invocation.body) {
            let marker = serde_json::json!({ INPUT_ERROR_KEY: reason });
            invocation.body = marker.to_string().into_bytes().into();
        }
        self.inner.call(invocation)
    }
}
