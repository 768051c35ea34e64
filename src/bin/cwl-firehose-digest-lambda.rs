//! The scheduled digest function: wires the runtime to
//! [`cwl_firehose::adapters::digest::scheduled`]. Each run writes the next
//! digest, verifies the one before it, logs every finding and one EMF line.
use cwl_firehose::adapters::archive::Archive;
use cwl_firehose::adapters::digest::{now_ms, scheduled, sdk_config, Kms, Settings};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = Settings::from_env()?;
    let config = sdk_config().await;
    let archive = Archive::connect(&settings.bucket, &config).await;
    let kms = Kms::new(&config);
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let (settings, archive, kms, function) = (&settings, &archive, &kms, &function);
    lambda_runtime::run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let run = scheduled(archive, kms, settings).await?;
            for finding in &run.report.findings {
                tracing::warn!("{finding}");
            }
            println!("{}", run.emf_line(function, now_ms()));
            Ok::<_, Error>(serde_json::json!({
                "digest": run.written.key,
                "written": run.written.created,
                "objects": run.written.objects,
                "findings": run.report.findings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }))
        },
    ))
    .await
}
