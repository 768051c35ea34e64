//! The fast path from inflated CloudWatch Logs bytes to lines: one pass over
//! the document that checks it and writes each event's line as it goes,
//! copying message bytes straight from the inflated buffer.
//!
//! A message in the document is already a JSON string. When its escapes are
//! exactly the ones [`crate::json::push_str`] would write (the case for what
//! CloudWatch Logs sends), the escaped bytes are copied as they are: no
//! decoding, no re-escaping, no allocation. Other escapes (`\/`, `\u00E9`)
//! are decoded and written again the usual way.
//!
//! This path only ever answers for documents that the reference path
//! ([`LogsDocument::parse`](crate::cwl::LogsDocument::parse), serde, then
//! [`LineWriter`](crate::lines::LineWriter)) accepts, and then writes the same
//! bytes. Anything else — keys with escapes, duplicate keys, a missing field,
//! a timestamp that is not a plain integer, surrogate escapes, invalid UTF-8,
//! lines past the cap, an unknown `messageType`, or options it does not do
//! (merging JSON messages, masking) — is [`Scan::Decline`]d, and the caller
//! takes the reference path, which decides and words any error.

use crate::json::{push_int, push_str};
use crate::lines::{push_iso8601, push_masked_str, LineOptions, OutputFormat};
use crate::mask::{json_body_may_mask, mask, mask_bytes, Keep};
use std::borrow::Cow;

/// What the fast path made of a document.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan<'a> {
    /// A DATA_MESSAGE with events: one line each is in `out`, their ends in `ends`.
    Lines {
        events: usize,
        log_group: Cow<'a, str>,
        owner: Cow<'a, str>,
        /// The first event's timestamp (for partition keys).
        first_timestamp: i64,
        /// Card numbers and verification codes masked.
        masked: usize,
    },
    /// A valid CONTROL_MESSAGE.
    Control,
    /// A valid DATA_MESSAGE without events.
    NoEvents,
    /// Not decided here: take the reference path. `out` and `ends` may hold
    /// partial output.
    Decline,
}

/// Depth past which nested values are left to serde (its own limit is 128).
const MAX_DEPTH: u32 = 100;

/// Checks `doc` and appends one line per event to `out` (and each line's end
/// offset to `ends`), like [`LineWriter::write_document_within`] with
/// `limit`. `scratch` is reused for the rare strings that must be decoded.
///
/// [`LineWriter::write_document_within`]: crate::lines::LineWriter::write_document_within
pub fn write_lines<'a>(
    doc: &'a [u8],
    options: &LineOptions,
    limit: usize,
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
    scratch: &mut Vec<u8>,
) -> Scan<'a> {
    // Every option is named, so a new one cannot be silently ignored here.
    let LineOptions {
        format,
        add_time,
        merge_json_message,
        keep_message: _,
        mask,
    } = *options;
    if merge_json_message || std::str::from_utf8(doc).is_err() {
        return Scan::Decline;
    }
    let mut writer = Writer {
        format,
        add_time,
        limit,
        tail: Vec::new(),
        scratch,
        mask,
        masked: 0,
        masked_text: String::new(),
        masked_plain: Vec::new(),
    };
    Cursor {
        b: doc,
        i: 0,
        block: None,
    }
    .document(&mut writer, out, ends)
    .unwrap_or(Scan::Decline)
}

/// A JSON string as it is in the document.
#[derive(Debug, Clone, Copy)]
struct Str<'a> {
    /// The bytes between the quotes.
    raw: &'a [u8],
    /// No backslash at all: the raw bytes are the value.
    plain: bool,
    /// Escaped exactly as `push_str` escapes: the raw bytes are the output.
    canonical: bool,
    /// Has a `\u` escape.
    unicode: bool,
}

impl<'a> Str<'a> {
    /// The decoded value.
    fn decode(&self) -> Option<Cow<'a, str>> {
        if self.plain {
            return std::str::from_utf8(self.raw).ok().map(Cow::Borrowed);
        }
        let mut bytes = Vec::with_capacity(self.raw.len());
        unescape(self.raw, &mut bytes)?;
        String::from_utf8(bytes).ok().map(Cow::Owned)
    }
}

