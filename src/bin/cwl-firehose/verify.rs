//! `cwl-firehose verify`: walks the digest chain with the public key and
//! checks the objects it lists; every finding on stdout, named by key, and a
//! non-zero exit status when there is any.

use crate::digest::block_on;
use cwl_firehose::adapters::archive::Archive;
use cwl_firehose::adapters::digest::{
    sdk_config, verify, Kms, Scope, DEFAULT_PREFIX, ENV_BUCKET, ENV_KEY_ID, ENV_PREFIX,
};
use cwl_firehose::integrity::signature::PublicKey;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The log bucket.
    #[arg(long, env = ENV_BUCKET)]
    bucket: String,
    /// The signing key, to fetch its public half (kms:GetPublicKey).
    #[arg(long, env = ENV_KEY_ID, required_unless_present = "public_key")]
    key_id: Option<String>,
    /// The public key as a PEM or DER file instead (no KMS call at all).
    #[arg(long, conflicts_with = "key_id")]
    public_key: Option<PathBuf>,
    /// Where digests are stored in the bucket.
    #[arg(long, env = ENV_PREFIX, default_value = DEFAULT_PREFIX)]
    prefix: String,
    /// Check digests listed from this time on (RFC 3339, e.g. 2026-12-01T00:00:00Z,
    /// or epoch seconds); the whole chain by default.
    #[arg(long, value_parser = parse_time)]
    since: Option<i64>,
    /// Check digests listed until this time.
    #[arg(long, value_parser = parse_time)]
    until: Option<i64>,
    /// A finding when the newest digest is older than this (0: never).
    #[arg(long, default_value_t = 7200)]
    max_age_seconds: i64,
}

/// RFC 3339 or epoch seconds → epoch milliseconds.
fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs.saturating_mul(1000));
    }
    aws_sdk_s3::primitives::DateTime::from_str(s, aws_sdk_s3::primitives::DateTimeFormat::DateTime)
        .map_err(|e| format!("{s:?} is neither RFC 3339 nor epoch seconds: {e}"))?
        .to_millis()
        .map_err(|e| e.to_string())
}

pub fn run(args: Args) -> Result<(), String> {
    let scope = Scope {
        since_ms: args.since,
        until_ms: args.until,
        max_age_ms: (args.max_age_seconds > 0).then(|| args.max_age_seconds.saturating_mul(1000)),
    };
    let file_key = match &args.public_key {
        Some(path) => Some(PublicKey::from_pem_or_der(&crate::read_input(path)?)?),
        None => None,
    };
    let report = block_on(async {
        let config = sdk_config().await;
        let public = match (file_key, &args.key_id) {
            (Some(k), _) => k,
            (None, Some(id)) => PublicKey::from_der(&Kms::new(&config).public_key(id).await?.1)?,
            (None, None) => return Err("give --key-id or --public-key".to_string()),
        };
        let archive = Archive::connect(&args.bucket, &config).await;
        verify(&archive, &public, &args.prefix, &scope).await
    })??;
    for f in &report.findings {
        println!("{f}");
    }
    eprintln!(
        "verify: {} digests, {} objects checked, {} bytes hashed, {} findings",
        report.digests,
        report.objects,
        report.bytes_hashed,
        report.findings.len()
    );
    if report.findings.is_empty() {
        Ok(())
    } else {
        Err(format!("{} findings (see above)", report.findings.len()))
    }
}
