//! # cwl-firehose
//!
//! The core of a CloudWatch Logs → Amazon Data Firehose transformation
//! Lambda: each Firehose record (base64 of a gzip of one CloudWatch Logs
//! subscription document) becomes one newline-terminated JSON line per log
//! event, so that Athena counts one row per event.
//!
//! The core is synchronous and I/O-free: no Lambda runtime, no tokio, no AWS
//! SDK (`cargo check --lib --no-default-features`). A record goes through
//! decode (base64, gzip) → document (the fast scan, or the serde reference) →
//! lines (the one line writer) → batch (the response within its budget).
//! [`adapters`] wrap it: settings from the environment, re-ingestion with the
//! SDK, the invocation protocol and the Lambda handler. `ARCHITECTURE.md`
//! draws the path.
//!
//! ```
//! use base64::Engine;
//! use cwl_firehose::{Config, FirehoseEvent, Transformer};
//!
//! let doc = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/ecs/api",
//!   "logStream":"api/1","subscriptionFilters":["all"],
//!   "logEvents":[{"id":"1","timestamp":1764300000123,"message":"hello"}]}"#;
//! let data = base64::engine::general_purpose::STANDARD.encode(cwl_firehose::gzip(doc.as_bytes()));
//! let event = format!(r#"{{"records":[{{"recordId":"r1","data":"{data}"}}]}}"#);
//!
//! let mut transformer = Transformer::new(Config { keep_lines: true, ..Config::default() });
//! let event = FirehoseEvent::parse(event.as_bytes()).unwrap();
//! // Nothing overflowed here, so there is nothing to re-ingest before finishing.
//! let batch = transformer.process(&event, None);
//! assert!(batch.parts().is_empty());
//! let response = batch.finish();
//! assert_eq!(response.summary.events_out, 1);
//! assert_eq!(
//!     std::str::from_utf8(response.lines()).unwrap(),
//!     "{\"timestamp\":1764300000123,\"id\":\"1\",\"message\":\"hello\",\
//!      \"log_group\":\"/ecs/api\",\"log_stream\":\"api/1\",\"owner\":\"123456789012\"}\n"
//! );
//! let json: serde_json::Value = serde_json::from_slice(&response.bytes).unwrap();
//! assert_eq!(json["records"][0]["result"], "Ok");
//! ```
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

// The core: decode → document → lines → batch.
mod batch;
mod decode;
mod document;
mod error;
mod exclude;
mod filter;
mod firehose;
#[cfg(feature = "integrity")]
pub mod integrity;
mod json;
pub mod limits;
mod lines;
mod mask;
mod partition;
mod pipeline;
mod prefault;
mod redact;
#[cfg(feature = "integrity")]
pub mod replay;
mod simd;
mod split;
mod stages;
mod summary;

// Everything that knows Lambda, the SDK or the environment.
pub mod adapters;

pub use batch::{Batch, Disposition, DropReason, Failure, PartOutcome, ReingestPart, Response};
pub use decode::gzip;
pub use document::{CONTROL_MESSAGE, DATA_MESSAGE};
pub use error::{RecordError, ReingestError};
pub use exclude::ExcludeList;
pub use filter::{Action, EventFilters, Rule};
pub use firehose::{
    FirehoseEvent, FirehoseRecord, KinesisRecordMetadata, RESULT_DROPPED, RESULT_OK,
    RESULT_PROCESSING_FAILED,
};
pub use lines::{
    ColumnType, GroupTagKeys, GroupTags, LineOptions, MergeColumns, OutputFormat, StaticFields,
};
pub use mask::{Keep, PanKey};
pub use pipeline::{Config, Transformer};
pub use redact::{Detector, Redact, Rules};
pub use summary::{Field, Summary, Unit, FIELDS};

/// The one door to internals, for this crate's benches, fuzz targets, tests
/// and binaries: each stage on its own. Not part of the API; it may change
/// at any time.
#[doc(hidden)]
pub mod internals {
    pub use crate::decode::{gunzip, Decoder};
    pub use crate::document::reference::{
        event_spans, write_document, LogEvent, LogsDocument, MessageType,
    };
    pub use crate::document::Record;
    pub use crate::firehose::{arn_region, push_bare_entry};
    pub use crate::lines::keys::{DEFAULT_LINE_KEYS, LAMBDA_KEYS, LINE_KEYS};
    pub use crate::lines::time::civil_from_days;
    pub use crate::lines::{push_iso8601, LineWriter};
    pub use crate::mask::{json_body_may_mask, mask, mask_bytes};
    pub use crate::redact::{Redactor, Tally};
    pub use crate::stages::{invoke, Invocation, Stage, StageInputs, Stages};
}
