//! Small JSON writing primitives for the hot path: escaped strings and
//! integers appended straight to a byte buffer, no `io::Write`, no formatter.

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

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of the word is `"`, `\` or below 0x20 (exact, no false
/// negatives; bytes >= 0x80 never match).
#[inline]
fn needs_escape_word(w: u64) -> bool {
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let below_space = w.wrapping_sub(LO * 0x20) & !w & HI;
    (below_space | has_zero(w ^ (LO * b'"' as u64)) | has_zero(w ^ (LO * b'\\' as u64))) != 0
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
