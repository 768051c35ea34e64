//! PCI DSS masking of card data in log messages (issue 5).
//!
//! - Req. 3.5.1: a PAN must be unreadable wherever it is stored, logs included: every card
//!   number is truncated to at most its first 6 and last 4 digits ([`Keep`]).
//! - Req. 3.3.1: card verification codes and track data are not kept after authorisation:
//!   CVV-like fields and the data after the PAN in magnetic-stripe tracks are hidden whole.
//!
//! # What counts as a PAN
//! 13-19 digits, contiguous or in the groups cards are printed in, joined throughout by one
//! single space or one single dash: 4-4-4-4 (16), 4-6-5 (15), 4-6-4 (14), 4-4-4-1 and
//! 4-3-3-3 (13), 4-4-4-2 (14), 4-4-4-3 (15), 4-4-4-4-1/-2/-3 (17/18/19).
//! - No ASCII letter or digit may touch it (`x4111…`, `…1111x` and the 17-digit
//!   `41111111111111111` stay whole); anything else is a boundary, `_` included. Nor may
//!   it be a side of a decimal number (`0.5555555555555556`, `4111111111111111.25`).
//! - A separator followed by more digits is a boundary: in `1234 4111 1111 1111 1111` the
//!   last four groups are a PAN. Every group is tried as a start; when two candidates
//!   overlap, the union of what they hide is hidden, so neither shows more than allowed.
//! - It must pass the Luhn check, and its prefix and length must fit a brand: Visa,
//!   Mastercard, Amex, JCB, Discover, Diners, UnionPay, Mir, Maestro (see `brand`). From
//!   one start, the longest valid layout wins.
//! - It must not lie inside an IBAN printed in groups of four with valid check digits
//!   (`FR76 3000 6000 0112 3456 7890 189`): one IBAN in ten would pass otherwise.
//!
//! # What counts as a security code
//! A 3-4 digit value of a key whose last words are `cvv`, `cvv2`, `cvc`, `cvc2`, `csc`,
//! `cvn`, `cvd`, `cav2`, `cvvCode`, `cvcCode`, `cvNumber`, `cardCode`, `securityCode` or
//! `cardVerificationValue`/`Code`/`Number` (case, `_` and `-` ignored: `card_cvv`,
//! `cardCVV`, `payment.cvv` and `card[cvc]` match, `cvvResult` does not), written as JSON
//! (`"cvv": "123"`, escaped `\"cvv\":\"123\"` too), `key=value`, `key: value` or
//! `<cvv>123</cvv>`. `cid` (Amex) is left out on purpose: in logs it is a correlation or
//! customer id far more often.
//!
//! # Track data
//! Track 2 (`;PAN=YYMMSSS…?`, with or without the sentinel): the 7 or more digits after `=`
//! are hidden with the PAN. Track 1 (`%BPAN^NAME^YYMMSSS…?`): the PAN right after the `B`
//! format code is a candidate despite the letter, and the digits after the second `^` are
//! hidden.
//!
//! # Cost
//! One forward pass: digit runs are found and sorted 64 bytes at a time (SSE2 on x86_64,
//! SWAR elsewhere), and only runs of 3-4 or 13+ digits reach the rules, whose work per run
//! is bounded (at most 19 digits, 5 groups, a 40-byte key or a 34-character IBAN are
//! looked at), so time is linear in the text. [`json_body_may_mask`] runs the same rules,
//! loosened, on a message still JSON-escaped, so the line writer decodes only the rare
//! message that may hold something to mask. All the syntax looked at is ASCII, so offsets are
//! char boundaries and masking (digit -> `*`) keeps the text valid UTF-8 and its length.
//! Nothing is allocated or written until the first match.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fmt;
use std::str::FromStr;

/// How much of a PAN stays readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keep {
    /// First 6 and last 4 digits: the most PCI DSS 3.4.1 allows to be displayed.
    #[default]
    First6Last4,
    /// Last 4 digits only.
    Last4,
}

impl Keep {
    /// Digits left readable at the start of a PAN.
    const fn head(self) -> usize {
        match self {
            Keep::First6Last4 => 6,
            Keep::Last4 => 0,
        }
    }
}

/// Digits left readable at the end of a PAN, in both modes.
const TAIL: usize = 4;

impl fmt::Display for Keep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Keep::First6Last4 => "first6last4",
            Keep::Last4 => "last4",
        })
    }
}

/// The text given for a [`Keep`] was neither `first6last4` nor `last4`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseKeepError(String);

impl fmt::Display for ParseKeepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid PAN mask mode {:?}: expected \"first6last4\" or \"last4\"",
            self.0
        )
    }
}

impl std::error::Error for ParseKeepError {}

impl FromStr for Keep {
    type Err = ParseKeepError;

    /// Accepts `first6last4` and `last4`, ignoring ASCII case and surrounding whitespace
    /// (values come from environment variables).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("first6last4") {
            Ok(Keep::First6Last4)
        } else if t.eq_ignore_ascii_case("last4") {
            Ok(Keep::Last4)
        } else {
            Err(ParseKeepError(s.to_owned()))
        }
    }
}

/// Masks every PAN (and CVV-looking field) in `text`. Returns `None` when nothing was
/// found (no allocation; `scratch` is left empty); otherwise clears `scratch`, writes the masked
/// text into it and returns the number of values masked.
///
/// The count adds up PANs (a PAN with its track data counts once) and security codes.
/// The masked text has the same length as `text`: each hidden digit becomes `*`.
pub fn mask(text: &str, keep: Keep, scratch: &mut String) -> Option<usize> {
    let mut bytes = std::mem::take(scratch).into_bytes();
    let found = mask_bytes(text.as_bytes(), keep, &mut bytes);
    if found.is_none() {
        // Untouched: give the buffer back empty rather than check it again.
        bytes.clear();
    }
    // Only ASCII digits of valid UTF-8 became `*`, so this never fails; if it did, the
    // lossy copy would still hide every digit that was hidden.
    *scratch = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    found
}

/// [`mask`] on bytes: what the line writer uses for message bytes it copies as they are
/// (a JSON string body without escapes is its own text). Bytes other than the hidden
/// ASCII digits are copied unchanged.
pub fn mask_bytes(text: &[u8], keep: Keep, scratch: &mut Vec<u8>) -> Option<usize> {
    let mut out = Writer {
        text,
        out: scratch,
        started: false,
        copied: 0,
        count: 0,
    };
    // End of the last PAN found.
    let mut pan_end = 0;
    let mut runs = Candidates::new(text);
    while let Some((s, e)) = runs.next() {
        let b = text;
        let len = e - s;
        let Some(left) = left_context(b, s) else {
            continue;
        };
        if let Some(pan) = find_pan(b, s, e, left, Syntax::Text) {
            // One nested in the previous PAN hides nothing more: it is part of that number.
            if pan.end <= pan_end {
                continue;
            }
            pan_end = pan.end;
            let hide_to = pan.digits.saturating_sub(TAIL);
            out.mask(pan.start, pan.end, keep.head(), hide_to);
            if let Some((ts, te)) = pan.track {
                out.mask(ts, te, 0, usize::MAX);
                runs.skip_to(te);
            }
            out.count += 1;
        } else if left == Left::Plain
            && (3..=4).contains(&len)
            && right_ok(b, e)
            && is_cvv_value(b, s, Syntax::Text)
        {
            out.mask(s, e, 0, usize::MAX);
            out.count += 1;
        }
    }
    out.finish()
}

/// Whether [`mask`] may find something in the decoded value of a JSON string body `raw`
/// (the bytes between the quotes, escapes as written) that has no `\u` escape. `false`
/// means it finds nothing, and the line writer copies the body without decoding it;
/// `true` means decode and mask (a false alarm costs only that).
///
/// A body without `\u` escapes holds the same digits, in the same runs, as its value, and
/// each escape (`\"`, `\\`, `\/`, `\n`, `\t`, …) stands for a character that is never a
/// letter or digit. The rules of [`mask`] are applied with that in mind, each loosened so
/// that it can only say yes more often: a letter after a backslash counts as a boundary,
/// the gaps around a security code's key may be twice as long (escapes take two bytes),
/// and IBANs are not ruled out. `\u` escapes could spell digits, letters or separators,
/// so bodies with them must be decoded (the caller knows: it checked every escape).
pub fn json_body_may_mask(raw: &[u8]) -> bool {
    let b = raw;
    let mut runs = Candidates::new(b);
    while let Some((s, e)) = runs.next() {
        if !loose_left_ok(b, s) {
            continue;
        }
        if find_pan(b, s, e, Left::Plain, Syntax::JsonBody).is_some()
            || ((3..=4).contains(&(e - s))
                && right_ok(b, e)
                && is_cvv_value(b, s, Syntax::JsonBody))
        {
            return true;
        }
    }
    false
}

/// What [`mask`] reads: text, or a JSON string body as written (see
/// [`json_body_may_mask`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Text,
    JsonBody,
}

/// Copies `text` into `out` lazily: only once something is masked.
struct Writer<'a> {
    text: &'a [u8],
    out: &'a mut Vec<u8>,
    /// Whether `out` has been cleared and holds `text[..copied]`.
    started: bool,
    /// Bytes of `text` already written.
    copied: usize,
    count: usize,
}

