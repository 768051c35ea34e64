//! The scheduled replay function: wires the runtime to
//! [`cwl_firehose::adapters::recover::recover`]. Each run puts the
//! `processing-failed/` records that can pass back into the stream,
//! quarantines the rest, records its progress, and logs one EMF line.
use cwl_firehose::adapters::archive::Archive;
use cwl_firehose::adapters::digest::{now_ms, sdk_config};
use cwl_firehose::adapters::lambda::{deadline_instant, Now};
use cwl_firehose::adapters::recover::{recover, Settings};
use cwl_firehose::adapters::reingest::Reingester;
use cwl_firehose::adapters::settings::Settings as Transformation;
use cwl_firehose::Transformer;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::time::Duration;
use tokio::sync::Mutex;

/// Kept back from the invocation's deadline for the last ledger write and
/// the answer.
const MARGIN: Duration = Duration::from_millis(1500);
/// The run's length when the context has no usable deadline (local emulators).
const NO_DEADLINE: Duration = Duration::from_secs(60);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = Settings::from_env()?;
    // The transformation function's variables: records are decided exactly
    // as it would decide them.
    let transformation = Transformation::from_env()?;
    let config = sdk_config().await;
    let archive = Archive::connect(&settings.bucket, &config).await;
    let state = Mutex::new((
        Transformer::new(transformation.core.clone()),
        Reingester::new(transformation.max_attempts)
            .with_call_timeout(transformation.reingest_call_timeout),
    ));
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let (settings, archive, state, function) = (&settings, &archive, &state, &function);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let now = Now::read();
            let deadline = deadline_instant(event.context.deadline, now)
                .map_or(now.instant + NO_DEADLINE, |d| {
                    d.checked_sub(MARGIN).unwrap_or(now.instant)
                });
            let mut guard = state.lock().await;
            let (transformer, reingester) = &mut *guard;
            let tally = recover(
                archive,
                reingester,
                transformer,
                &settings.options,
                deadline,
            )
            .await?;
            tracing::info!("replay: {}", tally.describe());
            println!("{}", tally.emf_line(function, now_ms()));
            Ok::<_, Error>(serde_json::to_value(&tally)?)
        },
    ))
    .await
}
