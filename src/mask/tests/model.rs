//! The reference `mask` is checked against: the PAN rules of docs/masking.md written
//! plainly, run by run, with vectors and indexing, where the masker works in one pass
//! over 64-byte windows.

use crate::mask::brand::{brand, luhn, MAX_LEN, MIN_LEN};
use crate::mask::keep::TAIL;
use crate::mask::pan::{is_grouping, MAX_GROUP};
use crate::mask::Keep;

/// The PAN rules of docs/masking.md written plainly, run by run rather than in one pass:
/// what `mask` must hide in a text without CVV keys, IBANs or track data (no `=`, `^`,
/// `>` or upper-case letters, and no letters that end a CVV key). Returns the text with
/// every PAN's hidden digits as `*` (the union where two overlap).
pub(super) fn model_mask(text: &str) -> String {
    let b = text.as_bytes();
    let runs: Vec<(usize, usize)> = {
        let mut v = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let s = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                v.push((s, i));
            } else {
                i += 1;
            }
        }
        v
    };
    let at = |i: usize| b.get(i).copied();
    let before = |i: usize| i.checked_sub(1).and_then(|j| b.get(j)).copied();
    let digit = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_digit());
    // Nothing alphanumeric touches the value, nor a decimal point with digits beyond.
    let left_free = |s: usize| match before(s) {
        None => true,
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some(b'.') => !digit(s.checked_sub(2).and_then(|j| b.get(j)).copied()),
        Some(_) => true,
    };
    let right_free = |e: usize| match at(e) {
        None => true,
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some(b'.') => !digit(at(e + 1)),
        Some(_) => true,
    };
    let valid = |s: usize, e: usize| {
        let d: Vec<u8> = b[s..e]
            .iter()
            .filter(|c| c.is_ascii_digit())
            .map(|c| c - b'0')
            .collect();
        d.len() <= MAX_LEN && brand(&d).is_some() && luhn(&d)
    };
    let mut pans: Vec<(usize, usize)> = Vec::new();
    for &(s, e) in &runs {
        if (MIN_LEN..=MAX_LEN).contains(&(e - s)) && left_free(s) && right_free(e) && valid(s, e) {
            pans.push((s, e));
        }
    }
    for sep in [b' ', b'-'] {
        // Runs of groups: groups of 1-6 digits, one `sep` between each two.
        let mut chains: Vec<Vec<(usize, usize)>> = Vec::new();
        for &(s, e) in &runs {
            if e - s > MAX_GROUP {
                chains.push(Vec::new());
                continue;
            }
            match chains.last_mut() {
                Some(c) if c.last().is_some_and(|&(_, pe)| pe + 1 == s && b[pe] == sep) => {
                    c.push((s, e))
                }
                _ => chains.push(vec![(s, e)]),
            }
        }
        for c in chains.iter().filter(|c| c.len() >= 2) {
            let (first, last) = (c[0], c[c.len() - 1]);
            // An end group taken by what is beyond it: a letter, or another character with
            // digits beyond.
            let taken_first = match before(first.0) {
                Some(x) if x.is_ascii_alphanumeric() => true,
                Some(x) => x != sep && digit(first.0.checked_sub(2).map(|j| b[j])),
                None => false,
            };
            let taken_last = match at(last.1) {
                Some(x) if x.is_ascii_alphanumeric() => true,
                Some(x) => x != sep && digit(at(last.1 + 1)),
                None => false,
            };
            let try_from = |from: usize| -> Option<(usize, usize)> {
                let g = &c[from..];
                let lens: Vec<usize> = g.iter().map(|&(s, e)| e - s).collect();
                let start = g[0].0;
                let whole = right_free(last.1) && is_grouping(&lens);
                if whole && valid(start, last.1) {
                    return Some((start, last.1));
                }
                let cut = g.len() >= 2 && taken_last && is_grouping(&lens[..lens.len() - 1]);
                let end = g[g.len().saturating_sub(2)].1;
                (cut && valid(start, end)).then_some((start, end))
            };
            if left_free(first.0) {
                pans.extend(try_from(0));
            }
            if taken_first && c.len() >= 3 {
                pans.extend(try_from(1));
            }
        }
    }
    let mut out = b.to_vec();
    for (s, e) in pans {
        let n = b[s..e].iter().filter(|c| c.is_ascii_digit()).count();
        let mut idx = 0;
        for i in s..e {
            if b[i].is_ascii_digit() {
                if idx >= Keep::First6Last4.head() && idx < n - TAIL {
                    out[i] = b'*';
                }
                idx += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}
