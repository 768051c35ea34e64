//! The CloudWatch Logs subscription document, read into one [`Record`]: its
//! header first, then (unless the header is excluded) one line per event
//! through the one line writer ([`crate::lines`]). Two readers side by side:
//! [`scan`], the fast one, answers for the usual documents; whatever it
//! declines goes to [`reference`](mod@reference), serde, which decides and
//! words every error.

pub(crate) mod record;
pub(crate) mod reference;
pub(crate) mod scan;

pub use record::{Event, Header, Outcome, Record};

use crate::error::RecordError;
use crate::lines::LineWriter;

/// `messageType` of the documents that carry log events.
pub const DATA_MESSAGE: &str = "DATA_MESSAGE";
/// `messageType` of the subscription's health check.
pub const CONTROL_MESSAGE: &str = "CONTROL_MESSAGE";

/// Whether a record of this header is left out (`EXCLUDE_LOG_GROUPS`):
/// asked once per record, before its first line.
pub(crate) type Excluded<'x> = &'x dyn Fn(&Header) -> bool;

/// Excludes nothing.
pub(crate) fn none_excluded(_: &Header) -> bool {
    false
}

/// Reads one inflated document into `record` (cleared first): the fast scan
/// when it answers, else the reference, which decides and words any error.
/// The lines may hold at most `limit` bytes.
pub(crate) fn read(
    bytes: &[u8],
    writer: &mut LineWriter,
    record: &mut Record,
    limit: usize,
    excluded: Excluded<'_>,
) -> Result<Outcome, RecordError> {
    record.clear();
    match scan::scan(bytes, writer, record, limit, excluded) {
        scan::Scan::Read(outcome) => return Ok(outcome),
        // A whole line passed the cap: the record fails either way, and the
        // reference would first build every event.
        scan::Scan::Cap => return Err(RecordError::LinesCap { cap: limit }),
        scan::Scan::Decline => {}
    }
    // Whatever the scan wrote before it declined is forgotten.
    record.clear();
    reference::read(bytes, writer, record, limit, excluded)
}
