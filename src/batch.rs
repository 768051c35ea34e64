//! The batch: records in, one decision per record, the response out.
//!
//! Processing has two phases so that the core never talks to AWS:
//! [`Transformer::process`] decides every record (Ok, Dropped, failed, or to
//! be re-ingested, split if it must be) within the response budget, and
//! [`Batch::finish`] writes the response once the adapter reports which
//! re-ingested records were accepted. A record is `Dropped` for overflow only
//! after its re-ingestion succeeded.

use crate::cwl::{LogsDocument, MessageType};
use crate::decode::{gzip, Decoder, DEFAULT_INFLATE_CAP};
use crate::error::RecordError;
use crate::firehose::{
    bare_entry_len, open_entry, push_bare_entry, FirehoseEvent, FirehoseRecord, RESPONSE_CLOSE,
    RESPONSE_OPEN, RESULT_DROPPED, RESULT_OK, RESULT_PROCESSING_FAILED,
};
use crate::lines::{LineOptions, LineWriter};
use crate::partition::push_partition_keys_for;
use crate::prefault::populate_spare;
use crate::scan::{write_lines, Scan};
use crate::split::{split_document, SplitLimits};
use std::ops::Range;
use std::time::Instant;

/// Default response budget: AWS's figure, under Lambda's 6 MiB payload limit.
pub const DEFAULT_RESPONSE_BUDGET: usize = 6_000_000;

/// The largest record Firehose (`PutRecordBatch`) and Kinesis accept: 1,000 KiB.
pub const MAX_PUT_RECORD_BYTES: usize = 1_024_000;

/// Everything the core needs to know; adapters fill it from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Largest inflated record, in bytes.
    pub inflate_cap: usize,
    /// Largest response, in serialized bytes; `None` turns budgeting off.
    pub response_budget: Option<usize>,
    /// Whether records that overflow the budget are handed to re-ingestion
    /// (else they become `ProcessingFailed`).
    pub reingest: bool,
    /// Return `metadata.partitionKeys` for dynamic partitioning.
    pub partition_keys: bool,
    pub lines: LineOptions,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            inflate_cap: DEFAULT_INFLATE_CAP,
            response_budget: Some(DEFAULT_RESPONSE_BUDGET),
            reingest: true,
            partition_keys: false,
            lines: LineOptions::default(),
        }
    }
}

/// Why a record was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// A CONTROL_MESSAGE (the subscription's health check).
    Control,
    /// A DATA_MESSAGE with no events.
    NoEvents,
    /// It did not fit in the response and was re-ingested as `parts`
    /// documents (`split` when more than the record as it came); its events
    /// arrive in a later invocation.
    Reingested { split: bool, parts: usize },
}

/// What happens to one input record.
#[derive(Debug)]
pub enum Disposition {
    /// Transformed; the entry's bytes are in the batch's buffer.
    Ok {
        entry: Range<usize>,
        events: usize,
    },
    Dropped(DropReason),
    Failed(RecordError),
    /// Did not fit: its `parts` (indexes into [`Batch::reingest`]) must be
    /// re-ingested; `split` when the record was divided. Resolved by
    /// [`Batch::finish`] into `Dropped` or `Failed`.
    Reingest {
        parts: Range<usize>,
        split: bool,
    },
}

/// One record to write back to the stream (Firehose) or its source (Kinesis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReingestRecord {
    /// Index of the input record it came from.
    pub origin: usize,
    /// gzip of a CloudWatch Logs document, as CloudWatch Logs writes it.
    pub data: Vec<u8>,
    /// The origin's Kinesis partition key, when the event has one.
    pub partition_key: Option<String>,
}

/// Counts for the invocation's summary line and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub records_in: usize,
    pub ok: usize,
    pub dropped: usize,
    pub processing_failed: usize,
    pub events_out: usize,
    /// base64 characters of `data` received.
    pub bytes_in: usize,
    /// Line bytes written into Ok records (before base64).
    pub bytes_out: usize,
    /// Records handed to re-ingestion as they were.
    pub reingested: usize,
    /// Records split into several documents for re-ingestion.
    pub split: usize,
    /// Documents re-ingested (as-is records plus split parts).
    pub parts: usize,
    /// Serialized response size.
    pub response_bytes: usize,
    /// Card numbers and verification codes masked (records in the response).
    pub masked_pans: usize,
}

