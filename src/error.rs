//! The one error type of the core: every way a single record can fail.
//!
//! Each variant becomes `ProcessingFailed` for its own record only (see
//! `batch::Disposition`); none of them can fail an invocation. The
//! `Display` text is what the adapter logs next to the record id, so it names
//! the reason and never contains payload bytes.

use std::fmt;

/// Why one record could not be turned into lines.
#[allow(missing_docs)] // each variant's doc says it; fields are named for it
#[derive(Debug)]
pub enum RecordError {
    /// `data` is missing or not a JSON string.
    DataNotString,
    /// `data` decoded to zero bytes.
    Empty,
    /// `data` is not valid standard base64.
    Base64(base64::DecodeError),
    /// The bytes are neither gzip nor a JSON document.
    NotGzipOrJson,
    /// The gzip stream is corrupt, truncated or followed by garbage.
    Gzip(std::io::Error),
    /// Inflating would pass the configured cap (a gzip bomb, or a cap set too low).
    InflateCap { cap: usize },
    /// The lines written from the record would pass the inflate cap (each
    /// line repeats the log group, stream and owner: a long group name and
    /// many events multiply).
    LinesCap { cap: usize },
    /// The (inflated) bytes are not a CloudWatch Logs document.
    Json(serde_json::Error),
    /// `messageType` is neither DATA_MESSAGE nor CONTROL_MESSAGE.
    UnknownMessageType(String),
    /// The invocation's deadline came before this record was processed.
    Deadline,
    /// One log event's output is larger than any single Firehose record may
    /// be, so the record cannot be split small enough to deliver.
    EventTooLarge { bytes: usize, limit: usize },
    /// The record did not fit in the response and re-ingestion is off.
    Overflow,
    /// The record did not fit in the response and re-ingesting it failed.
    Reingest(ReingestError),
    /// An event could not be written as a line: a string body that does not
    /// decode, or the reference finding a different number of events when
    /// it looks for their spans. The readers check every body and both
    /// parses read the same bytes, so this is not expected; it fails the
    /// record rather than losing an event.
    Unwritable,
}

/// Why a document handed to re-ingestion was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReingestError {
    /// Never attempted (the part was still pending when the batch finished).
    NotAttempted,
    /// Still not accepted when re-ingestion stopped: the last error, with the
    /// attempts made and why it stopped (the deadline, or the attempt cap).
    NotAccepted {
        /// The last error, as the SDK or the API's per-record code gave it.
        reason: String,
    },
}

impl fmt::Display for ReingestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAttempted => f.write_str("not attempted"),
            Self::NotAccepted { reason } => f.write_str(reason),
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DataNotString => f.write_str("record data is missing or not a string"),
            Self::Empty => f.write_str("record data is empty"),
            Self::Base64(e) => write!(f, "record data is not valid base64: {e}"),
            Self::NotGzipOrJson => f.write_str("record data is neither gzip nor a JSON document"),
            Self::Gzip(e) => write!(f, "gzip stream is invalid: {e}"),
            Self::InflateCap { cap } => write!(f, "inflated size exceeds the cap of {cap} bytes"),
            Self::LinesCap { cap } => {
                write!(f, "the record's lines exceed the cap of {cap} bytes")
            }
            Self::Json(e) => write_json_error(f, e),
            Self::UnknownMessageType(t) => {
                // The type name comes from input: keep it short and printable.
                let shown: String = t.chars().take(40).filter(|c| !c.is_control()).collect();
                write!(f, "unknown messageType {shown:?}")
            }
            Self::Deadline => f.write_str("invocation deadline reached before this record"),
            Self::EventTooLarge { bytes, limit } => write!(
                f,
                "a single log event needs {bytes} bytes, over the {limit}-byte limit"
            ),
            Self::Overflow => {
                f.write_str("record does not fit in the response and re-ingestion is off")
            }
            Self::Reingest(e) => write!(f, "re-ingestion failed: {e}"),
            Self::Unwritable => f.write_str("an event could not be written as a line"),
        }
    }
}

impl std::error::Error for RecordError {}

/// serde_json's data errors quote the offending value ("invalid type: string
/// \"...\""), which may be a log message: keep only what names our schema.
fn write_json_error(f: &mut fmt::Formatter<'_>, e: &serde_json::Error) -> fmt::Result {
    use serde_json::error::Category;
    let (line, column) = (e.line(), e.column());
    match e.classify() {
        Category::Io | Category::Syntax | Category::Eof => {
            write!(f, "not a CloudWatch Logs document: {e}")
        }
        Category::Data => {
            let text = e.to_string();
            if text.starts_with("missing field") || text.starts_with("more than") {
                write!(f, "not a CloudWatch Logs document: {text}")
            } else {
                write!(
                    f,
                    "not a CloudWatch Logs document: a field has the wrong type or value at line {line} column {column}"
                )
            }
        }
    }
}
