//! The reference reader: the CloudWatch Logs subscription document as a serde
//! model borrowed from the inflated bytes. It decides every document the fast
//! scan declines, and words every error. Serde does not say where a value
//! was, so the events' spans come from a second parse ([`event_spans`]):
//! this path only runs for what the scan declines.
//!
//! Strings are `Cow`: borrowed when the JSON string has no escapes, owned only
//! when an escape had to be decoded. Unknown keys are ignored, since new
//! subscription options add keys.

use super::{Excluded, Outcome, Record, CONTROL_MESSAGE, DATA_MESSAGE};
use crate::error::RecordError;
use crate::limits::MAX_EVENTS;
use crate::lines::{LineWriter, Text};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::ops::Range;

/// What kind of document a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType<'a> {
    /// DATA_MESSAGE.
    Data,
    /// CONTROL_MESSAGE.
    Control,
    /// Anything else, kept so the failure can name it.
    Other(&'a str),
}

/// One CloudWatch Logs subscription document.
#[allow(missing_docs)]
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsDocument<'a> {
    #[serde(borrow)]
    pub message_type: Cow<'a, str>,
    #[serde(borrow)]
    pub owner: Cow<'a, str>,
    #[serde(borrow)]
    pub log_group: Cow<'a, str>,
    #[serde(borrow)]
    pub log_stream: Cow<'a, str>,
    #[serde(borrow, default)]
    pub subscription_filters: Vec<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "bounded_events")]
    pub log_events: Vec<LogEvent<'a>>,
}

/// One log event.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    pub timestamp: i64,
    #[serde(borrow)]
    pub message: Cow<'a, str>,
    /// Present when the subscription filter pattern extracts fields; passed
    /// through to the line as it is.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub extracted_fields: Option<&'a RawValue>,
}

fn bounded_events<'de: 'a, 'a, D>(d: D) -> Result<Vec<LogEvent<'a>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Events<'a>(std::marker::PhantomData<LogEvent<'a>>);
    impl<'de: 'a, 'a> serde::de::Visitor<'de> for Events<'a> {
        type Value = Vec<LogEvent<'a>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of log events")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut events = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(event) = seq.next_element::<LogEvent<'a>>()? {
                if events.len() == MAX_EVENTS {
                    return Err(serde::de::Error::custom(format_args!(
                        "more than {MAX_EVENTS} log events in one document"
                    )));
                }
                events.push(event);
            }
            Ok(events)
        }
    }
    d.deserialize_seq(Events(std::marker::PhantomData))
}

impl<'a> LogsDocument<'a> {
    /// Parses one document; fails on anything that is not one.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The document's kind.
    pub fn kind(&self) -> MessageType<'_> {
        match &*self.message_type {
            DATA_MESSAGE => MessageType::Data,
            CONTROL_MESSAGE => MessageType::Control,
            other => MessageType::Other(other),
        }
    }
}

/// Reads `doc` into `record` (cleared first): its header, and one line per
/// event, each paired with its event's span (`spans`, from [`event_spans`]
/// over the same bytes); `false` as soon as the lines pass `limit` bytes.
/// Lines repeat the record's group, stream and owner, so a small document
/// (one long log group, many empty events) could otherwise write gigabytes.
pub fn write_document(
    doc: &LogsDocument<'_>,
    spans: &[Range<usize>],
    writer: &mut LineWriter,
    record: &mut Record,
    limit: usize,
) -> Result<bool, RecordError> {
    record.clear();
    record
        .header
        .set(&doc.owner, &doc.log_group, &doc.log_stream);
    // Both come from the same bytes; were they ever to differ, the record
    // fails rather than losing an event.
    if spans.len() != doc.log_events.len() {
        return Err(RecordError::Unwritable);
    }
    record.group_masked = record.header.start_lines(writer);
    record.first_timestamp = doc.log_events.first().map_or(0, |e| e.timestamp);
    for (event, span) in doc.log_events.iter().zip(spans) {
        let written = writer
            .event(
                &mut record.lines,
                Text::Str(&event.id),
                event.timestamp,
                Text::Str(&event.message),
                event.extracted_fields.map(|raw| raw.get().as_bytes()),
            )
            .ok_or(RecordError::Unwritable)?;
        // A filtered event has no line, so no event: a split re-ingests
        // only the events that have lines.
        if written {
            record.push_event(span.clone());
        }
        if record.lines.len() > limit {
            return Ok(false);
        }
    }
    record.counts = writer.counts();
    Ok(true)
}

