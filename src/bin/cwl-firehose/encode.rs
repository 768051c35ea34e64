//! `cwl-firehose encode`: turn your own logs into a Firehose event, encoded
//! exactly as CloudWatch Logs and Firehose would (gzip level 6, base64).

use crate::{read_input, write_stdout};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cwl_firehose::gzip;
use cwl_firehose::internals::{LogEvent, LogsDocument};
use cwl_firehose::limits::{CWL_EVENT_OVERHEAD, CWL_MAX_BATCH_BYTES, CWL_MAX_BATCH_EVENTS};
use std::borrow::Cow;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Input files (`-` for stdin): CloudWatch Logs documents (one or more
    /// JSON values per file, each becomes one record), or raw log lines with --raw-lines.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Treat inputs as raw log lines: one event per line, batched like CloudWatch Logs.
    #[arg(long)]
    raw_lines: bool,
    /// Log group for --raw-lines.
    #[arg(long, default_value = "/local/app")]
    log_group: String,
    /// Log stream for --raw-lines.
    #[arg(long, default_value = "local")]
    log_stream: String,
    /// Account id for --raw-lines.
    #[arg(long, default_value = "123456789012")]
    owner: String,
    /// Timestamp of the first event for --raw-lines (epoch ms); each next event is 1 ms later.
    #[arg(long, default_value_t = 1_764_300_000_000)]
    start_ms: i64,
    /// Leave records uncompressed (as with Firehose's own CloudWatch Logs decompression on).
    #[arg(long)]
    plain: bool,
    /// The delivery stream ARN written into the event.
    #[arg(
        long,
        default_value = "arn:aws:firehose:us-east-1:123456789012:deliverystream/cwl-firehose-local"
    )]
    stream_arn: String,
}

pub fn run(args: Args) -> Result<(), String> {
    let mut documents: Vec<Vec<u8>> = Vec::new();
    for path in &args.inputs {
        let bytes = read_input(path)?;
        if args.raw_lines {
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
            raw_line_documents(&args, &text, documents.len(), &mut documents)?;
        } else {
            for value in serde_json::Deserializer::from_slice(&bytes)
                .into_iter::<Box<serde_json::value::RawValue>>()
            {
                let value = value.map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
                // Re-serialized through the model: on one line, keys in
                // CloudWatch Logs' order (unknown keys are not kept).
                let doc = LogsDocument::parse(value.get().as_bytes()).map_err(|e| {
                    format!("{}: not a CloudWatch Logs document: {e}", path.display())
                })?;
                documents.push(serde_json::to_vec(&doc).map_err(|e| e.to_string())?);
            }
        }
    }
    let mut out = format!(
        "{{\"invocationId\":\"cwl-firehose-encode\",\"deliveryStreamArn\":{},\"region\":{},\"records\":[",
        serde_json::to_string(&args.stream_arn).map_err(|e| e.to_string())?,
        serde_json::to_string(cwl_firehose::internals::arn_region(&args.stream_arn).unwrap_or("us-east-1"))
            .map_err(|e| e.to_string())?
    );
    for (i, doc) in documents.iter().enumerate() {
        let data = if args.plain {
            STANDARD.encode(doc)
        } else {
            STANDARD.encode(gzip(doc))
        };
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "\n{{\"recordId\":\"{:056}\",\"approximateArrivalTimestamp\":{},\"data\":\"{data}\"}}",
            i + 1,
            args.start_ms
        ));
    }
    out.push_str("\n]}\n");
    write_stdout(out.as_bytes())
}

/// Batches raw lines into DATA_MESSAGE documents within CloudWatch Logs' limits.
fn raw_line_documents(
    args: &Args,
    text: &str,
    first_id: usize,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), String> {
    let filters = vec![Cow::Borrowed("cwl-firehose-encode")];
    let mut events: Vec<LogEvent> = Vec::new();
    let mut bytes = 0;
    let flush = |events: &mut Vec<LogEvent>, out: &mut Vec<Vec<u8>>| -> Result<(), String> {
        if events.is_empty() {
            return Ok(());
        }
        let doc = LogsDocument {
            message_type: Cow::Borrowed(cwl_firehose::DATA_MESSAGE),
            owner: Cow::Borrowed(&args.owner),
            log_group: Cow::Borrowed(&args.log_group),
            log_stream: Cow::Borrowed(&args.log_stream),
            subscription_filters: filters.clone(),
            log_events: std::mem::take(events),
        };
        out.push(serde_json::to_vec(&doc).map_err(|e| e.to_string())?);
        Ok(())
    };
    for (n, line) in text.lines().enumerate() {
        let size = line.len() + CWL_EVENT_OVERHEAD;
        if events.len() == CWL_MAX_BATCH_EVENTS
            || (bytes + size > CWL_MAX_BATCH_BYTES && !events.is_empty())
        {
            flush(&mut events, out)?;
            bytes = 0;
        }
        let seq = first_id + n;
        events.push(LogEvent {
            // CloudWatch Logs ids are 56 decimal digits.
            id: Cow::Owned(format!("{seq:056}")),
            timestamp: args.start_ms + n as i64,
            message: Cow::Borrowed(line),
            extracted_fields: None,
        });
        bytes += size;
    }
    flush(&mut events, out)
}
