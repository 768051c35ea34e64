//! Card numbers: contiguous or printed in groups, judged as a whole run, and the track
//! data that follows them on a magnetic stripe.

use super::bounds::{digit_at, escaped, right_ok, run_end, Left, Syntax};
use super::brand::{brand, luhn, MAX_LEN, MIN_LEN};
use super::iban::inside_iban;

/// Digits in a printed group.
pub(super) const MIN_GROUP: usize = 3;
pub(super) const MAX_GROUP: usize = 6;
/// Groups gathered from a start: a PAN has at most 6 (3-3-3-3-3-4), and one more may be
/// left out at the end (it belongs to the next number). A run with more is no PAN.
const MAX_GATHER: usize = 7;

/// What joins the groups of a printed card number: one space or one dash.
pub(super) fn is_group_sep(c: u8) -> bool {
    c == b' ' || c == b'-'
}

/// Whether `lens` (two groups or more, joined by one separator) is a way a card number may be
/// printed: groups of 3 to 6 digits, 13 to 19 in all; or groups of 4 ending in a short
/// one (4-4-4-1, 4-4-4-2, 4-4-4-4-1, 4-4-4-4-2). Groups of three joined by spaces count
/// too (`349 512 469 182 376`, an Amex as some receipts print it): a number written with
/// a space between thousands is masked only when it has 15 or 18 digits, a brand's prefix
/// and a valid Luhn digit (docs/masking.md measures how rare that is). Every grouping
/// holds for both separators.
pub(super) fn is_grouping(lens: &[usize]) -> bool {
    let n: usize = lens.iter().sum();
    if lens.len() < 2 || !(MIN_LEN..=MAX_LEN).contains(&n) {
        return false;
    }
    if lens.iter().all(|l| (MIN_GROUP..=MAX_GROUP).contains(l)) {
        return true;
    }
    matches!(lens, [4, 4, 4, 1 | 2] | [4, 4, 4, 4, 1 | 2])
}

/// A PAN found by [`find_pan`].
pub(super) struct Pan {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) digits: usize,
    /// Track data after the PAN, all of it to be hidden.
    pub(super) track: Option<(usize, usize)>,
}

/// The PAN starting at the digit run `s..e`, if there is one. In a JSON body (a yes or
/// no for [`super::json_body_may_mask`]) IBANs are not ruled out, and an escape next to a run of
/// groups may join its end group to another number.
#[inline(always)]
pub(super) fn find_pan(b: &[u8], s: usize, e: usize, left: Left, syntax: Syntax) -> Option<Pan> {
    // Cheap rejections first: every brand starts with 2-6, and a PAN is a single run of
    // 13-19 digits or three groups or more, the first two of 3-6 digits. Most digit runs
    // in logs (years, ports, status codes, "2025-11-28") stop here.
    if !matches!(b.get(s), Some(b'2'..=b'6')) {
        return None;
    }
    let first = e - s;
    if first > MAX_GROUP {
        return if (MIN_LEN..=MAX_LEN).contains(&first) {
            contiguous_pan(b, s, e, left, syntax)
        } else {
            None
        };
    }
    // A second group of 3 or more digits ("2025-11-28" stops here) and a third group
    // (`" 200 512 "` in access logs stops here); the gathering checks the rest.
    let sep = match b.get(e) {
        Some(&c) if is_group_sep(c) && first >= MIN_GROUP => c,
        _ => return None,
    };
    if !matches!(b.get(e + 1..e + 4), Some([x, y, z]) if x.is_ascii_digit() && y.is_ascii_digit() && z.is_ascii_digit())
    {
        return None;
    }
    let e2 = run_end(b, e + 4);
    if b.get(e2) != Some(&sep) || !digit_at(b, e2.checked_add(1)) {
        return None;
    }
    grouped_pan(b, s, e, left, syntax)
}

/// A PAN printed without separators: the run `s..e` of 13-19 digits, with its track data.
#[inline(never)]
fn contiguous_pan(b: &[u8], s: usize, e: usize, left: Left, syntax: Syntax) -> Option<Pan> {
    if !right_ok(b, e) {
        return None;
    }
    let track = match left {
        Left::Track1 if b.get(e) == Some(&b'^') => track1_tail(b, e),
        Left::Track1 => return None,
        Left::Plain => track2_tail(b, e),
    };
    let pan = checked_pan(b, s, e, syntax)?;
    Some(Pan { track, ..pan })
}

