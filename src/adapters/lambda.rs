//! The Lambda adapter: event bytes in, response bytes out, one summary line
//! and one EMF line per invocation, and one warning per failed record (its id
//! and reason, never its payload).

use super::group_tags::GroupTagReader;
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
    inner: Mutex<(Transformer, Reingester, GroupTagReader)>,
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
                GroupTagReader::new(settings.group_tags_ttl),
            )),
        }
    }
}

/// The response: the JSON bytes the core wrote, as a `RawValue`, which
/// serde_json (and so the runtime) writes out as they are.
#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
pub struct JsonResponse(Box<RawValue>);

impl JsonResponse {
    /// The response text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

/// When an invocation starts, by both clocks: the monotonic one its
/// deadlines are kept in, and the wall clock Lambda writes the context's
/// deadline in (and EMF its timestamps). Read once, so the handler can be
/// run at a time of the caller's choosing.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// The monotonic clock.
    pub instant: Instant,
    /// The wall clock, in milliseconds since the Unix epoch.
    pub epoch_ms: u64,
}

impl Now {
    /// Both clocks, now.
    pub fn read() -> Self {
        Self {
            instant: Instant::now(),
            epoch_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
    }
}

/// The handler: a Firehose transformation event in, the response out. Fails
/// only when the input is not a Firehose event at all.
pub async fn handle(
    function: &Function,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<JsonResponse, Error> {
    handle_at(function, event, Now::read()).await
}

/// [`handle`], started at `now`.
pub async fn handle_at(
    function: &Function,
    event: LambdaEvent<Box<RawValue>>,
    now: Now,
) -> Result<JsonResponse, Error> {
    let started = now.instant;
    let (payload, context) = event.into_parts();
    let event = FirehoseEvent::parse(payload.get().as_bytes()).map_err(|e| {
        let reason = input_error(payload.get()).unwrap_or_else(|| e.to_string());
        format!("not a Firehose transformation event: {reason}")
    })?;
    let deadlines = match deadline_instant(context.deadline, now) {
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
    let (transformer, reingester, tag_reader) = &mut *guard;
    let response = invoke(
        transformer,
        reingester,
        tag_reader,
        &event,
        deadlines,
        started,
    )
    .await;
    for failure in &response.failures {
        tracing::warn!(record_id = %failure.record_id, reason = %failure.error, "record failed");
    }
    tracing::info!(summary = %response.summary, "invocation summary");
    // EMF goes to stdout as a line of its own (not through tracing, whose
    // JSON format would wrap it), where CloudWatch extracts the metrics.
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    println!(
        "{}",
        emf_line(
            &function_name,
            event.delivery_stream_name(),
            now.epoch_ms.saturating_add(elapsed_ms),
            &response.summary
        )
    );
    let text =
        String::from_utf8(response.bytes).map_err(|e| format!("response is not UTF-8: {e}"))?;
    // serde_json's public way to write bytes as they are: one pass over them
    // proves they are one JSON value (a bug would fail the invocation here,
    // not hand Firehose a response it cannot read), and the string is kept,
    // not copied.
    let raw = RawValue::from_string(text).map_err(|e| format!("response is not JSON: {e}"))?;
    Ok(JsonResponse(raw))
}

/// The context's deadline (epoch milliseconds) as an `Instant`, or `None`
/// when it is not after `now`.
pub fn deadline_instant(deadline_ms: u64, now: Now) -> Option<Instant> {
    let remaining = deadline_ms.checked_sub(now.epoch_ms).filter(|&ms| ms > 0)?;
    now.instant.checked_add(Duration::from_millis(remaining))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed wall clock: the tests never read the real one.
    fn now() -> Now {
        Now {
            instant: Instant::now(),
            epoch_ms: 1_764_300_000_000,
        }
    }

    fn fixture(rel: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn handle_event(event: Vec<u8>, deadline_ms: u64, now: Now) -> Result<JsonResponse, Error> {
        let function = Function::new(&Settings::default());
        let payload = RawValue::from_string(String::from_utf8(event).unwrap()).unwrap();
        let mut context = lambda_runtime::Context::default();
        context.deadline = deadline_ms;
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(handle_at(
                &function,
                LambdaEvent::new(payload, context),
                now,
            ))
    }

    /// The runtime writes a buffered response with `serde_json::to_vec`:
    /// that gives exactly the bytes the core wrote.
    #[test]
    fn the_runtime_writes_the_core_bytes_as_they_are() {
        for name in ["data-message", "mixed-batch", "multiline-unicode"] {
            let event = fixture(&format!("events/{name}.json"));
            let response = handle_event(event, now().epoch_ms + 300_000, now()).unwrap();
            let written = serde_json::to_vec(&response).unwrap();
            assert!(
                written == fixture(&format!("expected/{name}.response.json")),
                "{name}"
            );
        }
    }

    #[test]
    fn deadlines_are_read_against_the_given_clock() {
        let now = now();
        assert_eq!(
            deadline_instant(now.epoch_ms + 2500, now),
            Some(now.instant + Duration::from_millis(2500))
        );
        assert_eq!(deadline_instant(now.epoch_ms, now), None);
        assert_eq!(deadline_instant(now.epoch_ms - 1, now), None);
        assert_eq!(deadline_instant(0, now), None);
    }
}