/// How lines are written, and the record-constant tail.
struct Writer<'s> {
    format: OutputFormat,
    add_time: bool,
    limit: usize,
    tail: Vec<u8>,
    scratch: &'s mut Vec<u8>,
    /// Masking on: what was masked is written from `masked_plain` (a
    /// message without escapes) or `masked_text` (one that had to be decoded).
    mask: Option<Keep>,
    masked: usize,
    masked_text: String,
    masked_plain: Vec<u8>,
}

impl Writer<'_> {
    fn start_record(&mut self, group: &Str<'_>, stream: &Str<'_>, owner: &Str<'_>) -> Option<()> {
        self.tail.clear();
        if self.format == OutputFormat::Json {
            self.tail.extend_from_slice(b",\"log_group\":");
            self.masked += push_masked_str(
                &mut self.tail,
                &group.decode()?,
                self.mask,
                &mut self.masked_text,
            );
            self.tail.extend_from_slice(b",\"log_stream\":");
            self.masked += push_masked_str(
                &mut self.tail,
                &stream.decode()?,
                self.mask,
                &mut self.masked_text,
            );
            self.tail.extend_from_slice(b",\"owner\":");
            push_str(&mut self.tail, &owner.decode()?);
        }
        Some(())
    }

    /// A JSON string literal for `s`, as `push_str` writes its decoded value.
    fn string(&mut self, out: &mut Vec<u8>, s: &Str<'_>) -> Option<()> {
        if s.canonical {
            out.reserve(s.raw.len() + 2);
            out.push(b'"');
            out.extend_from_slice(s.raw);
            out.push(b'"');
        } else {
            self.scratch.clear();
            unescape(s.raw, self.scratch)?;
            push_str(out, std::str::from_utf8(self.scratch).ok()?);
        }
        Some(())
    }

    fn line(
        &mut self,
        out: &mut Vec<u8>,
        id: &Str<'_>,
        timestamp: i64,
        message: &Str<'_>,
        extracted: Option<&[u8]>,
    ) -> Option<()> {
        let Some(keep) = self.mask else {
            return self.write_line(out, id, timestamp, Message::Raw(message), extracted);
        };
        // extractedFields need masking too: serde's path does that.
        if extracted.is_some() {
            return None;
        }
        // Without escapes the body is the text: mask it where it lies.
        if message.plain {
            let mut plain = std::mem::take(&mut self.masked_plain);
            let result = match mask_bytes(message.raw, keep, &mut plain) {
                Some(n) => {
                    self.masked += n;
                    self.write_line(out, id, timestamp, Message::Plain(&plain), None)
                }
                None => self.write_line(out, id, timestamp, Message::Raw(message), None),
            };
            self.masked_plain = plain;
            return result;
        }
        // Escaped: decode only what may hold something to mask (rare in logs,
        // where escapes are quotes, tabs and newlines around ordinary text).
        if !message.unicode && !json_body_may_mask(message.raw) {
            return self.write_line(out, id, timestamp, Message::Raw(message), None);
        }
        let mut text = std::mem::take(&mut self.masked_text);
        let result = match mask(&message.decode()?, keep, &mut text) {
            Some(n) => {
                self.masked += n;
                self.write_line(out, id, timestamp, Message::Text(&text), None)
            }
            None => self.write_line(out, id, timestamp, Message::Raw(message), None),
        };
        self.masked_text = text;
        result
    }

    fn write_line(
        &mut self,
        out: &mut Vec<u8>,
        id: &Str<'_>,
        timestamp: i64,
        message: Message<'_, '_>,
        extracted: Option<&[u8]>,
    ) -> Option<()> {
        if self.format == OutputFormat::Message {
            match message {
                Message::Raw(m) if m.plain => out.extend_from_slice(m.raw),
                Message::Raw(m) => unescape(m.raw, out)?,
                Message::Text(t) => out.extend_from_slice(t.as_bytes()),
                Message::Plain(p) => out.extend_from_slice(p),
            }
            out.push(b'\n');
            return Some(());
        }
        out.extend_from_slice(b"{\"timestamp\":");
        push_int(out, timestamp);
        out.extend_from_slice(b",\"id\":");
        self.string(out, id)?;
        out.extend_from_slice(b",\"message\":");
        match message {
            Message::Raw(m) => self.string(out, m)?,
            Message::Text(t) => push_str(out, t),
            Message::Plain(p) => {
                out.push(b'"');
                out.extend_from_slice(p);
                out.push(b'"');
            }
        }
        out.extend_from_slice(&self.tail);
        if self.add_time {
            out.extend_from_slice(b",\"time\":\"");
            push_iso8601(out, timestamp);
            out.push(b'"');
        }
        if let Some(raw) = extracted {
            out.extend_from_slice(b",\"extracted_fields\":");
            out.extend_from_slice(raw);
        }
        out.extend_from_slice(b"}\n");
        Some(())
    }
}

