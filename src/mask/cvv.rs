//! Card security codes (PCI DSS 3.3.1): a 3-4 digit value of a key that names one.

use super::bounds::{escaped, Syntax};

/// Longest key looked at; longer words are not field names we know.
const MAX_KEY: usize = 40;

/// Normalised (lower case, no `_`/`-`) key endings that name a card security code.
const CVV_KEYS: [&[u8]; 16] = [
    b"cvv",
    b"cvv2",
    b"cvc",
    b"cvc2",
    b"csc",
    b"cvn",
    b"cvd",
    b"cav2",
    b"cvvcode",
    b"cvccode",
    b"cvnumber",
    b"cardcode",
    b"securitycode",
    b"cardverificationvalue",
    b"cardverificationcode",
    b"cardverificationnumber",
];

/// The last letters of [`CVV_KEYS`].
const CVV_KEY_ENDS: &[u8] = b"v2cnder";

/// The last two letters of [`CVV_KEYS`]: most keys whose last letter passes stop here
/// ("time", "size", "request_id", "duration") before the key is read.
const CVV_KEY_TAILS: [[u8; 2]; 10] = [
    *b"vv", *b"v2", *b"vc", *b"c2", *b"sc", *b"vn", *b"vd", *b"de", *b"er", *b"ue",
];

/// Whether the key ending at `key_end` ends like one of [`CVV_KEYS`] (`_`/`-` ignored).
fn ends_like_cvv_key(b: &[u8], key_end: usize) -> bool {
    // Most keys end in two letters: no `_` or `-` to skip.
    if let Some([x, y]) = key_end.checked_sub(2).and_then(|i| b.get(i..key_end)) {
        if !matches!(x, b'_' | b'-') && !matches!(y, b'_' | b'-') {
            return CVV_KEY_TAILS.contains(&[x.to_ascii_lowercase(), y.to_ascii_lowercase()]);
        }
    }
    let mut letters = b
        .get(..key_end)
        .unwrap_or_default()
        .iter()
        .rev()
        .take(MAX_KEY)
        .filter(|&&c| c != b'_' && c != b'-')
        .map(u8::to_ascii_lowercase);
    match (letters.next(), letters.next()) {
        (Some(last), Some(before)) => CVV_KEY_TAILS.contains(&[before, last]),
        _ => false,
    }
}

/// Whether the digit run at `s` is the value of a security-code field.
///
/// In a JSON body (a yes or no for [`super::json_body_may_mask`]) every gap may be twice as
/// long, a tab is also `\t`, and a letter glued to the key after a backslash is an escape.
#[inline(always)]
pub(super) fn is_cvv_value(b: &[u8], s: usize, syntax: Syntax) -> bool {
    // Most 3-4 digit runs in logs follow a `-`, `/`, `,` or nothing: no field to read.
    match s.checked_sub(1).and_then(|p| b.get(p)) {
        Some(&c) if is_code_prev(c, syntax) => cvv_field_before(b, s, syntax),
        _ => false,
    }
}

/// What stands right before a security code's value: its quote, a space, or the field's
/// separator.
fn is_code_prev(c: u8, syntax: Syntax) -> bool {
    is_quote(c) || is_space(c, syntax) || is_key_sep(c)
}

/// Between a key and its value: `:`, `=`, or the `>` of an XML tag.
///
/// On AVX2 the digit-run finder passes over the runs that no key's end
/// ([`CVV_KEY_ENDS`]), then quotes, spaces or `]`, a separator, and quotes or spaces
/// again, lead to: its byte classes (`crate::simd::Classes`) must hold every byte of
/// these sets (checked in the tests).
fn is_key_sep(c: u8) -> bool {
    matches!(c, b':' | b'=' | b'>')
}

/// A quote around a field's key or value (`\` too: escaped JSON inside a message).
fn is_quote(c: u8) -> bool {
    matches!(c, b'"' | b'\'' | b'\\')
}

/// A space between a key, its separator and its value; in a JSON body a tab is `\t`.
fn is_space(c: u8, syntax: Syntax) -> bool {
    c == b' ' || c == b'\t' || (syntax == Syntax::JsonBody && matches!(c, b't' | b'\\'))
}

