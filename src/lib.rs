//! # cwl-firehose
//!
//! The core of a CloudWatch Logs → Amazon Data Firehose transformation
//! Lambda: each Firehose record (base64 of a gzip of one CloudWatch Logs
//! subscription document) becomes one newline-terminated JSON line per log
//! event, so that Athena counts one row per event.
//!
//! The core is synchronous and I/O-free: no Lambda runtime, no tokio, no AWS
//! SDK (`cargo check --lib --no-default-features`). Adapters (the Lambda, the
//! CLI) parse the event, call [`Transformer::process`], re-ingest what did not
//! fit, and write the bytes [`Batch::finish`] returns.
//!
//! ```
//! use base64::Engine;
//! use cwl_firehose::{Config, FirehoseEvent, Transformer};
//!
//! let doc = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/ecs/api",
//!   "logStream":"api/1","subscriptionFilters":["all"],
//!   "logEvents":[{"id":"1","timestamp":1764300000123,"message":"hello"}]}"#;
//! let data = base64::engine::general_purpose::STANDARD.encode(cwl_firehose::decode::gzip(doc.as_bytes()));
//! let event = format!(r#"{{"records":[{{"recordId":"r1","data":"{data}"}}]}}"#);
//!
//! let mut transformer = Transformer::new(Config::default());
//! let event = FirehoseEvent::parse(event.as_bytes()).unwrap();
//! let (response, summary, _failures) = transformer.process(&event, None).finish(&[]);
//! assert_eq!(summary.events_out, 1);
//!
//! let response: serde_json::Value = serde_json::from_slice(&response).unwrap();
//! let lines = base64::engine::general_purpose::STANDARD
//!     .decode(response["records"][0]["data"].as_str().unwrap()).unwrap();
//! assert_eq!(
//!     String::from_utf8(lines).unwrap(),
//!     "{\"timestamp\":1764300000123,\"id\":\"1\",\"message\":\"hello\",\
//!      \"log_group\":\"/ecs/api\",\"log_stream\":\"api/1\",\"owner\":\"123456789012\"}\n"
//! );
//! ```
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod batch;
pub mod config;
pub mod cwl;
pub mod decode;
mod deflate;
pub mod error;
pub mod firehose;
pub mod json;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod lines;
pub mod mask;
pub mod metrics;
pub mod partition;
mod prefault;
#[cfg(feature = "aws")]
pub mod reingest;
pub mod scan;
pub mod split;

pub use batch::{Batch, Config, Disposition, DropReason, ReingestRecord, Summary, Transformer};
pub use error::RecordError;
pub use firehose::FirehoseEvent;
