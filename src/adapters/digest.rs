//! Writing a digest and verifying the chain: the integrity core
//! (`crate::integrity`) driven over the bucket ([`Archive`]) and KMS (the
//! signature). The CLI's `digest` and `verify` and the scheduled function
//! all call [`write_digest`] and [`verify`].

use super::archive::{Archive, Retention};
use crate::integrity::document::{
    digest_key, hex, signing_input, unhex, Digest, Entry, Previous, MAX_DIGEST_BYTES,
    SIGNING_ALGORITHM,
};
use crate::integrity::select::{
    reaches_into, select, window_start, Listed, DEFAULT_LATE_ARRIVAL_MS, MAX_DIGESTS_BACK,
};
use crate::integrity::signature::{sha256, PublicKey};
use crate::integrity::verify::{
    check_bytes, check_chain, check_current, outside_chain, Checked, Finding, Stored,
};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use std::collections::HashMap;

/// The bucket whose objects are digested.
pub const ENV_BUCKET: &str = "DIGEST_BUCKET";
/// The KMS key that signs (key id, ARN or alias).
pub const ENV_KEY_ID: &str = "DIGEST_KEY_ID";
/// Where digests are written (never listed as objects).
pub const ENV_PREFIX: &str = "DIGEST_PREFIX";
/// The late-arrival allowance in seconds.
pub const ENV_LATE_ARRIVAL: &str = "DIGEST_LATE_ARRIVAL_SECONDS";
/// The digest prefix by default.
pub const DEFAULT_PREFIX: &str = "digests/";
/// The CloudWatch namespace of the digest function's metrics (its own: their
/// only dimension is the function).
pub const METRICS_NAMESPACE: &str = "CwlFirehose/Integrity";
/// The metadata field that holds a digest's signature (hex).
pub const SIGNATURE_METADATA: &str = "signature";

/// KMS: signs digests, gives the public key.
pub struct Kms {
    client: aws_sdk_kms::Client,
}

impl Kms {
    /// A client from the SDK's standard configuration.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_kms::Client::new(config),
        }
    }

    /// The key's ARN and its public half (DER), checked to be a P-256 key.
    pub async fn public_key(&self, key_id: &str) -> Result<(String, Vec<u8>), String> {
        let out = self
            .client
            .get_public_key()
            .key_id(key_id)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "KMS GetPublicKey {key_id}: {}",
                    super::reingest::error_text(&e)
                )
            })?;
        let der = out
            .public_key()
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| format!("KMS GetPublicKey {key_id}: no public key"))?;
        PublicKey::from_der(&der)
            .map_err(|e| format!("KMS key {key_id} is not an ECC_NIST_P256 key: {e}"))?;
        Ok((out.key_id().unwrap_or(key_id).to_string(), der))
    }

    /// The DER ECDSA signature of `message` (at most 4,096 bytes: KMS signs
    /// raw messages up to that size and hashes them itself).
    pub async fn sign(&self, key_id: &str, message: &[u8]) -> Result<Vec<u8>, String> {
        let out = self
            .client
            .sign()
            .key_id(key_id)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::from(SIGNING_ALGORITHM))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "KMS Sign with {key_id}: {}",
                    super::reingest::error_text(&e)
                )
            })?;
        out.signature()
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| "KMS Sign: no signature".to_string())
    }
}

/// How digests are laid out and written.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Where digests are stored.
    pub prefix: String,
    /// The late-arrival allowance (milliseconds).
    pub late_arrival_ms: i64,
}

/// What one digest run did.
#[derive(Debug, Clone)]
pub struct Written {
    /// The digest's key.
    pub key: String,
    /// Its sequence number.
    pub sequence: u64,
    /// When its listing started (epoch ms).
    pub listed_at_ms: i64,
    /// The objects it lists.
    pub objects: usize,
    /// The bytes hashed.
    pub bytes_hashed: u64,
    /// `false` when another run wrote this sequence first (nothing written).
    pub created: bool,
    /// The Object Lock retention written on it.
    pub retention: Option<Retention>,
}

