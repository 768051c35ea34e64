//! The log bucket through the S3 SDK, for digests, their verification and
//! the replay of error output: list current versions and keys, read objects
//! (capped), hash an object version as a stream, write an object only where
//! none is or only over the version read.

use super::reingest::error_text;
use crate::integrity::document::Sha256;
use crate::integrity::select::Listed;
use crate::integrity::signature::Hasher;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ObjectLockEnabled, ObjectLockRetentionMode};
use aws_sdk_s3::Client;
use std::collections::HashMap;

/// The bucket.
pub struct Archive {
    client: Client,
    bucket: String,
}

/// The Object Lock retention a new digest gets: the bucket's default,
/// written on the digest itself so it holds whatever the default becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// GOVERNANCE or COMPLIANCE.
    pub mode: ObjectLockRetentionMode,
    /// The retention in days.
    pub days: i64,
}

/// The S3 error code of a failed call (`None` for a connection error).
fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(ProvideErrorMetadata::code)
}

impl Archive {
    /// A client from the SDK's standard configuration (`AWS_ENDPOINT_URL`,
    /// region, credentials). With an endpoint set, path-style addressing, so
    /// an endpoint that is an address (a local S3) works.
    pub async fn connect(bucket: &str, config: &aws_config::SdkConfig) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        Self {
            client: Client::from_conf(s3),
            bucket: bucket.to_string(),
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Every current object version (no delete markers, nothing noncurrent)
    /// outside `exclude_prefix`.
    pub async fn current_versions(&self, exclude_prefix: &str) -> Result<Vec<Listed>, String> {
        let mut out = Vec::new();
        let mut key_marker: Option<String> = None;
        let mut version_marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| format!("ListObjectVersions: {}", error_text(&e)))?;
            for v in page.versions() {
                let (Some(key), Some(true)) = (v.key(), v.is_latest()) else {
                    continue;
                };
                if key.starts_with(exclude_prefix) {
                    continue;
                }
                out.push(Listed {
                    key: key.to_string(),
                    version_id: v.version_id().unwrap_or("null").to_string(),
                    size: v.size().unwrap_or(0),
                    last_modified_ms: v
                        .last_modified()
                        .and_then(|t| t.to_millis().ok())
                        .unwrap_or(0),
                });
            }
            if page.is_truncated() != Some(true) {
                return Ok(out);
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
            if key_marker.is_none() {
                return Err("ListObjectVersions: truncated without a next marker".into());
            }
        }
    }

    /// The keys under `prefix`, sorted.
    pub async fn keys_under(&self, prefix: &str) -> Result<Vec<String>, String> {
        Ok(self
            .sizes_under(prefix)
            .await?
            .into_iter()
            .map(|(key, _)| key)
            .collect())
    }