/// A PAN printed in groups, starting at the group `s..e` (3-6 digits followed by a
/// separator, another group of 3 or more and the same separator again).
///
/// The run of groups joined by that one separator is judged as a whole: the PAN is all of
/// it, or all of it but a group at an end that belongs to something else — glued to a
/// letter, the side of a decimal point, or joined to more digits by another character
/// (`2025-11-28 4111 1111 1111 1111`, `… 1111 12/27`). Nothing else is cut out of a run,
/// as nothing is cut out of a longer run of contiguous digits: `6011 862876 53141 7556`
/// is one 19-digit number, not a 15-digit card and a 4-digit one.
#[inline(never)]
fn grouped_pan(b: &[u8], s: usize, e: usize, left: Left, syntax: Syntax) -> Option<Pan> {
    let sep = *b.get(e)?;
    let g0 = if b.get(s.wrapping_sub(1)) == Some(&sep) {
        group_before(b, s - 1)
    } else {
        None
    };
    if let Some(p) = g0 {
        // `s` is the run's second group (or later): a PAN starts here only if the first
        // is left out.
        if b.get(p.wrapping_sub(1)) == Some(&sep) && group_before(b, p - 1).is_some() {
            return None;
        }
        if !taken_left(b, p, sep, syntax) {
            return None;
        }
    } else if left != Left::Plain {
        // Glued to a `B`: not track 1 (that is a contiguous PAN), a word.
        return None;
    }

    let mut lens = [0usize; MAX_GATHER];
    let mut ends = [0usize; MAX_GATHER];
    let mut n = 0;
    let mut digits = 0;
    let (mut gs, mut ge) = (s, e);
    loop {
        let (Some(l), Some(x)) = (lens.get_mut(n), ends.get_mut(n)) else {
            return None;
        };
        (*l, *x) = (ge - gs, ge);
        n += 1;
        digits += ge - gs;
        if b.get(ge) != Some(&sep) || !digit_at(b, ge.checked_add(1)) {
            break;
        }
        // The run goes on past any PAN, even with its last group left out.
        if n == MAX_GATHER || digits > MAX_LEN {
            return None;
        }
        let next_end = run_end(b, ge + 1);
        // More than 6 digits are a number of their own, not a group: they end the run.
        if next_end - (ge + 1) > MAX_GROUP {
            break;
        }
        (gs, ge) = (ge + 1, next_end);
    }

    let end = *ends.get(n - 1)?;
    // The whole run first; then without its last group, if that belongs to the next number.
    if right_ok(b, end) && lens.get(..n).is_some_and(is_grouping) {
        if let Some(pan) = checked_pan(b, s, end, syntax) {
            return Some(pan);
        }
    }
    if taken_right(b, end, sep, syntax) && lens.get(..n - 1).is_some_and(is_grouping) {
        return checked_pan(b, s, *ends.get(n - 2)?, syntax);
    }
    None
}

/// Whether the group starting at `p` (the first of a run joined by `sep`) belongs to what
/// is before it: a letter touches it, or a character other than `sep` joins it to more
/// digits (`11-28 4111`, `0.5 4111`). In a JSON body that character may be an escape
/// (`12\t4111`, `12\"4111`): a digit before it counts too.
fn taken_left(b: &[u8], p: usize, sep: u8, syntax: Syntax) -> bool {
    let Some(at) = p.checked_sub(1) else {
        return false;
    };
    match b.get(at) {
        None => false,
        Some(&c) if c == sep => false,
        Some(c) if syntax == Syntax::Text => {
            c.is_ascii_alphanumeric() || digit_at(b, at.checked_sub(1))
        }
        Some(c) if c.is_ascii_alphanumeric() && !escaped(b, at) => true,
        Some(_) => digit_at(b, at.checked_sub(1)) || digit_at(b, at.checked_sub(2)),
    }
}

/// Start of the group (1 to 6 digits) ending at `e`, if there is one there.
fn group_before(b: &[u8], e: usize) -> Option<usize> {
    let before = b.get(..e).unwrap_or_default();
    let n = before
        .iter()
        .rev()
        .take(MAX_GROUP + 1)
        .take_while(|c| c.is_ascii_digit())
        .count();
    (1..=MAX_GROUP).contains(&n).then(|| e - n)
}

/// Whether the group ending at `q` (the last of a run joined by `sep`) belongs to what
/// follows it: a letter touches it, or a character other than `sep` joins it to more digits
/// (`1111 12/27`, `1111 2025-11-28`, `1111 100.00`). In a JSON body that character may be
/// an escape (`1111\t2025`).
fn taken_right(b: &[u8], q: usize, sep: u8, syntax: Syntax) -> bool {
    match b.get(q) {
        None => false,
        Some(c) if c.is_ascii_alphanumeric() => true,
        Some(b'\\') if syntax == Syntax::JsonBody => digit_at(b, q.checked_add(2)),
        Some(&c) => c != sep && digit_at(b, q.checked_add(1)),
    }
}

/// The candidate `s..end` as a PAN, if its digits pass Luhn and fit a brand (and, in
/// text, it is not part of an IBAN).
fn checked_pan(b: &[u8], s: usize, end: usize, syntax: Syntax) -> Option<Pan> {
    let mut digits = [0u8; MAX_LEN];
    let mut n = 0;
    let candidate = b.get(s..end).unwrap_or_default();
    for (slot, c) in digits
        .iter_mut()
        .zip(candidate.iter().filter(|c| c.is_ascii_digit()))
    {
        *slot = c - b'0';
        n += 1;
    }
    let d = digits.get(..n)?;
    if brand(d).is_none() || !luhn(d) || (syntax == Syntax::Text && inside_iban(b, s, end)) {
        return None;
    }
    Some(Pan {
        start: s,
        end,
        digits: n,
        track: None,
    })
}

/// Track data: expiry YYMM plus service code make at least 7 digits after the separator.
const MIN_TRACK_TAIL: usize = 7;

/// Track 2: `PAN=YYMMSSS<discretionary>`.
fn track2_tail(b: &[u8], pan_end: usize) -> Option<(usize, usize)> {
    if b.get(pan_end) != Some(&b'=') {
        return None;
    }
    let ts = pan_end + 1;
    let te = run_end(b, ts);
    (te - ts >= MIN_TRACK_TAIL).then_some((ts, te))
}

/// Track 1: `PAN^NAME^YYMMSSS<discretionary>`, the name being 2-26 characters.
fn track1_tail(b: &[u8], pan_end: usize) -> Option<(usize, usize)> {
    let name = b.get(pan_end + 1..)?;
    let len = name.iter().take(27).position(|&c| c == b'^')?;
    let ts = pan_end + 1 + len + 1;
    let te = run_end(b, ts);
    (te - ts >= MIN_TRACK_TAIL).then_some((ts, te))
}