impl Writer<'_> {
    /// Writes `text[copied..start]` unchanged, then `text[start..end]` with the digits whose
    /// index (among the digits of the range) is in `hide_from..hide_to` replaced by `*`.
    fn mask(&mut self, start: usize, end: usize, hide_from: usize, hide_to: usize) {
        if !self.started {
            self.started = true;
            self.out.clear();
            self.out.reserve(self.text.len());
        }
        // This range may overlap the previous one (another start in the same run of digit
        // groups): take that part of the output back and hide the union of both.
        let mut prev = Vec::new();
        let written = self.copied;
        if start < written {
            // `out` mirrors `text[..copied]` byte for byte (only digits became `*`).
            let at = self.out.len().saturating_sub(written - start);
            prev = self.out.split_off(at);
            self.copied = start;
        } else {
            self.push_unchanged(start);
        }
        let mut idx = 0;
        for (pos, &c) in (start..).zip(self.text.get(start..end).unwrap_or_default()) {
            let mut hide = false;
            if c.is_ascii_digit() {
                hide = (hide_from..hide_to).contains(&idx);
                idx += 1;
            }
            let hidden_before = pos.checked_sub(start).and_then(|o| prev.get(o)) == Some(&b'*');
            self.out.push(if hide || hidden_before { b'*' } else { c });
        }
        // The previous range may reach past this one.
        if let Some(rest) = end.checked_sub(start).and_then(|o| prev.get(o..)) {
            self.out.extend_from_slice(rest);
        }
        self.copied = end.max(written);
    }

    fn push_unchanged(&mut self, upto: usize) {
        self.out
            .extend_from_slice(self.text.get(self.copied..upto).unwrap_or_default());
        self.copied = upto;
    }

    fn finish(mut self) -> Option<usize> {
        if !self.started {
            return None;
        }
        self.push_unchanged(self.text.len());
        Some(self.count)
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The digit runs that can start a PAN or be a security code, in order, as
/// `(start, end)`: 3-4 digits (a code, or a PAN's first group of 4), or 13 and more
/// starting with 2-6 (a PAN printed without separators). Everything else in logs —
/// times, IP octets, ids, the bits of UUIDs — is passed over with bit operations.
///
/// The text is read in 64-byte windows that advance by [`STEP`]: a run starting in the
/// first 52 bytes is classified with the 12 after it in the same word (13 digits decide).
struct Candidates<'a> {
    b: &'a [u8],
    /// Offset of the window; `None` before the first.
    base: Option<usize>,
    /// Whether `b[base + STEP - 1]`, the byte before the next window, is a digit.
    carry_out: bool,
    /// Bit k: a candidate run starts at `base + k` and has not been returned yet.
    pending: u64,
    /// Bit k: 4 or more digits from `base + k` on.
    four: u64,
    /// Bit k: 13 or more digits from `base + k` on.
    long: u64,
    /// A start inside a run, after [`Candidates::skip_to`].
    forced: Option<usize>,
}

/// How far the window moves: 64 bits minus the 12 that a 13-digit run needs past its start.
const STEP: usize = 52;

impl<'a> Candidates<'a> {
    fn new(b: &'a [u8]) -> Self {
        Candidates {
            b,
            base: None,
            carry_out: false,
            pending: 0,
            four: 0,
            long: 0,
            forced: None,
        }
    }

    /// Goes on from `at` (past track data): a digit there counts as a run's start.
    fn skip_to(&mut self, at: usize) {
        let carry = digit_at(self.b, at.checked_sub(1));
        self.load(at, carry);
        if carry && digit_at(self.b, Some(at)) {
            self.forced = Some(at);
        }
    }

    #[inline(always)]
    fn next(&mut self) -> Option<(usize, usize)> {
        if let Some(s) = self.forced.take() {
            let e = run_end(self.b, s);
            if matches!(e - s, 3 | 4) || self.is_long_start(s, e) {
                return Some((s, e));
            }
        }
        loop {
            if self.pending != 0 {
                let k = self.pending.trailing_zeros();
                self.pending &= self.pending - 1;
                let base = self.base.unwrap_or_default();
                let s = base + k as usize;
                if self.long >> k & 1 == 0 {
                    return Some((s, s + 3 + (self.four >> k & 1) as usize));
                }
                let e = run_end(self.b, s);
                if self.is_long_start(s, e) {
                    return Some((s, e));
                }
                continue;
            }
            let next = self.base.map_or(0, |b| b + STEP);
            if next >= self.b.len() {
                return None;
            }
            self.load(next, self.carry_out);
        }
    }

    fn is_long_start(&self, s: usize, e: usize) -> bool {
        e - s >= MIN_LEN && matches!(self.b.get(s), Some(b'2'..=b'6'))
    }

    /// Reads the window at `base`; `carry`: whether `b[base - 1]` is a digit.
    #[inline]
    fn load(&mut self, base: usize, carry: bool) {
        let d = bits_at(self.b, base);
        let starts = d & !((d << 1) | u64::from(carry));
        // Bit k of `at_least_n`: n digits from k on (exact for k < STEP).
        let at_least2 = d & (d >> 1);
        let at_least3 = at_least2 & (d >> 2);
        let at_least4 = at_least2 & (at_least2 >> 2);
        let at_least5 = at_least4 & (d >> 4);
        let at_least8 = at_least4 & (at_least4 >> 4);
        let at_least13 = at_least8 & (at_least4 >> 8) & (d >> 12);
        let first_step = (1u64 << STEP) - 1;
        self.pending = ((at_least3 & !at_least5) | at_least13) & starts & first_step;
        self.carry_out = d >> (STEP - 1) & 1 == 1;
        self.four = at_least4;
        self.long = at_least13;
        self.base = Some(base);
    }
}

/// [`digit_bits`] of the 64 bytes from `at`, past the end padded with bytes that are not
/// digits.
fn bits_at(b: &[u8], at: usize) -> u64 {
    let rest = b.get(at..).unwrap_or_default();
    match rest.get(..64).map(<&[u8; 64]>::try_from) {
        Some(Ok(block)) => digit_bits(block),
        _ if rest.is_empty() => 0,
        _ => {
            let mut block = [0u8; 64];
            if let Some(head) = block.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            digit_bits(&block)
        }
    }
}

/// One bit per ASCII digit of a 64-byte block (SSE2, which every x86_64 has).
#[cfg(target_arch = "x86_64")]
#[inline]
fn digit_bits(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut bits = 0u64;
    for (n, chunk) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is in the x86_64 baseline, and `chunk` has 16 readable bytes
        // (`chunks_exact`); the load is unaligned.
        let m = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            // '0'..='9' land on -128..=-119, the only bytes below -118 as signed.
            let shifted = _mm_add_epi8(v, _mm_set1_epi8(0x50));
            _mm_movemask_epi8(_mm_cmplt_epi8(shifted, _mm_set1_epi8(-118)))
        };
        bits |= u64::from(m as u16) << (16 * n);
    }
    bits
}

/// One bit per ASCII digit of a 64-byte block, portably: arm64 (Graviton, where the
/// Lambda runs) and everything but x86_64.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn digit_bits(block: &[u8; 64]) -> u64 {
    digit_bits_swar(block)
}

/// [`digit_bits`] eight bytes at a time, exact at every position.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
fn digit_bits_swar(block: &[u8; 64]) -> u64 {
    let mut bits = 0u64;
    for (n, chunk) in block.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // Digits map to 0..=9. A byte is one when neither its own high bit nor that of
        // its low seven bits plus 118 is set; no sum carries into the next byte.
        let x = u64::from_le_bytes(word) ^ (ONES * u64::from(b'0'));
        let y = (x & !HIGHS) + ONES * 118;
        let flags = !(x | y) & HIGHS;
        // Gather the eight flags (bits 7, 15, … 63) into one byte, byte i to bit i.
        let byte = (flags >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        bits |= byte << (8 * n);
    }
    bits
}

/// End of the run of ASCII digits starting at `s`.
fn run_end(b: &[u8], s: usize) -> usize {
    let Some(rest) = b.get(s..) else {
        return s;
    };
    let mut skipped = 0;
    for chunk in rest.chunks_exact(8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        // Digits map to 0..=9; adding 118 sets the high bit of exactly the bytes above 9
        // (bytes >= 128 are flagged by the OR). Carries only run upwards, so the lowest
        // flag is exact.
        let x = u64::from_le_bytes(word) ^ (ONES * u64::from(b'0'));
        let found = (x.wrapping_add(ONES * 118) | x) & HIGHS;
        if found != 0 {
            return s + skipped + (found.trailing_zeros() / 8) as usize;
        }
        skipped += 8;
    }
    s + skipped
        + rest
            .get(skipped..)
            .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
}

fn digit_at(b: &[u8], i: Option<usize>) -> bool {
    i.and_then(|i| b.get(i)).is_some_and(u8::is_ascii_digit)
}

/// What precedes a digit run that may start a PAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    /// Start of text or a non-alphanumeric byte.
    Plain,
    /// A lone `B` (track 1 format code, `%B…`): a PAN here must be followed by `^`.
    Track1,
}

