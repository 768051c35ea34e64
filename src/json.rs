//! JSON string primitives for the hot path: strings and integers appended
//! straight to a byte buffer (no `io::Write`, no formatter), the exact length
//! such a string takes, and [`JsonStr`], a string body as a document holds it.
//!
//! `push_str` is the one definition of how a line escapes text; the fast
//! reader copies a body as it is only when it is escaped exactly that way
//! ([`JsonStr::canonical`]).

use std::borrow::Cow;

/// Appends `s` as a JSON string literal (with quotes), escaping exactly what
/// JSON requires: `"`, `\` and control characters below U+0020. Everything
/// else, non-ASCII included, is copied as it is (UTF-8 is valid JSON).
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    push_str_body(out, s.as_bytes());
    out.push(b'"');
}

/// Appends the escaped body of a JSON string (no quotes).
fn push_str_body(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    // Skip 8 clean bytes at a time: log messages are mostly clean, so the
    // common case is one scan and one copy.
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if !needs_escape_word(u64::from_le_bytes(word)) {
            i += 8;
            continue;
        }
        for &b in chunk {
            if let Some(esc) = escape(b) {
                out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
                push_escape(out, b, esc);
                start = i + 1;
            }
            i += 1;
        }
    }
    while let Some(&b) = bytes.get(i) {
        if let Some(esc) = escape(b) {
            out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
            push_escape(out, b, esc);
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

/// Whether any byte of the word is `"`, `\` or below 0x20 (exact, no false
/// negatives; bytes >= 0x80 never match).
#[inline]
fn needs_escape_word(w: u64) -> bool {
    crate::simd::word_has_json_special(w)
}

/// The short escape for a byte, `Some(0)` for the `\u00XX` form, or `None`.
#[inline]
fn escape(b: u8) -> Option<u8> {
    match b {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        b'\n' => Some(b'n'),
        b'\r' => Some(b'r'),
        b'\t' => Some(b't'),
        0x08 => Some(b'b'),
        0x0c => Some(b'f'),
        0..=0x1f => Some(0),
        _ => None,
    }
}

fn push_escape(out: &mut Vec<u8>, b: u8, esc: u8) {
    let hex = |n: u8| if n < 10 { b'0' + n } else { b'a' + n - 10 };
    if esc == 0 {
        out.extend_from_slice(b"\\u00");
        out.push(hex(b >> 4));
        out.push(hex(b & 0xf));
    } else {
        out.push(b'\\');
        out.push(esc);
    }
}

/// Where text offset `to` lies in the body [`push_str`] writes for `text`, counted on
/// from a known pair `(t, r)` (text offset `t` at body offset `r`, `t <= to`): each
/// byte that needs an escape takes its escape's length, every other byte one.
pub(crate) fn escaped_offset(text: &[u8], (t, r): (usize, usize), to: usize) -> usize {
    let part = text.get(t..to.min(text.len())).unwrap_or_default();
    // Counted 16 bytes at a time: every special byte takes one byte more, and the
    // controls written `\u00XX` four more again (looked for only in a block that has a
    // control, which JSON in a message seldom has).
    let mut blocks = part.chunks_exact(16);
    let mut extra = 0;
    for block in &mut blocks {
        let hits = crate::simd::json_specials16(block);
        if hits != 0 {
            extra += hits.count_ones() as usize;
            if block.iter().fold(false, |any, &c| any | (c < 0x20)) {
                extra += block.iter().filter(|&&c| escape(c) == Some(0)).count() * 4;
            }
        }
    }
    let tail: usize = blocks.remainder().iter().map(|&c| escaped_len(c) - 1).sum();
    r + to.saturating_sub(t) + extra + tail
}

/// The exact number of bytes [`push_str`] appends for `s`.
pub fn str_len(s: &str) -> usize {
    2 + s.bytes().map(escaped_len).sum::<usize>()
}

/// How many bytes [`push_str`] writes for the byte `b`.
#[inline]
fn escaped_len(b: u8) -> usize {
    match escape(b) {
        None => 1,
        Some(0) => 6,
        Some(_) => 2,
    }
}

/// A JSON string as a document holds it: the bytes between the quotes, with
/// what the reader learnt of its escapes. Only the reader that checked every
/// escape (valid, no surrogates) builds one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonStr<'a> {
    /// The bytes between the quotes.
    pub raw: &'a [u8],
    /// No backslash at all: the raw bytes are the value.
    pub plain: bool,
    /// Escaped exactly as [`push_str`] escapes: the raw bytes are the output.
    pub canonical: bool,
    /// Has a `\u` escape.
    pub unicode: bool,
}

impl<'a> JsonStr<'a> {
    /// The decoded value; `None` only if the body is not valid (the reader
    /// checked it, so never in practice).
    pub fn decode(&self) -> Option<Cow<'a, str>> {
        if self.plain {
            return std::str::from_utf8(self.raw).ok().map(Cow::Borrowed);
        }
        let mut bytes = Vec::with_capacity(self.raw.len());
        unescape(self.raw, &mut bytes)?;
        String::from_utf8(bytes).ok().map(Cow::Owned)
    }

    /// Appends the decoded value to `out`.
    pub fn decode_into(&self, out: &mut Vec<u8>) -> Option<()> {
        if self.plain {
            out.extend_from_slice(self.raw);
            return Some(());
        }
        unescape(self.raw, out)
    }

    /// Appends the string as [`push_str`] writes its value: the raw bytes when
    /// they already are that, else decoded (into `scratch`) and written again.
    pub fn push_json(&self, out: &mut Vec<u8>, scratch: &mut Vec<u8>) -> Option<()> {
        if self.canonical {
            out.reserve(self.raw.len() + 2);
            out.push(b'"');
            out.extend_from_slice(self.raw);
            out.push(b'"');
        } else {
            scratch.clear();
            unescape(self.raw, scratch)?;
            push_str(out, std::str::from_utf8(scratch).ok()?);
        }
        Some(())
    }
}

