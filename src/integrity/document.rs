//! The digest document: what one digest says, its canonical bytes (the bytes
//! stored, hashed and, through their hash, signed) and the reader of them.
//!
//! Canonical means one byte sequence per content: the keys in a fixed order,
//! no whitespace but one newline after the header and after each object,
//! integers without fraction or exponent, strings escaped exactly as the
//! line writer escapes them, objects sorted by key then version id. Writing
//! the same digest twice gives the same bytes, so a repeated run can be
//! compared byte for byte and the reader can insist on the canonical form.

use crate::json::{push_int, push_str};
use serde::Deserialize;

/// The format tag every digest starts with; a reader refuses any other.
pub const FORMAT: &str = "cwl-firehose-digest/1";

/// The KMS signing algorithm of every digest (key spec `ECC_NIST_P256`).
pub const SIGNING_ALGORITHM: &str = "ECDSA_SHA_256";

/// The largest digest document read back (a listing of about 200,000
/// objects): digests are read whole, so the cap bounds memory.
pub const MAX_DIGEST_BYTES: usize = 64 << 20;

/// A SHA-256 value.
pub type Sha256 = [u8; 32];

/// One object version a digest vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The object's key.
    pub key: String,
    /// Its version id (`null` in a bucket without versioning).
    pub version_id: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its `LastModified`, epoch milliseconds.
    pub last_modified_ms: i64,
    /// The SHA-256 of its bytes.
    pub sha256: Sha256,
}

/// The link to the digest before: its key, the hash of its bytes and its
/// signature, so neither can change without breaking this digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    /// Where the previous digest is stored.
    pub key: String,
    /// The SHA-256 of its bytes.
    pub sha256: Sha256,
    /// Its signature (DER ECDSA, as KMS returned it).
    pub signature: Vec<u8>,
}

/// One digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The bucket the objects are in.
    pub bucket: String,
    /// Where this digest is stored (a copy elsewhere is not this digest).
    pub key: String,
    /// 1 for the first digest of a chain, then one more each time.
    pub sequence: u64,
    /// Objects last modified from here on were listed (epoch ms; the first
    /// digest lists everything and says `i64::MIN`).
    pub window_start_ms: i64,
    /// When the listing started (epoch ms).
    pub listed_at_ms: i64,
    /// The digest before, absent for the first.
    pub previous: Option<Previous>,
    /// The KMS key that signs (its ARN as KMS names it).
    pub signing_key: String,
    /// Every object version this digest vouches for, sorted by key then version id.
    pub objects: Vec<Entry>,
}

impl Digest {
    /// The canonical bytes (objects sorted here, whatever order they came in).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut objects: Vec<&Entry> = self.objects.iter().collect();
        objects.sort_by(|a, b| (&a.key, &a.version_id).cmp(&(&b.key, &b.version_id)));
        let mut out = Vec::with_capacity(512 + objects.len() * 200);
        out.extend_from_slice(b"{\"format\":");
        push_str(&mut out, FORMAT);
        out.extend_from_slice(b",\"bucket\":");
        push_str(&mut out, &self.bucket);
        out.extend_from_slice(b",\"key\":");
        push_str(&mut out, &self.key);
        out.extend_from_slice(b",\"sequence\":");
        push_int(&mut out, i64::try_from(self.sequence).unwrap_or(i64::MAX));
        out.extend_from_slice(b",\"window_start_ms\":");
        push_int(&mut out, self.window_start_ms);
        out.extend_from_slice(b",\"listed_at_ms\":");
        push_int(&mut out, self.listed_at_ms);
        out.extend_from_slice(b",\"previous\":");
        match &self.previous {
            None => out.extend_from_slice(b"null"),
            Some(p) => {
                out.extend_from_slice(b"{\"key\":");
                push_str(&mut out, &p.key);
                out.extend_from_slice(b",\"sha256\":");
                push_str(&mut out, &hex(&p.sha256));
                out.extend_from_slice(b",\"signature\":");
                push_str(&mut out, &hex(&p.signature));
                out.push(b'}');
            }
        }
        out.extend_from_slice(b",\"signing_key\":");
        push_str(&mut out, &self.signing_key);
        out.extend_from_slice(b",\"signing_algorithm\":");
        push_str(&mut out, SIGNING_ALGORITHM);
        out.extend_from_slice(b",\"objects\":[");
        for (i, e) in objects.iter().enumerate() {
            out.extend_from_slice(if i == 0 { b"\n{" } else { b",\n{" });
            out.extend_from_slice(b"\"key\":");
            push_str(&mut out, &e.key);
            out.extend_from_slice(b",\"version_id\":");
            push_str(&mut out, &e.version_id);
            out.extend_from_slice(b",\"size\":");
            push_int(&mut out, e.size);
            out.extend_from_slice(b",\"last_modified_ms\":");
            push_int(&mut out, e.last_modified_ms);
            out.extend_from_slice(b",\"sha256\":");
            push_str(&mut out, &hex(&e.sha256));
            out.push(b'}');
        }
        out.extend_from_slice(b"\n]}\n");
        out
    }

    /// Reads a digest, refusing anything that is not exactly the canonical
    /// bytes of what it says (another format, an unknown field, a reordered
    /// or reformatted document).
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_DIGEST_BYTES {
            return Err(format!("larger than {MAX_DIGEST_BYTES} bytes"));
        }
        let raw: RawDigest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if raw.format != FORMAT {
            return Err(format!("format {:?}, not {FORMAT:?}", raw.format));
        }
        if raw.signing_algorithm != SIGNING_ALGORITHM {
            return Err(format!("signing algorithm {:?}", raw.signing_algorithm));
        }
        let previous = match raw.previous {
            None => None,
            Some(p) => Some(Previous {
                key: p.key,
                sha256: sha256_from_hex(&p.sha256)?,
                signature: unhex(&p.signature).ok_or("previous signature is not hex")?,
            }),
        };
        let objects = raw
            .objects
            .into_iter()
            .map(|o| {
                Ok(Entry {
                    sha256: sha256_from_hex(&o.sha256)?,
                    key: o.key,
                    version_id: o.version_id,
                    size: o.size,
                    last_modified_ms: o.last_modified_ms,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let digest = Self {
            bucket: raw.bucket,
            key: raw.key,
            sequence: raw.sequence,
            window_start_ms: raw.window_start_ms,
            listed_at_ms: raw.listed_at_ms,
            previous,
            signing_key: raw.signing_key,
            objects,
        };
        if digest.to_bytes() != bytes {
            return Err("not in canonical form".to_string());
        }
        Ok(digest)
    }
}

/// Where digest number `sequence` is stored under `prefix`. Zero-padded so
/// keys sort in chain order, and fixed by the sequence alone so two runs
/// racing for the same place collide instead of forking the chain.
pub fn digest_key(prefix: &str, sequence: u64) -> String {
    format!("{prefix}{sequence:020}.json")
}

/// What KMS signs for a digest: short (KMS signs at most 4,096 bytes of raw
/// message) and naming the bucket, the place and the SHA-256 of the
/// document, which itself carries the previous digest's hash and signature.
pub fn signing_input(bucket: &str, key: &str, document_sha256: &Sha256) -> Vec<u8> {
    format!("{FORMAT}\n{bucket}\n{key}\n{}\n", hex(document_sha256)).into_bytes()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            s.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

/// Lowercase hex back to bytes (`None` for anything else).
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => Some(nibble(*hi)? << 4 | nibble(*lo)?),
            _ => None,
        })
        .collect()
}

