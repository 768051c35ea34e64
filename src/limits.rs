//! The limits of AWS and CloudWatch Logs this crate designs around, and the
//! bounds it sets itself because of them: each written once, with where it
//! comes from.

/// Lambda's synchronous response payload limit: 6 MiB. A larger response
/// fails the invocation, and with it every record of the batch.
pub const LAMBDA_PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;

/// Default response budget: AWS's blueprint figure, under
/// [`LAMBDA_PAYLOAD_LIMIT`], counted here on the exact serialized bytes.
pub const DEFAULT_RESPONSE_BUDGET: usize = 6_000_000;

/// The largest record Firehose (`PutRecordBatch`) and Kinesis (`PutRecords`)
/// accept: 1,000 KiB.
pub const MAX_PUT_RECORD_BYTES: usize = 1_024_000;

/// At most this many records per `PutRecordBatch` / `PutRecords` call.
pub const MAX_RECORDS_PER_CALL: usize = 500;

/// At most this many data bytes per call: `PutRecordBatch`'s 4 MiB (Kinesis
/// allows 5 MiB including partition keys, so this fits both).
pub const MAX_BYTES_PER_CALL: usize = 4 << 20;

/// CloudWatch Logs puts at most this many events in one subscription batch.
pub const CWL_MAX_BATCH_EVENTS: usize = 10_000;

/// CloudWatch Logs batches hold at most this many bytes (message bytes plus
/// [`CWL_EVENT_OVERHEAD`] per event).
pub const CWL_MAX_BATCH_BYTES: usize = 1_048_576;

/// What CloudWatch Logs counts per event on top of its message bytes.
pub const CWL_EVENT_OVERHEAD: usize = 26;

/// The longest log group name CloudWatch Logs allows.
pub const CWL_MAX_LOG_GROUP_NAME: usize = 512;

/// At most this many events per document. CloudWatch Logs sends at most
/// [`CWL_MAX_BATCH_EVENTS`]; the bound keeps a crafted document of millions of
/// empty events (a few hundred KB of gzip) from building a list of hundreds
/// of megabytes.
pub const MAX_EVENTS: usize = 100_000;

/// Default inflate cap per record: 16 MiB. A real CloudWatch Logs record
/// inflates to at most about 7 MiB (1 MiB of messages, up to 6x when every
/// byte needs a JSON escape, plus 10,000 event envelopes), so this leaves
/// room; it also keeps the worst crafted record within a 128 MB function
/// (plain bytes + lines at twice the cap), which 64 MiB did not.
pub const DEFAULT_INFLATE_CAP: usize = 16 << 20;

/// Room a re-ingested part's future response entry needs besides its base64
/// data: the response envelope, the new recordId Firehose assigns, the result
/// and the partition keys (a log group name is at most
/// [`CWL_MAX_LOG_GROUP_NAME`] characters, escaped at most 6 bytes each).
pub const PART_ENTRY_OVERHEAD: usize = 4096;

/// The most a Firehose `processing-failed/` object may inflate to. Firehose
/// writes an object after at most 128 MiB of records (its largest buffer);
/// each error line carries its record as base64 (4/3 of it) plus a few
/// hundred bytes of metadata, so twice that leaves room, while a crafted
/// object (DEFLATE expands about 1000:1) cannot ask for more.
pub const MAX_FAILED_OBJECT: usize = 256 << 20;