/// Four hex digits.
pub(crate) fn hex4(hex: &[u8]) -> Option<u32> {
    hex.iter().try_fold(0u32, |acc, &h| {
        let d = char::from(h).to_digit(16)?;
        Some(acc << 4 | d)
    })
}

/// Appends the decoded bytes of a string body whose escapes were checked (no
/// surrogate escapes).
///
/// In a checked body the only special byte left is the backslash (quotes and
/// controls appear escaped). The text is written in place into the body's length
/// (it is never longer: an escape of 2 or 6 bytes stands for 1 to 3), so plain
/// bytes go 16 at a time, each block copied whole and the write position moved
/// to the next escape only: the short runs between the escapes of
/// JSON-in-a-message (`{\"level\":\"info\"…`) cost a fixed-size copy each, not
/// a `memcpy` call or a capacity check.
pub(crate) fn unescape(raw: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let start = out.len();
    out.resize(start + raw.len(), 0);
    let written = out
        .get_mut(start..)
        .and_then(|text| unescape_into(raw, text));
    out.truncate(start + written.unwrap_or(0));
    written.map(|_| ())
}

/// [`unescape`]'s loop: decodes `raw` into `text` (as long as `raw`) and returns the
/// decoded length.
fn unescape_into(raw: &[u8], text: &mut [u8]) -> Option<usize> {
    let (mut i, mut w) = (0, 0);
    loop {
        // Plain bytes to the next backslash; `w <= i`, so `text` has room for the block.
        let at = match raw.get(i..i + 16) {
            Some(block) => {
                let hits = crate::simd::json_specials16(block);
                let n = if hits == 0 {
                    16
                } else {
                    hits.trailing_zeros() as usize
                };
                text.get_mut(w..w + 16)?.copy_from_slice(block);
                (i, w) = (i + n, w + n);
                if hits == 0 {
                    continue;
                }
                i
            }
            None => {
                let rest = raw.get(i..)?;
                let p = rest.iter().position(|&b| b == b'\\');
                let plain = rest.get(..p.unwrap_or(rest.len()))?;
                text.get_mut(w..w + plain.len())?.copy_from_slice(plain);
                (i, w) = (i + plain.len(), w + plain.len());
                if p.is_none() {
                    return Some(w);
                }
                i
            }
        };
        match raw.get(at + 1)? {
            b'u' => {
                let c = char::from_u32(hex4(raw.get(at + 2..at + 6)?)?)?;
                let mut buf = [0u8; 4];
                let bytes = c.encode_utf8(&mut buf).as_bytes();
                text.get_mut(w..w + bytes.len())?.copy_from_slice(bytes);
                (i, w) = (at + 6, w + bytes.len());
            }
            &letter => {
                *text.get_mut(w)? = short_escape(letter)?;
                (i, w) = (at + 2, w + 1);
            }
        }
    }
}

/// The byte that the short escape `\` + `letter` stands for (`\"`, `\\`,
/// `\/`, `\b`, `\f`, `\n`, `\r`, `\t`); `None` for anything else.
#[inline(always)]
pub(crate) fn short_escape(letter: u8) -> Option<u8> {
    Some(match letter {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        _ => return None,
    })
}