/// [`left_context`] loosened for a JSON body: a letter right after a backslash is an
/// escape (`\t4111…` is a tab, then digits), and a `B` may be track 1's.
fn loose_left_ok(b: &[u8], s: usize) -> bool {
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
fn escaped(b: &[u8], i: usize) -> bool {
    let before = b.get(..i).unwrap_or_default();
    before.iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// `None` when the run at `s` is glued to a word or is the fraction of a decimal number.
fn left_context(b: &[u8], s: usize) -> Option<Left> {
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
fn right_ok(b: &[u8], e: usize) -> bool {
    match b.get(e) {
        None => true,
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some(b'.') => !digit_at(b, e.checked_add(1)),
        Some(_) => true,
    }
}

const MIN_LEN: usize = 13;
const MAX_LEN: usize = 19;
/// The most groups a layout has (4-4-4-4-3).
const MAX_GROUPS: usize = 5;

/// Group lengths of the ways card numbers are printed.
fn is_layout(groups: &[usize]) -> bool {
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
struct Pan {
    start: usize,
    end: usize,
    digits: usize,
    /// Track data after the PAN, all of it to be hidden.
    track: Option<(usize, usize)>,
}

/// The PAN starting at the digit run `s..e`, if there is one. In a JSON body (a yes or
/// no for [`json_body_may_mask`]) IBANs are not ruled out.
#[inline(always)]
fn find_pan(b: &[u8], s: usize, e: usize, left: Left, syntax: Syntax) -> Option<Pan> {
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
fn gather_pan(b: &[u8], s: usize, e: usize, left: Left, syntax: Syntax) -> Option<Pan> {
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

/// Whether `s..end` lies inside an IBAN printed in groups of four with valid check digits
/// ("FR76 3000 6000 0112 3456 7890 189"): a tenth of IBANs would pass for a PAN otherwise.
fn inside_iban(b: &[u8], s: usize, end: usize) -> bool {
    // Back over whole groups ("XXXX "), trying each as the IBAN's first.
    let mut head = s;
    loop {
        let Some(g) = head.checked_sub(5) else {
            return false;
        };
        match b.get(g..head) {
            Some([group @ .., b' ']) if group.iter().all(is_iban_char) => head = g,
            _ => return false,
        }
        if s - head > IBAN_MAX {
            return false;
        }
        if is_iban_at(b, head, end) {
            return true;
        }
    }
}

fn is_iban_char(c: &u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// An IBAN starts at `head` and reaches at least `end`: country code, check digits, then
/// groups of 4 (the last 1-4) up to 34 characters, and the ISO 13616 check passes.
fn is_iban_at(b: &[u8], head: usize, end: usize) -> bool {
    let at_word_start = head
        .checked_sub(1)
        .and_then(|p| b.get(p))
        .is_none_or(|c| !c.is_ascii_alphanumeric());
    let country_and_check = matches!(
        b.get(head..head + 4),
        Some([c0, c1, d0, d1])
            if c0.is_ascii_uppercase() && c1.is_ascii_uppercase()
                && d0.is_ascii_digit() && d1.is_ascii_digit()
    );
    if !at_word_start || !country_and_check {
        return false;
    }
    let mut iban = [0u8; IBAN_MAX];
    let (mut n, mut in_group, mut p) = (0, 0, head);
    while let Some(&c) = b.get(p) {
        if is_iban_char(&c) {
            let Some(slot) = iban.get_mut(n) else {
                return false;
            };
            *slot = c;
            n += 1;
            in_group += 1;
            if in_group > 4 {
                return false;
            }
        } else if c == b' ' && in_group == 4 && b.get(p + 1).is_some_and(is_iban_char) {
            in_group = 0;
        } else {
            break;
        }
        p += 1;
    }
    if n < IBAN_MIN || p < end || b.get(p).is_some_and(u8::is_ascii_alphanumeric) {
        return false;
    }
    // Move the first four characters to the end, letters count 10-35: mod 97 must be 1.
    let Some(iban) = iban.get(..n) else {
        return false;
    };
    let rem = iban
        .iter()
        .skip(4)
        .chain(iban.iter().take(4))
        .fold(0u32, |acc, &c| {
            if c.is_ascii_digit() {
                (acc * 10 + u32::from(c - b'0')) % 97
            } else {
                (acc * 100 + u32::from(c - b'A') + 10) % 97
            }
        });
    rem == 1
}

/// Shortest IBAN (Norway).
const IBAN_MIN: usize = 15;
/// Longest IBAN, in characters without spaces.
const IBAN_MAX: usize = 34;

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

/// Card brands whose issuer ranges are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Brand {
    Visa,
    Mastercard,
    Amex,
    Jcb,
    Discover,
    Diners,
    UnionPay,
    Mir,
    Maestro,
}

/// The brand whose issuer range and length rules `d` (13-19 digits) fits.
fn brand(d: &[u8]) -> Option<Brand> {
    let n = d.len();
    let p6 = d
        .iter()
        .take(6)
        .fold(0u32, |acc, &x| acc * 10 + u32::from(x));
    let (p1, p2, p3, p4) = (p6 / 100_000, p6 / 10_000, p6 / 1_000, p6 / 100);
    let any_16_19 = (16..=19).contains(&n);
    if p1 == 4 && matches!(n, 13 | 16 | 19) {
        Some(Brand::Visa)
    } else if n == 16 && ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) {
        Some(Brand::Mastercard)
    } else if n == 15 && (p2 == 34 || p2 == 37) {
        Some(Brand::Amex)
    } else if any_16_19 && (3528..=3589).contains(&p4) {
        Some(Brand::Jcb)
    } else if any_16_19
        && (p4 == 6011
            || (644..=649).contains(&p3)
            || p2 == 65
            || (622_126..=622_925).contains(&p6))
    {
        Some(Brand::Discover)
    } else if (14..=19).contains(&n)
        && ((300..=305).contains(&p3) || p4 == 3095 || matches!(p2, 36 | 38 | 39))
    {
        Some(Brand::Diners)
    } else if any_16_19 && p2 == 62 {
        Some(Brand::UnionPay)
    } else if any_16_19 && (2200..=2204).contains(&p4) {
        Some(Brand::Mir)
    } else if (MIN_LEN..=MAX_LEN).contains(&n) && (p2 == 50 || (56..=69).contains(&p2)) {
        // Maestro is 12-19 digits; 12 is below what we scan for (too many look-alikes).
        Some(Brand::Maestro)
    } else {
        None
    }
}

/// The Luhn (mod 10) check over digit values 0-9.
fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

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
/// In a JSON body (a yes or no for [`json_body_may_mask`]) every gap may be twice as
/// long, a tab is also `\t`, and a letter glued to the key after a backslash is an escape.
#[inline(always)]
fn is_cvv_value(b: &[u8], s: usize, syntax: Syntax) -> bool {
    // Most 3-4 digit runs in logs follow a `-`, `/`, `,` or nothing: no field to read.
    match s.checked_sub(1).and_then(|p| b.get(p)) {
        Some(&c) if is_quote(c) || is_space(c, syntax) || matches!(c, b':' | b'=' | b'>') => {
            cvv_field_before(b, s, syntax)
        }
        _ => false,
    }
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
        Some(&c @ (b':' | b'=' | b'>')) => c,
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
fn skip_back(b: &[u8], mut p: usize, max: usize, pred: impl Fn(u8) -> bool) -> usize {
    for _ in 0..max {
        match p.checked_sub(1).and_then(|i| b.get(i)) {
            Some(&c) if pred(c) => p -= 1,
            _ => break,
        }
    }
    p
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
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stdout
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The masked text (or the text itself when nothing was found) and the count.
    fn run(text: &str, keep: Keep) -> (String, usize) {
        let mut scratch = String::from("stale");
        match mask(text, keep, &mut scratch) {
            Some(n) => {
                assert_eq!(scratch.len(), text.len(), "length kept: {text:?}");
                (scratch, n)
            }
            None => {
                assert_eq!(scratch, "stale", "nothing written when nothing found");
                (text.to_owned(), 0)
            }
        }
    }

    fn m(text: &str) -> String {
        run(text, Keep::First6Last4).0
    }

    fn untouched(text: &str) {
        let mut scratch = String::new();
        assert_eq!(
            mask(text, Keep::First6Last4, &mut scratch),
            None,
            "masked {text:?} -> {scratch:?}"
        );
        assert_eq!(mask(text, Keep::Last4, &mut scratch), None);
    }

    /// The digits of `pan` laid out in `groups` joined by `sep`.
    fn layout(pan: &str, groups: &[usize], sep: char) -> String {
        let mut out = String::new();
        let mut digits = pan.chars();
        for (i, &g) in groups.iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            out.extend(digits.by_ref().take(g));
        }
        assert!(
            digits.next().is_none(),
            "layout {groups:?} shorter than {pan}"
        );
        out
    }

    /// What `formatted` (a PAN in some layout) must become.
    fn expected(formatted: &str, keep: Keep) -> String {
        let n = formatted.bytes().filter(u8::is_ascii_digit).count();
        let mut idx = 0;
        formatted
            .chars()
            .map(|c| {
                if !c.is_ascii_digit() {
                    return c;
                }
                idx += 1;
                if idx > keep.head() && idx <= n - TAIL {
                    '*'
                } else {
                    c
                }
            })
            .collect()
    }

    /// The layouts a card of `n` digits is printed in (contiguous first).
    fn layouts(n: usize) -> Vec<Vec<usize>> {
        let mut v = vec![vec![n]];
        match n {
            13 => v.extend([vec![4, 4, 4, 1], vec![4, 3, 3, 3]]),
            14 => v.extend([vec![4, 6, 4], vec![4, 4, 4, 2]]),
            15 => v.extend([vec![4, 6, 5], vec![4, 4, 4, 3]]),
            16 => v.push(vec![4, 4, 4, 4]),
            17..=19 => v.push(vec![4, 4, 4, 4, n - 16]),
            _ => {}
        }
        v
    }

    fn digits_of(s: &str) -> Vec<u8> {
        s.bytes().map(|c| c - b'0').collect()
    }

    /// Published test numbers (and Luhn-completed 19-digit ones).
    const CARDS: &[(&str, Brand)] = &[
        ("4111111111111111", Brand::Visa),
        ("4012888888881881", Brand::Visa),
        ("4222222222222", Brand::Visa),
        ("4111111111111111110", Brand::Visa),
        ("5555555555554444", Brand::Mastercard),
        ("5105105105105100", Brand::Mastercard),
        ("2223003122003222", Brand::Mastercard),
        ("2720992593319364", Brand::Mastercard),
        ("378282246310005", Brand::Amex),
        ("371449635398431", Brand::Amex),
        ("6011111111111117", Brand::Discover),
        ("6011000990139424", Brand::Discover),
        ("6011000000000000001", Brand::Discover),
        ("30569309025904", Brand::Diners),
        ("38520000023237", Brand::Diners),
        ("3530111333300000", Brand::Jcb),
        ("3566002020360505", Brand::Jcb),
        ("3530111333300000001", Brand::Jcb),
        ("6200000000000005", Brand::UnionPay),
        ("6212345678901265", Brand::UnionPay),
        ("6200000000000000000", Brand::UnionPay),
        ("2200000000000004", Brand::Mir),
        ("6759649826438453", Brand::Maestro),
        ("6759649826438453003", Brand::Maestro),
    ];

    #[test]
    fn test_cards_are_valid_and_branded() {
        for &(pan, b) in CARDS {
            let d = digits_of(pan);
            assert!(luhn(&d), "{pan} fails Luhn");
            assert_eq!(brand(&d), Some(b), "{pan}");
        }
    }

    #[test]
    fn brand_rules() {
        let b = |s: &str| brand(&digits_of(s));
        // Visa only at 13, 16 and 19 digits.
        assert_eq!(b("41111111111111"), None);
        assert_eq!(b("411111111111111"), None);
        // Amex only at 15, Mastercard only at 16.
        assert_eq!(b("3782822463100050"), None);
        assert_eq!(b("51051051051051000"), None);
        // Edges of ranges.
        assert_eq!(b("2220990000000000"), None);
        assert_eq!(b("2221000000000000"), Some(Brand::Mastercard));
        assert_eq!(b("2720990000000000"), Some(Brand::Mastercard));
        assert_eq!(b("2721000000000000"), None);
        assert_eq!(b("3527000000000000"), None);
        assert_eq!(b("3590000000000000"), None);
        assert_eq!(b("30600000000000"), None);
        assert_eq!(b("30950000000000"), Some(Brand::Diners));
        assert_eq!(b("2205000000000000"), None);
        assert_eq!(b("5000000000000"), Some(Brand::Maestro));
        // No brand starts with 0, 1, 7, 8 or 9.
        for first in ["0", "1", "7", "8", "9"] {
            for n in MIN_LEN..=MAX_LEN {
                assert_eq!(b(&format!("{first}{}", "0".repeat(n - 1))), None);
            }
        }
    }

    #[test]
    fn luhn_known_values() {
        assert!(luhn(&digits_of("79927398713")));
        assert!(!luhn(&digits_of("79927398710")));
        assert!(!luhn(&digits_of("4111111111111112")));
    }

    #[test]
    fn the_examples_of_the_issue() {
        assert_eq!(m("4111 1111 1111 1111"), "4111 11** **** 1111");
        assert_eq!(m("4111111111111111"), "411111******1111");
        assert_eq!(
            run("4111 1111 1111 1111", Keep::Last4).0,
            "**** **** **** 1111"
        );
        assert_eq!(run("4111111111111111", Keep::Last4).0, "************1111");
        assert_eq!(
            m(r#"{"card":"4111 1111 1111 1111"}"#),
            r#"{"card":"4111 11** **** 1111"}"#
        );
    }

    #[test]
    fn every_test_card_in_every_layout_and_context() {
        let contexts = [
            "{}",
            "{} at the start",
            "at the end {}",
            "paid with {} today",
            r#"{"card":"{}","ok":true}"#,
            r#"{\"card\":\"{}\"}"#,
            "card={}&exp=12/27",
            "pan: {}\n",
            "(card {})",
            "<pan>{}</pan>",
            "café {} €",
            "123 {} 45678",
            "ref 2025-11-28 {}, thanks.",
        ];
        for &(pan, _) in CARDS {
            for groups in layouts(pan.len()) {
                for sep in [' ', '-'] {
                    let f = layout(pan, &groups, sep);
                    for keep in [Keep::First6Last4, Keep::Last4] {
                        for ctx in contexts {
                            let text = ctx.replace("{}", &f);
                            let want = ctx.replace("{}", &expected(&f, keep));
                            let (got, n) = run(&text, keep);
                            assert_eq!(got, want, "{text:?} ({keep})");
                            assert_eq!(n, 1, "{text:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn several_in_one_message() {
        let (got, n) = run(
            "a=4111111111111111 b=5555 5555 5555 4444 c=378282246310005",
            Keep::First6Last4,
        );
        assert_eq!(
            got,
            "a=411111******1111 b=5555 55** **** 4444 c=378282*****0005"
        );
        assert_eq!(n, 3);
    }

    #[test]
    fn glued_to_letters_or_digits_is_not_a_candidate() {
        for &(pan, _) in CARDS {
            for text in [
                format!("x{pan}"),
                format!("{pan}x"),
                format!("id{pan}z"),
                format!("0x{pan}"),
                format!("Bearer{pan}"),
            ] {
                untouched(&text);
            }
            // Glued to a digit, the whole run is the number: masked only if it is valid.
            for text in [format!("9{pan}"), format!("{pan}0"), format!("12{pan}")] {
                let d = digits_of(&text);
                if d.len() <= MAX_LEN && brand(&d).is_some() && luhn(&d) {
                    assert_eq!(m(&text), expected(&text, Keep::First6Last4));
                } else {
                    untouched(&text);
                }
            }
            // A letter or digit glued to a printed group spoils the layout.
            let f = layout(pan, layouts(pan.len()).last().unwrap(), ' ');
            untouched(&format!("x{f}"));
            untouched(&format!("0{f}"));
            if pan.len() <= 16 {
                untouched(&format!("{f}x"));
                untouched(&format!("{f}0"));
            }
        }
        // Past 16 digits the glued last group goes, but the 4-4-4-4 before it is still a
        // separated candidate (and masked if valid).
        assert_eq!(m("4111 1111 1111 1111 110x"), "4111 11** **** 1111 110x");
        // 17 digits: not a Visa length, and no 16-digit part of it is taken.
        untouched("41111111111111111");
        untouched("x4111111111111111");
        untouched("41111111111111110000");
    }

    #[test]
    fn decimals_are_not_candidates() {
        untouched("ratio=0.5555555555554444");
        untouched("4111111111111111.25");
        untouched("v1.4111111111111111");
        // A full stop ends a sentence, it does not start a fraction.
        assert_eq!(m("card 4111111111111111."), "card 411111******1111.");
        assert_eq!(m("card .4111111111111111"), "card .411111******1111");
    }

    #[test]
    fn separators_must_be_single_and_consistent() {
        untouched("4111  1111  1111  1111");
        untouched("4111--1111--1111--1111");
        untouched("4111 1111-1111 1111");
        untouched("4111.1111.1111.1111");
        untouched("4111\t1111\t1111\t1111");
        untouched("411 1111 1111 11111");
        untouched("41111 111 1111 1111");
    }

    #[test]
    fn separated_neighbours_do_not_hide_a_pan() {
        assert_eq!(m("1234 4111 1111 1111 1111"), "1234 4111 11** **** 1111");
        assert_eq!(m("4111 1111 1111 1111 2027"), "4111 11** **** 1111 2027");
        assert_eq!(m("4111111111111111-01"), "411111******1111-01");
        // Both "6011 4111 1111 1111" and "4111 1111 1111 1111" are valid: the union of
        // what they hide is hidden, so neither shows more than its first 6 and last 4.
        let both = "6011 4111 1111 1111 1111";
        assert!(luhn(&digits_of("6011411111111111")));
        assert_eq!(m(both), "6011 41** **** **** 1111");
        assert_eq!(run(both, Keep::Last4).0, "**** **** **** **** 1111");
        assert_eq!(run(both, Keep::Last4).1, 2);
    }

    #[test]
    fn longest_valid_layout_wins() {
        // 4-4-4-4-3: the 19 digits are a valid Visa, as are the first 16.
        let f = "4111 1111 1111 1111 110";
        assert_eq!(m(f), "4111 11** **** ***1 110");
        // The 19 digits fail Luhn: the first 16 are the PAN.
        assert_eq!(m("4111 1111 1111 1111 111"), "4111 11** **** 1111 111");
    }

    #[test]
    fn security_codes() {
        let cases = [
            (r#"{"cvv":"123"}"#, r#"{"cvv":"***"}"#),
            (r#"{"cvv2": "1234"}"#, r#"{"cvv2": "****"}"#),
            (r#"{"CVC" : 123, "x":1}"#, r#"{"CVC" : ***, "x":1}"#),
            ("cvv=123&cvc2=4567", "cvv=***&cvc2=****"),
            ("CVV: 123", "CVV: ***"),
            ("card_cvv=042", "card_cvv=***"),
            ("cardCVV=042", "cardCVV=***"),
            ("payment.cvc=042", "payment.cvc=***"),
            ("card[cvc]=042", "card[cvc]=***"),
            (r#"securityCode="9876""#, r#"securityCode="****""#),
            ("card-security-code: 987", "card-security-code: ***"),
            ("cardVerificationValue=321", "cardVerificationValue=***"),
            ("cardCode=321", "cardCode=***"),
            ("csc='321'", "csc='***'"),
            ("<cvv>123</cvv>", "<cvv>***</cvv>"),
            (r#"{\"cvv\":\"123\"}"#, r#"{\"cvv\":\"***\"}"#),
        ];
        for (text, want) in cases {
            let (got, n) = run(text, Keep::First6Last4);
            assert_eq!(got, want, "{text:?}");
            assert!(n >= 1);
        }
        let (got, n) = run(
            r#"{"card":"4111111111111111","cvv":"123","exp":"12/27"}"#,
            Keep::First6Last4,
        );
        assert_eq!(
            got,
            r#"{"card":"411111******1111","cvv":"***","exp":"12/27"}"#
        );
        assert_eq!(n, 2);
    }

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

    #[test]
    fn not_security_codes() {
        for text in [
            r#"{"cvv":"12345"}"#,
            r#"{"cvv":"12"}"#,
            r#"{"cvv":"12a"}"#,
            r#"{"cvv":"1.23"}"#,
            r#"{"cvvResult":"123"}"#,
            r#"{"cid":"1234"}"#,
            r#"{"xcvv":"123"}"#,
            r#"{"status":200,"port":8080,"code":"1234"}"#,
            "cvv 123",
            "the cvv was 123",
            "cvv=abc123",
            "<p>123</p>",
            "cvv>123",
        ] {
            untouched(text);
        }
    }

    #[test]
    fn track_data() {
        assert_eq!(
            m(";4111111111111111=25121010000000000000?"),
            ";411111******1111=********************?"
        );
        assert_eq!(
            m("%B4111111111111111^DOE/JOHN^2512101000000000000000000?"),
            "%B411111******1111^DOE/JOHN^*************************?"
        );
        // A `B` glued to other letters is a word, and without `^` it is not track 1.
        untouched("AB4111111111111111^X^2512101");
        untouched("B4111111111111111");
        // "key=PAN" on its own is not track 2: the PAN only.
        assert_eq!(m("4111111111111111=12"), "411111******1111=12");
    }

    #[test]
    fn look_alikes_survive() {
        for text in [
            "ts=1764300000123",
            "ts=1764300000123456",
            "ts=1764300000123456789",
            "order 100023456789012 shipped",
            "user_id=9876543210987654",
            "request 3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "uuid 12345678-1234-5678-1234-567812345678",
            "from 192.168.100.200:8080 to 10.0.0.1",
            "call +1 415-555-0100 or (415) 555-0100 or +44 20 7946 0958",
            "+14155550100",
            "total 1,234.56 USD, 12,345,678.90 EUR, 1234567890123.45",
            "sha 4a7d1ed414474e4033ac29ccb8653d9b 5e884898da28047151d0e56f8dc62927",
            "abc4111111111111111def",
            "2025-11-28T16:38:00.123456789Z",
            "version 4.1.11111.1111111111",
            "eventId 36543254532412345678901234567890123456789012345678901234",
            "isbn 978-3-16-148410-0 ssn 123-45-6789",
            "",
            "no digits at all, ünïcödé ✓",
        ] {
            untouched(text);
        }
    }

    #[test]
    fn ibans_are_not_pans() {
        // Valid IBANs whose digit groups are also a valid Visa 19 / Maestro 14.
        assert!(luhn(&digits_of("4503587684458823482")));
        assert!(luhn(&digits_of("65018614427031")));
        untouched("iban FR04 0662 4503 5876 8445 8823 482 ok");
        untouched("{\"iban\":\"GB41 NWBK 6501 8614 4270 31\"}");
        untouched("GB29 NWBK 6016 1331 9268 19");
        // Wrong check digits: not an IBAN, so the card number in it is masked.
        assert_eq!(
            m("FR05 0662 4503 5876 8445 8823 482"),
            "FR05 0662 4503 58** **** ***3 482"
        );
        assert_eq!(m("AB12 4111 1111 1111 1111"), "AB12 4111 11** **** 1111");
    }

    #[test]
    fn overlapping_candidates_everywhere() {
        // 4242 4242 4242 4242 is valid, so every group starts an overlapping candidate.
        let text = "4242 ".repeat(20);
        let (got, n) = run(text.trim_end(), Keep::First6Last4);
        assert_eq!(n, 17);
        assert_eq!(&got[..9], "4242 42**");
        assert_eq!(&got[got.len() - 9..], "**** 4242");
        assert_eq!(got.matches('*').count(), 80 - 10);
    }

    /// The check on escaped JSON, on bodies as the line writer sees them: yes for each
    /// value `mask` finds behind an escape, no for everyday log text (so the property
    /// test below is not the only witness, and cannot pass by never finding anything).
    #[test]
    fn json_body_check_examples() {
        for (text, masked) in [
            ("\tcard 4111111111111111\n", true),
            ("{\"card\":\"5555 5555 5555 4444\"}", true),
            ("{\"cvv\":\"123\"}", true),
            ("body={\\\"cvv\\\":\\\"123\\\"}", true),
            ("line\ncvv=123", true),
            ("x\t<cvc>1234</cvc>", true),
            ("%B4111111111111111^DOE/JOHN^2512101000000000?", true),
            (
                "2025-11-28T03:19:35.838Z\tecf8a5fe-ee17-4883-ac05-4a5799bcc59e\tINFO\tdone\n",
                false,
            ),
            (
                "{\"status\":400,\"duration_ms\":727.869,\"bytes\":140931}",
                false,
            ),
            ("REPORT Duration: 579.38 ms\tMemory Size: 128 MB\t\n", false),
            ("\\n4111111111111112 \"order\":1764299975838", false),
        ] {
            let mut scratch = String::new();
            assert_eq!(
                mask(text, Keep::First6Last4, &mut scratch).is_some(),
                masked,
                "{text:?}"
            );
            let quoted = serde_json::to_string(text).unwrap();
            let body = &quoted[1..quoted.len() - 1];
            assert_eq!(json_body_may_mask(body.as_bytes()), masked, "{body:?}");
        }
    }

    #[test]
    fn adversarial_inputs_take_linear_time() {
        for unit in [
            "4242 ",
            "4242-",
            "1 ",
            "9",
            "a1",
            "0.5",
            "cvv=123 ",
            "\"cardVerificationValue\": \"1234\", ",
            "B4242424242424242^",
            "%B4242424242424242^A^2512101000000?",
            ";4242424242424242=",
            "FR76 ",
            "FR76 4242 ",
            "\\\"",
            "\\\\\\\\\\n1234 ",
            "\\\\\\tcvv\\t=\\t\\\"123\\\" ",
        ] {
            let text = unit.repeat(400_000 / unit.len());
            let start = std::time::Instant::now();
            let mut scratch = String::new();
            let _ = mask(&text, Keep::First6Last4, &mut scratch);
            let _ = json_body_may_mask(text.as_bytes());
            // Generous for unoptimised builds; quadratic behaviour would take minutes.
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "{unit:?}: {:?}",
                start.elapsed()
            );
        }
    }

    #[test]
    fn unicode_around_is_kept() {
        assert_eq!(
            m("карта 4111111111111111 ✓ 日本"),
            "карта 411111******1111 ✓ 日本"
        );
    }

    #[test]
    fn no_allocation_when_nothing_found() {
        let mut scratch = String::new();
        assert_eq!(
            mask("nothing here 1234 5678", Keep::First6Last4, &mut scratch),
            None
        );
        assert_eq!(scratch.capacity(), 0);
    }

    #[test]
    fn scratch_is_cleared_and_reused() {
        let mut scratch = String::from("previous contents");
        assert_eq!(
            mask("4111111111111111", Keep::First6Last4, &mut scratch),
            Some(1)
        );
        assert_eq!(scratch, "411111******1111");
    }

    #[test]
    fn keep_parses_and_displays() {
        assert_eq!("first6last4".parse(), Ok(Keep::First6Last4));
        assert_eq!(" LAST4 ".parse(), Ok(Keep::Last4));
        assert_eq!(Keep::default(), Keep::First6Last4);
        let err = "first4".parse::<Keep>().unwrap_err();
        assert!(err.to_string().contains("first4"), "{err}");
        for k in [Keep::First6Last4, Keep::Last4] {
            assert_eq!(k.to_string().parse(), Ok(k));
        }
    }

    #[test]
    fn swar_scans_match_plain_loops() {
        let mut rng = Rng(7);
        let alphabet = b"ab/:0123456789 \xff\x80\x39\x3a\x2f\x30";
        for _ in 0..20_000 {
            // Past 200 bytes, so runs cross the 64-byte blocks.
            let long = rng.below(4) == 0;
            let len = rng.below(if long { 260 } else { 40 }) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.below(4) == 0 {
                        alphabet[rng.below(alphabet.len() as u64) as usize]
                    } else if rng.below(2) == 0 {
                        b'0' + rng.below(10) as u8
                    } else {
                        rng.next() as u8
                    }
                })
                .collect();
            let is_digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
            let run = |s: usize| (s..).take_while(|&i| is_digit(i)).count();
            // The candidates from `from` on, `from` counting as a start.
            let want_from = |from: usize| -> Vec<(usize, usize)> {
                (from..len)
                    .filter(|&s| (s == from || !is_digit(s - 1)) && is_digit(s))
                    .map(|s| (s, s + run(s)))
                    .filter(|&(s, e)| {
                        matches!(e - s, 3 | 4) || (e - s >= 13 && (b'2'..=b'6').contains(&bytes[s]))
                    })
                    .collect()
            };
            let mut it = Candidates::new(&bytes);
            let got: Vec<_> = std::iter::from_fn(|| it.next()).collect();
            assert_eq!(got, want_from(0), "{bytes:?}");
            // Track data makes the search jump on from a candidate's end or past it.
            for (i, &(_, e)) in got.iter().enumerate() {
                let to = e + i * 7 % 70;
                let mut it = Candidates::new(&bytes);
                for _ in 0..=i {
                    it.next();
                }
                it.skip_to(to);
                let rest: Vec<_> = std::iter::from_fn(|| it.next()).collect();
                assert_eq!(rest, want_from(to), "{bytes:?} to {to}");
            }
            for from in 0..=len + 1 {
                let mut it = Candidates::new(&bytes);
                it.skip_to(from);
                let got: Vec<_> = std::iter::from_fn(|| it.next()).collect();
                assert_eq!(got, want_from(from), "{bytes:?} from {from}");
                let end = from
                    + bytes
                        .get(from..)
                        .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
                assert_eq!(run_end(&bytes, from), end, "{bytes:?} from {from}");
            }
            let mut padded = [0u8; 64];
            for (slot, &c) in padded.iter_mut().zip(&bytes) {
                *slot = c;
            }
            let want = (0..64).fold(0u64, |acc, i| {
                acc | u64::from(padded[i].is_ascii_digit()) << i
            });
            assert_eq!(digit_bits(&padded), want, "{padded:?}");
            assert_eq!(digit_bits_swar(&padded), want, "{padded:?}");
        }
    }

    // ---------------------------------------------------------------- generators

    /// splitmix64: a seeded, dependency-free generator for tests and reports.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn range(&mut self, lo: u64, hi: u64) -> u64 {
            lo + self.below(hi - lo + 1)
        }
        fn digits(&mut self, n: usize) -> String {
            (0..n)
                .map(|_| char::from(b'0' + self.below(10) as u8))
                .collect()
        }
        fn digits_between(&mut self, lo: u64, hi: u64) -> String {
            let n = self.range(lo, hi) as usize;
            self.digits(n)
        }
        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len() as u64) as usize]
        }
    }

    /// A brand, its issuer ranges (inclusive, as numbers of any width) and its lengths.
    type BrandRule = (Brand, &'static [(u64, u64)], &'static [usize]);

    const BRANDS: &[BrandRule] = &[
        (Brand::Visa, &[(4, 4)], &[13, 16, 19]),
        (Brand::Mastercard, &[(51, 55), (2221, 2720)], &[16]),
        (Brand::Amex, &[(34, 34), (37, 37)], &[15]),
        (Brand::Jcb, &[(3528, 3589)], &[16, 17, 18, 19]),
        (
            Brand::Discover,
            &[(6011, 6011), (644, 649), (65, 65), (622_126, 622_925)],
            &[16, 17, 18, 19],
        ),
        (
            Brand::Diners,
            &[(300, 305), (3095, 3095), (36, 36), (38, 39)],
            &[14, 15, 16, 17, 18, 19],
        ),
        (Brand::UnionPay, &[(62, 62)], &[16, 17, 18, 19]),
        (Brand::Mir, &[(2200, 2204)], &[16, 17, 18, 19]),
        (
            Brand::Maestro,
            &[(50, 50), (56, 69)],
            &[13, 14, 15, 16, 17, 18, 19],
        ),
    ];

    /// A random valid PAN of `BRANDS[brand]` with `len` digits.
    fn gen_pan_len(rng: &mut Rng, brand: usize, len: usize) -> String {
        let (_, ranges, _) = BRANDS[brand];
        let &(lo, hi) = rng.pick(ranges);
        let mut s = rng.range(lo, hi).to_string();
        let fill = len - 1 - s.len();
        s.push_str(&rng.digits(fill));
        for c in b'0'..=b'9' {
            let mut t = s.clone();
            t.push(char::from(c));
            if luhn(&digits_of(&t)) {
                return t;
            }
        }
        unreachable!("one check digit always fits")
    }

    fn gen_pan(rng: &mut Rng, brand: usize) -> String {
        let len = *rng.pick(BRANDS[brand].2);
        gen_pan_len(rng, brand, len)
    }

    // ------------------------------------------------------------ property tests

    /// Text around a PAN: anything, then a non-alphanumeric boundary.
    fn surrounding() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 ,:;=\"'{}()\\[\\]/|.é€\n-]{0,30}"
    }

    /// Pieces of text that masking reacts to, with the characters JSON escapes around them.
    fn masking_token() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "cvv",
            "CVC2",
            "card_cvv",
            "cardCvv",
            "securityCode",
            "cvNumber",
            "status",
            "cid",
        ]);
        let quote = prop::sample::select(vec!["", "\"", "\\\"", "'", "\\"]);
        let space = prop::sample::select(vec!["", " ", "\t", "\t\t", " \t ", "\n"]);
        let sep = prop::sample::select(vec![":", "=", ">", "<"]);
        prop_oneof![
            (
                any::<u64>(),
                0..BRANDS.len(),
                any::<prop::sample::Index>(),
                any::<bool>()
            )
                .prop_map(|(seed, brand, pick, dash)| {
                    let mut rng = Rng(seed);
                    let pan = gen_pan(&mut rng, brand);
                    let options = layouts(pan.len());
                    layout(
                        &pan,
                        pick.get::<Vec<usize>>(&options),
                        if dash { '-' } else { ' ' },
                    )
                }),
            (
                quote.clone(),
                key,
                quote.clone(),
                space.clone(),
                sep,
                space,
                quote,
                "[0-9]{3,4}"
            )
                .prop_map(|(q1, k, q2, s1, sep, s2, q3, d)| format!(
                    "{q1}{k}{q2}{s1}{sep}{s2}{q3}{d}"
                )),
            "[ \t\n\r\u{8}\u{c}\"'\\\\/:=<>\\[\\]B%^;?.,_-]{1,3}",
            "[a-zA-Z]{1,4}",
            "[0-9]{1,20}",
        ]
    }

    fn boundary() -> impl Strategy<Value = char> {
        prop::sample::select(vec![
            ' ', '\t', '\n', '"', '\'', ',', ':', ';', '=', '(', ')', '[', ']', '{', '}', '<', '>',
            '/', '|', '!', '?', '#', '&', '*', '+', '-', '_', 'é', '€',
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// A valid PAN of any brand, length and layout is masked wherever it stands, and no
        /// more than its first 6 (none in last-4 mode) and last 4 digits stay readable.
        #[test]
        fn any_valid_pan_is_masked(
            seed in any::<u64>(),
            brand in 0..BRANDS.len(),
            layout_pick in any::<prop::sample::Index>(),
            dash in any::<bool>(),
            last4 in any::<bool>(),
            before in surrounding(),
            left in boundary(),
            right in boundary(),
            after in surrounding(),
        ) {
            let mut rng = Rng(seed);
            let pan = gen_pan(&mut rng, brand);
            let options = layouts(pan.len());
            let groups = layout_pick.get::<Vec<usize>>(&options);
            let f = layout(&pan, groups, if dash { '-' } else { ' ' });
            let keep = if last4 { Keep::Last4 } else { Keep::First6Last4 };
            let prefix = format!("{before}{left}");
            let text = format!("{prefix}{f}{right}{after}");
            let (got, n) = run(&text, keep);
            prop_assert!(n >= 1, "not masked: {text:?}");
            let region = &got.as_bytes()[prefix.len()..prefix.len() + f.len()];
            let digit_count = pan.len();
            let mut idx = 0;
            for (&o, &g) in f.as_bytes().iter().zip(region) {
                if o.is_ascii_digit() {
                    if idx >= keep.head() && idx < digit_count - TAIL {
                        prop_assert_eq!(g, b'*', "{:?} -> {:?}", text, got);
                    } else {
                        prop_assert!(g == o || g == b'*');
                    }
                    idx += 1;
                } else {
                    prop_assert_eq!(g, o);
                }
            }
        }

        /// Same, exact: with boundaries that cannot join other digit groups, the PAN comes
        /// out exactly as specified and nothing else changes.
        #[test]
        fn any_valid_pan_is_masked_exactly(
            seed in any::<u64>(),
            brand in 0..BRANDS.len(),
            layout_pick in any::<prop::sample::Index>(),
            dash in any::<bool>(),
            last4 in any::<bool>(),
            before in "[a-zA-Z ,:é]{0,20}",
            left in prop::sample::select(vec!['"', ' ', '(', '/', '\n', '€']),
            right in prop::sample::select(vec!['"', ' ', ')', ',', '\n', '€']),
            after in "[a-zA-Z ,:é]{0,20}",
        ) {
            let mut rng = Rng(seed);
            let pan = gen_pan(&mut rng, brand);
            let options = layouts(pan.len());
            let f = layout(&pan, layout_pick.get::<Vec<usize>>(&options), if dash { '-' } else { ' ' });
            let keep = if last4 { Keep::Last4 } else { Keep::First6Last4 };
            let text = format!("{before}{left}{f}{right}{after}");
            let want = format!("{before}{left}{}{right}{after}", expected(&f, keep));
            prop_assert_eq!(run(&text, keep), (want, 1));
        }

        /// Digit runs that fail Luhn are never touched, whatever their prefix and length.
        #[test]
        fn non_luhn_runs_are_untouched(
            seed in any::<u64>(),
            len in 5usize..40,
            grouped in any::<bool>(),
            before in "[a-zA-Z ,:é\"]{0,20}",
            after in "[a-zA-Z ,:é\"]{0,20}",
        ) {
            let mut rng = Rng(seed);
            let len = if grouped { 16 } else { len };
            let mut run_digits = rng.digits(len);
            if luhn(&digits_of(&run_digits)) {
                let last = run_digits.pop().unwrap();
                run_digits.push(if last == '9' { '0' } else { char::from(last as u8 + 1) });
            }
            let body = if grouped { layout(&run_digits, &[4, 4, 4, 4], ' ') } else { run_digits };
            let text = format!("{before} {body} {after}");
            let mut scratch = String::new();
            prop_assert_eq!(mask(&text, Keep::First6Last4, &mut scratch), None);
        }

        /// The check on escaped JSON never misses: whenever `mask` finds something in a
        /// text, the check says yes for that text as a JSON string body (without `\u`
        /// escapes, which the line writer always decodes).
        #[test]
        fn json_body_check_never_misses(tokens in prop::collection::vec(masking_token(), 0..10)) {
            let text = tokens.concat();
            let quoted = serde_json::to_string(&text).unwrap();
            let body = &quoted[1..quoted.len() - 1];
            let mut scratch = String::new();
            if !body.contains("\\u") && mask(&text, Keep::First6Last4, &mut scratch).is_some() {
                prop_assert!(json_body_may_mask(body.as_bytes()), "missed in {:?}", body);
            }
        }

        /// Whatever the input: no panic, same length, only ASCII digits change (to `*`).
        #[test]
        fn only_digits_change(text in "\\PC{0,200}|[0-9 \\-=:\"cvB^%;]{0,200}") {
            let mut scratch = String::new();
            if let Some(n) = mask(&text, Keep::First6Last4, &mut scratch) {
                prop_assert!(n >= 1);
                prop_assert_eq!(scratch.len(), text.len());
                for (o, g) in text.bytes().zip(scratch.bytes()) {
                    prop_assert!(o == g || (o.is_ascii_digit() && g == b'*'));
                }
            }
        }
    }

    // ------------------------------------------------------------------ reports
    //
    // `cargo test --release --lib mask::tests::report -- --ignored --nocapture --test-threads 1`
    // prints the figures quoted in the README. Seeded: every run prints the same rates.

    const LOOK_ALIKE_CLASSES: &[&str] = &[
        "epoch s/ms/us/ns (2015-2035)",
        "snowflake ids minted 2024-2026",
        "CloudWatch/Kinesis 56-digit ids",
        "autoincrement and order ids",
        "UUIDs",
        "IPv4 addresses [:port]",
        "phone numbers",
        "amounts",
        "hex strings (32/40/64)",
        "floats (f64 Display)",
        "timestamps, dates, versions",
        "IBANs (grouped by 4)",
        "valid PANs glued to letters",
        "random 10-12 digit ids",
        "random 13-19 digit ids",
        "random 4-4-4-4 grouped ids",
        "snowflake ids minted 2015-2035",
        "3-4 digit fields (status, port, code, ...)",
    ];

    fn hex(rng: &mut Rng, n: usize, upper: bool) -> String {
        let set: &[u8] = if upper {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        (0..n).map(|_| char::from(*rng.pick(set))).collect()
    }

    fn look_alike(rng: &mut Rng, class: usize) -> String {
        // 2015-01-01 .. 2035-01-01 in ms.
        let ms = rng.range(1_420_070_400_000, 2_051_222_400_000);
        match class {
            0 => match rng.below(4) {
                0 => (ms / 1000).to_string(),
                1 => ms.to_string(),
                2 => format!("{}{}", ms, rng.digits(3)),
                _ => format!("{}{}", ms, rng.digits(6)),
            },
            1 | 16 => {
                // Twitter's and Discord's epochs; class 1 is minted now (2024-2026), class 16
                // over 2015-2035, when they were (or will be) shorter or start with 2-6.
                let epoch = *rng.pick(&[1_288_834_974_657u64, 1_420_070_400_000]);
                let ms = if class == 1 {
                    rng.range(1_704_067_200_000, 1_798_761_600_000)
                } else {
                    ms
                };
                (((ms - epoch) << 22) | rng.below(1 << 22)).to_string()
            }
            2 => format!("{}{}", rng.range(1, 9), rng.digits(55)),
            3 => match rng.below(4) {
                0 => rng.range(1, 999_999_999).to_string(),
                1 => format!(
                    "ORD-{}-{:08}",
                    rng.range(2015, 2035),
                    rng.below(100_000_000)
                ),
                2 => format!("{:012}", rng.below(1_000_000_000_000)), // AWS account ids
                _ => format!("INV{}", rng.digits(13)),
            },
            4 => {
                let upper = rng.below(4) == 0;
                let u = hex(rng, 32, upper);
                format!(
                    "{}-{}-{}-{}-{}",
                    &u[..8],
                    &u[8..12],
                    &u[12..16],
                    &u[16..20],
                    &u[20..]
                )
            }
            5 => {
                let ip = format!(
                    "{}.{}.{}.{}",
                    rng.below(256),
                    rng.below(256),
                    rng.below(256),
                    rng.below(256)
                );
                if rng.below(2) == 0 {
                    format!("{ip}:{}", rng.range(1, 65535))
                } else {
                    ip
                }
            }
            6 => {
                let (a, b, c) = (rng.range(200, 999), rng.range(200, 999), rng.digits(4));
                match rng.below(9) {
                    0 => format!("+1 {a}-{b}-{c}"),
                    1 => format!("({a}) {b}-{c}"),
                    2 => format!("+1{a}{b}{c}"),
                    3 => format!("{a}.{b}.{c}"),
                    4 => format!("+44 20 {} {}", rng.digits(4), rng.digits(4)),
                    5 => format!(
                        "+33 {} {} {} {} {}",
                        rng.range(1, 9),
                        rng.digits(2),
                        rng.digits(2),
                        rng.digits(2),
                        rng.digits(2)
                    ),
                    6 => format!("+49 30 {}", rng.digits(8)),
                    7 => format!("+86 1{} {} {}", rng.digits(2), rng.digits(4), rng.digits(4)),
                    _ => format!("+91 {} {}", rng.digits(5), rng.digits(5)),
                }
            }
            7 => {
                let cents = rng.below(100);
                let width = rng.range(1, 15) as u32;
                let whole = rng.below(10u64.pow(width));
                match rng.below(3) {
                    0 => format!("{}.{cents:02}", thousands(whole, ',')),
                    1 => format!("{},{cents:02}", thousands(whole, '.')),
                    _ => format!("{whole}.{cents:02}"),
                }
            }
            8 => {
                let n = *rng.pick(&[32, 40, 64]);
                hex(rng, n, false)
            }
            9 => {
                // Uniform in [0, 10^k): Display gives the shortest round-trip digits.
                let scale = 10f64.powi(rng.below(7) as i32);
                ((rng.next() >> 11) as f64 / (1u64 << 53) as f64 * scale).to_string()
            }
            10 => match rng.below(4) {
                0 => format!(
                    "2025-{:02}-{:02}T{:02}:{:02}:{:02}.{}Z",
                    rng.range(1, 12),
                    rng.range(1, 28),
                    rng.below(24),
                    rng.below(60),
                    rng.below(60),
                    {
                        let n = 3 * rng.range(1, 3) as usize;
                        rng.digits(n)
                    }
                ),
                1 => format!(
                    "2025-{:02}-{:02} {:02}:{:02}:{:02},{}",
                    rng.range(1, 12),
                    rng.range(1, 28),
                    rng.below(24),
                    rng.below(60),
                    rng.below(60),
                    rng.digits(3)
                ),
                2 => format!("{}.{}.{}", rng.below(20), rng.below(50), rng.below(10_000)),
                _ => format!("{} ms", rng.below(100_000)),
            },
            11 => {
                let (cc, bban) = match rng.below(5) {
                    0 => ("DE", rng.digits(18)),
                    1 => ("FR", format!("{}{}", rng.digits(21), rng.digits(2))),
                    2 => ("GB", format!("NWBK{}", rng.digits(14))),
                    3 => ("ES", rng.digits(20)),
                    _ => ("NL", format!("ABNA{}", rng.digits(10))),
                };
                let iban = with_iban_check(cc, &bban);
                let chunks: Vec<String> = iban
                    .as_bytes()
                    .chunks(4)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                chunks.join(" ")
            }
            12 => {
                let brand = rng.below(BRANDS.len() as u64) as usize;
                let pan = gen_pan(rng, brand);
                match rng.below(3) {
                    0 => format!("x{pan}"),
                    1 => format!("{pan}z"),
                    _ => format!(
                        "tok_{}{pan}",
                        hex(rng, 6, false).replace(|c: char| c.is_ascii_digit(), "q")
                    ),
                }
            }
            13 => format!("{}{}", rng.range(1, 9), rng.digits_between(9, 11)),
            14 => format!("{}{}", rng.range(1, 9), rng.digits_between(12, 18)),
            15 => {
                let d = format!("{}{}", rng.range(1, 9), rng.digits(15));
                layout(&d, &[4, 4, 4, 4], *rng.pick(&[' ', '-']))
            }
            17 => {
                let key = *rng.pick(&[
                    "status",
                    "port",
                    "code",
                    "errorCode",
                    "year",
                    "ms",
                    "retries",
                    "pid",
                    "http_status",
                    "zip",
                    "cvvResult",
                    "cid",
                    "pinCount",
                    "version",
                ]);
                let v = rng.digits_between(3, 4);
                match rng.below(3) {
                    0 => format!("\"{key}\":\"{v}\""),
                    1 => format!("{key}={v}"),
                    _ => format!("{key}: {v}"),
                }
            }
            _ => unreachable!("no look-alike class {class}"),
        }
    }

    /// `cc`, ISO 13616 check digits, `bban`.
    fn with_iban_check(cc: &str, bban: &str) -> String {
        let rearranged = format!("{bban}{cc}00");
        let rem = rearranged.bytes().fold(0u32, |acc, c| {
            if c.is_ascii_digit() {
                (acc * 10 + u32::from(c - b'0')) % 97
            } else {
                (acc * 100 + u32::from(c - b'A') + 10) % 97
            }
        });
        format!("{cc}{:02}{bban}", 98 - rem)
    }

    fn thousands(n: u64, sep: char) -> String {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }

    /// Exact share of uniformly random n-digit numbers (first digit 1-9) with a brand
    /// prefix, from all 6-digit prefixes.
    fn brand_prefix_share(n: usize) -> f64 {
        let hits = (100_000u32..1_000_000)
            .filter(|p| {
                let mut d = digits_of(&p.to_string());
                d.resize(n, 0);
                brand(&d).is_some()
            })
            .count();
        hits as f64 / 900_000.0
    }

    #[test]
    #[ignore = "report: run with --release --ignored --nocapture"]
    fn report_false_positives() {
        const PER_CLASS: usize = 1_000_000;
        let templates = [
            "level=info msg=\"value {} seen\"",
            "{\"level\":\"info\",\"value\":\"{}\"}",
            "{}",
        ];
        let mut rng = Rng(0x5eed);
        let mut scratch = String::new();
        println!("| look-alike class | lines | masked | rate |");
        println!("|---|---:|---:|---:|");
        for (class, name) in LOOK_ALIKE_CLASSES.iter().enumerate() {
            let mut masked = 0usize;
            let mut example = None;
            for i in 0..PER_CLASS {
                let line =
                    templates[i % templates.len()].replace("{}", &look_alike(&mut rng, class));
                if mask(&line, Keep::First6Last4, &mut scratch).is_some() {
                    masked += 1;
                    example.get_or_insert_with(|| (line.clone(), scratch.clone()));
                }
            }
            println!(
                "| {name} | {PER_CLASS} | {masked} | {:.4}% |",
                masked as f64 * 100.0 / PER_CLASS as f64
            );
            if let Some((line, out)) = example {
                println!("|   e.g. `{line}` -> `{out}` | | | |");
            }
        }
        let expected: f64 = (MIN_LEN..=MAX_LEN).map(brand_prefix_share).sum::<f64>()
            / (MAX_LEN - MIN_LEN + 1) as f64
            * 10.0;
        println!(
            "expected for random 13-19 digit ids: brand prefix share x Luhn 10% = {expected:.3}%; \
             for 16 digits: {:.3}%",
            brand_prefix_share(16) * 10.0
        );
    }

    #[test]
    #[ignore = "report: run with --release --ignored --nocapture"]
    fn report_detection() {
        const PER_CASE: usize = 200;
        let contexts = [
            "{}",
            "paid with {} today",
            "{\"card\":\"{}\",\"ok\":true}",
            "card={}&x=1",
            "({})",
            "card\t{}\n",
        ];
        let mut rng = Rng(0xca7d);
        let mut scratch = String::new();
        let (mut total, mut found, mut exact) = (0usize, 0usize, 0usize);
        println!("| brand | lengths | layouts | PANs tried | detected | masked as specified |");
        println!("|---|---|---|---:|---:|---:|");
        for (bi, (brand, _, lens)) in BRANDS.iter().enumerate() {
            let (mut t, mut f, mut x) = (0usize, 0usize, 0usize);
            let mut names = Vec::new();
            for &len in *lens {
                for groups in layouts(len) {
                    let name = groups
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("-");
                    if !names.contains(&name) {
                        names.push(name);
                    }
                    for sep in [' ', '-'] {
                        for ctx in contexts {
                            for keep in [Keep::First6Last4, Keep::Last4] {
                                for _ in 0..PER_CASE / 4 {
                                    let pan = gen_pan_len(&mut rng, bi, len);
                                    let f_ = layout(&pan, &groups, sep);
                                    let text = ctx.replace("{}", &f_);
                                    t += 1;
                                    if mask(&text, keep, &mut scratch).is_some() {
                                        f += 1;
                                        if scratch == ctx.replace("{}", &expected(&f_, keep)) {
                                            x += 1;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            println!(
                "| {brand:?} | {} | {} | {t} | {:.3}% | {:.3}% |",
                lens.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                names.join(", "),
                f as f64 * 100.0 / t as f64,
                x as f64 * 100.0 / t as f64
            );
            (total, found, exact) = (total + t, found + f, exact + x);
        }
        println!(
            "total: {total} PANs, detected {:.3}%, masked exactly {:.3}%",
            found as f64 * 100.0 / total as f64,
            exact as f64 * 100.0 / total as f64
        );
    }

    /// Log lines like those CloudWatch Logs carries: Lambda platform lines, JSON
    /// application logs, access logs. One in `pan_every` lines carries a card number.
    fn log_corpus(rng: &mut Rng, lines: usize, pan_every: Option<usize>) -> Vec<String> {
        (0..lines)
            .map(|i| {
                let uuid = look_alike(rng, 4);
                let ts = look_alike(rng, 10);
                let ip = look_alike(rng, 5);
                let mut line = match rng.below(6) {
                    0 => format!("START RequestId: {uuid} Version: $LATEST"),
                    1 => format!(
                        "REPORT RequestId: {uuid}\tDuration: {}.{} ms\tBilled Duration: {} ms\tMemory Size: 512 MB\tMax Memory Used: {} MB",
                        rng.below(2000), rng.digits(2), rng.below(2000), rng.range(60, 512)
                    ),
                    2 => format!(
                        "{{\"timestamp\":\"2025-11-28T16:38:{:02}.{}Z\",\"level\":\"INFO\",\"requestId\":\"{uuid}\",\"message\":\"order created\",\"orderId\":\"ORD-2025-{:08}\",\"userId\":{},\"amount\":{}.{:02},\"currency\":\"EUR\",\"latencyMs\":{}}}",
                        rng.below(60), rng.digits(3), rng.below(100_000_000), rng.below(10_000_000), rng.below(10_000), rng.below(100), rng.below(3000)
                    ),
                    3 => format!(
                        "{ip} - - [28/Nov/2025:16:38:{:02} +0000] \"GET /api/v1/orders/{}?page={} HTTP/1.1\" {} {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\"",
                        rng.below(60), rng.below(100_000_000), rng.below(50), *rng.pick(&[200, 201, 304, 404, 500]), rng.below(100_000)
                    ),
                    4 => format!(
                        "{ts} ERROR [main] c.e.payments.Gateway - upstream timeout after {}ms (attempt {}/3, trace={})",
                        rng.below(30_000), rng.range(1, 3), look_alike(rng, 8)
                    ),
                    _ => format!(
                        "{ts} INFO  worker-{} processed batch id={} records={} bytes={} lag={}s",
                        rng.below(16), look_alike(rng, 1), rng.below(10_000), rng.below(10_000_000), rng.below(600)
                    ),
                };
                if pan_every.is_some_and(|k| i % k == 0) {
                    let brand = rng.below(BRANDS.len() as u64) as usize;
                    let pan = gen_pan(rng, brand);
                    let options = layouts(pan.len());
                    let f = layout(&pan, rng.pick::<Vec<usize>>(&options), *rng.pick(&[' ', '-']));
                    line.push_str(&format!(" payment {{\"card\":\"{f}\",\"cvv\":\"{}\"}}", rng.digits(3)));
                }
                line
            })
            .collect()
    }

    /// MB/s of `f` over `lines`: the best of 20 passes, so that other work on the machine
    /// weighs as little as possible; and what `f` returned over one pass.
    fn throughput(lines: &[String], f: &mut dyn FnMut(&str) -> usize) -> (f64, usize) {
        let bytes: usize = lines.iter().map(String::len).sum();
        let mut best = f64::MAX;
        let mut hits = 0;
        for _ in 0..20 {
            hits = 0;
            let start = std::time::Instant::now();
            for l in lines {
                hits += f(l);
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        (bytes as f64 / best / 1e6, hits)
    }

    #[test]
    #[ignore = "report: run with --release --ignored --nocapture"]
    fn report_throughput() {
        let mut rng = Rng(0x106);
        let clean = log_corpus(&mut rng, 20_000, None);
        let with_pans = log_corpus(&mut rng, 20_000, Some(10));
        let avg = clean.iter().map(String::len).sum::<usize>() / clean.len();
        println!("corpus: 20,000 lines each, {avg} bytes per line on average");
        println!("| corpus | what | MB/s | values masked per pass |");
        println!("|---|---|---:|---:|");
        for (name, corpus) in [("no PAN", &clean), ("1 PAN + CVV / 10 lines", &with_pans)] {
            let mut scratch = String::new();
            let (mbs, hits) = throughput(corpus, &mut |l| {
                mask(l, Keep::First6Last4, &mut scratch).unwrap_or(0)
            });
            println!("| {name} | mask | {mbs:.0} | {hits} |");
            // What the line writer runs on escaped messages: the check, then mask only
            // where it says yes.
            let bodies: Vec<String> = corpus
                .iter()
                .map(|l| {
                    let q = serde_json::to_string(l).unwrap();
                    q[1..q.len() - 1].to_owned()
                })
                .collect();
            let (mbs, yes) = throughput(&bodies, &mut |body| {
                usize::from(json_body_may_mask(body.as_bytes()))
            });
            println!(
                "| {name} | check the escaped JSON body (says yes {yes} times) | {mbs:.0} | |"
            );
            let mut copy = String::new();
            let (mbs, _) = throughput(corpus, &mut |l| {
                copy.clear();
                copy.push_str(l);
                copy.len() & 1
            });
            println!("| {name} | baseline: copy into a String | {mbs:.0} | |");
        }
    }
}
