//! Replaying Firehose's `processing-failed/` error output without a person:
//! the I/O-free part.
//!
//! [`error_output`] reads an error object into its records (line number,
//! Firehose's error code and message, the original record's bytes);
//! [`classify`] decides each record from its error code and from what the
//! current [`Transformer`](crate::Transformer) makes of it now: put back
//! into the stream, nothing to deliver, or quarantined with a reason;
//! [`ledger`] is the progress recorded between runs (which lines of an
//! object are decided, how often each record's bytes were put back), so a
//! record is replayed a bounded number of times and an interrupted run
//! resumes. Listing, reading, writing and re-ingesting are the adapter's
//! (`adapters::recover`).

pub mod classify;
pub mod error_output;
pub mod ledger;
