//! The record path, one stage after another: base64 and gzip
//! ([`crate::decode`]), the document read into one [`Record`] by the fast
//! scan or the serde reference ([`crate::document`]), its header deciding
//! exclusion before its lines are written by the one line writer
//! ([`crate::lines`]), then the response entry within the budget
//! ([`crate::batch`]), decided from that record alone. [`Transformer`] keeps
//! every buffer of those stages warm from record to record and from
//! invocation to invocation.

use crate::batch::{Batch, Disposition, DropReason};
use crate::decode::{gzip, Decoder};
use crate::document::{self, Header, Outcome, Record};
use crate::error::RecordError;
use crate::exclude::ExcludeList;
use crate::filter::EventFilters;
use crate::firehose::{
    entry_len, id_len, open_entry, push_data, FirehoseEvent, FirehoseRecord, RESPONSE_CLOSE,
    RESPONSE_OPEN, RESULT_DROPPED, RESULT_OK, RESULT_PROCESSING_FAILED,
};
use crate::limits::{
    DEFAULT_INFLATE_CAP, DEFAULT_RESPONSE_BUDGET, LAMBDA_PAYLOAD_LIMIT, MAX_PUT_RECORD_BYTES,
};
use crate::lines::{GroupTagKeys, GroupTags, LineOptions, LineWriter, MergeColumns, StaticFields};
use crate::mask::PanKey;
use crate::partition::push_partition_keys_for;
use crate::redact::Rules;
use crate::split::{split_document, split_document_within, SplitLimits};
use std::time::Instant;

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
    /// Records of these log groups come back `Dropped`.
    pub exclude: ExcludeList,
    /// Keep the lines of every Ok record for [`Response::lines`](crate::Response::lines)
    /// (the CLI's `--lines`); off in the Lambda, which only needs the response.
    pub keep_lines: bool,
    /// How lines are written.
    pub lines: LineOptions,
    /// Merged fields declared as typed columns (`MERGE_COLUMNS`): every value
    /// written under one fits its type.
    pub merge_columns: MergeColumns,
    /// Events whose message these rules drop get no line (`DROP_MESSAGES`,
    /// `KEEP_MESSAGES`, `EVENT_FILTERS`).
    pub filters: EventFilters,
    /// Fields written into every JSON line (`STATIC_FIELDS`).
    pub static_fields: StaticFields,
    /// Read Lambda's log formats into fields (`LAMBDA_FORMAT`).
    pub lambda_format: bool,
    /// With masking on, each masked card number is followed by its token under this key.
    pub pan_key: Option<PanKey>,
    /// Custom redaction rules (`REDACT_RULES`), applied with `lines.redact` on.
    pub redact_rules: Rules,
    /// The log group's tags written into every JSON line (`LOG_GROUP_TAGS`),
    /// once the adapter stored them ([`Transformer::group_tags_mut`]).
    pub group_tags: GroupTagKeys,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            inflate_cap: DEFAULT_INFLATE_CAP,
            response_budget: Some(DEFAULT_RESPONSE_BUDGET),
            reingest: true,
            partition_keys: false,
            exclude: ExcludeList::none(),
            keep_lines: false,
            lines: LineOptions::default(),
            merge_columns: MergeColumns::none(),
            filters: EventFilters::none(),
            static_fields: StaticFields::none(),
            lambda_format: false,
            pan_key: None,
            redact_rules: Rules::default(),
            group_tags: GroupTagKeys::none(),
        }
    }
}

/// Turns events into batches, reusing its buffers from record to record and
/// from event to event. Not shared between threads; make one per worker.
#[derive(Debug)]
pub struct Transformer {
    config: Config,
    decoder: Decoder,
    writer: LineWriter,
    /// The record being decided.
    record: Record,
    /// Partition keys of the record being decided.
    keys: Vec<u8>,
    /// The length of the last response: see [`RESERVE_FROM`]. A number, not
    /// memory: nothing is kept between events.
    last_response: usize,
}

/// A response longer than any Lambda may return (so, without a budget: the
/// CLI, `bench`, the benchmarks) makes the next one start at its length,
/// sized once instead of grown by doubling (fresh memory and a copy or a
/// remap at each step; docs/performance.md has the figure). Budgeted
/// responses grow by doubling: reserving a response of the Lambda's size
/// early changes what the heap keeps between invocations, and the soak
/// test's memory at cycle ends stops being flat.
const RESERVE_FROM: usize = LAMBDA_PAYLOAD_LIMIT + 1;

