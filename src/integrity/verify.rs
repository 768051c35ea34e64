//! Checking a chain of digests and the objects they list: every finding
//! named by the key it is about.
//!
//! The chain is walked from the newest digest back. A digest must read
//! (canonical bytes of the format), be signed by the key the auditor trusts
//! over its bucket, its place and its hash, sit where its sequence number
//! puts it, and be exactly the digest (bytes and signature) that the next
//! one names as its previous. An object a digest lists must still be the
//! current version of its key, of the same size and SHA-256; a current
//! version that is old enough to have been listed by a digest and is not
//! was added outside the chain.

use super::document::{digest_key, hex, Digest, Entry, Sha256};
use super::select::{Identity, Listed};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// A digest as stored: its key, its bytes, the signature kept with it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its key.
    pub key: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The signature from its metadata (`None` when it has none).
    pub signature: Option<Vec<u8>>,
}

/// One thing verification found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A digest does not read, is not signed by the trusted key, or is not
    /// the one (bytes or signature) the next digest names.
    DigestChanged {
        /// The digest's key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A digest the chain names (or that a sequence needs) is not there,
    /// or none was written for longer than allowed.
    DigestMissing {
        /// The key it should be at.
        key: String,
        /// Why it is expected.
        reason: String,
    },
    /// A digest is not where the chain puts it (wrong place, sequence or time).
    DigestOutOfOrder {
        /// The digest's key.
        key: String,
        /// What is out of order.
        reason: String,
    },
    /// An object a digest lists is no longer the same bytes.
    ObjectChanged {
        /// The object's key.
        key: String,
        /// The version the digest lists.
        version_id: String,
        /// The digest that lists it.
        digest: String,
        /// What differs.
        reason: String,
    },
    /// An object a digest lists is gone (or hidden by a delete marker).
    ObjectDeleted {
        /// The object's key.
        key: String,
        /// The version the digest lists.
        version_id: String,
        /// The digest that lists it.
        digest: String,
    },
    /// A current object that a digest should list and none does.
    ObjectOutsideChain {
        /// The object's key.
        key: String,
        /// Its version.
        version_id: String,
        /// Its `LastModified`, epoch ms.
        last_modified_ms: i64,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DigestChanged { key, reason } => write!(f, "digest changed: {key}: {reason}"),
            Self::DigestMissing { key, reason } => write!(f, "digest missing: {key}: {reason}"),
            Self::DigestOutOfOrder { key, reason } => {
                write!(f, "digest out of order: {key}: {reason}")
            }
            Self::ObjectChanged {
                key,
                version_id,
                digest,
                reason,
            } => write!(
                f,
                "object changed: {key} (version {version_id}, listed in {digest}): {reason}"
            ),
            Self::ObjectDeleted {
                key,
                version_id,
                digest,
            } => write!(
                f,
                "object deleted: {key} (version {version_id}, listed in {digest})"
            ),
            Self::ObjectOutsideChain {
                key,
                version_id,
                last_modified_ms,
            } => write!(
                f,
                "object added outside the chain: {key} (version {version_id}, LastModified {last_modified_ms} ms): no digest lists it"
            ),
        }
    }
}

/// A digest that read and is signed, with the hash of its bytes.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The digest.
    pub digest: Digest,
    /// The SHA-256 of its stored bytes.
    pub sha256: Sha256,
    /// Its signature.
    pub signature: Vec<u8>,
}

