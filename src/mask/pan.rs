//! Card numbers: the groupings they are printed in, and the track data that follows
//! them on a magnetic stripe.

use super::*;

pub(super) const MIN_LEN: usize = 13;
pub(super) const MAX_LEN: usize = 19;
/// The most groups a layout has (4-4-4-4-3).
pub(super) const MAX_GROUPS: usize = 5;

/// Group lengths of the ways card numbers are printed.
pub(super) fn is_layout(groups: &[usize]) -> bool {
    match *groups {
        [n] => (MIN_LEN..=MAX_LEN).contains(&n),
        // Amex 4-6-5, Diners 4-6-4, old 13-digit Visa 4-3-3-3.
        [4, 6, 5] | [4, 6, 4] | [4, 3, 3, 3] => true,
        [4, 4, 4, last] => (1..=4).contains(&last),
        [4, 4, 4, 4, last] => (1..=3).contains(&last),
        _ => false,
    }
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
/// no for [`json_body_may_mask`]) IBANs are not ruled out.
#[inline(always)]
pub(super) fn find_pan(b: &[u8], s: usize, e: usize, left: Left, syntax: Syntax) -> Option<Pan> {
    // Cheap rejections first: every brand starts with 2-6, and every layout starts with a
    // group of 4 followed by one of 3, 4 or 6, or is a single run of 13-19 digits. Most
    // digit runs in logs (years, ports, status codes) stop here.
    if !matches!(b.get(s), Some(b'2'..=b'6')) {
        return None;
    }
    let first = e - s;
    let grouped = first == 4
        && matches!(b.get(e), Some(b' ' | b'-'))
        && matches!(run_end(b, e + 1) - (e + 1), 3 | 4 | 6);
    if !grouped && !(MIN_LEN..=MAX_LEN).contains(&first) {
        return None;
    }
    gather_pan(b, s, e, left, syntax)
}

/// [`find_pan`] past its cheap rejections (kept out of line: its frame is large).
#[inline(never)]
pub(super) fn gather_pan(b: &[u8], s: usize, e: usize, left: Left, syntax: Syntax) -> Option<Pan> {
    // Gather up to MAX_GROUPS groups (at most MAX_LEN digits) joined by one separator.
    let mut lens = [0usize; MAX_GROUPS];
    let mut ends = [0usize; MAX_GROUPS];
    let (mut n_digits, mut n_groups) = (0, 0);
    let mut sep = None;
    let (mut gs, mut ge) = (s, e);
    loop {
        let len = ge - gs;
        // After a first group of 4 only 3, 4 or 6 digits make a layout ("2025-11-28" stops
        // here).
        if n_digits + len > MAX_LEN || (n_groups == 1 && !matches!(len, 3 | 4 | 6)) {
            break;
        }
        n_digits += len;
        match (lens.get_mut(n_groups), ends.get_mut(n_groups)) {
            (Some(l), Some(x)) => (*l, *x) = (len, ge),
            _ => break,
        }
        n_groups += 1;
        if n_groups == MAX_GROUPS {
            break;
        }
        // Mixed separators ("+1 415-555-0100") are not a card layout.
        let c = match b.get(ge) {
            Some(&c @ (b' ' | b'-')) if sep.is_none_or(|x| x == c) => c,
            _ => break,
        };
        if !digit_at(b, ge.checked_add(1)) {
            break;
        }
        sep = Some(c);
        gs = ge + 1;
        ge = run_end(b, gs);
    }

    // Longest first: "4111 1111 1111 1111 110" is one 19-digit PAN, not 16 plus 3.
    for k in (1..=n_groups).rev() {
        let Some(layout) = lens.get(..k) else {
            continue;
        };
        let Some(&end) = ends.get(k - 1) else {
            continue;
        };
        if !is_layout(layout) || !right_ok(b, end) {
            continue;
        }
        let mut digits = [0u8; MAX_LEN];
        let mut digits_len = 0;
        let candidate = b.get(s..end).unwrap_or_default();
        for (slot, c) in digits
            .iter_mut()
            .zip(candidate.iter().filter(|c| c.is_ascii_digit()))
        {
            *slot = c - b'0';
            digits_len += 1;
        }
        let Some(d) = digits.get(..digits_len) else {
            continue;
        };
        if brand(d).is_none() || !luhn(d) || (syntax == Syntax::Text && inside_iban(b, s, end)) {
            continue;
        }
        let track = match left {
            Left::Track1 if k == 1 && b.get(end) == Some(&b'^') => track1_tail(b, end),
            Left::Track1 => continue,
            Left::Plain if k == 1 => track2_tail(b, end),
            Left::Plain => None,
        };
        return Some(Pan {
            start: s,
            end,
            digits: digits_len,
            track,
        });
    }
    None
}

/// Track data: expiry YYMM plus service code make at least 7 digits after the separator.
pub(super) const MIN_TRACK_TAIL: usize = 7;

/// Track 2: `PAN=YYMMSSS<discretionary>`.
pub(super) fn track2_tail(b: &[u8], pan_end: usize) -> Option<(usize, usize)> {
    if b.get(pan_end) != Some(&b'=') {
        return None;
    }
    let ts = pan_end + 1;
    let te = run_end(b, ts);
    (te - ts >= MIN_TRACK_TAIL).then_some((ts, te))
}

/// Track 1: `PAN^NAME^YYMMSSS<discretionary>`, the name being 2-26 characters.
pub(super) fn track1_tail(b: &[u8], pan_end: usize) -> Option<(usize, usize)> {
    let name = b.get(pan_end + 1..)?;
    let len = name.iter().take(27).position(|&c| c == b'^')?;
    let ts = pan_end + 1 + len + 1;
    let te = run_end(b, ts);
    (te - ts >= MIN_TRACK_TAIL).then_some((ts, te))
}