fn sha256_from_hex(s: &str) -> Result<Sha256, String> {
    unhex(s)
        .and_then(|v| Sha256::try_from(v).ok())
        .ok_or_else(|| format!("{s:?} is not a hex SHA-256"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDigest {
    format: String,
    bucket: String,
    key: String,
    sequence: u64,
    window_start_ms: i64,
    listed_at_ms: i64,
    previous: Option<RawPrevious>,
    signing_key: String,
    signing_algorithm: String,
    objects: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrevious {
    key: String,
    sha256: String,
    signature: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    key: String,
    version_id: String,
    size: i64,
    last_modified_ms: i64,
    sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Digest {
        Digest {
            bucket: "logs-bucket".into(),
            key: digest_key("digests/", 2),
            sequence: 2,
            window_start_ms: 1_000,
            listed_at_ms: 5_000,
            previous: Some(Previous {
                key: digest_key("digests/", 1),
                sha256: [7; 32],
                signature: vec![0x30, 0x45, 0xff],
            }),
            signing_key: "arn:aws:kms:us-east-1:123456789012:key/k".into(),
            objects: vec![
                Entry {
                    key: "logs/2026/12/07/02/b \"quoted\"\n".into(),
                    version_id: "v2".into(),
                    size: 10,
                    last_modified_ms: 4_000,
                    sha256: [1; 32],
                },
                Entry {
                    key: "logs/2026/12/07/02/a".into(),
                    version_id: "null".into(),
                    size: 0,
                    last_modified_ms: 3_000,
                    sha256: [2; 32],
                },
            ],
        }
    }

    #[test]
    fn round_trip_is_canonical_and_sorted() {
        let d = sample();
        let bytes = d.to_bytes();
        let back = Digest::parse(&bytes).unwrap();
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(back.objects[0].key, "logs/2026/12/07/02/a");
        assert_eq!(back.previous, d.previous);
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.starts_with("{\"format\":\"cwl-firehose-digest/1\",\"bucket\":\"logs-bucket\"")
        );
        assert!(text.ends_with("\n]}\n"));
    }

    #[test]
    fn first_digest_and_empty_listing() {
        let d = Digest {
            previous: None,
            objects: Vec::new(),
            window_start_ms: i64::MIN,
            sequence: 1,
            ..sample()
        };
        let bytes = d.to_bytes();
        assert_eq!(Digest::parse(&bytes).unwrap(), d);
    }

    #[test]
    fn anything_but_the_canonical_bytes_is_refused() {
        let bytes = sample().to_bytes();
        let text = String::from_utf8(bytes).unwrap();
        for bad in [
            text.replacen(",\"bucket\"", ", \"bucket\"", 1),
            text.replacen("cwl-firehose-digest/1", "cwl-firehose-digest/2", 1),
            text.replacen("\"size\":10", "\"size\":10.0", 1),
            text.replacen("{\"format\"", "{\"extra\":1,\"format\"", 1),
            text.replacen(&hex(&[1; 32]), &hex(&[1; 31]), 1),
            text.replacen("3045ff", "3045FF", 1),
            text[..text.len() - 3].to_string(),
        ] {
            assert!(Digest::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_sort_in_chain_order() {
        assert!(digest_key("d/", 9) < digest_key("d/", 10));
        assert_eq!(digest_key("d/", 1), "d/00000000000000000001.json");
    }

    #[test]
    fn hex_round_trip() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&all)).unwrap(), all);
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
