//! `cwl-firehose recover`: replays the bucket's `processing-failed/` error
//! output into the stream, the same code as the scheduled replay function
//! (`adapters::recover`): what passes now is put back, what never will is
//! quarantined in a report, progress is recorded so a second run resumes.

use crate::digest::block_on;
use cwl_firehose::adapters::archive::Archive;
use cwl_firehose::adapters::digest::sdk_config;
use cwl_firehose::adapters::recover::{
    recover, Options, DEFAULT_PREFIX, DEFAULT_STATE_PREFIX, ENV_BUCKET, ENV_MAX_REPLAYS,
    ENV_PREFIX, ENV_SOURCE_STREAM, ENV_STATE_PREFIX, ENV_STREAM,
};
use cwl_firehose::adapters::reingest::Reingester;
use cwl_firehose::adapters::settings::Settings;
use cwl_firehose::replay::ledger::{DEFAULT_KEEP_MS, DEFAULT_MAX_REPLAYS};
use cwl_firehose::Transformer;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// The log bucket.
    #[arg(long, env = ENV_BUCKET)]
    bucket: String,
    /// Where the error objects are: the stream's error output prefix and type.
    #[arg(long, env = ENV_PREFIX, default_value = DEFAULT_PREFIX)]
    prefix: String,
    /// Where the ledger, done markers and quarantine reports go.
    #[arg(long, env = ENV_STATE_PREFIX, default_value = DEFAULT_STATE_PREFIX)]
    state_prefix: String,
    /// The delivery stream the records are put back into (ARN, or name).
    #[arg(long, env = ENV_STREAM)]
    stream_arn: String,
    /// The source Kinesis stream, when the delivery stream reads from one.
    #[arg(long, env = ENV_SOURCE_STREAM)]
    source_stream_arn: Option<String>,
    /// How often one record is put back at most, across runs and objects.
    #[arg(long, env = ENV_MAX_REPLAYS, default_value_t = DEFAULT_MAX_REPLAYS)]
    max_replays: u32,
    /// Put back at most this many records in this run (a later run resumes).
    #[arg(long)]
    max_records: Option<usize>,
    /// Stop starting new work after this many seconds (a later run resumes).
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
}

pub fn run(args: Args) -> Result<(), String> {
    if args.max_replays == 0 {
        return Err("--max-replays must be at least 1".into());
    }
    // The transformation function's variables decide records as it would.
    let settings = Settings::from_env()?;
    let options = Options {
        prefix: args.prefix,
        state_prefix: args.state_prefix,
        stream_arn: args.stream_arn,
        source_stream_arn: args.source_stream_arn.filter(|a| !a.is_empty()),
        max_replays: args.max_replays,
        max_records: args.max_records,
        keep_ms: DEFAULT_KEEP_MS,
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.max_seconds);
    let mut transformer = Transformer::new(settings.core.clone());
    let mut reingester =
        Reingester::new(settings.max_attempts).with_call_timeout(settings.reingest_call_timeout);
    let tally = block_on(async {
        let config = sdk_config().await;
        let archive = Archive::connect(&args.bucket, &config).await;
        recover(
            &archive,
            &mut reingester,
            &mut transformer,
            &options,
            deadline,
        )
        .await
    })??;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::to_string(&tally).map_err(|e| format!("internal: {e}"))?
    );
    eprintln!(
        "recover: {}; {:.2} s, {:.0} records/s put back",
        tally.describe(),
        seconds,
        tally.replayed as f64 / seconds.max(1e-3)
    );
    if tally.not_accepted > 0 {
        return Err(format!(
            "{} records were not accepted by the stream; a later run tries them again",
            tally.not_accepted
        ));
    }
    Ok(())
}