/// Parses `bytes`, decides what the document is and, unless its header is
/// `excluded`, writes its lines into `record`.
pub(crate) fn read(
    bytes: &[u8],
    writer: &mut LineWriter,
    record: &mut Record,
    limit: usize,
    excluded: Excluded<'_>,
) -> Result<Outcome, RecordError> {
    let doc = LogsDocument::parse(bytes).map_err(RecordError::Json)?;
    match doc.kind() {
        MessageType::Control => return Ok(Outcome::Control),
        MessageType::Other(t) => return Err(RecordError::UnknownMessageType(t.to_string())),
        MessageType::Data if doc.log_events.is_empty() => return Ok(Outcome::NoEvents),
        MessageType::Data => {}
    }
    // The header is set again by `write_document`: three short copies, on
    // the path that only runs for what the scan declines.
    record
        .header
        .set(&doc.owner, &doc.log_group, &doc.log_stream);
    if excluded(&record.header) {
        return Ok(Outcome::Excluded);
    }
    let spans = event_spans(bytes)?;
    if !write_document(&doc, &spans, writer, record, limit)? {
        return Err(RecordError::LinesCap { cap: limit });
    }
    Ok(Outcome::Lines)
}

/// Each event's span in `bytes`, for a document the reference accepted: what
/// splitting a record re-ingests.
pub fn event_spans(bytes: &[u8]) -> Result<Vec<Range<usize>>, RecordError> {
    #[derive(Deserialize)]
    struct Events<'a> {
        #[serde(borrow, rename = "logEvents")]
        log_events: Vec<&'a RawValue>,
    }
    let events: Events<'_> = serde_json::from_slice(bytes).map_err(RecordError::Json)?;
    let base = bytes.as_ptr() as usize;
    Ok(events
        .log_events
        .iter()
        .map(|raw| {
            // A borrowed RawValue is a slice of `bytes`: its offset is an
            // address difference, no unsafe needed.
            let start = (raw.get().as_ptr() as usize).saturating_sub(base);
            start..start + raw.get().len()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::none_excluded;
    use crate::lines::LineOptions;

    /// A document only the reference decides (an escaped key): every event
    /// still comes with its span and its line's end, as a split needs them.
    #[test]
    fn declined_documents_still_pair_each_line_with_its_span() {
        let doc = br#"{"message\u0054ype":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s","logEvents":[{"id":"a","timestamp":1,"message":"x"}, {"id":"b","timestamp":2,"message":"yz"}]}"#;
        let mut record = Record::default();
        let mut writer = LineWriter::new(LineOptions::default());
        let outcome =
            crate::document::read(doc, &mut writer, &mut record, usize::MAX, &none_excluded);
        assert_eq!(outcome.unwrap(), Outcome::Lines);
        let text = std::str::from_utf8(doc).unwrap();
        let spans: Vec<&str> = record
            .events()
            .iter()
            .map(|e| &text[e.span.clone()])
            .collect();
        assert_eq!(
            spans,
            [
                r#"{"id":"a","timestamp":1,"message":"x"}"#,
                r#"{"id":"b","timestamp":2,"message":"yz"}"#
            ]
        );
        let ends: Vec<usize> = record.events().iter().map(|e| e.line_end).collect();
        let first = record.lines.iter().position(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(ends, [first, record.lines.len()]);
    }
}
