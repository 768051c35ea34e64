//! `cwl-firehose replay FILE…`: reads Firehose's `processing-failed/` error
//! output (one JSON object per line with the original record as base64
//! `rawData`; gzip objects are read too) and either prints the lines the
//! records give now (`--lines`) or writes a Firehose event with them, for
//! `transform` or for re-ingestion. Nothing is dropped silently: every line
//! that is not an error record and every record that still fails is reported,
//! and the exit status says so.

use crate::{read_input_capped, write_stdout};
use base64::Engine;
use cwl_firehose::adapters::settings::Settings;
use cwl_firehose::limits::MAX_FAILED_OBJECT;
use cwl_firehose::replay::error_output::{object_text, parse};
use cwl_firehose::FirehoseEvent;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Error output files from the processing-failed/ prefix (`-` for stdin).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Print the NDJSON lines the records give now instead of a Firehose event.
    #[arg(long)]
    lines: bool,
    /// The delivery stream ARN written into the event.
    #[arg(
        long,
        default_value = "arn:aws:firehose:us-east-1:123456789012:deliverystream/cwl-firehose-replay"
    )]
    stream_arn: String,
}

pub fn run(args: Args) -> Result<(), String> {
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();
    let mut records: Vec<(String, String)> = Vec::new();
    let mut unreadable = 0usize;
    let mut bytes_read = 0usize;
    for (n, path) in args.inputs.iter().enumerate() {
        let bytes = read_input_capped(path, MAX_FAILED_OBJECT)?;
        bytes_read += bytes.len();
        let text = object_text(bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let object = parse(&text);
        for u in &object.unreadable {
            unreadable += 1;
            eprintln!("{}:{}: {}", path.display(), u.line, u.reason);
        }
        for r in object.records {
            records.push((
                format!("{}:{}", path.display(), r.line),
                base64::engine::general_purpose::STANDARD.encode(&r.data),
            ));
        }
        if progress {
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            eprint!(
                "\rreplay: {}/{} files, {} records, {:.1} MB/s",
                n + 1,
                args.inputs.len(),
                records.len(),
                bytes_read as f64 / 1e6 / secs
            );
        }
    }
    if progress {
        eprintln!();
    }
    let event = event_json(&args.stream_arn, &records)?;
    let mut still_failing = 0;
    if args.lines {
        let mut settings = Settings::from_env()?;
        // Every record is transformed: there is no response to keep small.
        settings.core.response_budget = None;
        settings.core.reingest = false;
        settings.core.keep_lines = true;
        let parsed = FirehoseEvent::parse(&event).map_err(|e| format!("internal: {e}"))?;
        let response = crate::transform::run_invocation(&settings, &parsed)?;
        for failure in &response.failures {
            eprintln!("{}: still fails: {}", failure.record_id, failure.error);
        }
        still_failing = response.failures.len();
        write_stdout(response.lines())?;
    } else {
        write_stdout(&event)?;
    }
    eprintln!(
        "replay: {} records read, {} lines unreadable, {} records still failing, {:.2} s",
        records.len(),
        unreadable,
        still_failing,
        started.elapsed().as_secs_f64()
    );
    if unreadable + still_failing > 0 {
        return Err(format!(
            "{} inputs were not replayed (see above)",
            unreadable + still_failing
        ));
    }
    Ok(())
}

fn event_json(stream_arn: &str, records: &[(String, String)]) -> Result<Vec<u8>, String> {
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|(id, data)| serde_json::json!({"recordId": id, "data": data}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "invocationId": "cwl-firehose-replay",
        "deliveryStreamArn": stream_arn,
        "records": records,
    }))
    .map_err(|e| e.to_string())
}
