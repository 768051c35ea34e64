//! PCI DSS masking of card data in log messages.
//!
//! - Req. 3.5.1: a PAN must be unreadable wherever it is stored, logs included: every card
//!   number is truncated to at most its first 6 and last 4 digits ([`Keep`]).
//! - Req. 3.3.1: card verification codes and track data are not kept after authorisation:
//!   CVV-like fields and the data after the PAN in magnetic-stripe tracks are hidden whole.
//!
//! # What counts as a PAN
//! 13-19 digits, contiguous or in groups joined throughout by one single space or one
//! single dash: any split into groups of 3 to 6 digits (4-4-4-4, 4-6-5, 4-4-5, 5-5-5,
//! 6-4-6, 3-4-4-4-4, …), or groups of 4 ending in a shorter one (4-4-4-1, 4-4-4-2,
//! 4-4-4-4-1, 4-4-4-4-2). Groups of three joined by spaces are left out: that is how numbers
//! are written with a thousands separator. A tab or two spaces separate columns, not groups.
//! - No ASCII letter or digit may touch it (`x4111…`, `…1111x` and the 17-digit
//!   `41111111111111111` stay whole); anything else is a boundary, `_` included. Nor may
//!   it be a side of a decimal number (`0.5555555555555556`, `4111111111111111.25`).
//! - A run of groups joined by the same separator is one number, judged as a whole, as a
//!   run of contiguous digits is: `6011 862876 53141 7556` is not masked although
//!   `6011 862876 53141` would be, nor is `4111 1111 1111 1111 2025`. A group at either end
//!   may be left out only when it belongs to something else: a letter touches it, or
//!   another character joins it to more digits (`2025-11-28 4111 1111 1111 1111`,
//!   `… 1111 12/27`, `… 1111 100.00`). Groups have at most 6 digits: a longer run of digits
//!   is a number of its own (`12345678 4111 1111 1111 1111` is masked).
//! - It must pass the Luhn check, and its prefix and length must fit a brand: Visa,
//!   Mastercard, Amex, JCB, Discover, Diners, UnionPay, Mir, Maestro (see `brand`).
//! - It must not lie inside an IBAN printed in groups of four with valid check digits
//!   (`GB41 NWBK 6501 8614 4270 31`): one IBAN in ten would pass otherwise.
//! - When two candidates overlap (a run with both end groups left out in turn), the union
//!   of what they hide is hidden, so neither shows more than allowed.
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
//! One forward pass: digit runs are found and sorted 64 bytes at a time (AVX2 where the CPU
//! has it, else SSE2 on x86_64, SWAR elsewhere), and only runs of 3-4 digits, 5-6 followed
//! by one byte and a digit, or 13+ reach the rules (on AVX2, only the 3-4 digit runs that
//! a key's end, a separator and quotes or spaces may lead to, or that a group separator
//! and 3 digits follow, and only 5-6 digits followed by a group separator). The rules'
//! work per run is bounded (at most 19 digits, 7 groups and the group before, a 40-byte
//! key or a 34-character IBAN are looked at; only the first two groups of a run start the
//! gathering), so time is linear in the text.
//! [`json_body_may_mask`] runs the same rules, loosened, on a message still JSON-escaped, so
//! the line writer decodes only the rare message that may hold something to mask. All the
//! syntax looked at is ASCII, so offsets are char boundaries and masking (digit -> `*`)
//! keeps the text valid UTF-8 and its length.
//! Nothing is allocated or written until the first match.
//!
//! # Layout
//! This file holds the entry points and the lazy writer of the masked copy; each child
//! does one job for them and imports only the children below it in this list:
//! - `digits`: the digit runs worth judging, found 64 bytes at a time (the byte kernels
//!   are in `crate::simd`); one byte kernel is chosen per call, by `on_best_kernel`.
//! - `pan`: card numbers, contiguous or in groups, and the track data after them.
//! - `cvv`: security codes, the value of a key that names one.
//! - `iban`: IBANs in groups of four, which a grouped card number must not lie in.
//! - `brand`: issuer ranges, lengths and the Luhn check.
//! - `bounds`: where a digit run ends, what may touch it, and the two syntaxes read.
//! - `keep`: how much of a card number stays readable.
//! - `token`: the keyed hash written after a masked card number when a key is set.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod bounds;
mod brand;
mod cvv;
mod digits;
mod iban;
mod keep;
mod pan;
mod token;

use bounds::{left_context, loose_left_ok, right_ok, Left, Syntax};
use cvv::is_cvv_value;
use digits::{on_best_kernel, Candidates, Kernel, KernelJob};
pub use keep::Keep;
use keep::TAIL;
use pan::find_pan;
pub use token::PanKey;
use token::TOKEN_TEXT_LEN;

