//! What may touch a candidate digit run: letters, digits and decimal points on either
//! side refuse it; track 1's `B` and JSON escapes are the exceptions.

use super::*;

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