/// A message as the document holds it, or as masking rewrote it.
#[derive(Clone, Copy)]
enum Message<'s, 'a> {
    Raw(&'s Str<'a>),
    Text(&'s str),
    /// A masked body that had no escapes: nothing in it needs one (the
    /// masking only turned digits into `*`), so it is text and body at once.
    Plain(&'s [u8]),
}

/// A position in the document; every method returns `None` to decline.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    /// The last 16-byte block searched for special bytes (start, one bit
    /// per special byte): JSON inside a message escapes every few bytes, and
    /// each escape then costs a bit test instead of a new search.
    block: Option<(usize, u32)>,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// The first special byte (`"`, `\\`, control) at or after `from`.
    #[inline]
    fn next_special(&mut self, mut from: usize) -> Option<usize> {
        if let Some((start, hits)) = self.block {
            let offset = from.wrapping_sub(start);
            if offset < 16 {
                let left = hits & (u32::MAX << offset);
                if left != 0 {
                    return Some(start + left.trailing_zeros() as usize);
                }
                from = start + 16;
            }
        }
        while let Some(block) = self.b.get(from..from + 16) {
            let hits = specials16(block);
            if hits != 0 {
                self.block = Some((from, hits));
                return Some(from + hits.trailing_zeros() as usize);
            }
            from += 16;
        }
        find_special(self.b, from)
    }

    /// JSON whitespace, as serde_json skips it.
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.i += 1)
    }

    /// After a member or element: `true` for `,` (more follow), `false` for `close`.
    fn next_or_close(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let b = self.peek()?;
        self.i += 1;
        match b {
            b',' => {
                self.ws();
                Some(true)
            }
            _ if b == close => Some(false),
            _ => None,
        }
    }

    /// An object key (no escapes) and its colon.
    fn key(&mut self) -> Option<&'a [u8]> {
        let key = self.string()?;
        if !key.plain {
            return None;
        }
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(key.raw)
    }

    /// A string; declines on control characters, unknown or surrogate escapes.
    fn string(&mut self) -> Option<Str<'a>> {
        self.eat(b'"')?;
        let start = self.i;
        let mut j = start;
        let (mut plain, mut canonical, mut unicode) = (true, true, false);
        loop {
            j = self.next_special(j)?;
            match self.b.get(j)? {
                b'"' => break,
                b'\\' => {
                    plain = false;
                    match self.b.get(j + 1)? {
                        b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f' => j += 2,
                        b'/' => {
                            canonical = false;
                            j += 2;
                        }
                        b'u' => {
                            unicode = true;
                            let hex = self.b.get(j + 2..j + 6)?;
                            let v = hex4(hex)?;
                            if (0xd800..0xe000).contains(&v) {
                                return None;
                            }
                            // push_str writes `\u00xx`, lowercase, only for
                            // controls without a short escape.
                            canonical &= v < 0x20
                                && !matches!(v, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d)
                                && !hex.iter().any(u8::is_ascii_uppercase);
                            j += 6;
                        }
                        _ => return None,
                    }
                }
                // A raw control character: not JSON.
                _ => return None,
            }
        }
        let raw = self.b.get(start..j)?;
        self.i = j + 1;
        Some(Str {
            raw,
            plain,
            canonical,
            unicode,
        })
    }

    /// An integer that serde reads as an `i64`: `-?(0|[1-9][0-9]*)`, at most
    /// 18 digits, not followed by a fraction or an exponent.
    fn int(&mut self) -> Option<i64> {
        let negative = self.peek()? == b'-';
        if negative {
            self.i += 1;
        }
        let start = self.i;
        self.digits();
        let digits = self.b.get(start..self.i)?;
        let leading_zero = digits.len() > 1 && digits.first() == Some(&b'0');
        if digits.is_empty()
            || digits.len() > 18
            || leading_zero
            || matches!(self.peek(), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        let value = digits
            .iter()
            .fold(0i64, |v, &d| v * 10 + i64::from(d - b'0'));
        match (negative, value) {
            // serde reads `-0` as a float, which is no i64.
            (true, 0) => None,
            (true, v) => Some(-v),
            (false, v) => Some(v),
        }
    }

    /// Any JSON value, checked as serde_json checks what it ignores.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip_value(depth + 1)?;
                    if !self.next_or_close(b'}')? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if !self.next_or_close(b']')? {
                        return Some(());
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        if self.peek()? == b'-' {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        match self.peek() {
            Some(b'0'..=b'9') => None,
            _ => Some(()),
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    /// The whole document.
    fn document(
        &mut self,
        w: &mut Writer<'_>,
        out: &mut Vec<u8>,
        ends: &mut Vec<usize>,
    ) -> Option<Scan<'a>> {
        let (mut kind, mut owner, mut group, mut stream) = (None, None, None, None);
        let mut filters = false;
        let mut events: Option<(usize, i64)> = None;
        self.ws();
        self.eat(b'{')?;
        self.ws();
        loop {
            let key = self.key()?;
            match key {
                b"messageType" => set_once(&mut kind, self.string()?)?,
                b"owner" => set_once(&mut owner, self.string()?)?,
                b"logGroup" => set_once(&mut group, self.string()?)?,
                b"logStream" => set_once(&mut stream, self.string()?)?,
                b"subscriptionFilters" => {
                    if std::mem::replace(&mut filters, true) {
                        return None;
                    }
                    self.strings()?;
                }
                b"logEvents" => {
                    // CloudWatch Logs writes them last; the tail must be known
                    // before the first line.
                    w.start_record(group.as_ref()?, stream.as_ref()?, owner.as_ref()?)?;
                    let written = self.events(w, out, ends)?;
                    set_once(&mut events, written)?;
                }
                _ => self.skip_value(1)?,
            }
            if !self.next_or_close(b'}')? {
                break;
            }
        }
        self.ws();
        if self.i != self.b.len() {
            return None;
        }
        let (count, first_timestamp) = events?;
        let (owner, group) = (owner?.decode()?, group?.decode()?);
        stream?;
        match kind?.decode()?.as_ref() {
            crate::cwl::CONTROL_MESSAGE => Some(Scan::Control),
            crate::cwl::DATA_MESSAGE if count == 0 => Some(Scan::NoEvents),
            crate::cwl::DATA_MESSAGE => Some(Scan::Lines {
                events: count,
                log_group: group,
                owner,
                first_timestamp,
                masked: w.masked,
            }),
            _ => None,
        }
    }

    /// An array of strings.
    fn strings(&mut self) -> Option<()> {
        self.eat(b'[')?;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.string()?;
            if !self.next_or_close(b']')? {
                return Some(());
            }
        }
    }

    /// `logEvents`, writing each event's line: the count and the first timestamp.
    fn events(
        &mut self,
        w: &mut Writer<'_>,
        out: &mut Vec<u8>,
        ends: &mut Vec<usize>,
    ) -> Option<(usize, i64)> {
        self.eat(b'[')?;
        self.ws();
        let (mut count, mut first) = (0, 0);
        if self.peek()? == b']' {
            self.i += 1;
            return Some((0, 0));
        }
        loop {
            let (mut id, mut timestamp, mut message, mut extracted) = (None, None, None, None);
            self.eat(b'{')?;
            self.ws();
            loop {
                match self.key()? {
                    b"id" => set_once(&mut id, self.string()?)?,
                    b"timestamp" => set_once(&mut timestamp, self.int()?)?,
                    b"message" => set_once(&mut message, self.string()?)?,
                    b"extractedFields" => {
                        let start = self.i;
                        self.skip_value(3)?;
                        // serde reads `null` as no field at all.
                        let raw = self.b.get(start..self.i)?;
                        set_once(&mut extracted, (raw != b"null").then_some(raw))?;
                    }
                    _ => self.skip_value(3)?,
                }
                if !self.next_or_close(b'}')? {
                    break;
                }
            }
            let timestamp = timestamp?;
            w.line(out, &id?, timestamp, &message?, extracted.flatten())?;
            ends.push(out.len());
            if count == 0 {
                first = timestamp;
            }
            count += 1;
            // Past either bound serde's path decides (and words) the failure.
            if out.len() > w.limit || count > crate::cwl::MAX_EVENTS {
                return None;
            }
            if !self.next_or_close(b']')? {
                return Some((count, first));
            }
        }
    }
}

/// Sets a field seen for the first time; `None` for a duplicate (serde refuses those).
fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

/// Four hex digits.
fn hex4(hex: &[u8]) -> Option<u32> {
    hex.iter().try_fold(0u32, |acc, &h| {
        let d = char::from(h).to_digit(16)?;
        Some(acc << 4 | d)
    })
}

/// Appends the decoded bytes of a string body checked by [`Cursor::string`]
/// (no surrogate escapes).
fn unescape(raw: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let mut i = 0;
    while let Some(rel) = raw.get(i..)?.iter().position(|&b| b == b'\\') {
        out.extend_from_slice(raw.get(i..i + rel)?);
        i += rel;
        let byte = match raw.get(i + 1)? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let c = char::from_u32(hex4(raw.get(i + 2..i + 6)?)?)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                i += 6;
                continue;
            }
            _ => return None,
        };
        out.push(byte);
        i += 2;
    }
    out.extend_from_slice(raw.get(i..)?);
    Some(())
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The first byte at or after `from` that ends a run of plain string bytes:
/// `"`, `\\` or a control character.
#[inline]
fn find_special(b: &[u8], from: usize) -> Option<usize> {
    let rest = b.get(from..)?;
    let mut at = from;
    let mut blocks = rest.chunks_exact(16);
    for block in &mut blocks {
        let hits = specials16(block);
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize);
        }
        at += 16;
    }
    let mut words = blocks.remainder().chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        // Each test's lowest set bit is exact (borrows only run upwards), so
        // the lowest bit of their union is the first special byte.
        let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
        let below_space = w.wrapping_sub(LO * 0x20) & !w & HI;
        let hits =
            below_space | zero(w ^ (LO * u64::from(b'"'))) | zero(w ^ (LO * u64::from(b'\\')));
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}