/// The decisions for one event, waiting for re-ingestion outcomes.
#[derive(Debug)]
pub struct Batch {
    pub dispositions: Vec<Disposition>,
    /// Records to re-ingest, in order; empty when nothing overflowed.
    pub reingest: Vec<ReingestRecord>,
    /// The response being written in place: `{"records":[`, then each
    /// decided entry in order. Without re-ingestion it is the response once
    /// closed, so the largest buffer is never copied.
    entries: Vec<u8>,
    record_ids: Vec<String>,
    summary: Summary,
}

/// Turns events into batches, reusing its buffers from record to record and
/// from event to event. Not shared between threads; make one per worker.
#[derive(Debug)]
pub struct Transformer {
    config: Config,
    decoder: Decoder,
    writer: LineWriter,
    lines: Vec<u8>,
    ends: Vec<usize>,
    scratch: Vec<u8>,
    /// Values masked in the record last written.
    masked: usize,
}

impl Transformer {
    pub fn new(config: Config) -> Self {
        Self {
            decoder: Decoder::new(config.inflate_cap),
            writer: LineWriter::new(config.lines),
            config,
            lines: Vec::new(),
            ends: Vec::new(),
            scratch: Vec::new(),
            masked: 0,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Decides every record of `event`. Records not started by `deadline`
    /// become `ProcessingFailed` (Firehose keeps them) so that the invocation
    /// returns in time instead of failing the whole batch.
    pub fn process(&mut self, event: &FirehoseEvent<'_>, deadline: Option<Instant>) -> Batch {
        let n = event.records.len();
        let mut batch = Batch {
            dispositions: Vec::with_capacity(n),
            reingest: Vec::new(),
            entries: Vec::new(),
            record_ids: event
                .records
                .iter()
                .map(|r| r.record_id.to_string())
                .collect(),
            summary: Summary::default(),
        };
        // Budget: start as if every record failed (the largest entry without
        // data) and move towards the real response as records are decided, so
        // any prefix of decisions leaves room for the rest.
        let reserve: Vec<usize> = event
            .records
            .iter()
            .map(|r| bare_entry_len(&r.record_id, RESULT_PROCESSING_FAILED, &mut self.scratch))
            .collect();
        let mut used = RESPONSE_OPEN.len()
            + RESPONSE_CLOSE.len()
            + n.saturating_sub(1)
            + reserve.iter().sum::<usize>();
        let budget = self.config.response_budget.unwrap_or(usize::MAX);
        let single_budget = budget.saturating_sub(RESPONSE_OPEN.len() + RESPONSE_CLOSE.len());

        batch.entries.extend_from_slice(RESPONSE_OPEN);
        for (index, record) in event.records.iter().enumerate() {
            let reserved = reserve.get(index).copied().unwrap_or(0);
            let expired = deadline.is_some_and(|d| Instant::now() >= d);
            if index > 0 {
                batch.entries.push(b',');
            }
            let start = batch.entries.len();
            let disposition = if expired {
                Disposition::Failed(RecordError::Deadline)
            } else {
                batch.summary.bytes_in += record.data.as_deref().map_or(0, str::len);
                match self.transform(record, &mut batch.entries) {
                    Err(e) => Disposition::Failed(e),
                    Ok(Transformed::Dropped(reason)) => {
                        used = used - reserved
                            + bare_entry_len(&record.record_id, RESULT_DROPPED, &mut self.scratch);
                        Disposition::Dropped(reason)
                    }
                    Ok(Transformed::Lines { events }) => {
                        let size = batch.entries.len() - start;
                        if used - reserved + size <= budget {
                            used = used - reserved + size;
                            batch.summary.bytes_out += self.lines.len();
                            batch.summary.masked_pans += self.masked;
                            Disposition::Ok {
                                entry: start..batch.entries.len(),
                                events,
                            }
                        } else {
                            batch.entries.truncate(start);
                            self.overflow(index, record, size <= single_budget, &mut batch.reingest)
                        }
                    }
                }
            };
            // Entries without data go in place too (a re-ingested record's
            // result is only known in `finish`).
            let bare = match disposition {
                Disposition::Dropped(_) => Some(RESULT_DROPPED),
                Disposition::Failed(_) => Some(RESULT_PROCESSING_FAILED),
                Disposition::Ok { .. } | Disposition::Reingest { .. } => None,
            };
            if let Some(result) = bare {
                batch.entries.truncate(start);
                push_bare_entry(&mut batch.entries, &record.record_id, result);
            }
            batch.dispositions.push(disposition);
        }
        batch
    }

    /// Decodes, parses and writes one record; an Ok entry is appended to `entries`.
    fn transform(
        &mut self,
        record: &FirehoseRecord<'_>,
        entries: &mut Vec<u8>,
    ) -> Result<Transformed, RecordError> {
        let data = record.data.as_deref().ok_or(RecordError::DataNotString)?;
        let bytes = self.decoder.decode(data)?;
        // The lines are capped too, so that memory stays bounded by the cap
        // whatever the document repeats per line (group, stream and owner on
        // every line); twice the cap fits every real record's lines.
        let cap = self.config.inflate_cap.saturating_mul(2);
        self.lines.clear();
        self.ends.clear();
        // One pass over the usual documents; what it declines takes serde's
        // path, which decides and words any error.
        let scan = write_lines(
            bytes,
            self.writer.options(),
            cap,
            &mut self.lines,
            &mut self.ends,
            &mut self.scratch,
        );
        let (events, log_group, owner, first_timestamp) = match scan {
            Scan::Lines {
                events,
                log_group,
                owner,
                first_timestamp,
                masked,
            } => {
                self.masked = masked;
                (events, log_group, owner, first_timestamp)
            }
            Scan::Control => return Ok(Transformed::Dropped(DropReason::Control)),
            Scan::NoEvents => return Ok(Transformed::Dropped(DropReason::NoEvents)),
            // Declined because the lines passed the cap: the record fails
            // either way, and serde's path would first build every event.
            Scan::Decline if self.lines.len() > cap => return Err(RecordError::LinesCap { cap }),
            Scan::Decline => {
                let doc = LogsDocument::parse(bytes).map_err(RecordError::Json)?;
                match doc.kind() {
                    MessageType::Control => return Ok(Transformed::Dropped(DropReason::Control)),
                    MessageType::Other(t) => {
                        return Err(RecordError::UnknownMessageType(t.to_string()))
                    }
                    MessageType::Data if doc.log_events.is_empty() => {
                        return Ok(Transformed::Dropped(DropReason::NoEvents))
                    }
                    MessageType::Data => {}
                }
                self.lines.clear();
                self.ends.clear();
                if !self
                    .writer
                    .write_document_within(&doc, &mut self.lines, &mut self.ends, cap)
                {
                    return Err(RecordError::LinesCap { cap });
                }
                self.masked = self.writer.masked();
                let first = doc.log_events.first().map_or(0, |e| e.timestamp);
                let events = doc.log_events.len();
                (events, doc.log_group, doc.owner, first)
            }
        };
        open_entry(entries, &record.record_id, RESULT_OK);
        entries.extend_from_slice(b",\"data\":\"");
        // Amortized growth here; base64-simd then reserves exactly (a no-op).
        let encoded = base64_simd::STANDARD.encoded_length(self.lines.len());
        entries.reserve(encoded + 2);
        populate_spare(entries, encoded);
        base64_simd::STANDARD.encode_append(&self.lines, entries);
        entries.push(b'"');
        if self.config.partition_keys {
            // The group lands in the S3 key: masked like the lines' group.
            let mut masked = String::new();
            let group = match self.writer.options().mask {
                Some(keep) if crate::mask::mask(&log_group, keep, &mut masked).is_some() => &masked,
                _ => &*log_group,
            };
            push_partition_keys_for(entries, group, &owner, first_timestamp);
        }
        entries.push(b'}');
        Ok(Transformed::Lines { events })
    }

    /// A record that does not fit in what is left of the response.
    fn overflow(
        &mut self,
        index: usize,
        record: &FirehoseRecord<'_>,
        fits_alone: bool,
        reingest: &mut Vec<ReingestRecord>,
    ) -> Disposition {
        if !self.config.reingest {
            return Disposition::Failed(RecordError::Overflow);
        }
        let partition_key = record
            .kinesis_record_metadata
            .as_ref()
            .and_then(|m| m.partition_key.as_deref())
            .map(str::to_string);
        let first = reingest.len();
        let raw = self.decoder.raw();
        if fits_alone && (raw.len() <= MAX_PUT_RECORD_BYTES || !self.decoder.was_gzip()) {
            // As it came, or gzipped as CloudWatch Logs would have when the
            // stream had already decompressed it (or it came as zlib).
            let data = if self.decoder.was_gzip() {
                raw.to_vec()
            } else {
                gzip(self.decoder.document())
            };
            if data.len() <= MAX_PUT_RECORD_BYTES {
                reingest.push(ReingestRecord {
                    origin: index,
                    data,
                    partition_key,
                });
                return Disposition::Reingest {
                    parts: first..reingest.len(),
                    split: false,
                };
            }
        }
        // Too large to deliver in one response: divide its events into
        // documents that each fit. The decoder still holds this record.
        let limits = SplitLimits {
            output_budget: self.config.response_budget.unwrap_or(usize::MAX),
            max_record: MAX_PUT_RECORD_BYTES,
        };
        let bytes = self.decoder.document();
        let doc = match LogsDocument::parse(bytes) {
            Ok(doc) => doc,
            Err(e) => return Disposition::Failed(RecordError::Json(e)),
        };
        match split_document(&doc, &self.ends, &limits) {
            Ok(parts) => {
                reingest.extend(parts.into_iter().map(|data| ReingestRecord {
                    origin: index,
                    data,
                    partition_key: partition_key.clone(),
                }));
                Disposition::Reingest {
                    parts: first..reingest.len(),
                    split: true,
                }
            }
            Err(e) => Disposition::Failed(e),
        }
    }
}

enum Transformed {
    Lines { events: usize },
    Dropped(DropReason),
}

impl Batch {
    /// Writes the response. `reingested[i]` is the outcome of
    /// `self.reingest[i]` (a missing outcome counts as a failure); a record is
    /// `Dropped` only if all its parts were accepted, else `ProcessingFailed`
    /// so Firehose keeps its raw bytes. Returns the response bytes, the
    /// counts, and each failed record's id with its reason (for the log).
    pub fn finish(
        self,
        reingested: &[Result<(), String>],
    ) -> (Vec<u8>, Summary, Vec<(String, RecordError)>) {
        let Batch {
            dispositions,
            entries,
            record_ids,
            mut summary,
            ..
        } = self;
        summary.records_in = dispositions.len();
        let mut failures = Vec::new();
        // Without re-ingestion every entry is already in place; otherwise the
        // response is written again around the re-ingested records' results.
        let in_place = !dispositions
            .iter()
            .any(|d| matches!(d, Disposition::Reingest { .. }));
        let (mut out, entries) = if in_place {
            (entries, Vec::new())
        } else {
            let mut out = Vec::with_capacity(entries.len() + 48 * dispositions.len() + 16);
            out.extend_from_slice(RESPONSE_OPEN);
            (out, entries)
        };
        for (i, (disposition, id)) in dispositions.into_iter().zip(record_ids).enumerate() {
            if i > 0 && !in_place {
                out.push(b',');
            }
            match resolve(disposition, reingested) {
                Outcome::Ok { entry, events } => {
                    summary.ok += 1;
                    summary.events_out += events;
                    if !in_place {
                        out.extend_from_slice(entries.get(entry).unwrap_or_default());
                    }
                }
                Outcome::Dropped(reason) => {
                    summary.dropped += 1;
                    if let DropReason::Reingested { split, parts } = reason {
                        summary.reingested += usize::from(!split);
                        summary.split += usize::from(split);
                        summary.parts += parts;
                    }
                    if !in_place {
                        push_bare_entry(&mut out, &id, RESULT_DROPPED);
                    }
                }
                Outcome::Failed(e) => {
                    summary.processing_failed += 1;
                    if !in_place {
                        push_bare_entry(&mut out, &id, RESULT_PROCESSING_FAILED);
                    }
                    failures.push((id, e));
                }
            }
        }
        out.extend_from_slice(RESPONSE_CLOSE);
        summary.response_bytes = out.len();
        (out, summary, failures)
    }
}

/// A record's final outcome: what goes in the response.
enum Outcome {
    Ok { entry: Range<usize>, events: usize },
    Dropped(DropReason),
    Failed(RecordError),
}

/// The one place a disposition becomes a response entry's result; a
/// re-ingested record's outcome comes from its parts' outcomes.
fn resolve(disposition: Disposition, reingested: &[Result<(), String>]) -> Outcome {
    let (parts, split) = match disposition {
        Disposition::Ok { entry, events } => return Outcome::Ok { entry, events },
        Disposition::Dropped(reason) => return Outcome::Dropped(reason),
        Disposition::Failed(e) => return Outcome::Failed(e),
        Disposition::Reingest { parts, split } => (parts, split),
    };
    let failed = parts.clone().find_map(|p| match reingested.get(p) {
        Some(Ok(())) => None,
        Some(Err(e)) => Some(e.clone()),
        None => Some("not attempted".to_string()),
    });
    match failed {
        None => Outcome::Dropped(DropReason::Reingested {
            split,
            parts: parts.len(),
        }),
        Some(e) => Outcome::Failed(RecordError::Reingest(e)),
    }
}