/// The time now, epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A stored digest read back: its bytes and its signature (metadata).
async fn read_stored(archive: &Archive, key: &str) -> Result<Option<Stored>, String> {
    Ok(archive
        .read_capped(key, MAX_DIGEST_BYTES)
        .await?
        .map(|(bytes, metadata)| Stored {
            key: key.to_string(),
            bytes,
            signature: metadata.get(SIGNATURE_METADATA).and_then(|s| unhex(s)),
        }))
}

/// Writes the next digest: every current version outside the digest prefix
/// that the window holds and the recent digests do not list, each hashed,
/// signed by `key_id`, after the newest digest stored. A run that finds
/// nothing new writes a digest all the same (so a gap shows); a run that
/// loses the race for the next sequence to another writes nothing.
pub async fn write_digest(
    archive: &Archive,
    kms: &Kms,
    key_id: &str,
    layout: &Layout,
) -> Result<Written, String> {
    let listed_at_ms = now_ms();
    let (key_arn, public_der) = kms.public_key(key_id).await?;
    let public = PublicKey::from_der(&public_der)?;
    let keys = archive.keys_under(&layout.prefix).await?;
    // The newest digest, and those before it that reach into the window.
    let mut recent: Vec<Digest> = Vec::new();
    let mut previous: Option<Previous> = None;
    let mut start = i64::MIN;
    for key in keys.iter().rev().take(MAX_DIGESTS_BACK) {
        let stored = read_stored(archive, key)
            .await?
            .ok_or_else(|| format!("digest {key} vanished while being read"))?;
        let digest = Digest::parse(&stored.bytes).map_err(|e| {
            format!(
                "the newest digests must read before the chain goes on: {key}: {e} (run verify)"
            )
        })?;
        if previous.is_none() {
            let signature = stored
                .signature
                .clone()
                .ok_or_else(|| format!("digest {key} has no signature (run verify)"))?;
            let hash = sha256(&stored.bytes);
            if !public.verifies(&signing_input(archive.bucket(), key, &hash), &signature) {
                return Err(format!(
                    "digest {key} is not signed by {key_arn}: the chain does not go on from it (run verify)"
                ));
            }
            start = window_start(Some(&digest), layout.late_arrival_ms);
            previous = Some(Previous {
                key: key.clone(),
                sha256: hash,
                signature,
            });
        }
        let reaches = reaches_into(&digest, start);
        recent.push(digest);
        if !reaches {
            break;
        }
    }
    let sequence = recent.first().map_or(1, |d| d.sequence.saturating_add(1));
    let key = digest_key(&layout.prefix, sequence);
    let listed = archive.current_versions(&layout.prefix).await?;
    let mut objects = Vec::new();
    let mut bytes_hashed = 0u64;
    for l in select(&listed, start, &recent) {
        // Deleted between the listing and now: the next listing decides.
        if let Some((size, hash)) = archive.hash(&l.key, &l.version_id).await? {
            bytes_hashed += u64::try_from(size).unwrap_or(0);
            objects.push(Entry {
                key: l.key.clone(),
                version_id: l.version_id.clone(),
                size,
                last_modified_ms: l.last_modified_ms,
                sha256: hash,
            });
        }
    }
    let digest = Digest {
        bucket: archive.bucket().to_string(),
        key: key.clone(),
        sequence,
        window_start_ms: start,
        listed_at_ms,
        previous,
        signing_key: key_arn.clone(),
        objects,
    };
    let bytes = digest.to_bytes();
    let message = signing_input(archive.bucket(), &key, &sha256(&bytes));
    let signature = kms.sign(key_id, &message).await?;
    // A digest that would not verify is never written.
    if !public.verifies(&message, &signature) {
        return Err(format!(
            "KMS signature by {key_arn} does not verify with its public key"
        ));
    }
    let retention = archive.default_retention().await?;
    let metadata = HashMap::from([(SIGNATURE_METADATA.to_string(), hex(&signature))]);
    let created = archive
        .put_new(&key, bytes, metadata, retention.as_ref(), now_ms())
        .await?;
    Ok(Written {
        key,
        sequence,
        listed_at_ms,
        objects: digest.objects.len(),
        bytes_hashed,
        created,
        retention,
    })
}

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Digests listed from this time on (epoch ms); all when absent.
    pub since_ms: Option<i64>,
    /// Digests listed until this time (epoch ms); all when absent.
    pub until_ms: Option<i64>,
    /// A finding when the newest digest is older than this (ms).
    pub max_age_ms: Option<i64>,
}

