//! Where a digit run ends and what may touch it: letters, digits and decimal points on
//! either side refuse a candidate; track 1's `B` and JSON escapes are the exceptions.

use crate::simd::first_non_digit8;

/// What the masker reads: text, or a JSON string body as written (see
/// [`super::json_body_may_mask`]), where every rule is loosened so that it can only say
/// yes more often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Syntax {
    Text,
    JsonBody,
}

/// What precedes a digit run that may start a PAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Left {
    /// Start of text or a non-alphanumeric byte.
    Plain,
    /// A lone `B` (track 1 format code, `%B…`): a PAN here must be followed by `^`.
    Track1,
}

/// [`left_context`] loosened for a JSON body: a letter right after a backslash is an
/// escape (`\t4111…` is a tab, then digits), and a `B` may be track 1's.
pub(super) fn loose_left_ok(b: &[u8], s: usize) -> bool {
    let Some(prev) = s.checked_sub(1) else {
        return true;
    };
    match b.get(prev) {
        Some(b'B') => true,
        Some(c) if c.is_ascii_alphanumeric() => escaped(b, prev),
        Some(b'.') => !digit_at(b, prev.checked_sub(1)),
        _ => true,
    }
}

/// Whether `b[i]` is the letter of an escape in a JSON body: an odd number of
/// backslashes stands right before it (`\t` is a tab, `\\t` a backslash and a `t`).
pub(super) fn escaped(b: &[u8], i: usize) -> bool {
    let before = b.get(..i).unwrap_or_default();
    before.iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// `None` when the run at `s` is glued to a word or is the fraction of a decimal number.
pub(super) fn left_context(b: &[u8], s: usize) -> Option<Left> {
    let Some(prev) = s.checked_sub(1) else {
        return Some(Left::Plain);
    };
    match *b.get(prev)? {
        b'B' if prev
            .checked_sub(1)
            .and_then(|p| b.get(p))
            .is_none_or(|c| !c.is_ascii_alphanumeric()) =>
        {
            Some(Left::Track1)
        }
        c if c.is_ascii_alphanumeric() => None,
        b'.' if digit_at(b, prev.checked_sub(1)) => None,
        _ => Some(Left::Plain),
    }
}

/// Whether a value ending at `e` ends there: no letter or digit follows, nor a decimal point
/// with digits (`4111111111111111.25` is an amount).
pub(super) fn right_ok(b: &[u8], e: usize) -> bool {
    match b.get(e) {
        None => true,
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some(b'.') => !digit_at(b, e.checked_add(1)),
        Some(_) => true,
    }
}

/// End of the run of ASCII digits starting at `s`.
pub(super) fn run_end(b: &[u8], s: usize) -> usize {
    let Some(rest) = b.get(s..) else {
        return s;
    };
    let mut skipped = 0;
    for chunk in rest.chunks_exact(8) {
        if let Some(at) = first_non_digit8(chunk) {
            return s + skipped + at;
        }
        skipped += 8;
    }
    s + skipped
        + rest
            .get(skipped..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
}

// The finder calls these two per candidate run, from another module: inline them there.
#[inline]
pub(super) fn letter_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_alphabetic)
}

#[inline]
pub(super) fn digit_at(b: &[u8], i: Option<usize>) -> bool {
    i.and_then(|i| b.get(i)).is_some_and(u8::is_ascii_digit)
}
