//! The Firehose side of the contract: the event we receive (borrowed, with
//! `data` kept as a string so one bad record cannot fail the whole event) and
//! the exact bytes of each response entry.

use crate::json::{push_str, str_len};
use serde::Deserialize;
use std::borrow::Cow;

/// The three results Firehose accepts, spelled once.
pub const RESULT_OK: &str = "Ok";
/// The record is deliberately not delivered.
pub const RESULT_DROPPED: &str = "Dropped";
/// Firehose keeps the record's original bytes under `processing-failed/`.
pub const RESULT_PROCESSING_FAILED: &str = "ProcessingFailed";

/// `{"records":[`: what a response starts with.
pub const RESPONSE_OPEN: &[u8] = b"{\"records\":[";
/// `]}`: what a response ends with.
pub const RESPONSE_CLOSE: &[u8] = b"]}";

/// The pieces of one response entry, in order: `{"recordId":ID,"result":"RESULT"`,
/// then for Ok `,"data":"BASE64"`, then partition keys, then `}`.
const ENTRY_OPEN: &[u8] = b"{\"recordId\":";
const RESULT_KEY: &[u8] = b",\"result\":\"";
const DATA_KEY: &[u8] = b",\"data\":\"";

/// A Firehose data-transformation event.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseEvent<'a> {
    /// Firehose's id of this invocation.
    #[serde(borrow, default)]
    pub invocation_id: Cow<'a, str>,
    /// The delivery stream that invoked the function.
    #[serde(borrow, default)]
    pub delivery_stream_arn: Cow<'a, str>,
    /// The stream's region.
    #[serde(borrow, default)]
    pub region: Option<Cow<'a, str>>,
    /// Present when the delivery stream reads from a Kinesis data stream:
    /// re-ingestion must then go to that stream, not to Firehose.
    #[serde(borrow, default)]
    pub source_kinesis_stream_arn: Option<Cow<'a, str>>,
    /// The records to transform, answered in this order.
    #[serde(borrow)]
    pub records: Vec<FirehoseRecord<'a>>,
}

impl<'a> FirehoseEvent<'a> {
    /// Parses an event. The only error that may fail an invocation: the input
    /// is not a Firehose event at all. A file saved with a byte-order mark
    /// (some Windows editors, PowerShell's `>`) gets an error that says so
    /// rather than "expected value at line 1 column 1".
    pub fn parse(bytes: &'a [u8]) -> Result<Self, serde_json::Error> {
        if let Some(text) = byte_order_mark(bytes) {
            return Err(serde::de::Error::custom(text));
        }
        serde_json::from_slice(bytes)
    }

    /// The delivery stream's name, from its ARN.
    pub fn delivery_stream_name(&self) -> &str {
        arn_resource_name(&self.delivery_stream_arn)
    }

    /// The function's account: the one in the delivery stream's ARN.
    pub fn account(&self) -> Option<&str> {
        arn_account(&self.delivery_stream_arn)
    }
}

/// What is wrong with input that starts with a byte-order mark, if it does.
pub fn byte_order_mark(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xef, 0xbb, 0xbf, ..] => Some(
            "the event starts with a UTF-8 byte-order mark (bytes EF BB BF); \
             JSON must not have one: save the file as UTF-8 without BOM",
        ),
        [0xff, 0xfe, ..] | [0xfe, 0xff, ..] => Some(
            "the event is UTF-16 (it starts with a UTF-16 byte-order mark); \
             save it as UTF-8 without BOM",
        ),
        _ => None,
    }
}

/// The last path segment of an ARN's resource (`…:deliverystream/NAME` → `NAME`).
pub fn arn_resource_name(arn: &str) -> &str {
    arn.rsplit(['/', ':']).next().unwrap_or(arn)
}

/// The region field of an ARN (`arn:aws:firehose:REGION:…`).
pub fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// The account field of an ARN (`arn:aws:firehose:REGION:ACCOUNT:…`).
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// One input record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseRecord<'a> {
    /// Firehose's id of the record, answered exactly once.
    #[serde(borrow)]
    pub record_id: Cow<'a, str>,
    /// `None` when `data` is missing or not a string: that record fails alone.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub data: Option<Cow<'a, str>>,
    /// Field types differ between AWS's samples: only `partitionKey` is read,
    /// and only when it is a string.
    #[serde(borrow, default, deserialize_with = "lenient_metadata")]
    pub kinesis_record_metadata: Option<KinesisRecordMetadata<'a>>,
}

/// What re-ingestion into a Kinesis source needs of a record.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecordMetadata<'a> {
    /// The Kinesis partition key the record was written with.
    #[serde(borrow, default, deserialize_with = "lenient_str")]
    pub partition_key: Option<Cow<'a, str>>,
}

/// A string, or `None` for any other JSON value (consumed and ignored).
fn lenient_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrOrOther<'a> {
        Str(#[serde(borrow)] Cow<'a, str>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match StrOrOther::deserialize(d)? {
        StrOrOther::Str(s) => Some(s),
        StrOrOther::Other(_) => None,
    })
}