/// What one record became before the budget was applied.
enum Transformed {
    /// Its lines are in [`Transformer::record`].
    Lines,
    Dropped(DropReason),
}

impl Transformer {
    /// A transformer for `config`.
    pub fn new(config: Config) -> Self {
        Self {
            decoder: Decoder::new(config.inflate_cap),
            writer: LineWriter::with_merge_columns(config.lines, config.merge_columns.clone())
                .with_filters(config.filters.clone())
                .with_static_fields(config.static_fields.clone())
                .with_lambda_format(config.lambda_format)
                .with_pan_key(config.pan_key.clone())
                .with_redact_rules(config.redact_rules.clone())
                .with_group_tags(config.group_tags.clone()),
            config,
            record: Record::default(),
            keys: Vec::new(),
            last_response: 0,
        }
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The log-group tags held (`None` without `LOG_GROUP_TAGS`): the
    /// adapter stores the tags it read, and after [`Self::process`] learns
    /// which groups had none held (their lines lack the tags).
    pub fn group_tags_mut(&mut self) -> Option<&mut GroupTags> {
        self.writer.group_tags_mut()
    }

    /// Decides every record of `event`. Records not started by `deadline`
    /// become `ProcessingFailed` (Firehose keeps them) so that the invocation
    /// returns in time instead of failing the whole batch.
    pub fn process<'e>(
        &mut self,
        event: &'e FirehoseEvent<'e>,
        deadline: Option<Instant>,
    ) -> Batch<'e> {
        let n = event.records.len();
        let id_lens: Vec<usize> = event.records.iter().map(|r| id_len(&r.record_id)).collect();
        let mut batch = Batch::new(
            event,
            n,
            Some(self.last_response)
                .filter(|&l| l >= RESERVE_FROM)
                .unwrap_or(0),
        );
        // Budget: start as if every record failed (the largest entry without
        // data) and move towards the real response as records are decided, so
        // any prefix of decisions leaves room for the rest.
        let failed_len = |id_len: usize| entry_len(id_len, RESULT_PROCESSING_FAILED, None, 0);
        let mut used = RESPONSE_OPEN.len()
            + RESPONSE_CLOSE.len()
            + n.saturating_sub(1)
            + id_lens.iter().map(|&l| failed_len(l)).sum::<usize>();
        let budget = self.config.response_budget.unwrap_or(usize::MAX);
        let single_budget = budget.saturating_sub(RESPONSE_OPEN.len() + RESPONSE_CLOSE.len());