/// The chain as walked, newest first, checked. `complete` says the walk
/// reached the oldest digest stored (so the oldest must be the first of the
/// chain); otherwise the oldest walked is only the anchor of the links.
/// `verifies(message, signature)` checks a signature with the trusted key.
pub fn check_chain(
    walked: &[Stored],
    complete: bool,
    bucket: &str,
    prefix: &str,
    sha256: &dyn Fn(&[u8]) -> Sha256,
    verifies: &dyn Fn(&[u8], &[u8]) -> bool,
) -> (Vec<Finding>, Vec<Checked>) {
    let mut findings = Vec::new();
    // Per stored digest: the hash of its bytes, and the digest when it holds up.
    let mut read: Vec<(Sha256, Option<Digest>)> = Vec::with_capacity(walked.len());
    let mut checked = Vec::new();
    for s in walked {
        let hash = sha256(&s.bytes);
        let changed = |reason: String| Finding::DigestChanged {
            key: s.key.clone(),
            reason,
        };
        let digest = match Digest::parse(&s.bytes) {
            Err(e) => {
                findings.push(changed(format!("does not read as a digest: {e}")));
                None
            }
            Ok(d) => {
                let message = super::document::signing_input(bucket, &s.key, &hash);
                match &s.signature {
                    None => {
                        findings.push(changed("has no signature".into()));
                        None
                    }
                    Some(sig) if !verifies(&message, sig) => {
                        findings.push(changed(
                            "its signature does not verify with the trusted key".into(),
                        ));
                        None
                    }
                    Some(sig) => {
                        placement(s, &d, bucket, prefix, &mut findings);
                        checked.push(Checked {
                            digest: d.clone(),
                            sha256: hash,
                            signature: sig.clone(),
                        });
                        Some(d)
                    }
                }
            }
        };
        read.push((hash, digest));
    }
    for (i, pair) in walked.windows(2).enumerate() {
        let (Some(newer_stored), Some(older_stored)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let (Some((_, Some(newer))), Some((older_hash, older))) = (read.get(i), read.get(i + 1))
        else {
            continue;
        };
        link(
            newer_stored,
            newer,
            older_stored,
            older_hash,
            older.as_ref(),
            prefix,
            &mut findings,
        );
    }
    if complete {
        if let Some((_, Some(oldest))) = read.last() {
            if let Some(p) = &oldest.previous {
                findings.push(Finding::DigestMissing {
                    key: p.key.clone(),
                    reason: format!("named as previous by {}", oldest.key),
                });
            }
        }
    }
    (findings, checked)
}

/// A digest says it is where it is stored, in this bucket, at its sequence's key.
fn placement(s: &Stored, d: &Digest, bucket: &str, prefix: &str, findings: &mut Vec<Finding>) {
    let expected = digest_key(prefix, d.sequence);
    let reason = if d.bucket != bucket {
        format!("it is a digest of bucket {:?}", d.bucket)
    } else if d.key != s.key {
        format!("it says it is stored at {}", d.key)
    } else if expected != s.key {
        format!("sequence {} belongs at {expected}", d.sequence)
    } else if d.window_start_ms > d.listed_at_ms {
        "its window starts after its listing".into()
    } else {
        return;
    };
    findings.push(Finding::DigestOutOfOrder {
        key: s.key.clone(),
        reason,
    });
}

/// The link from a digest to the one stored before it.
fn link(
    newer_stored: &Stored,
    newer: &Digest,
    older_stored: &Stored,
    older_hash: &Sha256,
    older: Option<&Digest>,
    prefix: &str,
    findings: &mut Vec<Finding>,
) {
    let Some(p) = &newer.previous else {
        findings.push(Finding::DigestOutOfOrder {
            key: older_stored.key.clone(),
            reason: format!("stored before {}, which starts the chain", newer_stored.key),
        });
        return;
    };
    if p.key != older_stored.key {
        if p.key < older_stored.key {
            findings.push(Finding::DigestOutOfOrder {
                key: older_stored.key.clone(),
                reason: format!("not in the chain: {} names {}", newer.key, p.key),
            });
        } else {
            let after = older.map_or(0, |o| o.sequence);
            let missing: Vec<u64> = (after + 1..newer.sequence).collect();
            if missing.is_empty() || older.is_none() {
                findings.push(Finding::DigestMissing {
                    key: p.key.clone(),
                    reason: format!("named as previous by {}", newer.key),
                });
            }
            if older.is_some() {
                for n in missing {
                    findings.push(Finding::DigestMissing {
                        key: digest_key(prefix, n),
                        reason: format!(
                            "the chain goes from {} to {}",
                            older_stored.key, newer.key
                        ),
                    });
                }
            }
        }
        return;
    }
    if p.sha256 != *older_hash {
        findings.push(Finding::DigestChanged {
            key: older_stored.key.clone(),
            reason: format!(
                "SHA-256 {} is not the {} that {} vouches for",
                hex(older_hash),
                hex(&p.sha256),
                newer.key
            ),
        });
    } else if older_stored.signature.as_deref() != Some(p.signature.as_slice()) {
        findings.push(Finding::DigestChanged {
            key: older_stored.key.clone(),
            reason: format!("its signature is not the one {} names", newer.key),
        });
    }
    if let Some(o) = older {
        if o.sequence.checked_add(1) != Some(newer.sequence) {
            findings.push(Finding::DigestOutOfOrder {
                key: newer.key.clone(),
                reason: format!("sequence {} follows {}", newer.sequence, o.sequence),
            });
        } else if o.listed_at_ms >= newer.listed_at_ms {
            findings.push(Finding::DigestOutOfOrder {
                key: newer.key.clone(),
                reason: format!("listed at {} ms, not after {}", newer.listed_at_ms, o.key),
            });
        }
    }
}

/// What an entry's object is now, by the listing of current versions:
/// `Ok(())` when it is the same version (its bytes are then to be hashed),
/// else the finding.
pub fn check_current(
    e: &Entry,
    digest: &str,
    current: &HashMap<String, Listed>,
) -> Result<(), Finding> {
    let Some(c) = current.get(&e.key) else {
        return Err(Finding::ObjectDeleted {
            key: e.key.clone(),
            version_id: e.version_id.clone(),
            digest: digest.to_string(),
        });
    };
    let reason = if c.version_id != e.version_id {
        format!("version {} is current instead", c.version_id)
    } else if c.last_modified_ms != e.last_modified_ms {
        format!(
            "rewritten: LastModified {} ms, not {} ms",
            c.last_modified_ms, e.last_modified_ms
        )
    } else if c.size != e.size {
        format!("{} bytes, not {}", c.size, e.size)
    } else {
        return Ok(());
    };
    Err(Finding::ObjectChanged {
        key: e.key.clone(),
        version_id: e.version_id.clone(),
        digest: digest.to_string(),
        reason,
    })
}

/// The bytes read back for an entry (`None`: the version is gone).
pub fn check_bytes(e: &Entry, digest: &str, read: Option<(i64, Sha256)>) -> Option<Finding> {
    let Some((size, hash)) = read else {
        return Some(Finding::ObjectDeleted {
            key: e.key.clone(),
            version_id: e.version_id.clone(),
            digest: digest.to_string(),
        });
    };
    let reason = if size != e.size {
        format!("{size} bytes, not {}", e.size)
    } else if hash != e.sha256 {
        format!("SHA-256 {}, not {}", hex(&hash), hex(&e.sha256))
    } else {
        return None;
    };
    Some(Finding::ObjectChanged {
        key: e.key.clone(),
        version_id: e.version_id.clone(),
        digest: digest.to_string(),
        reason,
    })
}

/// Current versions last modified in `from_ms..before_ms` that no digest lists.
pub fn outside_chain(
    listed: &[Listed],
    digests: &[Checked],
    from_ms: i64,
    before_ms: i64,
) -> Vec<Finding> {
    let covered: HashSet<Identity> = digests
        .iter()
        .flat_map(|c| c.digest.objects.iter().map(Entry::identity))
        .collect();
    listed
        .iter()
        .filter(|l| (from_ms..before_ms).contains(&l.last_modified_ms))
        .filter(|l| !covered.contains(&l.identity()))
        .map(|l| Finding::ObjectOutsideChain {
            key: l.key.clone(),
            version_id: l.version_id.clone(),
            last_modified_ms: l.last_modified_ms,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::document::{signing_input, Previous};
    use super::*;

    const PREFIX: &str = "digests/";

    /// A stand-in hash and signature (the real ones are tested with the
    /// adapter): what matters here is which bytes they are over.
    fn hash(bytes: &[u8]) -> Sha256 {
        let mut h = [0u8; 32];
        for (i, b) in bytes.iter().enumerate() {
            h[i % 32] = h[i % 32].wrapping_mul(31).wrapping_add(*b);
        }
        h
    }
    fn sign(message: &[u8]) -> Vec<u8> {
        hash(message).to_vec()
    }
    fn verifies(message: &[u8], sig: &[u8]) -> bool {
        sign(message) == sig
    }

    fn entry(key: &str) -> Entry {
        Entry {
            key: key.into(),
            version_id: "v1".into(),
            size: 3,
            last_modified_ms: 1_000,
            sha256: [9; 32],
        }
    }

    /// A well-formed chain of `n` digests, oldest first.
    fn chain(n: u64) -> Vec<Stored> {
        let mut out: Vec<Stored> = Vec::new();
        for seq in 1..=n {
            let previous = out.last().map(|p| Previous {
                key: p.key.clone(),
                sha256: hash(&p.bytes),
                signature: p.signature.clone().unwrap(),
            });
            let key = digest_key(PREFIX, seq);
            let d = Digest {
                bucket: "b".into(),
                key: key.clone(),
                sequence: seq,
                window_start_ms: 0,
                listed_at_ms: seq as i64 * 10_000,
                previous,
                signing_key: "k".into(),
                objects: vec![entry(&format!("logs/{seq}"))],
            };
            let bytes = d.to_bytes();
            let signature = Some(sign(&signing_input("b", &key, &hash(&bytes))));
            out.push(Stored {
                key,
                bytes,
                signature,
            });
        }
        out
    }

    fn check(mut oldest_first: Vec<Stored>, complete: bool) -> Vec<String> {
        oldest_first.reverse();
        let (findings, _) = check_chain(&oldest_first, complete, "b", PREFIX, &hash, &verifies);
        findings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_good_chain_has_no_finding() {
        assert!(check(chain(4), true).is_empty());
        // Walked from the middle: the oldest walked is only an anchor.
        assert!(check(chain(4).split_off(1), false).is_empty());
    }

    #[test]
    fn a_changed_byte_breaks_the_signature() {
        let mut c = chain(3);
        c[1].bytes = String::from_utf8(c[1].bytes.clone())
            .unwrap()
            .replace("logs/2", "logs/X")
            .into_bytes();
        let f = check(c, true);
        // Its own signature, and the hash the next digest vouches for.
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f
            .iter()
            .all(|f| f.starts_with("digest changed: digests/00000000000000000002.json")));
    }

    #[test]
    fn a_validly_signed_substitute_breaks_the_link() {
        let mut c = chain(3);
        // Same place, signed, but another listing: only the link can tell.
        let mut d = Digest::parse(&c[1].bytes).unwrap();
        d.objects.clear();
        let bytes = d.to_bytes();
        c[1].signature = Some(sign(&signing_input("b", &c[1].key, &hash(&bytes))));
        c[1].bytes = bytes;
        let f = check(c, true);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].contains("is not the") && f[0].contains("00000000000000000002.json"),
            "{f:?}"
        );
    }

    #[test]
    fn deleted_digests_are_missing() {
        let mut c = chain(4);
        c.remove(1);
        let f = check(c, true);
        assert_eq!(f, ["digest missing: digests/00000000000000000002.json: the chain goes from digests/00000000000000000001.json to digests/00000000000000000003.json"]);
        let mut c = chain(3);
        c.remove(0);
        let f = check(c, true);
        assert_eq!(f.len(), 1);
        assert!(f[0].starts_with("digest missing: digests/00000000000000000001.json"));
    }

    #[test]
    fn a_digest_moved_or_inserted_is_out_of_order() {
        let mut c = chain(3);
        let mut moved = c.remove(2);
        moved.key = digest_key(PREFIX, 7);
        moved.signature = Some(sign(&signing_input("b", &moved.key, &hash(&moved.bytes))));
        c.push(moved);
        let f = check(c, true);
        assert!(
            f.iter()
                .any(|f| f.starts_with("digest out of order: digests/00000000000000000007.json")),
            "{f:?}"
        );
    }

    #[test]
    fn objects_by_listing_and_bytes() {
        let e = entry("logs/a");
        let mut current = HashMap::new();
        assert!(matches!(
            check_current(&e, "d", &current),
            Err(Finding::ObjectDeleted { .. })
        ));
        let same = Listed {
            key: "logs/a".into(),
            version_id: "v1".into(),
            size: 3,
            last_modified_ms: 1_000,
        };
        current.insert("logs/a".to_string(), same.clone());
        assert_eq!(check_current(&e, "d", &current), Ok(()));
        current.insert(
            "logs/a".to_string(),
            Listed {
                version_id: "v2".into(),
                ..same.clone()
            },
        );
        let f = check_current(&e, "d", &current).unwrap_err().to_string();
        assert_eq!(
            f,
            "object changed: logs/a (version v1, listed in d): version v2 is current instead"
        );
        assert_eq!(check_bytes(&e, "d", Some((3, [9; 32]))), None);
        assert!(check_bytes(&e, "d", Some((3, [8; 32])))
            .unwrap()
            .to_string()
            .contains("SHA-256"));
        assert!(matches!(
            check_bytes(&e, "d", None),
            Some(Finding::ObjectDeleted { .. })
        ));
        let c = chain(1);
        let (_, checked) = check_chain(&c, true, "b", PREFIX, &hash, &verifies);
        let outside = outside_chain(
            &[
                same,
                Listed {
                    key: "logs/1".into(),
                    ..entry_listed()
                },
            ],
            &checked,
            0,
            2_000,
        );
        assert_eq!(outside.len(), 1);
        assert!(outside[0]
            .to_string()
            .starts_with("object added outside the chain: logs/a"));
    }

    fn entry_listed() -> Listed {
        Listed {
            key: String::new(),
            version_id: "v1".into(),
            size: 3,
            last_modified_ms: 1_000,
        }
    }
}
