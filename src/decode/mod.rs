//! base64 + gzip (or zlib): the only place that inflates, and the cap that
//! bounds it.
//!
//! CloudWatch Logs writes one gzip member per record, but nothing stops a
//! producer (or a re-ingesting Lambda) from concatenating members, so every
//! member is read (`MultiGzDecoder`). Data wrapped in zlib (RFC 1950) instead
//! is read too, as other tools do (AWS Powertools decodes gzip and zlib
//! alike, and its own CloudWatch Logs fixture is zlib): one zlib stream, under
//! the same cap, nothing after it. The inflated size is capped because
//! DEFLATE expands up to about 1000:1: a 1,000 KiB record could otherwise ask
//! for a gigabyte on a 128 MB function.
//!
//! Speed: base64 is decoded with SIMD (`base64-simd`) and each gzip member is
//! inflated in one libdeflate call into a buffer sized from the gzip trailer,
//! each faster than the crate it stands in for (`docs/performance.md` has
//! the figures). Any input either of them refuses is decoded again by
//! `base64` and flate2's `MultiGzDecoder`, which give the result and the
//! error text, so an error reads the same whichever path met it.

mod deflate;

use crate::error::RecordError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use deflate::{Inflater, Member};
use flate2::bufread::{MultiGzDecoder, ZlibDecoder};
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
    format: Format,
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
            format: Format::Plain,
            inflater: Inflater::new(),
        }
    }

    /// Decodes one record's `data` and returns the CloudWatch Logs JSON bytes:
    /// inflated when the record is gzip, as they are when the stream already
    /// decompressed them (Firehose's own CloudWatch Logs decompression).
    pub fn decode(&mut self, data: &str) -> Result<&[u8], RecordError> {
        self.raw.clear();
        self.plain_len = 0;
        self.format = Format::Plain;
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
        self.format = Format::Plain;
        self.classify()
    }

    /// Inflates `raw` if it is gzip or zlib, else accepts it if it is JSON.
    fn classify(&mut self) -> Result<&[u8], RecordError> {
        if self.raw.is_empty() {
            return Err(RecordError::Empty);
        }
        if self.raw.starts_with(&GZIP_MAGIC) {
            self.format = Format::Gzip;
            self.inflate()?;
            return Ok(self.document());
        }
        if is_zlib(&self.raw) {
            self.format = Format::Zlib;
            let result = self.inflate_zlib();
            self.release_after(&result);
            result?;
            return Ok(self.document());
        }
        match self.raw.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Ok(&self.raw),
            _ => Err(RecordError::NotGzipOrJson),
        }
    }

    /// The last decoded document again (what `decode` returned).
    pub fn document(&self) -> &[u8] {
        match self.format {
            Format::Gzip | Format::Zlib => self.plain.get(..self.plain_len).unwrap_or_default(),
            Format::Plain => &self.raw,
        }
    }

    /// The record's bytes as they arrived (after base64), compressed or not.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Whether the last decoded record was gzip (else zlib or plain JSON:
    /// re-ingestion then gzips [`document`](Self::document) as CloudWatch
    /// Logs would have).
    pub fn was_gzip(&self) -> bool {
        self.format == Format::Gzip
    }

    fn inflate(&mut self) -> Result<(), RecordError> {
        let result = match self.inflate_members() {
            Some(result) => result,
            None => self.inflate_stream(),
        };
        self.release_after(&result);
        result
    }

    /// A bomb grew the buffer to the cap: give it back rather than keep it
    /// for the rest of the (warm) process.
    fn release_after(&mut self, result: &Result<(), RecordError>) {
        if result.is_err() && self.plain.len() > RELEASE_AFTER_ERROR {
            self.plain = Vec::new();
        }
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
        // A hint for one allocation up front, never trusted beyond the cap.
        let first = trailer_size(&self.raw).saturating_add(1);
        #[allow(clippy::disallowed_methods, reason = "read through read_capped")]
        let mut gz = MultiGzDecoder::new(&self.raw[..]);
        self.plain_len =
            read_capped(&mut gz, &mut self.plain, first, self.cap)?.map_err(RecordError::Gzip)?;
        Ok(())
    }

    /// One zlib stream with flate2, capped like gzip. zlib has no size
    /// trailer to size the buffer from, and it is rare enough that the
    /// streaming decoder is fast enough. Bytes after the stream are refused,
    /// as gzip refuses garbage after its last member.
    fn inflate_zlib(&mut self) -> Result<(), RecordError> {
        let first = self.raw.len().saturating_mul(8);
        #[allow(clippy::disallowed_methods, reason = "read through read_capped")]
        let mut z = ZlibDecoder::new(&self.raw[..]);
        let len = read_capped(&mut z, &mut self.plain, first, self.cap)?
            .map_err(|e| zlib_error(e.kind(), &e.to_string()))?;
        if !z.into_inner().is_empty() {
            return Err(zlib_error(
                std::io::ErrorKind::InvalidData,
                "bytes after the end of the stream",
            ));
        }
        self.plain_len = len;
        Ok(())
    }
}