        for (index, (record, &id_len)) in event.records.iter().zip(&id_lens).enumerate() {
            batch.begin_record();
            let reserved = failed_len(id_len);
            let expired = deadline.is_some_and(|d| Instant::now() >= d);
            let disposition = if expired {
                Disposition::Failed(RecordError::Deadline)
            } else {
                batch.summary.bytes_in += record.data.as_deref().map_or(0, str::len);
                match self.transform(event, record) {
                    Err(e) => Disposition::Failed(e),
                    Ok(Transformed::Dropped(reason)) => {
                        if reason == DropReason::Filtered {
                            self.count_filtered(&mut batch);
                        }
                        used = used - reserved + entry_len(id_len, RESULT_DROPPED, None, 0);
                        Disposition::Dropped(reason)
                    }
                    Ok(Transformed::Lines) => {
                        let lines = &self.record.lines;
                        // The entry's exact size, before a byte of base64 is written.
                        let size = entry_len(id_len, RESULT_OK, Some(lines.len()), self.keys.len());
                        if used - reserved + size <= budget {
                            used = used - reserved + size;
                            batch.summary.bytes_out += lines.len();
                            batch.summary.add_counts(self.record.counts);
                            if self.record.counts.filtered > 0 {
                                self.count_filtered(&mut batch);
                            }
                            let entry = batch.push_entry(|out| {
                                open_entry(out, &record.record_id, RESULT_OK);
                                push_data(out, lines);
                                out.extend_from_slice(&self.keys);
                                out.push(b'}');
                            });
                            if self.config.keep_lines {
                                batch.keep_lines(lines);
                            }
                            let events = self.record.events().len();
                            Disposition::Ok { entry, events }
                        } else {
                            self.overflow(index, record, size <= single_budget, &mut batch)
                        }
                    }
                }
            };
            batch.decide(&record.record_id, disposition);
        }
        // What the response will be if nothing re-ingested fails.
        self.last_response = used;
        batch
    }

    /// Decodes and reads one record into [`Self::record`], writing its
    /// lines (and its partition keys) unless it is dropped.
    fn transform(
        &mut self,
        event: &FirehoseEvent<'_>,
        record: &FirehoseRecord<'_>,
    ) -> Result<Transformed, RecordError> {
        let data = record.data.as_deref().ok_or(RecordError::DataNotString)?;
        let bytes = self.decoder.decode(data)?;
        let (exclude, account) = (&self.config.exclude, event.account());
        let excluded = |header: &Header| exclude.excludes(account, &header.owner, &header.group);
        // The lines are capped too, so that memory stays bounded by the cap
        // whatever the document repeats per line (group, stream and owner on
        // every line); twice the cap fits every real record's lines.
        let limit = self.config.inflate_cap.saturating_mul(2);
        let read = &mut self.record;
        match document::read(bytes, &mut self.writer, read, limit, &excluded)? {
            // Every event filtered out: nothing to deliver.
            Outcome::Lines if read.events().is_empty() => {
                return Ok(Transformed::Dropped(DropReason::Filtered))
            }
            Outcome::Lines => {}
            Outcome::Control => return Ok(Transformed::Dropped(DropReason::Control)),
            Outcome::NoEvents => return Ok(Transformed::Dropped(DropReason::NoEvents)),
            Outcome::Excluded => return Ok(Transformed::Dropped(DropReason::Excluded)),
        }
        self.keys.clear();
        if self.config.partition_keys {
            // The group lands in the S3 key: masked as the lines show it.
            // Centralized log groups: the account the events came from.
            let owner = self.writer.source_account().unwrap_or(&read.header.owner);
            push_partition_keys_for(
                &mut self.keys,
                read.group_written(),
                owner,
                read.first_timestamp,
            );
        }
        Ok(Transformed::Lines)
    }

    /// Counts what the filters dropped in the record just read; the other
    /// counts too for a record they emptied (what masking found in it
    /// counts whatever the filters do).
    fn count_filtered(&self, batch: &mut Batch<'_>) {
        if self.record.events().is_empty() {
            batch.summary.add_counts(self.record.counts);
        }
        batch
            .summary
            .add_filtered_by_rule(self.config.filters.rules(), self.writer.filtered_by_rule());
    }

    /// A record that does not fit in what is left of the response.
    fn overflow(
        &mut self,
        index: usize,
        record: &FirehoseRecord<'_>,
        fits_alone: bool,
        batch: &mut Batch<'_>,
    ) -> Disposition {
        if !self.config.reingest {
            return Disposition::Failed(RecordError::Overflow);
        }
        let partition_key = record
            .kinesis_record_metadata
            .as_ref()
            .and_then(|m| m.partition_key.as_deref());
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
                let parts = batch.push_parts(index, partition_key, std::iter::once(data));
                return Disposition::Reingest {
                    parts,
                    split: false,
                };
            }
        }
        // Too large to deliver in one response: divide its events into
        // documents that each fit, from the spans the reader found.
        let limits = SplitLimits {
            output_budget: self.config.response_budget.unwrap_or(usize::MAX),
            max_record: MAX_PUT_RECORD_BYTES,
        };
        let (doc, events) = (self.decoder.document(), self.record.events());
        let parts = if self.record.counts.filtered == 0 {
            split_document(doc, events, &limits)
        } else {
            // Events the filters dropped have no line, so no span in the
            // record: where the document's events begin and end comes from
            // the reference's reading (this path is rare and costly anyway).
            document::reference::event_spans(doc).and_then(|spans| {
                let all = match (spans.first(), spans.last()) {
                    (Some(first), Some(last)) => first.start..last.end,
                    _ => return Ok(Vec::new()),
                };
                split_document_within(doc, events, all, &limits)
            })
        };
        match parts {
            Ok(parts) => {
                let parts = batch.push_parts(index, partition_key, parts);
                Disposition::Reingest { parts, split: true }
            }
            Err(e) => Disposition::Failed(e),
        }
    }
}
