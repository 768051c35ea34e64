//! `cwl-firehose digest`: writes the next signed digest of the log bucket,
//! the same code as the scheduled function (`adapters::digest`).

use cwl_firehose::adapters::archive::Archive;
use cwl_firehose::adapters::digest::{
    sdk_config, write_digest, Kms, Layout, DEFAULT_PREFIX, ENV_BUCKET, ENV_KEY_ID,
    ENV_LATE_ARRIVAL, ENV_PREFIX,
};
use cwl_firehose::integrity::select::DEFAULT_LATE_ARRIVAL_MS;
use std::future::Future;

#[derive(clap::Args)]
pub struct Args {
    /// The log bucket.
    #[arg(long, env = ENV_BUCKET)]
    bucket: String,
    /// The KMS key that signs (ECC_NIST_P256, SIGN_VERIFY): id, ARN or alias.
    #[arg(long, env = ENV_KEY_ID)]
    key_id: String,
    /// Where digests are stored in the bucket (never digested themselves).
    #[arg(long, env = ENV_PREFIX, default_value = DEFAULT_PREFIX)]
    prefix: String,
    /// How long after its LastModified an object may still become visible
    /// (multipart uploads are dated when they start).
    #[arg(long, env = ENV_LATE_ARRIVAL, default_value_t = DEFAULT_LATE_ARRIVAL_MS / 1000)]
    late_arrival_seconds: i64,
}

/// Runs `future` on a current-thread runtime.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| rt.block_on(future))
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

pub fn run(args: Args) -> Result<(), String> {
    if args.late_arrival_seconds < 0 {
        return Err("--late-arrival-seconds must not be negative".into());
    }
    let layout = Layout {
        prefix: args.prefix,
        late_arrival_ms: args.late_arrival_seconds.saturating_mul(1000),
    };
    let written = block_on(async {
        let config = sdk_config().await;
        let archive = Archive::connect(&args.bucket, &config).await;
        write_digest(&archive, &Kms::new(&config), &args.key_id, &layout).await
    })??;
    if written.created {
        let lock = written.retention.as_ref().map_or(String::new(), |r| {
            format!(", Object Lock {} {} days", r.mode.as_str(), r.days)
        });
        println!("{}", written.key);
        eprintln!(
            "digest: wrote {} (sequence {}, {} objects, {} bytes hashed{lock})",
            written.key, written.sequence, written.objects, written.bytes_hashed
        );
    } else {
        eprintln!(
            "digest: {} was written by another run meanwhile; nothing written",
            written.key
        );
    }
    Ok(())
}
