//! The CloudWatch Logs subscription document, and its two readers side by
//! side: [`scan`], the fast one, and [`reference`](mod@reference), serde. Both hand every
//! event to the one line writer ([`crate::lines`]); the scan answers for the
//! usual documents, and whatever it declines goes to the reference, which
//! decides and words every error.

pub(crate) mod reference;
pub(crate) mod scan;

use crate::error::RecordError;
use crate::lines::LineWriter;
use std::ops::Range;

/// `messageType` of the documents that carry log events.
pub const DATA_MESSAGE: &str = "DATA_MESSAGE";
/// `messageType` of the subscription's health check.
pub const CONTROL_MESSAGE: &str = "CONTROL_MESSAGE";

/// Where a reader writes: the lines, each line's end offset, each event's
/// span in the document (what splitting a record reuses), and the most line
/// bytes allowed.
#[derive(Debug)]
pub(crate) struct Output<'o> {
    pub lines: &'o mut Vec<u8>,
    pub ends: &'o mut Vec<usize>,
    pub spans: &'o mut Vec<Range<usize>>,
    pub limit: usize,
}

impl Output<'_> {
    pub(crate) fn clear(&mut self) {
        self.lines.clear();
        self.ends.clear();
        self.spans.clear();
    }
}

/// What one document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// A DATA_MESSAGE with events: one line each was written.
    Lines { events: usize, first_timestamp: i64 },
    /// A CONTROL_MESSAGE.
    Control,
    /// A DATA_MESSAGE without events.
    NoEvents,
}

/// Reads one inflated document and writes its lines: the fast scan when it
/// answers, else the reference, which decides and words any error.
pub(crate) fn read(
    bytes: &[u8],
    writer: &mut LineWriter,
    out: &mut Output<'_>,
) -> Result<Read, RecordError> {
    out.clear();
    match scan::scan(bytes, writer, out) {
        scan::Scan::Lines {
            events,
            first_timestamp,
        } => {
            return Ok(Read::Lines {
                events,
                first_timestamp,
            })
        }
        scan::Scan::Control => return Ok(Read::Control),
        scan::Scan::NoEvents => return Ok(Read::NoEvents),
        // Declined because the lines passed the cap: the record fails either
        // way, and the reference would first build every event.
        scan::Scan::Decline if out.lines.len() > out.limit => {
            return Err(RecordError::LinesCap { cap: out.limit })
        }
        scan::Scan::Decline => {}
    }
    out.clear();
    reference::read(bytes, writer, out)
}