/// [`is_cvv_value`] past its first byte.
#[inline(never)]
fn cvv_field_before(b: &[u8], s: usize, syntax: Syntax) -> bool {
    let json = syntax == Syntax::JsonBody;
    let w = if json { 2 } else { 1 };
    let is_space = |c: u8| is_space(c, syntax);
    // Right to left: value quote, spaces, `:`/`=`/`>`, spaces, key quote or `]`, key.
    let p = skip_back(b, s, 3 * w, is_quote);
    let p = skip_back(b, p, 4 * w, is_space);
    let Some(p) = p.checked_sub(1) else {
        return false;
    };
    let sep = match b.get(p) {
        Some(&c) if is_key_sep(c) => c,
        _ => return false,
    };
    let p = skip_back(b, p, 4 * w, is_space);
    let key_end = skip_back(b, p, 3 * w, |c| is_quote(c) || c == b']');
    // Cheap rejection before reading the key: "status", "bytes", "records" end wrong.
    let last = key_end.checked_sub(1).and_then(|i| b.get(i));
    if !last.is_some_and(|c| CVV_KEY_ENDS.contains(&c.to_ascii_lowercase()))
        || !ends_like_cvv_key(b, key_end)
    {
        return false;
    }
    let mut key_start = skip_back(b, key_end, MAX_KEY + 1, |c| {
        c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
    });
    if json && escaped(b, key_start) {
        key_start += 1;
    }
    let Some(key) = b.get(key_start..key_end) else {
        return false;
    };
    if key.is_empty() || key.len() > MAX_KEY {
        return false;
    }
    // `>` only as the end of an XML start tag: `<cvv>123</cvv>`.
    if sep == b'>' && key_start.checked_sub(1).and_then(|i| b.get(i)) != Some(&b'<') {
        return false;
    }
    is_cvv_key(key)
}

/// Moves `p` left over at most `max` bytes matching `pred`.
fn skip_back(b: &[u8], p: usize, max: usize, pred: impl Fn(u8) -> bool) -> usize {
    let before = b.get(..p).unwrap_or_default();
    p - before
        .iter()
        .rev()
        .take(max)
        .take_while(|&&c| pred(c))
        .count()
}

/// Whether the key's last words (snake, kebab or camel case) spell a [`CVV_KEYS`] entry.
fn is_cvv_key(key: &[u8]) -> bool {
    CVV_KEYS.iter().any(|name| {
        // Match from the end, skipping `_`/`-`: most keys differ in their last letter.
        let mut k = key.len();
        for &want in name.iter().rev() {
            loop {
                match k.checked_sub(1).and_then(|i| key.get(i)) {
                    Some(b'_' | b'-') => k -= 1,
                    Some(c) if c.to_ascii_lowercase() == want => {
                        k -= 1;
                        break;
                    }
                    _ => return false,
                }
            }
        }
        is_word_start(key, k)
    })
}

fn is_word_start(key: &[u8], i: usize) -> bool {
    let Some(&c) = key.get(i) else {
        return false;
    };
    match i.checked_sub(1).and_then(|p| key.get(p)) {
        None => true,
        Some(b'_' | b'-') => true,
        // camelCase: "cardCvv", "paymentCVV", "card2Cvc".
        Some(p) => c.is_ascii_uppercase() && (p.is_ascii_lowercase() || p.is_ascii_digit()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn cvv_key_ends_cover_every_key() {
        for key in CVV_KEYS {
            assert!(CVV_KEY_ENDS.contains(key.last().unwrap()), "{key:?}");
            let tail = [key[key.len() - 2], key[key.len() - 1]];
            assert!(CVV_KEY_TAILS.contains(&tail), "{key:?}");
            for written in [key, &b"card_CVV"[..], b"cvv-2", b"Card_Security_Code"] {
                let text = [written, b"=1"].concat();
                let matches = is_cvv_key(written);
                assert!(
                    !matches || ends_like_cvv_key(&text, written.len()),
                    "{written:?}"
                );
            }
        }
    }

    /// The finder's AVX2 filter passes over a short run only where no key, separator and
    /// quotes or spaces can lead to it, or no group can follow it: its classes must hold
    /// every byte the masker accepts there.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_kernels_classes_hold_the_maskers_bytes() {
        use crate::mask::pan::is_group_sep;
        use crate::simd::class_spec as spec;
        for c in 0..=255u8 {
            for syntax in [Syntax::Text, Syntax::JsonBody] {
                if is_quote(c) || is_space(c, syntax) || c == b']' {
                    assert!(spec::skip(c), "{c:#x}");
                }
            }
            if CVV_KEY_ENDS.contains(&c.to_ascii_lowercase()) {
                assert!(spec::key_end(c), "{c:#x}");
            }
            assert_eq!(spec::sep(c), is_key_sep(c), "{c:#x}");
            assert_eq!(spec::group_sep(c), is_group_sep(c), "{c:#x}");
            // The two chains of the finder's window (`Candidates::load`) need these apart.
            assert!(
                !(spec::skip(c) && (spec::key_end(c) || spec::sep(c))),
                "{c:#x}"
            );
        }
    }
}
