//! `cwl-firehose transform EVENT.json`: the Lambda's response, or with
//! `--lines` the NDJSON that would land in S3.

use crate::{read_input, write_stdout};
use cwl_firehose::adapters::group_tags::GroupTagReader;
use cwl_firehose::adapters::invocation::{invoke, Deadlines};
use cwl_firehose::adapters::reingest::Reingester;
use cwl_firehose::adapters::settings::Settings;
use cwl_firehose::{FirehoseEvent, OutputFormat, Response, Transformer};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long re-ingestion may take from the CLI (the Lambda uses its deadline).
const CLI_REINGEST_TIME: Duration = Duration::from_secs(120);

#[derive(clap::Args)]
pub struct Args {
    /// The Firehose event (JSON); `-` reads stdin.
    pub(crate) event: PathBuf,
    /// Print the decoded lines of Ok records (what lands in S3) instead of the response.
    #[arg(long)]
    lines: bool,
    /// Turn the response budget off: every record is transformed (benchmarks).
    #[arg(long, conflicts_with = "budget")]
    no_budget: bool,
    /// Response budget in bytes [env: RESPONSE_BUDGET]
    #[arg(long, value_name = "BYTES")]
    budget: Option<usize>,
    /// Mark records that overflow the budget ProcessingFailed instead of re-ingesting them.
    #[arg(long)]
    no_reingest: bool,
    /// Largest inflated record in bytes [env: INFLATE_CAP]
    #[arg(long, value_name = "BYTES")]
    inflate_cap: Option<usize>,
    /// json or message [env: OUTPUT_FORMAT]
    #[arg(long, value_name = "FORMAT")]
    output_format: Option<OutputFormat>,
    /// Add an ISO-8601 `time` field [env: ADD_TIME]
    #[arg(long)]
    add_time: bool,
    /// Merge the fields of JSON-object messages into the line [env: MERGE_JSON_MESSAGE]
    #[arg(long)]
    merge_json_message: bool,
    /// Return metadata.partitionKeys [env: PARTITION_KEYS]
    #[arg(long)]
    partition_keys: bool,
    /// Mask card numbers and CVV fields [env: MASK_PAN]
    #[arg(long)]
    mask_pan: bool,
    /// first6last4 or last4 [env: MASK_PAN_KEEP]
    #[arg(long, value_name = "KEEP")]
    mask_pan_keep: Option<cwl_firehose::Keep>,
    /// Attempts per re-ingested record [env: REINGEST_MAX_ATTEMPTS]
    #[arg(long, value_name = "N")]
    max_attempts: Option<u32>,
}

impl Args {
    pub(crate) fn settings(&self) -> Result<Settings, String> {
        let mut s = Settings::from_env()?;
        let core = &mut s.core;
        if self.no_budget {
            core.response_budget = None;
        }
        if let Some(b) = self.budget {
            core.response_budget = Some(b);
        }
        core.reingest &= !self.no_reingest;
        if let Some(cap) = self.inflate_cap {
            core.inflate_cap = cap;
        }
        if let Some(f) = self.output_format {
            core.lines.format = f;
        }
        core.lines.add_time |= self.add_time;
        core.lines.merge_json_message |= self.merge_json_message;
        core.partition_keys |= self.partition_keys;
        if self.mask_pan || self.mask_pan_keep.is_some() {
            let keep = self.mask_pan_keep.or(core.lines.mask).unwrap_or_default();
            core.lines.mask = Some(keep);
        }
        if let Some(n) = self.max_attempts {
            s.max_attempts = n.max(1);
        }
        Ok(s)
    }
}

pub fn run(args: Args) -> Result<(), String> {
    let mut settings = args.settings()?;
    // `--lines` prints the lines as they were written, not decoded back
    // from the response's base64.
    settings.core.keep_lines = args.lines;
    let input = read_input(&args.event)?;
    let event = FirehoseEvent::parse(&input).map_err(|e| format!("not a Firehose event: {e}"))?;
    let response = run_invocation(&settings, &event)?;
    for failure in &response.failures {
        eprintln!(
            "record {}: ProcessingFailed: {}",
            failure.record_id, failure.error
        );
    }
    eprintln!("{}", response.summary);
    if args.lines {
        write_stdout(response.lines())
    } else {
        write_stdout(&response.bytes)
    }
}

/// One invocation, as the Lambda runs it: the CLI's deadline is
/// [`CLI_REINGEST_TIME`] from now, and only re-ingestion has one.
pub fn run_invocation<'e>(
    settings: &Settings,
    event: &'e FirehoseEvent<'e>,
) -> Result<Response<'e>, String> {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let mut transformer = Transformer::new(settings.core.clone());
    let mut reingester =
        Reingester::new(settings.max_attempts).with_call_timeout(settings.reingest_call_timeout);
    let mut tag_reader = GroupTagReader::new(settings.group_tags_ttl);
    let deadlines = Deadlines {
        transform: None,
        reingest: started + CLI_REINGEST_TIME,
    };
    Ok(runtime.block_on(invoke(
        &mut transformer,
        &mut reingester,
        &mut tag_reader,
        event,
        deadlines,
        started,
    )))
}
