//! The batch: one decision per record, the response written in place, and
//! the parts waiting for re-ingestion.
//!
//! Processing has two phases so that the core never talks to AWS:
//! [`Transformer::process`](crate::Transformer::process) decides every record
//! (Ok, Dropped, failed, or to be re-ingested, split if it must be) within the
//! response budget; the adapter then writes each [`ReingestPart`] back and
//! records its [`PartOutcome`]; [`Batch::finish`] writes the response. A record
//! is `Dropped` for overflow only after every one of its parts was accepted.

use crate::error::{RecordError, ReingestError};
use crate::firehose::{
    push_bare_entry, FirehoseEvent, RESPONSE_CLOSE, RESPONSE_OPEN, RESULT_DROPPED,
    RESULT_PROCESSING_FAILED,
};
use crate::summary::Summary;
use std::ops::Range;

/// Why a record was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// A CONTROL_MESSAGE (the subscription's health check).
    Control,
    /// A DATA_MESSAGE with no events.
    NoEvents,
    /// Its log group is excluded (`EXCLUDE_LOG_GROUPS`).
    Excluded,
    /// The event filters dropped every one of its events.
    Filtered,
    /// It did not fit in the response and was re-ingested as `parts`
    /// documents (`split` when more than the record as it came); its events
    /// arrive in a later invocation.
    Reingested {
        /// Whether the record was divided.
        split: bool,
        /// How many documents were written back.
        parts: usize,
    },
}

/// What happens to one input record.
#[derive(Debug)]
pub enum Disposition {
    /// Transformed; the entry's bytes are in the batch's buffer.
    Ok {
        /// Where the entry is in the response buffer.
        entry: Range<usize>,
        /// Log events written as lines.
        events: usize,
    },
    /// Not delivered, on purpose.
    Dropped(DropReason),
    /// `ProcessingFailed`: Firehose keeps the record's raw bytes.
    Failed(RecordError),
    /// Did not fit: its `parts` (indexes into [`Batch::parts`]) must be
    /// re-ingested; `split` when the record was divided. Resolved by
    /// [`Batch::finish`] into `Dropped` or `Failed`.
    Reingest {
        /// Its parts in [`Batch::parts`].
        parts: Range<usize>,
        /// Whether the record was divided.
        split: bool,
    },
}

/// What became of one part handed to re-ingestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartOutcome {
    /// Not (yet) written back: at [`Batch::finish`] this fails its record,
    /// which Firehose then keeps under `processing-failed/`.
    Pending,
    /// The stream accepted it.
    Accepted,
    /// It was not accepted.
    Failed(ReingestError),
}

/// One document to write back to the stream (Firehose) or its source (Kinesis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReingestPart {
    /// Index of the input record it came from.
    pub origin: usize,
    /// gzip of a CloudWatch Logs document, as CloudWatch Logs writes it.
    pub data: Vec<u8>,
    /// The origin's Kinesis partition key, when the event has one.
    pub partition_key: Option<String>,
    /// Set by whoever re-ingests it.
    pub outcome: PartOutcome,
}

/// The decisions for one event, waiting for re-ingestion outcomes.
#[derive(Debug)]
pub struct Batch<'e> {
    event: &'e FirehoseEvent<'e>,
    dispositions: Vec<Disposition>,
    parts: Vec<ReingestPart>,
    /// The response being written in place: `{"records":[`, then each
    /// decided entry in order. Without re-ingestion it is the response once
    /// closed, so the largest buffer is never copied.
    entries: Vec<u8>,
    /// The lines of every Ok record, when the config keeps them.
    lines: Vec<u8>,
    pub(crate) summary: Summary,
}

/// A record that came back `ProcessingFailed`, and why (for the log: the
/// reason never holds payload bytes).
#[derive(Debug)]
pub struct Failure<'e> {
    /// The record's id.
    pub record_id: &'e str,
    /// Why it failed.
    pub error: RecordError,
}

/// The response to one event, and what it holds.
#[derive(Debug)]
pub struct Response<'e> {
    /// The serialized response: `{"records":[…]}`.
    pub bytes: Vec<u8>,
    /// The counts (the adapter adds re-ingestion and duration).
    pub summary: Summary,
    /// Every `ProcessingFailed` record, in order.
    pub failures: Vec<Failure<'e>>,
    lines: Vec<u8>,
}

impl Response<'_> {
    /// The lines of every Ok record, concatenated: exactly what Firehose
    /// writes to S3. Empty unless [`Config::keep_lines`](crate::Config::keep_lines).
    pub fn lines(&self) -> &[u8] {
        &self.lines
    }
}

impl<'e> Batch<'e> {
    /// A batch for `records` records whose response is expected to take
    /// `response_len` bytes (reserved up front; more is grown as needed).
    pub(crate) fn new(event: &'e FirehoseEvent<'e>, records: usize, response_len: usize) -> Self {
        let mut entries = Vec::with_capacity(response_len);
        entries.extend_from_slice(RESPONSE_OPEN);
        Self {
            event,
            dispositions: Vec::with_capacity(records),
            parts: Vec::new(),
            entries,
            lines: Vec::new(),
            summary: Summary::default(),
        }
    }

    /// The decision for every record so far, in input order.
    pub fn dispositions(&self) -> &[Disposition] {
        &self.dispositions
    }

