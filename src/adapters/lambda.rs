//! The Lambda adapter: event bytes in, response bytes out, one summary line
//! and one EMF line per invocation, and one warning per failed record (its id
//! and reason, never its payload).

use super::invocation::{invoke, Deadlines};
use super::metrics::emf_line;
use super::reingest::Reingester;
use super::settings::Settings;
use crate::firehose::{byte_order_mark, FirehoseEvent};
use crate::pipeline::Transformer;
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
    /// The function for `settings`: its buffers and SDK clients live as long
    /// as the process.
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

/// The response, handed to the runtime as the JSON bytes the core wrote.
#[derive(Debug)]
pub struct JsonResponse(String);

impl JsonResponse {
    /// The response text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for JsonResponse {
    /// Written as it is, like a `RawValue`, without the full JSON parse that
    /// `RawValue::from_string` would run over every invocation's (up to 6 MB)
    /// response: serde_json writes a struct of this name verbatim. What proves
    /// the bytes are JSON: the core writes every byte of the response from
    /// escaped strings, integers and base64 (`firehose.rs`, `json.rs`), and
    /// `tests/golden.rs` and the `record_data` fuzz target parse every
    /// response it writes.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        const RAW_VALUE: &str = "$serde_json::private::RawValue";
        let mut s = serializer.serialize_struct(RAW_VALUE, 1)?;
        s.serialize_field(RAW_VALUE, &self.0)?;
        s.end()
    }
}

/// The handler: a Firehose transformation event in, the response out. Fails
/// only when the input is not a Firehose event at all.
pub async fn handle(
    function: &Function,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<JsonResponse, Error> {
    let started = Instant::now();
    let (payload, context) = event.into_parts();
    let event = FirehoseEvent::parse(payload.get().as_bytes()).map_err(|e| {
        let reason = input_error(payload.get()).unwrap_or_else(|| e.to_string());
        format!("not a Firehose transformation event: {reason}")
    })?;
    let deadlines = match deadline_instant(context.deadline, started) {
        Some(deadline) => {
            let end = deadline
                .checked_sub(RESPONSE_MARGIN)
                .unwrap_or(started)
                .max(started);
            let share = end
                .saturating_duration_since(started)
                .mul_f64(TRANSFORM_SHARE);
            Deadlines {
                transform: Some(started + share),
                reingest: end,
            }
        }
        None => {
            // Lambda always sends a future epoch deadline; local emulators
            // may not (cargo lambda sends the timeout as a duration). Failing
            // every record for that would be worse than running unbounded.
            tracing::warn!(
                deadline_ms = context.deadline,
                "the invocation deadline is not in the future; ignoring it"
            );
            Deadlines {
                transform: None,
                reingest: started + NO_DEADLINE_REINGEST_TIME,
            }
        }
    };

    let mut guard = function.inner.lock().await;
    let (transformer, reingester) = &mut *guard;
    let response = invoke(transformer, reingester, &event, deadlines, started).await;
    for failure in &response.failures {
        tracing::warn!(record_id = %failure.record_id, reason = %failure.error, "record failed");
    }
    tracing::info!(summary = %response.summary, "invocation summary");
    // EMF goes to stdout as a line of its own (not through tracing, whose
    // JSON format would wrap it), where CloudWatch extracts the metrics.
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
            &response.summary
        )
    );
    let text =
        String::from_utf8(response.bytes).map_err(|e| format!("response is not UTF-8: {e}"))?;
    Ok(JsonResponse(text))
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
