//! Dividing a record that is too large for any response into CloudWatch Logs
//! documents that each fit, for re-ingestion.
//!
//! A part is the record's own bytes: everything before its first event, the
//! events of the part as they came (separated by `,`), everything after its
//! last event. Unknown keys, key order and escapes are kept as they came; no
//! document is parsed again.
//!
//! A part fits when its lines, base64-encoded with room for a response entry
//! around them, fit the response budget on their own, and its gzip fits
//! Firehose's 1,000 KiB record limit. Ranges are halved by line bytes with an
//! explicit stack, every part holds at least one event and only a one-event
//! part can fail, so splitting always ends.

use crate::decode::gzip;
use crate::document::Event;
use crate::error::RecordError;
use crate::limits::PART_ENTRY_OVERHEAD;
use std::ops::Range;

/// What each part must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitLimits {
    /// The response budget a part's transformed output must fit alone.
    pub output_budget: usize,
    /// The largest record re-ingestion may write (gzip bytes).
    pub max_record: usize,
}

/// Splits the document `doc` into gzip documents in event order, from each
/// event's span in `doc` and its line's end in the record's lines. Fails
/// when a single event cannot fit on its own.
pub fn split_document(
    doc: &[u8],
    events: &[Event],
    limits: &SplitLimits,
) -> Result<Vec<Vec<u8>>, RecordError> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(Vec::new());
    };
    split_document_within(doc, events, first.span.start..last.span.end, limits)
}

/// [`split_document`] for a document whose events lie in `all_events`
/// (from the first event's start to the last one's end), where `events`
/// may be fewer (the event filters dropped the others): every part holds
/// only events of `events`.
pub fn split_document_within(
    doc: &[u8],
    events: &[Event],
    all_events: Range<usize>,
    limits: &SplitLimits,
) -> Result<Vec<Vec<u8>>, RecordError> {
    let (head, tail) = (
        doc.get(..all_events.start).unwrap_or_default(),
        doc.get(all_events.end..).unwrap_or_default(),
    );
    // Where the line before event `i` ends: where event `i`'s starts.
    let line_start = |i: usize| {
        i.checked_sub(1)
            .and_then(|i| events.get(i))
            .map_or(0, |e| e.line_end)
    };
    let line_bytes =
        |r: &Range<usize>| -> usize { line_start(r.end).saturating_sub(line_start(r.start)) };
    let mut parts = Vec::new();
    let mut json = Vec::new();
    // Ranges still to place; the next one to write is on top.
    let mut stack: Vec<Range<usize>> = Vec::with_capacity(16);
    stack.push(0..events.len());
    while let Some(range) = stack.pop() {
        if range.is_empty() {
            continue;
        }
        let output = base64::encoded_len(line_bytes(&range), true)
            .unwrap_or(usize::MAX)
            .saturating_add(PART_ENTRY_OVERHEAD);
        let single = range.len() == 1;
        if output <= limits.output_budget {
            json.clear();
            json.extend_from_slice(head);
            for (k, event) in events
                .get(range.clone())
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                if k > 0 {
                    json.push(b',');
                }
                json.extend_from_slice(doc.get(event.span.clone()).unwrap_or_default());
            }
            json.extend_from_slice(tail);
            let data = gzip(&json);
            if data.len() <= limits.max_record {
                parts.push(data);
                continue;
            }
            if single {
                return Err(RecordError::EventTooLarge {
                    bytes: data.len(),
                    limit: limits.max_record,
                });
            }
        } else if single {
            return Err(RecordError::EventTooLarge {
                bytes: output,
                limit: limits.output_budget,
            });
        }
        // Halve by bytes, keeping at least one event on each side.
        let target = line_start(range.start) + line_bytes(&range) / 2;
        let before = events
            .get(range.clone())
            .map_or(0, |e| e.partition_point(|e| e.line_end <= target));
        let mid = (range.start + before).clamp(range.start + 1, range.end - 1);
        stack.push(mid..range.end);
        stack.push(range.start..mid);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_the_document_as_it_came() {
        let doc = br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s","future":{"k":[1]},"logEvents":[{"id":"a","timestamp":1,"message":"x"} , {"id":"b","timestamp":2,"message":"y\u00e9"}],"after":true}"#;
        let text = std::str::from_utf8(doc).unwrap();
        let a = text.find(r#"{"id":"a""#).unwrap();
        let b = text.find(r#"{"id":"b""#).unwrap();
        let events = [
            Event {
                line_end: 4,
                span: a..text[a..].find('}').unwrap() + a + 1,
            },
            Event {
                line_end: 8,
                span: b..text[b..].find('}').unwrap() + b + 1,
            },
        ];
        let limits = SplitLimits {
            output_budget: PART_ENTRY_OVERHEAD + 8,
            max_record: 1 << 20,
        };
        let parts = split_document(doc, &events, &limits).unwrap();
        assert_eq!(parts.len(), 2);
        let plain: Vec<String> = parts
            .iter()
            .map(|p| String::from_utf8(crate::decode::gunzip(p.clone(), 1 << 20).unwrap()).unwrap())
            .collect();
        assert_eq!(
            plain[0],
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s","future":{"k":[1]},"logEvents":[{"id":"a","timestamp":1,"message":"x"}],"after":true}"#
        );
        assert!(
            plain[1].contains(r#"[{"id":"b","timestamp":2,"message":"y\u00e9"}],"after":true}"#)
        );
    }
}
