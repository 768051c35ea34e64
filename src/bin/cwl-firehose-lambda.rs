//! The Lambda: wires the runtime to [`cwl_firehose::adapters::lambda::handle`].
use cwl_firehose::adapters::lambda::{handle, Function};
use cwl_firehose::adapters::settings::Settings;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let function = Function::new(&Settings::from_env()?);
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        handle(function, event)
    }))
    .await
}