/// The metadata object, or `None` when it is anything else.
fn lenient_metadata<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<KinesisRecordMetadata<'de>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum MetaOrOther<'a> {
        Meta(#[serde(borrow)] KinesisRecordMetadata<'a>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match MetaOrOther::deserialize(d)? {
        MetaOrOther::Meta(m) => Some(m),
        MetaOrOther::Other(_) => None,
    })
}

/// Appends `{"recordId":ID,"result":RESULT` (the entry is not closed).
pub fn open_entry(out: &mut Vec<u8>, record_id: &str, result: &str) {
    out.extend_from_slice(ENTRY_OPEN);
    push_str(out, record_id);
    out.extend_from_slice(RESULT_KEY);
    out.extend_from_slice(result.as_bytes());
    out.push(b'"');
}

/// Appends `,"data":"` + base64 of `lines` + `"`.
pub(crate) fn push_data(out: &mut Vec<u8>, lines: &[u8]) {
    out.extend_from_slice(DATA_KEY);
    // Amortized growth here; base64-simd then reserves exactly (a no-op).
    let encoded = base64_simd::STANDARD.encoded_length(lines.len());
    out.reserve(encoded + 2);
    crate::prefault::populate_spare(out, encoded);
    base64_simd::STANDARD.encode_append(lines, out);
    out.push(b'"');
}

/// Appends a whole entry without data: `{"recordId":ID,"result":RESULT}`.
pub fn push_bare_entry(out: &mut Vec<u8>, record_id: &str, result: &str) {
    open_entry(out, record_id, result);
    out.push(b'}');
}

/// The exact size of an entry: `id_len` is the record id's escaped length
/// ([`str_len`]), `data` the line bytes of an Ok entry, `extra` what follows
/// the data (partition keys). Arithmetic only: nothing is written.
pub fn entry_len(id_len: usize, result: &str, data: Option<usize>, extra: usize) -> usize {
    let data = data.map_or(0, |n| {
        DATA_KEY.len() + base64_simd::STANDARD.encoded_length(n) + 1
    });
    ENTRY_OPEN.len() + id_len + RESULT_KEY.len() + result.len() + 1 + data + extra + 1
}

/// The escaped length of a record id, as entries write it.
pub fn id_len(record_id: &str) -> usize {
    str_len(record_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_fields() {
        let e = FirehoseEvent::parse(
            br#"{"records":[
                {"recordId":"a","data":"eA==","kinesisRecordMetadata":{"partitionKey":"pk","shardId":1}},
                {"recordId":"b","data":null,"kinesisRecordMetadata":"weird"},
                {"recordId":"c","data":{"x":[1]}},
                {"recordId":"d"}]}"#,
        )
        .unwrap();
        let r = &e.records;
        assert_eq!(r[0].data.as_deref(), Some("eA=="));
        assert_eq!(
            r[0].kinesis_record_metadata
                .as_ref()
                .unwrap()
                .partition_key
                .as_deref(),
            Some("pk")
        );
        assert!(r[1].data.is_none() && r[1].kinesis_record_metadata.is_none());
        assert!(r[2].data.is_none() && r[3].data.is_none());
    }

    #[test]
    fn not_an_event() {
        assert!(FirehoseEvent::parse(b"{}").is_err());
        assert!(FirehoseEvent::parse(b"[1]").is_err());
        assert!(FirehoseEvent::parse(br#"{"records":[{"data":"x"}]}"#).is_err());
    }

    #[test]
    fn entry_lengths_are_exact() {
        for id in ["", "r1", "a\"b\\c\u{1}é😀", &"x".repeat(300)] {
            for result in [RESULT_OK, RESULT_DROPPED, RESULT_PROCESSING_FAILED] {
                let mut bare = Vec::new();
                push_bare_entry(&mut bare, id, result);
                assert_eq!(entry_len(id_len(id), result, None, 0), bare.len());
                for lines in [&b""[..], b"a", b"ab", b"abc", &[7u8; 1000]] {
                    let mut ok = Vec::new();
                    open_entry(&mut ok, id, result);
                    push_data(&mut ok, lines);
                    ok.extend_from_slice(b",\"metadata\":{}");
                    ok.push(b'}');
                    assert_eq!(
                        entry_len(id_len(id), result, Some(lines.len()), 14),
                        ok.len()
                    );
                }
            }
        }
    }

    #[test]
    fn byte_order_marks_are_named() {
        let event = br#"{"records":[]}"#;
        assert!(FirehoseEvent::parse(event).is_ok());
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(event);
        let err = FirehoseEvent::parse(&bom).unwrap_err().to_string();
        assert!(err.contains("UTF-8 byte-order mark"), "{err}");
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(event.iter().flat_map(|&b| [b, 0]))
            .collect();
        let err = FirehoseEvent::parse(&utf16).unwrap_err().to_string();
        assert!(err.contains("UTF-16"), "{err}");
    }

    #[test]
    fn arns() {
        let arn = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs";
        assert_eq!(arn_resource_name(arn), "logs");
        assert_eq!(arn_region(arn), Some("eu-west-1"));
        assert_eq!(arn_region("nonsense"), None);
        assert_eq!(arn_account(arn), Some("123456789012"));
        assert_eq!(arn_account("nonsense"), None);
    }
}
