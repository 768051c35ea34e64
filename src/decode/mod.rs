//! base64 + gzip: the only place that inflates, and the cap that bounds it.
//!
//! CloudWatch Logs writes one gzip member per record, but nothing stops a
//! producer (or a re-ingesting Lambda) from concatenating members, so every
//! member is read (`MultiGzDecoder`). The inflated size is capped because
//! DEFLATE expands up to about 1000:1: a 1,000 KiB record could otherwise ask
//! for a gigabyte on a 128 MB function.
//!
//! Speed: base64 is decoded with SIMD (`base64-simd`, about 4x the `base64`
//! crate) and each gzip member is inflated in one libdeflate call into a
//! buffer sized from the gzip trailer (about 1.9x zlib-rs). Any input either
//! of them refuses is decoded again by `base64` and flate2's `MultiGzDecoder`,
//! which give the result and the error text, so errors read as before.

mod deflate;

use crate::error::RecordError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use deflate::{Inflater, Member};
use flate2::bufread::MultiGzDecoder;
use std::io::Read;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// First growth of the output buffer when the gzip trailer gives no useful hint.
const MIN_GROWTH: usize = 64 << 10;
/// DEFLATE's largest expansion is about 1032:1, so a trailer claiming more
/// than this per input byte is a lie and not worth allocating for.
const MAX_RATIO: usize = 1032;
/// After a failed record, a buffer larger than this is freed, not kept.
const RELEASE_AFTER_ERROR: usize = 16 << 20;
/// gzip header flag: a CRC16 of the header follows it. flate2 checks it and
/// libdeflate skips it, so such records take flate2's path.
const FHCRC: u8 = 0x02;

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
    /// `None` only if libdeflate could not allocate: flate2 does it all then.
    inflater: Option<Inflater>,
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
            inflater: Inflater::new(),
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
        if base64_simd::STANDARD
            .decode_append(data.as_bytes(), &mut self.raw)
            .is_err()
        {
            // Refused: let `base64` say why (it refuses exactly the same
            // strings: padding required, canonical last symbol, no whitespace).
            self.raw.clear();
            STANDARD
                .decode_vec(data.as_bytes(), &mut self.raw)
                .map_err(RecordError::Base64)?;
        }
        self.classify()
    }

    /// [`decode`](Self::decode) for bytes already base64-decoded (copied in):
    /// the inflate stage alone, for benchmarks and fuzzing.
    pub fn decode_bytes(&mut self, bytes: &[u8]) -> Result<&[u8], RecordError> {
        self.raw.clear();
        self.raw.extend_from_slice(bytes);
        self.plain_len = 0;
        self.was_gzip = false;
        self.classify()
    }

    /// Inflates `raw` if it is gzip, else accepts it if it is JSON.
    fn classify(&mut self) -> Result<&[u8], RecordError> {
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
        let result = match self.inflate_members() {
            Some(result) => result,
            None => self.inflate_stream(),
        };
        if result.is_err() && self.plain.len() > RELEASE_AFTER_ERROR {
            // A bomb grew the buffer to the cap: give it back rather than
            // keep it for the rest of the (warm) process.
            self.plain = Vec::new();
        }
        result
    }

    /// Every member with libdeflate, one call each, into `plain` sized from
    /// the trailer. `None` hands the record to flate2: a member libdeflate
    /// refuses (flate2 then words the error), or a header CRC to check.
    fn inflate_members(&mut self) -> Option<Result<(), RecordError>> {
        let limit = self.cap.saturating_add(1);
        let inflater = self.inflater.as_mut()?;
        // Exact for the usual single member, never trusted beyond the cap
        // or DEFLATE's ratio.
        let hint = trailer_size(&self.raw);
        let first = hint
            .min(self.raw.len().saturating_mul(MAX_RATIO))
            .min(limit);
        if self.plain.len() < first {
            self.plain.resize(first, 0);
        }
        let (mut at, mut len) = (0, 0);
        while at < self.raw.len() {
            let input = self.raw.get(at..)?;
            if input.get(3).is_some_and(|flags| flags & FHCRC != 0) {
                return None;
            }
            let out = self.plain.get_mut(len..)?;
            match inflater.gzip_member(input, out) {
                Member::Done { consumed: 0, .. } | Member::Bad => return None,
                Member::Done { consumed, written } => {
                    at += consumed;
                    len += written;
                }
                Member::NoSpace if self.plain.len() >= limit => {
                    return Some(Err(RecordError::InflateCap { cap: self.cap }));
                }
                Member::NoSpace => {
                    // The trailer understated this member (or it is not the
                    // last one): grow and inflate the member again.
                    let grown = self
                        .plain
                        .len()
                        .saturating_mul(2)
                        .max(MIN_GROWTH)
                        .min(limit);
                    self.plain.resize(grown, 0);
                }
            }
        }
        if len > self.cap {
            return Some(Err(RecordError::InflateCap { cap: self.cap }));
        }
        self.plain_len = len;
        Some(Ok(()))
    }

    /// Streaming inflate with flate2's `MultiGzDecoder`: the reference
    /// behaviour, and the path for whatever libdeflate refuses.
    fn inflate_stream(&mut self) -> Result<(), RecordError> {
        let limit = self.cap.saturating_add(1);
        // A hint for one allocation up front, never trusted beyond the cap.
        let hint = trailer_size(&self.raw);
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

/// ISIZE, the last 4 bytes of a gzip record: the last member's size mod
/// 2^32 (0 when the record is shorter).
fn trailer_size(raw: &[u8]) -> usize {
    match raw.len().checked_sub(4).and_then(|i| raw.get(i..)) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => 0,
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
    use crate::limits::DEFAULT_INFLATE_CAP;

    fn b64(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    /// The reference: flate2 alone, as before libdeflate.
    fn reference(raw: &[u8], cap: usize) -> Result<Vec<u8>, String> {
        let mut d = Decoder::new(cap);
        d.raw = raw.to_vec();
        d.was_gzip = true;
        d.inflate_stream().map_err(|e| e.to_string())?;
        Ok(d.document().to_vec())
    }

    fn fast(raw: &[u8], cap: usize) -> Result<Vec<u8>, String> {
        let mut d = Decoder::new(cap);
        d.decode(&b64(raw))
            .map(<[u8]>::to_vec)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn members_larger_than_the_trailer_says_grow_the_buffer() {
        // The trailer is the last member's: 2 bytes here, 300 KB before it.
        let big: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 7) as u8).collect();
        let mut two = gzip(&big);
        two.extend(gzip(b"}}"));
        let mut expected = big.clone();
        expected.extend_from_slice(b"}}");
        assert_eq!(fast(&two, 1 << 20).unwrap(), expected);
        // Past the cap on the way: refused, and the buffer is not kept.
        let mut d = Decoder::new(100_000);
        assert!(matches!(
            d.decode(&b64(&two)),
            Err(RecordError::InflateCap { cap: 100_000 })
        ));
    }

    #[test]
    fn a_lying_trailer_neither_allocates_nor_passes_the_cap() {
        let mut gz = gzip(b"{}");
        let n = gz.len();
        // Claims 4 GiB: the ISIZE check fails, and nothing near 4 GiB is allocated.
        gz[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut d = Decoder::new(DEFAULT_INFLATE_CAP);
        assert!(matches!(d.decode(&b64(&gz)), Err(RecordError::Gzip(_))));
        assert!(d.plain.len() <= gz.len() * MAX_RATIO);
        // Claims 1 byte for a bomb: still stopped at the cap.
        let mut bomb = gzip(&vec![b' '; 5_000_000]);
        let n = bomb.len();
        bomb[n - 4..].copy_from_slice(&1u32.to_le_bytes());
        assert!(matches!(
            fast(&bomb, 1 << 20).map_err(|e| e.contains("cap")),
            Err(true)
        ));
    }

    #[test]
    fn header_crc_is_checked() {
        // FHCRC set, with the right CRC16 of the header (low half of its CRC32).
        let mut gz = gzip(b"{\"ok\":1}");
        let mut header = gz[..10].to_vec();
        header[3] |= FHCRC;
        let crc = (crc32(&header) & 0xffff) as u16;
        let mut with_crc = header.clone();
        with_crc.extend_from_slice(&crc.to_le_bytes());
        with_crc.extend_from_slice(&gz[10..]);
        assert_eq!(fast(&with_crc, 1024).unwrap(), b"{\"ok\":1}");
        let mut bad = header;
        bad.extend_from_slice(&(crc ^ 1).to_le_bytes());
        bad.extend_from_slice(&gz[10..]);
        assert!(fast(&bad, 1024).is_err());
        assert!(reference(&bad, 1024).is_err());
        // A corrupt CRC32 or ISIZE is refused with flate2's words.
        let n = gz.len();
        gz[n - 5] ^= 1;
        assert_eq!(fast(&gz, 1024), reference(&gz, 1024));
        assert!(fast(&gz, 1024).is_err());
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = flate2::Crc::new();
        crc.update(bytes);
        crc.sum()
    }

    /// Every mutation of a few valid streams (a byte changed, cut, or bytes
    /// added) gets the same answer, and the same error text, as flate2 alone.
    #[test]
    fn agrees_with_flate2_on_mutated_streams() {
        let doc: Vec<u8> = (0..4000u32)
            .flat_map(|i| format!("{{\"n\":{i},\"m\":\"line {}\"}}", i * 7919 % 1000).into_bytes())
            .collect();
        let mut streams = vec![gzip(&doc), gzip(b"{}"), gzip(b"")];
        let mut two = gzip(&doc[..1000]);
        two.extend(gzip(&doc[1000..]));
        streams.push(two);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for stream in &streams {
            for cap in [usize::MAX >> 1, doc.len() - 1, 100] {
                assert_eq!(fast(stream, cap), reference(stream, cap));
            }
            for _ in 0..400 {
                let mut m = stream.clone();
                let at = (next() as usize) % m.len();
                match next() % 4 {
                    0 => m[at] ^= 1 << (next() % 8),
                    1 => m[at] = next() as u8,
                    2 => m.truncate(at.max(2)),
                    _ => m.extend((0..1 + next() % 12).map(|_| next() as u8)),
                }
                if m.starts_with(&GZIP_MAGIC) {
                    assert_eq!(fast(&m, 1 << 20), reference(&m, 1 << 20), "{m:?}");
                }
            }
        }
    }

    #[test]
    fn base64_is_refused_exactly_as_before() {
        let mut d = Decoder::new(1024);
        for s in [
            "QR==", "QQ=", "QQ", "QUJ=", "QUJD\n", " QUJD", "QU=D", "Q===", "QUJDQ", "QUJD=",
            "_-8=",
        ] {
            let err = d.decode(s).unwrap_err().to_string();
            let expected = STANDARD.decode(s).unwrap_err();
            assert_eq!(err, RecordError::Base64(expected).to_string(), "{s:?}");
        }
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
