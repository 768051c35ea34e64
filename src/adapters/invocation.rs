//! The invocation protocol, written once for the Lambda, `transform` and
//! `replay`: decide every record, write back what did not fit, then answer.

use super::group_tags::{GroupTagReader, TagStats};
use super::reingest::{Reingester, Target};
use crate::batch::Response;
use crate::firehose::FirehoseEvent;
use crate::pipeline::Transformer;
use std::time::Instant;

/// When each phase must be done.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// Records not started by then are `ProcessingFailed`; `None`: no limit.
    pub transform: Option<Instant>,
    /// Re-ingestion stops trying by then.
    pub reingest: Instant,
}

/// Runs one invocation: [`Transformer::process`], then re-ingestion of every
/// part that did not fit (to the source Kinesis stream when the event names
/// one, else to the delivery stream), then [`Batch::finish`](crate::Batch::finish).
/// The summary holds every count, re-ingestion's and the duration included.
///
/// With `LOG_GROUP_TAGS`, a record whose log group's tags are not held is
/// written without them; the tags of those groups are then read and the
/// event processed again. So a cold cache costs the calls (in parallel, at
/// most [`READ_TIMEOUT`](super::group_tags::READ_TIMEOUT)) and a second
/// pass over the event, once per group and TTL; a warm one costs nothing.
pub async fn invoke<'e>(
    transformer: &mut Transformer,
    reingester: &mut Reingester,
    tag_reader: &mut GroupTagReader,
    event: &'e FirehoseEvent<'e>,
    deadlines: Deadlines,
    started: Instant,
) -> Response<'e> {
    tag_reader.expire(transformer.group_tags_mut(), started);
    let mut batch = transformer.process(event, deadlines.transform);
    let mut tag_stats = TagStats::default();
    if let Some(tags) = transformer.group_tags_mut() {
        tag_stats = tag_reader.read_missing(tags, deadlines.transform).await;
        // Without a read, the lines would be the same.
        if tag_stats.read > 0 {
            batch = transformer.process(event, deadlines.transform);
        }
    }
    let stats = if batch.parts().is_empty() {
        Default::default()
    } else {
        let target = Target::for_event(
            &event.delivery_stream_arn,
            event.source_kinesis_stream_arn.as_deref(),
        );
        reingester
            .put_parts(&target, batch.parts_mut(), deadlines.reingest)
            .await
    };
    let mut response = batch.finish();
    let s = &mut response.summary;
    s.reingest_calls = stats.calls;
    s.reingest_retries = stats.retries;
    s.reingest_failed = stats.failed;
    s.reingest_throttled = stats.throttled;
    s.reingest_call_errors = stats.call_errors;
    s.group_tags_read = tag_stats.read;
    s.group_tags_failed = tag_stats.failed;
    s.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    response
}
