//! Dividing a record that is too large for any response into CloudWatch Logs
//! documents that each fit, for re-ingestion.
//!
//! A part fits when its lines, base64-encoded with room for a response entry
//! around them, fit the response budget on their own, and its gzip fits
//! Firehose's 1,000 KiB record limit. Ranges are halved by line bytes with an
//! explicit stack, every part holds at least one event and only a one-event
//! part can fail, so splitting always ends.

use crate::cwl::LogsDocument;
use crate::decode::gzip;
use crate::error::RecordError;
use std::ops::Range;

/// Room a re-ingested part's future response entry needs besides its base64
/// data: the response envelope, the new recordId Firehose assigns, the result
/// and the partition keys (a log group name is at most 512 characters).
pub const PART_ENTRY_OVERHEAD: usize = 4096;

/// What each part must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitLimits {
    /// The response budget a part's transformed output must fit alone.
    pub output_budget: usize,
    /// The largest record re-ingestion may write (gzip bytes).
    pub max_record: usize,
}

/// Splits `doc` into gzip documents in event order. `ends[i]` is the end
/// offset of event `i`'s line in the record's lines (as `LineWriter` wrote
/// them). Fails when a single event cannot fit on its own.
pub fn split_document(
    doc: &LogsDocument<'_>,
    ends: &[usize],
    limits: &SplitLimits,
) -> Result<Vec<Vec<u8>>, RecordError> {
    let n = doc.log_events.len().min(ends.len());
    let line_bytes = |r: &Range<usize>| -> usize {
        let start = r
            .start
            .checked_sub(1)
            .and_then(|i| ends.get(i))
            .copied()
            .unwrap_or(0);
        let end = r
            .end
            .checked_sub(1)
            .and_then(|i| ends.get(i))
            .copied()
            .unwrap_or(start);
        end.saturating_sub(start)
    };
    let mut parts = Vec::new();
    // Ranges still to place; the next one to write is on top.
    let mut stack: Vec<Range<usize>> = Vec::with_capacity(16);
    stack.push(0..n);
    while let Some(range) = stack.pop() {
        if range.is_empty() {
            continue;
        }
        let output = base64::encoded_len(line_bytes(&range), true)
            .unwrap_or(usize::MAX)
            .saturating_add(PART_ENTRY_OVERHEAD);
        let single = range.len() == 1;
        if output <= limits.output_budget {
            let events = doc.log_events.get(range.clone()).unwrap_or_default();
            let json = serde_json::to_vec(&doc.with_events(events)).map_err(RecordError::Json)?;
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
        let offset = range
            .start
            .checked_sub(1)
            .and_then(|i| ends.get(i))
            .copied()
            .unwrap_or(0);
        let target = offset + line_bytes(&range) / 2;
        let before = ends
            .get(range.clone())
            .map_or(0, |e| e.partition_point(|&end| end <= target));
        let mid = (range.start + before).clamp(range.start + 1, range.end - 1);
        stack.push(mid..range.end);
        stack.push(range.start..mid);
    }
    Ok(parts)
}