/// Inflates a whole gzip file (every member) under `cap` bytes, with the
/// same inflaters and the same cap as a record: for files that hold many
/// records (Firehose's `processing-failed/` objects), which a crafted file
/// could otherwise inflate to all of memory. Takes the file's bytes so they
/// are not copied.
pub fn gunzip(gz: Vec<u8>, cap: usize) -> Result<Vec<u8>, RecordError> {
    let mut decoder = Decoder::new(cap);
    decoder.raw = gz;
    decoder.format = Format::Gzip;
    decoder.inflate()?;
    let mut plain = std::mem::take(&mut decoder.plain);
    plain.truncate(decoder.plain_len);
    Ok(plain)
}

/// Reads `reader` to its end into `plain` (grown from `first` bytes, by
/// doubling, never past `cap` + 1): the bytes read, or the reader's error
/// (inner), or the cap (outer).
fn read_capped(
    reader: &mut impl Read,
    plain: &mut Vec<u8>,
    first: usize,
    cap: usize,
) -> Result<std::io::Result<usize>, RecordError> {
    let limit = cap.saturating_add(1);
    let first = first.max(MIN_GROWTH).min(limit);
    if plain.len() < first {
        plain.resize(first, 0);
    }
    let mut len = 0;
    loop {
        if len == plain.len() {
            if len >= limit {
                return Err(RecordError::InflateCap { cap });
            }
            let grown = len.saturating_mul(2).max(MIN_GROWTH).min(limit);
            plain.resize(grown, 0);
        }
        let spare = plain.get_mut(len..).unwrap_or_default();
        match reader.read(spare) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    if len > cap {
        return Err(RecordError::InflateCap { cap });
    }
    Ok(Ok(len))
}

/// How the last record's bytes were wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Plain,
    Gzip,
    Zlib,
}

