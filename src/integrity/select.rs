//! Which object versions the next digest lists.
//!
//! The rule: every version current at listing time whose `LastModified` is
//! at or after the window start and that no recent digest already lists.
//! The window starts a late-arrival allowance before the previous digest's
//! listing, because `LastModified` is not the time an object became
//! visible: a multipart upload (how Firehose writes) is dated when it was
//! started, and listings give whole seconds. Re-listing that margin and
//! leaving out what the recent digests already list means a late object is
//! listed once, and an object listed twice (it cannot happen by this rule,
//! but a repeated run is harmless) would only vouch twice for the same bytes.
//! A version that shows up later still with an older `LastModified` is not
//! listed by any digest: verification reports it as added outside the chain.

use super::document::{Digest, Entry};
use std::collections::HashSet;

/// The late-arrival allowance by default: an hour, well above the longest
/// Firehose buffer (900 s) plus its upload.
pub const DEFAULT_LATE_ARRIVAL_MS: i64 = 3_600_000;

/// At most this many earlier digests are read back to know what the window
/// already holds (hourly digests need one or two).
pub const MAX_DIGESTS_BACK: usize = 1_000;

/// One current object version as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The key.
    pub key: String,
    /// The version id (`null` without versioning).
    pub version_id: String,
    /// Size in bytes.
    pub size: i64,
    /// `LastModified`, epoch milliseconds.
    pub last_modified_ms: i64,
}

/// What identifies one object version across digests and listings: the
/// version id alone is not enough in a bucket without versioning (every
/// version there is `null`), `LastModified` changes with every write.
pub type Identity = (String, String, i64);

impl Listed {
    /// This version's identity.
    pub fn identity(&self) -> Identity {
        (
            self.key.clone(),
            self.version_id.clone(),
            self.last_modified_ms,
        )
    }
}

impl Entry {
    /// The identity of the version this entry lists.
    pub fn identity(&self) -> Identity {
        (
            self.key.clone(),
            self.version_id.clone(),
            self.last_modified_ms,
        )
    }
}

/// Where the window of the digest after `previous` starts.
pub fn window_start(previous: Option<&Digest>, late_arrival_ms: i64) -> i64 {
    previous.map_or(i64::MIN, |p| {
        p.listed_at_ms.saturating_sub(late_arrival_ms.max(0))
    })
}

/// Whether a digest may list versions inside a window starting at
/// `window_start`, so that the digest before it must be read as well.
pub fn reaches_into(digest: &Digest, window_start: i64) -> bool {
    digest.listed_at_ms >= window_start
        || digest
            .objects
            .iter()
            .any(|e| e.last_modified_ms >= window_start)
}

/// The versions of `listed` the next digest lists: in the window, and not in
/// `recent` (the digests that reach into the window).
pub fn select<'l>(listed: &'l [Listed], window_start: i64, recent: &[Digest]) -> Vec<&'l Listed> {
    let covered: HashSet<Identity> = recent
        .iter()
        .flat_map(|d| d.objects.iter().map(Entry::identity))
        .collect();
    listed
        .iter()
        .filter(|l| l.last_modified_ms >= window_start && !covered.contains(&l.identity()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(key: &str, version: &str, lm: i64) -> Listed {
        Listed {
            key: key.into(),
            version_id: version.into(),
            size: 1,
            last_modified_ms: lm,
        }
    }

    fn digest(listed_at: i64, objects: &[&Listed]) -> Digest {
        Digest {
            bucket: "b".into(),
            key: "d/1".into(),
            sequence: 1,
            window_start_ms: i64::MIN,
            listed_at_ms: listed_at,
            previous: None,
            signing_key: "k".into(),
            objects: objects
                .iter()
                .map(|l| Entry {
                    key: l.key.clone(),
                    version_id: l.version_id.clone(),
                    size: l.size,
                    last_modified_ms: l.last_modified_ms,
                    sha256: [0; 32],
                })
                .collect(),
        }
    }

    #[test]
    fn first_digest_lists_everything() {
        let all = [listed("a", "1", 5), listed("b", "1", i64::MIN + 1)];
        assert_eq!(select(&all, window_start(None, 10), &[]).len(), 2);
    }

    #[test]
    fn late_arrival_is_listed_once() {
        // `late` was started before the first listing but became visible after it.
        let early = listed("logs/01/early", "1", 1_000);
        let late = listed("logs/01/late", "1", 1_500);
        let first = digest(2_000, &[&early]);
        let start = window_start(Some(&first), 1_000);
        assert_eq!(start, 1_000);
        assert!(reaches_into(&first, start));
        let now = [
            early.clone(),
            late.clone(),
            listed("logs/02/new", "1", 2_500),
        ];
        let next: Vec<&str> = select(&now, start, &[first])
            .iter()
            .map(|l| l.key.as_str())
            .collect();
        assert_eq!(next, ["logs/01/late", "logs/02/new"]);
    }

    #[test]
    fn older_than_the_window_is_left_to_verification() {
        let old = listed("logs/00/restored", "1", 100);
        let first = digest(2_000, &[]);
        assert!(select(&[old], window_start(Some(&first), 1_000), &[first]).is_empty());
    }

    #[test]
    fn an_overwrite_without_versioning_is_a_new_version() {
        let v1 = listed("k", "null", 1_500);
        let first = digest(2_000, &[&v1]);
        let v2 = listed("k", "null", 2_100);
        assert_eq!(
            select(&[v2], window_start(Some(&first), 1_000), &[first]).len(),
            1
        );
    }

    #[test]
    fn old_digests_stop_the_walk_back() {
        let d = digest(500, &[&listed("a", "1", 400)]);
        assert!(!reaches_into(&d, 1_000));
        assert!(reaches_into(&d, 400));
    }
}