/// Appends the UTF-8 of the code point of a `\u` escape; `None` for a
/// surrogate (readers decline or pair those before).
#[inline(always)]
pub(crate) fn push_char(out: &mut Vec<u8>, code: u32) -> Option<()> {
    let c = char::from_u32(code)?;
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    Some(())
}

/// Appends an integer in decimal.
#[inline]
pub fn push_int(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) {
        let mut out = Vec::new();
        push_str(&mut out, s);
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, s);
        // Same bytes as serde_json writes, so the two paths can't drift.
        assert_eq!(out, serde_json::to_vec(s).unwrap());
        assert_eq!(str_len(s), out.len());
    }

    #[test]
    fn escapes_what_json_requires() {
        for s in [
            "",
            "plain ascii text that is longer than eight bytes",
            "quote \" backslash \\ newline \n tab \t cr \r",
            "\u{0}\u{1}\u{1f}\u{7f} bell \u{7}",
            "héllo wörld ✓ 日本語 😀",
            "\"\"\"\"\"\"\"\"\\\\\\\\\\\\\\\\",
            "1234567\n",
            "12345678\"",
        ] {
            round_trip(s);
        }
    }

    /// Fewer than `most` of `pieces`, picked by a xorshift generator from `state`.
    fn pieces_joined(state: &mut u64, pieces: &[&str], most: u64) -> String {
        let mut text = String::new();
        for _ in 0..(*state % most) {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            text.push_str(pieces[(*state % pieces.len() as u64) as usize]);
        }
        text
    }

    /// `escaped_offset` is the length of what `push_str` writes for the text before
    /// the offset, from the start or counted on from an earlier pair.
    #[test]
    fn escaped_offset_is_the_written_length() {
        let pieces = [
            "a",
            "\"",
            "\\",
            "\n",
            "\t",
            "\u{1}",
            "\u{1f}",
            "é",
            "0123456789abcdef",
        ];
        let mut state = 0x1234_5678_9abc_def1u64;
        for _ in 0..3000 {
            let text = pieces_joined(&mut state, &pieces, 40);
            let written = |to: usize| {
                let mut out = Vec::new();
                push_str(&mut out, &text[..to]);
                out.len() - 2
            };
            let bounds: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            let mut from = (0, 0);
            for &to in &bounds {
                assert_eq!(
                    escaped_offset(text.as_bytes(), (0, 0), to),
                    written(to),
                    "{text:?} {to}"
                );
                let r = escaped_offset(text.as_bytes(), from, to);
                assert_eq!(r, written(to), "{text:?} {from:?} {to}");
                if state.is_multiple_of(3) {
                    from = (to, r);
                }
                state = state.rotate_left(7) ^ to as u64;
            }
        }
    }

    /// `unescape` against serde's decoding, escapes at every offset of a block.
    #[test]
    fn unescape_is_serde_at_every_offset() {
        for len in 0..40 {
            for pos in 0..len {
                for esc in ["\\\"", "\\\\", "\\n", "\\/", "\\u00e9", "\\u0001"] {
                    let body = format!("{}{esc}{}", "a".repeat(pos), "é".repeat(len - pos));
                    let mut out = Vec::new();
                    unescape(body.as_bytes(), &mut out).unwrap();
                    let want: String = serde_json::from_str(&format!("\"{body}\"")).unwrap();
                    assert_eq!(String::from_utf8(out).unwrap(), want, "{body}");
                }
            }
        }
        // Dense escapes, across and at the edges of 16-byte blocks.
        let parts = [
            "a", "\\\"", "\\\\", "\\n", "\\u00e9", "\\u0041", "é", "bcdefgh", "\\t",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            let body = pieces_joined(&mut state, &parts, 30);
            let mut out = Vec::new();
            unescape(body.as_bytes(), &mut out).unwrap();
            let want: String = serde_json::from_str(&format!("\"{body}\"")).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{body}");
        }
        let mut out = Vec::new();
        assert!(unescape(b"bad \\x escape", &mut out).is_none());
        assert!(unescape(b"ends in \\", &mut out).is_none());
    }

    #[test]
    fn every_byte_position_in_a_word() {
        for pos in 0..16 {
            for special in ['"', '\\', '\n', '\u{1}', 'é'] {
                let mut s = "a".repeat(16);
                s.insert(pos, special);
                round_trip(&s);
            }
        }
    }
}