/// One bit per special byte of a 16-byte block (SSE2, which every x86_64 has).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn specials16(block: &[u8]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    if block.len() < 16 {
        return 0;
    }
    // SAFETY: SSE2 is in the x86_64 baseline, and `block` has 16 readable
    // bytes (checked above); the load is unaligned.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // v <= 0x1f (unsigned) exactly when max(v, 0x1f) == 0x1f.
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// One bit per special byte of a 16-byte block, portably: arm64 (where the
/// Lambda runs, Graviton) and everything but x86_64.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn specials16(block: &[u8]) -> u32 {
    specials16_swar(block)
}

/// [`specials16`] from two 8-byte words, exact at every position (unlike
/// the first-match test in [`find_special`], no borrow crosses a byte).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn specials16_swar(block: &[u8]) -> u32 {
    match (block.get(..8), block.get(8..16)) {
        (Some(a), Some(b)) => specials8(a) | specials8(b) << 8,
        _ => 0,
    }
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn specials8(chunk: &[u8]) -> u32 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let Ok(word) = <[u8; 8]>::try_from(chunk) else {
        return 0;
    };
    let w = u64::from_le_bytes(word);
    // 0x80 in each byte that is zero / below 0x20: the low 7 bits are added
    // to at most 0x7f, so no carry leaves its byte.
    let zero = |v: u64| !(((v & LOW7) + LOW7) | v) & HI;
    let below_space = !(((w & LOW7) + LO * 0x60) | w) & HI;
    let hits = below_space | zero(w ^ (LO * u64::from(b'"'))) | zero(w ^ (LO * u64::from(b'\\')));
    // Bit 7 of byte k to bit k.
    ((hits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cwl::LogsDocument;
    use crate::lines::LineWriter;

    /// The reference: serde, then the line writer.
    fn reference(doc: &str, options: LineOptions) -> Option<(Vec<u8>, usize, usize)> {
        let parsed = LogsDocument::parse(doc.as_bytes()).ok()?;
        let mut out = Vec::new();
        let mut ends = Vec::new();
        let mut writer = LineWriter::new(options);
        writer.write_document(&parsed, &mut out, &mut ends);
        Some((out, parsed.log_events.len(), writer.masked()))
    }

    fn fast(doc: &str, options: LineOptions) -> (Scan<'_>, Vec<u8>, Vec<usize>) {
        let (mut out, mut ends, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        let scan = write_lines(
            doc.as_bytes(),
            &options,
            usize::MAX,
            &mut out,
            &mut ends,
            &mut scratch,
        );
        (scan, out, ends)
    }

    /// The fast path either declines or agrees with the reference.
    fn agrees(doc: &str) -> bool {
        let mut answered = false;
        for options in [
            LineOptions::default(),
            LineOptions {
                format: OutputFormat::Message,
                ..LineOptions::default()
            },
            LineOptions {
                add_time: true,
                ..LineOptions::default()
            },
            LineOptions {
                mask: Some(Keep::First6Last4),
                ..LineOptions::default()
            },
            LineOptions {
                format: OutputFormat::Message,
                mask: Some(Keep::Last4),
                ..LineOptions::default()
            },
        ] {
            let (scan, out, ends) = fast(doc, options);
            match scan {
                Scan::Decline => {}
                Scan::Lines { events, masked, .. } => {
                    let (expected, n, masked_there) =
                        reference(doc, options).expect("serde accepts");
                    assert_eq!(masked, masked_there, "{doc}");
                    assert_eq!(
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(&expected),
                        "{doc}"
                    );
                    assert_eq!((events, ends.len()), (n, n));
                    assert_eq!(ends.last(), Some(&out.len()));
                    answered = true;
                }
                Scan::Control | Scan::NoEvents => {
                    let parsed = LogsDocument::parse(doc.as_bytes()).expect("serde accepts");
                    let control = parsed.message_type == crate::cwl::CONTROL_MESSAGE;
                    assert_eq!(scan == Scan::Control, control, "{doc}");
                    assert!(control || parsed.log_events.is_empty());
                    answered = true;
                }
            }
        }
        answered
    }

    fn doc(events: &str) -> String {
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/ecs/api","logStream":"api/1","subscriptionFilters":["all"],"logEvents":[{events}]}}"#
        )
    }

    #[test]
    fn usual_documents_are_answered_and_agree() {
        for events in [
            r#"{"id":"1","timestamp":1764300000123,"message":"hello"}"#,
            r#"{"id":"1","timestamp":1,"message":"card 4111 1111 1111 1111 cvv=123"},{"id":"2","timestamp":2,"message":"{\"pan\":\"5555555555554444\"}"}"#,
            r#"{"id":"1","timestamp":1,"message":"a \"quoted\" \\ path\n\tat x"},{"id":"2","timestamp":-5,"message":""}"#,
            r#"{"id":"1","timestamp":0,"message":"ctl \u0001\u001f é ✓ 😀 \u007f"}"#,
            r#" { "message" : "key order" , "timestamp" : 7 , "id" : "x" } "#,
            r#"{"id":"1","timestamp":2,"message":"m","extractedFields":{"ip":"1.2.3.4","n":[1,2.5e3,-0.5,true,null,{}]}}"#,
            r#"{"id":"1","timestamp":2,"message":"m","extractedFields":null,"other":[[],{"a":"b"}]}"#,
            "",
        ] {
            assert!(agrees(&doc(events)), "{events}");
        }
        let control = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE"}]}"#;
        assert!(agrees(control));
        assert_eq!(fast(control, LineOptions::default()).0, Scan::Control);
    }

    #[test]
    fn unusual_escapes_are_rewritten_like_push_str() {
        for events in [
            r#"{"id":"\/1","timestamp":1,"message":"slash \/ and \u00e9 and \u00E9 and \u000A and \u0041"}"#,
            r#"{"id":"1","timestamp":1,"message":"\u001B[31mred\u001b[0m \b\f"}"#,
        ] {
            let d = doc(events);
            assert!(matches!(
                fast(&d, LineOptions::default()).0,
                Scan::Lines { .. }
            ));
            assert!(agrees(&d), "{events}");
        }
    }

    #[test]
    fn declines_what_it_does_not_decide() {
        for d in [
            doc(r#"{"id":"1","timestamp":1.0,"message":"float"}"#),
            doc(r#"{"id":"1","timestamp":1e3,"message":"exp"}"#),
            doc(r#"{"id":"1","timestamp":01,"message":"leading zero"}"#),
            doc(r#"{"id":"1","timestamp":-0,"message":"negative zero"}"#),
            doc(r#"{"id":"1","timestamp":-,"message":"sign only"}"#),
            doc(r#"{"id":"1","timestamp":99999999999999999999,"message":"big"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"dup","message":"x"}"#),
            doc(r#"{"id":"1","timestamp":1}"#),
            doc(r#"{"id":1,"timestamp":1,"message":"id not a string"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"lone \ud800"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"pair \ud83d\ude00"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"raw	tab"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"bad \x escape"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"m"},"#),
            doc(r#"{"id":"1","timestamp":1,"message":"m","extractedFields":{"a":01}}"#),
            format!("{} x", doc("")),
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logEvents":[]}"#.to_string(),
            r#"{"messageType":"OTHER","owner":"o","logGroup":"g","logStream":"s","logEvents":[]}"#.to_string(),
            r#"{"messageType":"DATA_MESSAGE","logEvents":[],"owner":"o","logGroup":"g","logStream":"s"}"#.to_string(),
            r#"{"messageType":"DATA_MESSAGE","owner":"o","owner":"o","logGroup":"g","logStream":"s","logEvents":[]}"#.to_string(),
            r#"{"message\u0054ype":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[]}"#.to_string(),
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","subscriptionFilters":null,"logEvents":[]}"#.to_string(),
        ] {
            assert_eq!(fast(&d, LineOptions::default()).0, Scan::Decline, "{d}");
        }
        let mut invalid_utf8 = doc(r#"{"id":"1","timestamp":1,"message":"m"}"#).into_bytes();
        invalid_utf8.insert(10, 0xff);
        let (mut out, mut ends, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        let scan = write_lines(
            &invalid_utf8,
            &LineOptions::default(),
            usize::MAX,
            &mut out,
            &mut ends,
            &mut scratch,
        );
        assert_eq!(scan, Scan::Decline);
    }

    /// Random documents from fragments, escapes dense and at every offset
    /// of a 16-byte block: the fast path declines or agrees, always.
    #[test]
    fn random_documents_agree_with_the_reference() {
        const FRAGMENTS: &[&str] = &[
            "a",
            "bcdefghijklmnop",
            "é",
            "日本",
            "😀",
            " ",
            "{",
            "}",
            ":",
            ",",
            "\\\"",
            "\\\\",
            "\\n",
            "\\t",
            "\\r",
            "\\b",
            "\\f",
            "\\/",
            "\\u00e9",
            "\\u00E9",
            "\\u001b",
            "\\u001B",
            "\\u0000",
            "\\u0041",
            "\\u000a",
            "\\u007f",
            // What masking reacts to, around the escapes above.
            "4111111111111111",
            "4111 1111 1111 1111",
            "3782-822463-10005",
            "\\\"cvv\\\":\\\"",
            "cvv=",
            "card_cvc: ",
            "123",
            "1234",
            "7",
            "B",
            "^",
            "=",
            ".",
            "-",
            "\\u0034",
            "\\u0020",
        ];
        // What serde refuses or this path leaves to serde: rare, so most
        // documents are valid.
        const ODD: &[&str] = &["\\ud83d\\ude00", "\\ud800", "\\x", "\t", "\u{1}"];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut answered, mut masked_docs) = (0, 0);
        for _ in 0..3000 {
            let string = |next: &mut dyn FnMut(usize) -> usize| {
                let mut s = String::new();
                for _ in 0..next(40) {
                    s.push_str(if next(200) == 0 {
                        ODD[next(ODD.len())]
                    } else {
                        FRAGMENTS[next(FRAGMENTS.len())]
                    });
                }
                s
            };
            let mut events = Vec::new();
            for e in 0..next(4) {
                let mut fields = vec![
                    format!("\"id\":\"{}\"", string(&mut next)),
                    format!(
                        "\"timestamp\":{}",
                        [e as i64, -7, 1_764_300_000_123][next(3)]
                    ),
                    format!("\"message\":\"{}\"", string(&mut next)),
                ];
                if next(4) == 0 {
                    fields.push(format!(
                        "\"extractedFields\":{{\"k\":\"{}\"}}",
                        string(&mut next)
                    ));
                }
                // Key order and whitespace vary.
                let first = next(fields.len());
                fields.swap(0, first);
                let ws = [" ", "", "\n\t"][next(3)];
                events.push(format!(
                    "{{{ws}{}{ws}}}",
                    fields.join(&format!("{ws},{ws}"))
                ));
            }
            let group = string(&mut next);
            let d = format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"{group}","logStream":"s","logEvents":[{}]}}"#,
                events.join(",")
            );
            answered += usize::from(agrees(&d));
            let masking = LineOptions {
                mask: Some(Keep::First6Last4),
                ..LineOptions::default()
            };
            if let Scan::Lines { masked, .. } = fast(&d, masking).0 {
                masked_docs += usize::from(masked > 0);
            }
        }
        // Most are valid and answered here, not handed on; many have
        // something to mask.
        assert!(answered > 1000, "{answered}");
        assert!(masked_docs > 300, "{masked_docs}");
    }

    #[test]
    fn lines_past_the_limit_are_declined() {
        let d = doc(
            r#"{"id":"1","timestamp":1,"message":"aaaa"},{"id":"2","timestamp":2,"message":"bbbb"}"#,
        );
        let (mut out, mut ends, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        let scan = write_lines(
            d.as_bytes(),
            &LineOptions::default(),
            20,
            &mut out,
            &mut ends,
            &mut scratch,
        );
        assert_eq!(scan, Scan::Decline);
    }

    #[test]
    fn block_masks_are_exact() {
        let special = |c: u8| c == b'"' || c == b'\\' || c < 0x20;
        let bytes = [
            0u8, 1, 0x1f, 0x20, 0x21, b'"', b'\\', b'a', 0x7f, 0x80, 0x9f, 0xa0, 0xdc, 0xff,
        ];
        let mut state = 0x853c_49e6_748f_ea9bu64;
        for _ in 0..20_000 {
            let mut block = [0u8; 16];
            for b in &mut block {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = bytes[(state % bytes.len() as u64) as usize];
            }
            let expected = block
                .iter()
                .enumerate()
                .filter(|(_, &c)| special(c))
                .fold(0u32, |m, (i, _)| m | 1 << i);
            assert_eq!(specials16_swar(&block), expected, "{block:?}");
            assert_eq!(specials16(&block), expected, "{block:?}");
        }
    }

    #[test]
    fn find_special_is_exact_at_every_position() {
        // Past 16 + 8 bytes, so SIMD blocks, SWAR words and the tail all run.
        for len in 0..44 {
            for pos in 0..len {
                for special in [b'"', b'\\', b'\n', 0u8, 0x1f] {
                    let mut v = vec![b'a'; len];
                    v[pos] = special;
                    // Bytes that look special to a sloppy test sit after it.
                    if pos + 1 < len {
                        v[pos + 1] = 0x80;
                    }
                    for from in [0, pos / 2, pos] {
                        assert_eq!(find_special(&v, from), Some(pos));
                    }
                    assert_eq!(find_special(&v, pos + 1), None);
                }
            }
            let clean: Vec<u8> = (0..len)
                .map(|i| [b'a', 0x20, 0x7f, 0x80, 0xff, b'!', b'#'][i % 7])
                .collect();
            assert_eq!(find_special(&clean, 0), None);
        }
    }
}