/// What verification found, and how much it looked at.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every finding, digests first.
    pub findings: Vec<Finding>,
    /// Digests walked.
    pub digests: usize,
    /// Object versions checked.
    pub objects: usize,
    /// Bytes hashed.
    pub bytes_hashed: u64,
}

/// Walks the chain from the newest digest back to the first listed before
/// `scope.since_ms` (or to the first of all), checks every link and
/// signature with `public`, then the objects of the digests in the scope:
/// still current, same size and SHA-256; and no current object of the
/// scope's time that no digest lists.
pub async fn verify(
    archive: &Archive,
    public: &PublicKey,
    prefix: &str,
    scope: &Scope,
) -> Result<Report, String> {
    let keys = archive.keys_under(prefix).await?;
    let mut walked = Vec::new();
    let mut complete = true;
    for (i, key) in keys.iter().enumerate().rev() {
        let Some(stored) = read_stored(archive, key).await? else {
            continue;
        };
        let listed_at = Digest::parse(&stored.bytes).ok().map(|d| d.listed_at_ms);
        walked.push(stored);
        if let (Some(since), Some(at)) = (scope.since_ms, listed_at) {
            if at < since {
                complete = i == 0;
                break;
            }
        }
    }
    let (mut findings, checked) = check_chain(
        &walked,
        complete,
        archive.bucket(),
        prefix,
        &sha256,
        &|m, s| public.verifies(m, s),
    );
    let newest = checked.first();
    match newest {
        None if keys.is_empty() => findings.push(Finding::DigestMissing {
            key: digest_key(prefix, 1),
            reason: "no digest in the bucket".into(),
        }),
        Some(n) => {
            if let Some(max_age) = scope.max_age_ms {
                let age = now_ms().saturating_sub(n.digest.listed_at_ms);
                if age > max_age {
                    findings.push(Finding::DigestMissing {
                        key: digest_key(prefix, n.digest.sequence.saturating_add(1)),
                        reason: format!("the newest digest is {} s old", age / 1000),
                    });
                }
            }
        }
        None => {}
    }
    let in_scope = |c: &&Checked| {
        scope.since_ms.is_none_or(|s| c.digest.listed_at_ms >= s)
            && scope.until_ms.is_none_or(|u| c.digest.listed_at_ms <= u)
    };
    let listed = archive.current_versions(prefix).await?;
    let current: HashMap<String, Listed> =
        listed.iter().map(|l| (l.key.clone(), l.clone())).collect();
    let mut report = Report {
        digests: walked.len(),
        ..Report::default()
    };
    for c in checked.iter().filter(in_scope) {
        for e in &c.digest.objects {
            report.objects += 1;
            if let Err(f) = check_current(e, &c.digest.key, &current) {
                findings.push(f);
                continue;
            }
            let read = archive.hash(&e.key, &e.version_id).await?;
            if let Some((size, _)) = read {
                report.bytes_hashed += u64::try_from(size).unwrap_or(0);
            }
            findings.extend(check_bytes(e, &c.digest.key, read));
        }
    }
    if let Some(n) = newest {
        let before = scope.until_ms.map_or(n.digest.window_start_ms, |u| {
            u.min(n.digest.window_start_ms)
        });
        findings.extend(outside_chain(
            &listed,
            &checked,
            scope.since_ms.unwrap_or(i64::MIN),
            before,
        ));
    }
    report.findings = findings;
    Ok(report)
}

