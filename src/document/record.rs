//! One record's document as the pipeline decides from it: the header, read
//! before any line is written (so what exclusion drops costs no line), the
//! events' lines with each line's end paired to the event's span in the
//! document, and what the line writer counted.

use crate::lines::{Counts, LineWriter};
use std::ops::Range;

/// The record-constant fields of a document, decoded.
#[derive(Debug, Default)]
pub struct Header {
    /// `owner`: the AWS account the log group belongs to.
    pub owner: String,
    /// `logGroup`.
    pub group: String,
    /// `logStream`.
    pub stream: String,
}

impl Header {
    /// Prepares `writer` for this record's lines: the log group as the
    /// lines show it, when masking changed it.
    pub(crate) fn start_lines(&self, writer: &mut LineWriter) -> Option<String> {
        writer.start_record(&self.group, &self.stream, &self.owner)
    }

    /// Decodes the three fields into the reused strings.
    pub(crate) fn set(&mut self, owner: &str, group: &str, stream: &str) {
        for (to, from) in [
            (&mut self.owner, owner),
            (&mut self.group, group),
            (&mut self.stream, stream),
        ] {
            to.clear();
            to.push_str(from);
        }
    }
}

/// One event of the record: where its line ends in the record's lines, and
/// where the event is in the document (what a split re-ingests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The end offset of the event's line in [`Record::lines`].
    pub line_end: usize,
    /// The event's bytes in the document, braces included.
    pub span: Range<usize>,
}

/// What a document turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A DATA_MESSAGE with events: one line each is in the record.
    Lines,
    /// A CONTROL_MESSAGE.
    Control,
    /// A DATA_MESSAGE without events.
    NoEvents,
    /// A DATA_MESSAGE with events whose header the exclusion list names: no
    /// line was written.
    Excluded,
}

/// One record, read. Reused from record to record: every buffer keeps its
/// capacity.
#[derive(Debug, Default)]
pub struct Record {
    /// The document's header (empty until a reader got that far).
    pub header: Header,
    /// The log group as the lines show it, when masking changed it.
    pub(crate) group_masked: Option<String>,
    /// One newline-terminated line per event.
    pub lines: Vec<u8>,
    /// Each event's line end and span; one entry per line, by construction.
    events: Vec<Event>,
    /// The first event's timestamp (for partition keys).
    pub first_timestamp: i64,
    /// What the line writer counted while writing the lines.
    pub counts: Counts,
}

impl Record {
    /// Forgets the last record, keeping the buffers.
    pub(crate) fn clear(&mut self) {
        self.group_masked = None;
        self.lines.clear();
        self.events.clear();
        self.first_timestamp = 0;
        self.counts = Counts::default();
    }

    /// Records that the event at `span` in the document ended a line at the
    /// current end of [`Self::lines`].
    #[inline]
    pub(crate) fn push_event(&mut self, span: Range<usize>) {
        self.events.push(Event {
            line_end: self.lines.len(),
            span,
        });
    }

    /// The events whose lines were written, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The log group as the lines show it: masked when masking changed it
    /// (what goes into an S3 key).
    pub fn group_written(&self) -> &str {
        self.group_masked.as_deref().unwrap_or(&self.header.group)
    }
}