    /// The documents to re-ingest, in order; empty when nothing overflowed.
    pub fn parts(&self) -> &[ReingestPart] {
        &self.parts
    }

    /// The documents to re-ingest, to record each one's outcome.
    pub fn parts_mut(&mut self) -> &mut [ReingestPart] {
        &mut self.parts
    }

    /// Starts the next record's entry (the separator before it).
    pub(crate) fn begin_record(&mut self) {
        if !self.dispositions.is_empty() {
            self.entries.push(b',');
        }
    }

    /// Writes an Ok entry in place; its range in the response.
    pub(crate) fn push_entry(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Range<usize> {
        let start = self.entries.len();
        write(&mut self.entries);
        start..self.entries.len()
    }

    pub(crate) fn keep_lines(&mut self, lines: &[u8]) {
        self.lines.extend_from_slice(lines);
    }

    /// Adds a record's parts; their range in [`Batch::parts`].
    pub(crate) fn push_parts(
        &mut self,
        origin: usize,
        partition_key: Option<&str>,
        parts: impl IntoIterator<Item = Vec<u8>>,
    ) -> Range<usize> {
        let first = self.parts.len();
        self.parts
            .extend(parts.into_iter().map(|data| ReingestPart {
                origin,
                data,
                partition_key: partition_key.map(str::to_string),
                outcome: PartOutcome::Pending,
            }));
        first..self.parts.len()
    }

    /// Records the decision for the next record; entries without data go in
    /// place (a re-ingested record's result is only known in `finish`).
    pub(crate) fn decide(&mut self, record_id: &str, disposition: Disposition) {
        let result = match disposition {
            Disposition::Dropped(_) => Some(RESULT_DROPPED),
            Disposition::Failed(_) => Some(RESULT_PROCESSING_FAILED),
            Disposition::Ok { .. } | Disposition::Reingest { .. } => None,
        };
        if let Some(result) = result {
            push_bare_entry(&mut self.entries, record_id, result);
        }
        self.dispositions.push(disposition);
    }

    /// Writes the response. A re-ingested record is `Dropped` only if every
    /// one of its parts was accepted, else `ProcessingFailed` so Firehose
    /// keeps its raw bytes (a part still `Pending` counts as not accepted).
    pub fn finish(self) -> Response<'e> {
        let Batch {
            event,
            dispositions,
            parts,
            entries,
            lines,
            mut summary,
        } = self;
        summary.records_in = dispositions.len();
        let mut failures = Vec::new();
        // Without re-ingestion every entry is already in place; otherwise the
        // response is written again around the re-ingested records' results.
        let in_place = parts.is_empty();
        let (mut out, entries) = if in_place {
            (entries, Vec::new())
        } else {
            let mut out = Vec::with_capacity(entries.len() + 48 * dispositions.len() + 16);
            out.extend_from_slice(RESPONSE_OPEN);
            (out, entries)
        };
        for (i, (disposition, record)) in dispositions.into_iter().zip(&event.records).enumerate() {
            if i > 0 && !in_place {
                out.push(b',');
            }
            match resolve(disposition, &parts) {
                Outcome::Ok { entry, events } => {
                    summary.ok += 1;
                    summary.events_out += events;
                    if !in_place {
                        out.extend_from_slice(entries.get(entry).unwrap_or_default());
                    }
                }
                Outcome::Dropped(reason) => {
                    summary.dropped += 1;
                    match reason {
                        DropReason::Reingested { split, parts } => {
                            summary.reingested += usize::from(!split);
                            summary.split += usize::from(split);
                            summary.parts += parts;
                        }
                        DropReason::Excluded => summary.excluded += 1,
                        DropReason::Control | DropReason::NoEvents | DropReason::Filtered => {}
                    }
                    if !in_place {
                        push_bare_entry(&mut out, &record.record_id, RESULT_DROPPED);
                    }
                }
                Outcome::Failed(error) => {
                    summary.processing_failed += 1;
                    if !in_place {
                        push_bare_entry(&mut out, &record.record_id, RESULT_PROCESSING_FAILED);
                    }
                    failures.push(Failure {
                        record_id: &record.record_id,
                        error,
                    });
                }
            }
        }
        out.extend_from_slice(RESPONSE_CLOSE);
        summary.response_bytes = out.len();
        Response {
            bytes: out,
            summary,
            failures,
            lines,
        }
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
fn resolve(disposition: Disposition, parts: &[ReingestPart]) -> Outcome {
    let (range, split) = match disposition {
        Disposition::Ok { entry, events } => return Outcome::Ok { entry, events },
        Disposition::Dropped(reason) => return Outcome::Dropped(reason),
        Disposition::Failed(e) => return Outcome::Failed(e),
        Disposition::Reingest { parts, split } => (parts, split),
    };
    let failed = parts
        .get(range.clone())
        .unwrap_or_default()
        .iter()
        .find_map(|p| match &p.outcome {
            PartOutcome::Accepted => None,
            PartOutcome::Pending => Some(ReingestError::NotAttempted),
            PartOutcome::Failed(e) => Some(e.clone()),
        });
    match failed {
        None => Outcome::Dropped(DropReason::Reingested {
            split,
            parts: range.len(),
        }),
        Some(e) => Outcome::Failed(RecordError::Reingest(e)),
    }
}
