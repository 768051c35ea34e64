//! The Lambda: wires the runtime to [`cwl_firehose::adapters::lambda::handle`].
use cwl_firehose::adapters::lambda::{handle, Function, RejectByteOrderMark};
use cwl_firehose::adapters::secrets::read_pan_key;
use cwl_firehose::adapters::settings::Settings;
use lambda_runtime::{layers::TracingLayer, service_fn, Error, LambdaEvent, Runtime};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let mut settings = Settings::from_env()?;
    read_pan_key(&mut settings).await?;
    let function = Function::new(&settings);
    let function = &function;
    // What `lambda_runtime::run` builds, plus a layer that names a
    // byte-order mark the runtime would only call "expected value".
    Runtime::new(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        handle(function, event)
    }))
    .layer(RejectByteOrderMark)
    .layer(TracingLayer::new())
    .run()
    .await
}