/// A zlib stream's header (RFC 1950): deflate, a window of at most 32 KiB,
/// and the check bits (CMF * 256 + FLG a multiple of 31). A JSON document
/// never starts like this (`{` and whitespace have the wrong low nibble).
fn is_zlib(raw: &[u8]) -> bool {
    match raw {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// A corrupt zlib stream, worded so the log says it was zlib.
fn zlib_error(kind: std::io::ErrorKind, text: &str) -> RecordError {
    RecordError::Gzip(std::io::Error::new(
        kind,
        format!("the record is zlib, not gzip, and its zlib stream is invalid: {text}"),
    ))
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

    /// The reference: flate2 alone.
    fn reference(raw: &[u8], cap: usize) -> Result<Vec<u8>, String> {
        let mut d = Decoder::new(cap);
        d.raw = raw.to_vec();
        d.format = Format::Gzip;
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

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(9));
        z.write_all(bytes).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn zlib_is_read_like_gzip() {
        let doc: Vec<u8> = (0..3000u32)
            .flat_map(|i| format!("{{\"n\":{i},\"m\":\"line {}\"}}", i * 7919 % 1000).into_bytes())
            .collect();
        let mut d = Decoder::new(1 << 20);
        assert_eq!(d.decode(&b64(&zlib(&doc))).unwrap(), &doc[..]);
        assert!(!d.was_gzip());
        assert_eq!(d.document(), &doc[..]);
        assert_eq!(d.raw(), &zlib(&doc)[..]);
        // The same decoder reads gzip and plain JSON after it.
        assert_eq!(d.decode(&b64(&gzip(&doc))).unwrap(), &doc[..]);
        assert_eq!(d.decode(&b64(b"{}")).unwrap(), b"{}");
        // Every zlib header a compressor writes (levels 0-9, all windows).
        for level in 0..=9 {
            for window in 9..=15u8 {
                let mut c = flate2::Compress::new_with_window_bits(
                    flate2::Compression::new(level),
                    true,
                    window,
                );
                let mut out = Vec::with_capacity(doc.len() + 1024);
                c.compress_vec(&doc, &mut out, flate2::FlushCompress::Finish)
                    .unwrap();
                assert!(is_zlib(&out), "level {level} window {window}");
                assert_eq!(fast(&out, 1 << 20).unwrap(), doc);
            }
        }
    }

    #[test]
    fn zlib_is_capped_like_gzip() {
        let body = vec![b'a'; 1000];
        assert_eq!(fast(&zlib(&body), 1000).unwrap().len(), 1000);
        assert!(matches!(
            Decoder::new(999).decode(&b64(&zlib(&body))),
            Err(RecordError::InflateCap { cap: 999 })
        ));
        // A bomb: 64 MiB of spaces in about 64 KiB, refused at the cap, and
        // the grown buffer is not kept.
        let bomb = zlib(&vec![b' '; 64 << 20]);
        assert!(bomb.len() < 100_000);
        let mut d = Decoder::new(DEFAULT_INFLATE_CAP);
        assert!(matches!(
            d.decode(&b64(&bomb)),
            Err(RecordError::InflateCap { .. })
        ));
        assert!(d.plain.len() <= RELEASE_AFTER_ERROR);
    }

    #[test]
    fn broken_zlib_is_refused_and_says_zlib() {
        let z = zlib(b"{\"a\":1}");
        let mut trailing = z.clone();
        trailing.extend_from_slice(b"garbage");
        let mut bad_adler = z.clone();
        *bad_adler.last_mut().unwrap() ^= 1;
        for bad in [&z[..z.len() - 3], &trailing[..], &bad_adler[..]] {
            let err = fast(bad, 1024).unwrap_err();
            assert!(err.contains("zlib"), "{err}");
        }
        // A preset dictionary (FDICT) cannot be read without the dictionary.
        // 0x7820 is a multiple of 31: a valid header with FDICT (0x20) set.
        let mut fdict = vec![0x78, 0x20];
        assert!(is_zlib(&fdict));
        fdict.extend_from_slice(&[0, 0, 0, 1, 3, 0]);
        assert!(fast(&fdict, 1024).is_err());
        // Mutations never panic and never pass the cap.
        let doc: Vec<u8> = (0..2000u32)
            .flat_map(|i| format!("{i},").into_bytes())
            .collect();
        let good = zlib(&doc);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut m = good.clone();
            let at = (state as usize) % m.len();
            m[at] ^= 1 << ((state >> 32) % 8);
            if let Ok(out) = fast(&m, doc.len()) {
                assert!(out.len() <= doc.len());
            }
        }
    }

    #[test]
    fn a_file_is_inflated_whole_and_capped() {
        let mut two = gzip(b"line 1\n");
        two.extend(gzip(b"line 2\n"));
        assert_eq!(gunzip(two.clone(), 14).unwrap(), b"line 1\nline 2\n");
        assert!(matches!(
            gunzip(two, 13),
            Err(RecordError::InflateCap { cap: 13 })
        ));
        // A bomb (8 MiB of spaces in about 8 KiB) stops at the cap.
        let bomb = gzip(&vec![b' '; 8 << 20]);
        assert!(matches!(
            gunzip(bomb, 1 << 20),
            Err(RecordError::InflateCap { cap }) if cap == 1 << 20
        ));
        let gz = gzip(b"{}");
        assert!(matches!(
            gunzip(gz[..gz.len() - 1].to_vec(), 1024),
            Err(RecordError::Gzip(_))
        ));
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
