//! base64 + gzip: the only place that inflates, and the cap that bounds it.
//!
//! CloudWatch Logs writes one gzip member per record, but nothing stops a
//! producer (or a re-ingesting Lambda) from concatenating members, so every
//! member is read (`MultiGzDecoder`). The inflated size is capped because
//! DEFLATE expands up to about 1000:1: a 1,000 KiB record could otherwise ask
//! for a gigabyte on a 128 MB function.

use crate::error::RecordError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::bufread::MultiGzDecoder;
use std::io::Read;

/// Default inflate cap per record: 64 MiB.
pub const DEFAULT_INFLATE_CAP: usize = 64 << 20;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// First growth of the output buffer when the gzip trailer gives no useful hint.
const MIN_GROWTH: usize = 64 << 10;

/// Decodes records into reused buffers. One per worker; not shared.
#[derive(Debug)]
pub struct Decoder {
    cap: usize,
    /// base64-decoded bytes of the current record (gzip or plain JSON).
    raw: Vec<u8>,
    /// Inflated bytes. Its length is only ever grown (zero-filled once) and
    /// `plain_len` says how much of it is the current record, so a warm
    /// decoder never zeroes memory again.
    plain: Vec<u8>,
    plain_len: usize,
    was_gzip: bool,
}

impl Decoder {
    /// A decoder that refuses to inflate a record past `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            raw: Vec::new(),
            plain: Vec::new(),
            plain_len: 0,
            was_gzip: false,
        }
    }

    /// The inflate cap in bytes.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Decodes one record's `data` and returns the CloudWatch Logs JSON bytes:
    /// inflated when the record is gzip, as they are when the stream already
    /// decompressed them (Firehose's own CloudWatch Logs decompression).
    pub fn decode(&mut self, data: &str) -> Result<&[u8], RecordError> {
        self.raw.clear();
        self.plain_len = 0;
        self.was_gzip = false;
        STANDARD
            .decode_vec(data.as_bytes(), &mut self.raw)
            .map_err(RecordError::Base64)?;
        if self.raw.is_empty() {
            return Err(RecordError::Empty);
        }
        if self.raw.starts_with(&GZIP_MAGIC) {
            self.was_gzip = true;
            self.inflate()?;
            return Ok(self.document());
        }
        match self.raw.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Ok(&self.raw),
            _ => Err(RecordError::NotGzipOrJson),
        }
    }

    /// The last decoded document again (what `decode` returned).
    pub fn document(&self) -> &[u8] {
        if self.was_gzip {
            self.plain.get(..self.plain_len).unwrap_or_default()
        } else {
            &self.raw
        }
    }

    /// The record's bytes as they arrived (after base64), gzip or not.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Whether the last decoded record was gzip (else plain JSON).
    pub fn was_gzip(&self) -> bool {
        self.was_gzip
    }

    fn inflate(&mut self) -> Result<(), RecordError> {
        let limit = self.cap.saturating_add(1);
        // ISIZE (last 4 bytes) is the last member's size mod 2^32: a hint for
        // one allocation up front, never trusted beyond the cap.
        let hint = match self
            .raw
            .len()
            .checked_sub(4)
            .and_then(|i| self.raw.get(i..))
        {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
            _ => 0,
        };
        let first = hint.saturating_add(1).max(MIN_GROWTH).min(limit);
        if self.plain.len() < first {
            self.plain.resize(first, 0);
        }
        let mut gz = MultiGzDecoder::new(&self.raw[..]);
        let mut len = 0;
        loop {
            if len == self.plain.len() {
                if len >= limit {
                    return Err(RecordError::InflateCap { cap: self.cap });
                }
                let grown = len.saturating_mul(2).max(MIN_GROWTH).min(limit);
                self.plain.resize(grown, 0);
            }
            let spare = self.plain.get_mut(len..).unwrap_or_default();
            match gz.read(spare) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(RecordError::Gzip(e)),
            }
        }
        if len > self.cap {
            return Err(RecordError::InflateCap { cap: self.cap });
        }
        self.plain_len = len;
        Ok(())
    }
}

/// Gzips `bytes` at level 6, as CloudWatch Logs does (used to re-ingest).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use flate2::write::GzEncoder;
    use std::io::Write;
    let mut enc = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        flate2::Compression::new(6),
    );
    // Writing into a Vec cannot fail.
    enc.write_all(bytes)
        .and_then(|()| enc.finish())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    #[test]
    fn inflates_all_members() {
        let mut two = gzip(b"{\"a\":");
        two.extend(gzip(b"1}"));
        let mut d = Decoder::new(1024);
        assert_eq!(d.decode(&b64(&two)).unwrap(), b"{\"a\":1}");
        assert!(d.was_gzip());
    }

    #[test]
    fn plain_json_is_accepted_as_is() {
        let mut d = Decoder::new(1024);
        assert_eq!(d.decode(&b64(b"  {\"x\":1}")).unwrap(), b"  {\"x\":1}");
        assert!(!d.was_gzip());
    }

    #[test]
    fn cap_is_exact() {
        let body = vec![b'a'; 1000];
        let mut d = Decoder::new(1000);
        assert_eq!(d.decode(&b64(&gzip(&body))).unwrap().len(), 1000);
        let mut d = Decoder::new(999);
        assert!(matches!(
            d.decode(&b64(&gzip(&body))),
            Err(RecordError::InflateCap { cap: 999 })
        ));
    }

    #[test]
    fn buffers_are_reused_across_records() {
        let mut d = Decoder::new(1 << 20);
        let big = vec![b'{'; 200_000];
        assert_eq!(d.decode(&b64(&gzip(&big))).unwrap().len(), 200_000);
        assert_eq!(d.decode(&b64(&gzip(b"{}"))).unwrap(), b"{}");
    }

    #[test]
    fn rejects_garbage() {
        let mut d = Decoder::new(1024);
        assert!(matches!(d.decode("!!"), Err(RecordError::Base64(_))));
        assert!(matches!(d.decode(""), Err(RecordError::Empty)));
        assert!(matches!(
            d.decode(&b64(b"hello")),
            Err(RecordError::NotGzipOrJson)
        ));
        let gz = gzip(b"{}");
        let truncated = &gz[..gz.len() - 3];
        assert!(matches!(
            d.decode(&b64(truncated)),
            Err(RecordError::Gzip(_))
        ));
        let mut trailing = gz.clone();
        trailing.extend_from_slice(b"garbage");
        assert!(matches!(
            d.decode(&b64(&trailing)),
            Err(RecordError::Gzip(_))
        ));
    }
}