    /// The keys under `prefix` with their sizes, sorted by key.
    pub async fn sizes_under(&self, prefix: &str) -> Result<Vec<(String, i64)>, String> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| format!("ListObjectsV2: {}", error_text(&e)))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(|k| (k.to_string(), o.size().unwrap_or(0)))),
            );
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// An object's bytes and metadata, `None` when it is not there; an
    /// object larger than `cap` is an error (it is read whole).
    pub async fn read_capped(
        &self,
        key: &str,
        cap: usize,
    ) -> Result<Option<(Vec<u8>, HashMap<String, String>)>, String> {
        Ok(self
            .read_whole(key, cap)
            .await?
            .map(|(bytes, metadata, _)| (bytes, metadata)))
    }

    /// An object's bytes and ETag (what [`put_over`](Self::put_over) takes),
    /// `None` when it is not there; larger than `cap` is an error.
    pub async fn read_tagged(
        &self,
        key: &str,
        cap: usize,
    ) -> Result<Option<(Vec<u8>, String)>, String> {
        Ok(self
            .read_whole(key, cap)
            .await?
            .map(|(bytes, _, etag)| (bytes, etag)))
    }

    async fn read_whole(
        &self,
        key: &str,
        cap: usize,
    ) -> Result<Option<(Vec<u8>, HashMap<String, String>, String)>, String> {
        let got = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let mut out = match got {
            Ok(o) => o,
            Err(e) if code(&e) == Some("NoSuchKey") => return Ok(None),
            Err(e) => return Err(format!("GetObject {key}: {}", error_text(&e))),
        };
        let metadata = out.metadata().cloned().unwrap_or_default();
        let etag = out.e_tag().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = out
            .body
            .try_next()
            .await
            .map_err(|e| format!("GetObject {key}: {e}"))?
        {
            if bytes.len() + chunk.len() > cap {
                return Err(format!("{key} is larger than {cap} bytes"));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some((bytes, metadata, etag)))
    }

    /// Writes `bytes` at `key` only over the version read with ETag
    /// `expected` (`None`: only where nothing is): the new ETag, or
    /// `Ok(None)` when the object changed meanwhile (another writer).
    pub async fn put_over(
        &self,
        key: &str,
        bytes: Vec<u8>,
        expected: Option<&str>,
    ) -> Result<Option<String>, String> {
        self.put_if(key, bytes, expected, HashMap::new(), None, 0)
            .await
    }

    /// The size and SHA-256 of one object version, read as a stream (memory
    /// stays one chunk whatever the size); `None` when the version is gone.
    pub async fn hash(&self, key: &str, version_id: &str) -> Result<Option<(i64, Sha256)>, String> {
        let mut get = self.client.get_object().bucket(&self.bucket).key(key);
        if version_id != "null" {
            get = get.version_id(version_id);
        }
        let mut out = match get.send().await {
            Ok(o) => o,
            Err(e) if matches!(code(&e), Some("NoSuchKey" | "NoSuchVersion")) => return Ok(None),
            Err(e) => return Err(format!("GetObject {key}: {}", error_text(&e))),
        };
        let mut hasher = Hasher::default();
        let mut size: i64 = 0;
        while let Some(chunk) = out
            .body
            .try_next()
            .await
            .map_err(|e| format!("GetObject {key}: {e}"))?
        {
            hasher.update(&chunk);
            size = size.saturating_add(i64::try_from(chunk.len()).unwrap_or(i64::MAX));
        }
        Ok(Some((size, hasher.finish())))
    }

    /// The bucket's default Object Lock retention, `None` without Object Lock.
    pub async fn default_retention(&self) -> Result<Option<Retention>, String> {
        let got = self
            .client
            .get_object_lock_configuration()
            .bucket(&self.bucket)
            .send()
            .await;
        let config = match got {
            Ok(o) => o.object_lock_configuration,
            Err(e) if code(&e) == Some("ObjectLockConfigurationNotFoundError") => None,
            Err(e) => return Err(format!("GetObjectLockConfiguration: {}", error_text(&e))),
        };
        let Some(config) = config else {
            return Ok(None);
        };
        if config.object_lock_enabled() != Some(&ObjectLockEnabled::Enabled) {
            return Ok(None);
        }
        let Some(rule) = config.rule().and_then(|r| r.default_retention()) else {
            return Ok(None);
        };
        let days = i64::from(rule.days().unwrap_or(0))
            + i64::from(rule.years().unwrap_or(0)).saturating_mul(365);
        Ok(rule
            .mode()
            .cloned()
            .filter(|_| days > 0)
            .map(|mode| Retention { mode, days }))
    }

    /// Writes `bytes` at `key` only if nothing is there (`Ok(false)` when
    /// something is: another run got there first), with this metadata and,
    /// when given, this Object Lock retention from now.
    pub async fn put_new(
        &self,
        key: &str,
        bytes: Vec<u8>,
        metadata: HashMap<String, String>,
        retention: Option<&Retention>,
        now_ms: i64,
    ) -> Result<bool, String> {
        Ok(self
            .put_if(key, bytes, None, metadata, retention, now_ms)
            .await?
            .is_some())
    }

    /// The one conditional write: over ETag `expected`, or where nothing is
    /// when `None`; the new ETag, `None` when the condition failed.
    async fn put_if(
        &self,
        key: &str,
        bytes: Vec<u8>,
        expected: Option<&str>,
        metadata: HashMap<String, String>,
        retention: Option<&Retention>,
        now_ms: i64,
    ) -> Result<Option<String>, String> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .set_metadata(Some(metadata))
            .body(ByteStream::from(bytes));
        put = match expected {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        if let Some(r) = retention {
            let until_ms = now_ms.saturating_add(r.days.saturating_mul(86_400_000));
            put = put
                .object_lock_mode(r.mode.as_str().into())
                .object_lock_retain_until_date(aws_sdk_s3::primitives::DateTime::from_millis(
                    until_ms,
                ));
        }
        match put.send().await {
            Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
            // NoSuchKey: the object an If-Match named is gone.
            Err(e)
                if matches!(
                    code(&e),
                    Some("PreconditionFailed" | "ConditionalRequestConflict" | "NoSuchKey")
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(format!("PutObject {key}: {}", error_text(&e))),
        }
    }
}