/// The SDK configuration from the standard sources (`AWS_ENDPOINT_URL`,
/// region, credentials).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await
}

/// The scheduled function's settings, from its environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The bucket.
    pub bucket: String,
    /// The signing key.
    pub key_id: String,
    /// The layout of digests.
    pub layout: Layout,
}

impl Settings {
    /// Reads [`ENV_BUCKET`], [`ENV_KEY_ID`], [`ENV_PREFIX`] and [`ENV_LATE_ARRIVAL`].
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let late_arrival_s =
            match var(ENV_LATE_ARRIVAL) {
                None => DEFAULT_LATE_ARRIVAL_MS / 1000,
                Some(v) => v.parse::<i64>().ok().filter(|s| *s >= 0).ok_or_else(|| {
                    format!("{ENV_LATE_ARRIVAL}={v:?} is not a number of seconds")
                })?,
            };
        Ok(Self {
            bucket: var(ENV_BUCKET).ok_or_else(|| format!("{ENV_BUCKET} is not set"))?,
            key_id: var(ENV_KEY_ID).ok_or_else(|| format!("{ENV_KEY_ID} is not set"))?,
            layout: Layout {
                prefix: var(ENV_PREFIX).unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
                late_arrival_ms: late_arrival_s.saturating_mul(1000),
            },
        })
    }
}

/// What one scheduled run did: the digest written, and the verification of
/// the digest before it (its objects re-read an interval after they were
/// digested, the links and signatures of the newest digests).
#[derive(Debug, Clone)]
pub struct Scheduled {
    /// The digest written.
    pub written: Written,
    /// The verification.
    pub report: Report,
}

/// Writes the next digest, then verifies the one before it and its objects
/// (and the links to it and from it).
pub async fn scheduled(
    archive: &Archive,
    kms: &Kms,
    settings: &Settings,
) -> Result<Scheduled, String> {
    let written = write_digest(archive, kms, &settings.key_id, &settings.layout).await?;
    let previous_key = written
        .sequence
        .checked_sub(1)
        .filter(|n| *n > 0)
        .map(|n| digest_key(&settings.layout.prefix, n));
    let at = match previous_key {
        Some(key) => read_stored(archive, &key)
            .await?
            .and_then(|s| Digest::parse(&s.bytes).ok())
            .map_or(written.listed_at_ms, |d| d.listed_at_ms),
        None => written.listed_at_ms,
    };
    let (_, der) = kms.public_key(&settings.key_id).await?;
    let public = PublicKey::from_der(&der)?;
    let scope = Scope {
        since_ms: Some(at),
        until_ms: Some(at),
        max_age_ms: None,
    };
    let report = verify(archive, &public, &settings.layout.prefix, &scope).await?;
    Ok(Scheduled { written, report })
}

impl Scheduled {
    /// One CloudWatch EMF line (namespace [`METRICS_NAMESPACE`], dimension
    /// `FunctionName`): `DigestsWritten` (the alarm on a run that did not
    /// happen reads it), `DigestObjects`, `DigestBytesHashed`, `IntegrityFindings`.
    pub fn emf_line(&self, function: &str, timestamp_ms: i64) -> String {
        let metrics = [
            ("DigestsWritten", "Count", u64::from(self.written.created)),
            ("DigestObjects", "Count", self.written.objects as u64),
            ("DigestBytesHashed", "Bytes", self.written.bytes_hashed),
            (
                "IntegrityFindings",
                "Count",
                self.report.findings.len() as u64,
            ),
        ];
        super::metrics::emf_function_line(
            METRICS_NAMESPACE,
            function,
            timestamp_ms,
            &metrics,
            &[("Digest", &self.written.key)],
        )
    }
}