/// Masks every PAN (and CVV-looking field) in `text`. Returns `None` when nothing was
/// found (no allocation; `scratch` is left empty); otherwise clears `scratch`, writes the masked
/// text into it and returns the number of values masked.
///
/// The count adds up PANs (a PAN with its track data counts once) and security codes.
/// The masked text has the same length as `text`: each hidden digit becomes `*`
/// (`mask_keyed` adds card tokens).
pub fn mask(text: &str, keep: Keep, scratch: &mut String) -> Option<usize> {
    mask_keyed(text, keep, None, scratch)
}

/// [`mask`], each masked PAN followed by its card token when `key` is set
/// (` [pan_token:<24 hex>]`, see `token`): the text then grows by that much per PAN.
pub fn mask_keyed(
    text: &str,
    keep: Keep,
    key: Option<&PanKey>,
    scratch: &mut String,
) -> Option<usize> {
    let mut bytes = std::mem::take(scratch).into_bytes();
    let found = mask_bytes_keyed(text.as_bytes(), keep, key, &mut bytes);
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
    mask_bytes_keyed(text, keep, None, scratch)
}

/// [`mask_bytes`] with card tokens when `key` is set (see [`mask_keyed`]).
pub fn mask_bytes_keyed(
    text: &[u8],
    keep: Keep,
    key: Option<&PanKey>,
    scratch: &mut Vec<u8>,
) -> Option<usize> {
    on_best_kernel(MaskBytes {
        text,
        keep,
        key,
        scratch,
    })
}

/// [`mask_bytes_keyed`] as a [`KernelJob`].
struct MaskBytes<'a> {
    text: &'a [u8],
    keep: Keep,
    key: Option<&'a PanKey>,
    scratch: &'a mut Vec<u8>,
}

impl KernelJob for MaskBytes<'_> {
    type Output = Option<usize>;
    #[inline(always)]
    fn run(self, kernel: impl Kernel) -> Option<usize> {
        mask_bytes_with(self.text, self.keep, self.key, self.scratch, kernel)
    }
}

/// [`mask_bytes`] with the byte kernel `kernel`.
#[inline(always)]
fn mask_bytes_with(
    text: &[u8],
    keep: Keep,
    key: Option<&PanKey>,
    scratch: &mut Vec<u8>,
    kernel: impl Kernel,
) -> Option<usize> {
    let mut out = Writer {
        text,
        out: scratch,
        started: false,
        copied: 0,
        count: 0,
        tokens: Vec::new(),
    };
    // End of the last PAN found.
    let mut pan_end = 0;
    let mut runs = Candidates::with_kernel(text, kernel);
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
            if let Some(key) = key {
                out.token(key, pan.start, pan.end);
            }
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
/// IBANs are not ruled out, and an escape next to the end group of a run of card-number
/// groups counts as a character that may join it to another number (`12\t5555 4111 …`).
/// `\u` escapes could spell digits, letters or separators,
/// so bodies with them must be decoded (the caller knows: it checked every escape).
pub fn json_body_may_mask(raw: &[u8]) -> bool {
    on_best_kernel(MayMask(raw))
}

/// [`json_body_may_mask`] as a [`KernelJob`].
struct MayMask<'a>(&'a [u8]);

impl KernelJob for MayMask<'_> {
    type Output = bool;
    #[inline(always)]
    fn run(self, kernel: impl Kernel) -> bool {
        json_body_may_mask_with(self.0, kernel)
    }
}

/// [`json_body_may_mask`] with the byte kernel `kernel`.
#[inline(always)]
fn json_body_may_mask_with(raw: &[u8], kernel: impl Kernel) -> bool {
    let b = raw;
    let mut runs = Candidates::with_kernel(b, kernel);
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

/// Copies `text` into `out` lazily: only once something is masked.
struct Writer<'a> {
    text: &'a [u8],
    out: &'a mut Vec<u8>,
    /// Whether `out` has been cleared and holds `text[..copied]`.
    started: bool,
    /// Bytes of `text` already written.
    copied: usize,
    count: usize,
    /// Card tokens to write after the masked text's bytes `..at`, in order of `at`.
    tokens: Vec<(usize, [u8; TOKEN_TEXT_LEN])>,
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

    /// Records the card token of the PAN at `start..end`, written after it by `finish`
    /// (the masked copy mirrors `text` byte for byte until then).
    fn token(&mut self, key: &PanKey, start: usize, end: usize) {
        let digits: Vec<u8> = self
            .text
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .filter(|c| c.is_ascii_digit())
            .map(|c| c - b'0')
            .collect();
        self.tokens.push((end, key.token_text(&digits)));
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
        if !self.tokens.is_empty() {
            let masked = std::mem::take(self.out);
            let mut at = 0;
            self.out
                .reserve(masked.len() + self.tokens.len() * TOKEN_TEXT_LEN);
            for (end, token) in &self.tokens {
                self.out
                    .extend_from_slice(masked.get(at..*end).unwrap_or_default());
                self.out.extend_from_slice(token);
                at = *end;
            }
            self.out
                .extend_from_slice(masked.get(at..).unwrap_or_default());
        }
        Some(self.count)
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests;
