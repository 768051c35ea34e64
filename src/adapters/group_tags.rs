//! `LOG_GROUP_TAGS`: reads the tags of the log groups an event names
//! (CloudWatch Logs' `ListTagsForResource`) into the core's table, and
//! forgets them after the TTL. A group whose tags cannot be read (no
//! permission, another account's group without a role there, a timeout,
//! throttling) is counted and held without tags for the TTL, like a group
//! that has none: its records are written all the same.

use crate::lines::GroupTags;
use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Longest wait for the tags of the groups of one event.
pub const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Calls in flight at once.
const CONCURRENT_CALLS: usize = 8;

/// What one read of tags did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TagStats {
    /// Groups whose tags were read.
    pub read: usize,
    /// Groups whose tags could not be read.
    pub failed: usize,
}

/// Reads log groups' tags; its client lives as long as the function.
#[derive(Debug)]
pub struct GroupTagReader {
    ttl: Duration,
    /// The client and the ARN prefix (`arn:PARTITION:logs:REGION:`), made
    /// on first use; `None` inside when no Region is configured.
    client: Option<Option<(aws_sdk_cloudwatchlogs::Client, String)>>,
}

impl GroupTagReader {
    /// A reader whose tags are kept `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, client: None }
    }

    /// Forgets the tags `tags` held for the TTL or longer; nothing without
    /// `LOG_GROUP_TAGS`.
    pub fn expire(&self, tags: Option<&mut GroupTags>, now: Instant) {
        if let Some(tags) = tags {
            tags.expire(now, self.ttl);
        }
    }

    /// Reads the tags of the groups `tags` noted as missing and holds them
    /// (none for a group that failed), giving up by `deadline` at the latest.
    pub async fn read_missing(
        &mut self,
        tags: &mut GroupTags,
        deadline: Option<Instant>,
    ) -> TagStats {
        let missing = tags.take_missing();
        let mut stats = TagStats::default();
        if missing.is_empty() {
            return stats;
        }
        let started = Instant::now();
        let end = deadline.map_or(started + READ_TIMEOUT, |d| d.min(started + READ_TIMEOUT));
        let read = match self.client().await {
            Some((client, prefix)) => read_all(&client, &prefix, &missing, end).await,
            None => vec![None; missing.len()],
        };
        for ((owner, group), got) in missing.iter().zip(read) {
            match got {
                Some(pairs) => {
                    stats.read += 1;
                    tags.insert(
                        owner,
                        group,
                        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                        started,
                    );
                }
                None => {
                    stats.failed += 1;
                    tags.insert(owner, group, [], started);
                }
            }
        }
        stats
    }

    async fn client(&mut self) -> Option<(aws_sdk_cloudwatchlogs::Client, String)> {
        if self.client.is_none() {
            // One attempt per group: a failure is counted and held, not
            // retried until the TTL ends.
            let config = aws_config::defaults(BehaviorVersion::latest())
                .retry_config(RetryConfig::disabled())
                .load()
                .await;
            self.client = Some(config.region().map(|region| {
                let region = region.as_ref();
                (
                    aws_sdk_cloudwatchlogs::Client::new(&config),
                    format!("arn:{}:logs:{region}:", partition(region)),
                )
            }));
        }
        self.client.clone().flatten()
    }
}

/// The partition of `region`.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Every group's tags, in order (`None`: not read by `end`, or failed).
async fn read_all(
    client: &aws_sdk_cloudwatchlogs::Client,
    prefix: &str,
    groups: &[(String, String)],
    end: Instant,
) -> Vec<Option<Vec<(String, String)>>> {
    let mut out = vec![None; groups.len()];
    let mut calls = JoinSet::new();
    let mut next = groups.iter().enumerate();
    loop {
        while calls.len() < CONCURRENT_CALLS {
            let Some((i, (owner, group))) = next.next() else {
                break;
            };
            let call = client
                .list_tags_for_resource()
                .resource_arn(format!("{prefix}{owner}:log-group:{group}"))
                .send();
            calls.spawn(async move {
                let tags = call.await.ok().map(|o| {
                    o.tags()
                        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default()
                });
                (i, tags)
            });
        }
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, calls.join_next()).await {
            Ok(Some(Ok((i, tags)))) => {
                if let Some(slot) = out.get_mut(i) {
                    *slot = tags;
                }
            }
            // A call that panicked counts as failed.
            Ok(Some(Err(_))) => {}
            // All done, or out of time: what is not in is failed.
            Ok(None) | Err(_) => break,
        }
    }
    calls.abort_all();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }
}
