//! Finding the digit runs that may be a card number or a security code, 64 bytes at
//! a time (the kernels are in `crate::simd`).

use super::*;
#[cfg(not(target_arch = "x86_64"))]
use crate::simd::digit_bits_swar;
#[cfg(target_arch = "x86_64")]
use crate::simd::{digit_letter_bits, Avx2, WithAvx2};
use crate::simd::{first_non_digit8, Classes};

/// Whether a window's letters come with its digits. SSE2 classifies them in four more
/// instructions a 16-byte block, cheaper than the rules refusing their runs one by one;
/// in SWAR (arm64) they would cost more than they save (with the SWAR kernels forced on
/// x86_64: 11.5 ms against 11.2 ms for the max event's messages), so there the byte
/// after each short run is tested in [`Candidates::next`] instead. The runs returned are
/// the same.
const WINDOW_LETTERS: bool = cfg!(target_arch = "x86_64");

/// The digit runs that can start a PAN or be a security code, in order, as
/// `(start, end)`: 3-4 digits not glued to a letter after them (a code, or a PAN's first
/// group: a letter there refuses both, see `right_ok`), 5-6 digits starting with
/// 2-6 and followed by a space or a dash (a PAN's first group), or 13 and more starting
/// with 2-6 (a PAN printed without separators). Everything else in logs — times, IP
/// octets, ids, the bits of UUIDs — is passed over with bit operations.
///
/// The text is read in 64-byte windows that advance by [`STEP`]: a run starting in the
/// first 52 bytes is classified with the 12 after it in the same word (13 digits decide).
/// The [`Kernel`] classifies each window's bytes: the baseline one of the target, or
/// AVX2 where the CPU has it, whose classes also pass over the short runs that no
/// security code's key precedes and the gaps that cannot join a card number's groups.
pub(super) struct Candidates<'a, K: Kernel> {
    pub(super) b: &'a [u8],
    pub(super) kernel: K,
    /// Offset of the window; `None` before the first.
    pub(super) base: Option<usize>,
    /// What the next window needs of the bytes before it, as [`Before`] bits.
    pub(super) carry_out: Before,
    /// Bit k: a candidate run starts at `base + k` and has not been returned yet.
    pub(super) pending: u64,
    /// Bit k: 4 or more digits from `base + k` on.
    pub(super) four: u64,
    /// Bit k: 13 or more digits from `base + k` on, or 5-6 followed by a byte and a
    /// digit (few of either in logs: they take the slower path in `next`).
    pub(super) rare: u64,
    /// A start inside a run, after [`Candidates::skip_to`].
    pub(super) forced: Option<usize>,
}

/// How far the window moves: 64 bits minus the 12 that a 13-digit run needs past its start.
pub(super) const STEP: usize = 52;

impl<'a, K: Kernel> Candidates<'a, K> {
    #[inline(always)]
    pub(super) fn with_kernel(b: &'a [u8], kernel: K) -> Self {
        Candidates {
            b,
            kernel,
            base: None,
            carry_out: Before::START,
            pending: 0,
            four: 0,
            rare: 0,
            forced: None,
        }
    }

    /// Goes on from `at` (past track data): a digit there counts as a run's start.
    pub(super) fn skip_to(&mut self, at: usize) {
        let carry = Before::of(self.b, at);
        self.load(at, carry);
        if carry.digit() && digit_at(self.b, Some(at)) {
            self.forced = Some(at);
        }
    }

    #[inline(always)]
    pub(super) fn next(&mut self) -> Option<(usize, usize)> {
        if let Some(s) = self.forced.take() {
            let e = run_end(self.b, s);
            if self.is_short_start(s, e) || self.is_long_start(s, e) {
                return Some((s, e));
            }
        }
        loop {
            if self.pending != 0 {
                let k = self.pending.trailing_zeros();
                self.pending &= self.pending - 1;
                let base = self.base.unwrap_or_default();
                let s = base + k as usize;
                if self.rare >> k & 1 == 0 {
                    let e = s + 3 + (self.four >> k & 1) as usize;
                    if !WINDOW_LETTERS && letter_at(self.b, e) {
                        continue;
                    }
                    return Some((s, e));
                }
                // 13 or more digits, or 5-6 and a gap: both start with 2-6.
                if !matches!(self.b.get(s), Some(b'2'..=b'6')) {
                    continue;
                }
                let e = run_end(self.b, s);
                if self.is_short_start(s, e) || self.is_long_start(s, e) {
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

    /// 3-4 digits, or 5-6 that may be a PAN's first group.
    #[inline(always)]
    pub(super) fn is_short_start(&self, s: usize, e: usize) -> bool {
        match e - s {
            3 | 4 => !letter_at(self.b, e),
            5 | 6 => {
                matches!(self.b.get(s), Some(b'2'..=b'6'))
                    && self.b.get(e).is_some_and(|&c| is_group_sep(c))
                    && digit_at(self.b, e.checked_add(1))
            }
            _ => false,
        }
    }

    pub(super) fn is_long_start(&self, s: usize, e: usize) -> bool {
        e - s >= MIN_LEN && matches!(self.b.get(s), Some(b'2'..=b'6'))
    }

    /// Reads the window at `base`; `carry`: what the bytes before it leave.
    #[inline(always)]
    pub(super) fn load(&mut self, base: usize, carry: Before) {
        let c = bits_at(self.b, base, self.kernel);
        let d = c.digits;
        let starts = d & !((d << 1) | u64::from(carry.digit()));
        // Bit k of `at_least_n`: n digits from k on (exact for k < STEP).
        let at_least2 = d & (d >> 1);
        let at_least3 = at_least2 & (d >> 2);
        let at_least4 = at_least2 & (at_least2 >> 2);
        let at_least5 = at_least4 & (d >> 4);
        let at_least8 = at_least4 & (at_least4 >> 4);
        let at_least13 = at_least5 & (at_least8 >> 5);
        // Bit k: a byte that may join a card number's groups, then a digit.
        let gap = c.group_sep & (d >> 1);
        // 5 or 6 digits, then such a gap: the first group of a grouped PAN may be that
        // (the rest is checked in `next`).
        let grouped = at_least5 & ((gap | (gap >> 1)) >> 5);
        // 3 or 4 digits, then a letter: a third of the short runs in JSON logs (hex
        // ids, `12ms`), refused here rather than one by one by the rules. For a run of
        // 3 or 4 digits from k, `x >> 3 | (x >> 4 & at_least4)` reads a class `x` of
        // non-digits at the run's end: a byte of `x` at k + 3 is no fourth digit.
        let glued = c.letters >> 3 | (c.letters >> 4 & at_least4);
        // 3 or 4 digits are a PAN's first group only before such a gap and 3 digits.
        let gap3 = gap & (at_least3 >> 1);
        let group = gap3 >> 3 | (gap3 >> 4 & at_least4);
        // And a security code only where a key may end, then `skip` bytes, a separator
        // and `skip` bytes again lead to it: `chain(from, carry)` marks each byte
        // reached from a bit of `from` over `skip` bytes (the carry of an addition runs
        // through a run of ones), the first byte after them included.
        let chain = |from: u64, carry: u64| (from << 1 | carry).wrapping_add(c.skip) ^ c.skip;
        let after_key = chain(c.key_end, carry.key());
        let after_sep = chain(after_key & c.sep, carry.sep());
        let first_step = (1u64 << STEP) - 1;
        self.rare = grouped | at_least13;
        self.pending = ((at_least3 & !at_least5 & !glued & (after_sep | group)) | self.rare)
            & starts
            & first_step;
        self.four = at_least4;
        self.carry_out = Before(
            (d >> (STEP - 1) & 1) | (after_key >> STEP & 1) << 1 | (after_sep >> STEP & 1) << 2,
        );
        self.base = Some(base);
    }
}

/// The [`Classes`] of the 64 bytes from `at`, past the end padded with bytes in none.
#[inline(always)]
pub(super) fn bits_at(b: &[u8], at: usize, kernel: impl Kernel) -> Classes {
    let rest = b.get(at..).unwrap_or_default();
    match rest.get(..64).map(<&[u8; 64]>::try_from) {
        Some(Ok(block)) => kernel.classify(block),
        _ if rest.is_empty() => Classes::NONE,
        // The text's last 64 bytes, shifted so that bit 0 is `at` (what lies past the end
        // reads as zeros): no copy.
        _ if b.len() >= 64 => {
            let start = b.len() - 64;
            match b.get(start..).map(<&[u8; 64]>::try_from) {
                Some(Ok(block)) => kernel.classify(block).shifted(at - start),
                _ => Classes::NONE,
            }
        }
        _ => {
            let mut block = [0u8; 64];
            if let Some(head) = block.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            kernel.classify(&block)
        }
    }
}

/// How a window's bytes are classified (see [`Classes`]).
pub(super) trait Kernel: Copy {
    fn classify(self, block: &[u8; 64]) -> Classes;
}

/// What every CPU of the target has: SSE2 on x86_64, SWAR elsewhere. Digits and letters
/// (see [`WINDOW_LETTERS`]) only: there the other classes cost more than they save, so
/// every byte may end a key or separate one, and every non-digit join groups.
#[derive(Debug, Clone, Copy)]
pub(super) struct Baseline;

impl Kernel for Baseline {
    #[inline(always)]
    fn classify(self, block: &[u8; 64]) -> Classes {
        let (digits, letters) = classify(block);
        Classes {
            digits,
            letters,
            key_end: u64::MAX,
            sep: u64::MAX,
            skip: 0,
            group_sep: !digits,
        }
    }
}

/// AVX2, where the CPU has it (see `crate::simd::Avx2`).
#[cfg(target_arch = "x86_64")]
impl Kernel for Avx2 {
    #[inline(always)]
    fn classify(self, block: &[u8; 64]) -> Classes {
        self.classes(block)
    }
}

/// Work that scans with a [`Kernel`], for [`on_best_kernel`]. `run` must be
/// `#[inline(always)]`: under AVX2 the whole job is then compiled for AVX2 and the
/// kernel is inlined into it, not called.
pub(super) trait KernelJob {
    type Output;
    fn run(self, kernel: impl Kernel) -> Self::Output;
}

/// Runs `job` with the best kernel this CPU has: the one place that chooses.
#[inline]
pub(super) fn on_best_kernel<J: KernelJob>(job: J) -> J::Output {
    #[cfg(target_arch = "x86_64")]
    if let Some(avx2) = Avx2::detect() {
        return avx2.run(OnAvx2(job));
    }
    job.run(Baseline)
}

/// A [`KernelJob`] as [`Avx2::run`] takes it.
#[cfg(target_arch = "x86_64")]
struct OnAvx2<J>(J);

#[cfg(target_arch = "x86_64")]
impl<J: KernelJob> WithAvx2 for OnAvx2<J> {
    type Output = J::Output;
    #[inline(always)]
    fn run(self, avx2: Avx2) -> J::Output {
        self.0.run(avx2)
    }
}

/// What a window needs of the bytes before it, as bits: 0, the last is a digit; 1 and
/// 2, a key's end, or a key's end and a separator, lead to the window's first byte over
/// `skip` bytes (see [`Candidates::load`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Before(u64);

impl Before {
    /// Of the bytes before `at` in `b`, for a window that does not follow another: the
    /// chains are taken to lead there (more candidates, the same matches).
    fn of(b: &[u8], at: usize) -> Self {
        match at.checked_sub(1).and_then(|i| b.get(i)) {
            Some(&c) => Before(u64::from(c.is_ascii_digit()) | 0b110),
            None => Before::START,
        }
    }

    /// Before the text: no digit, nor a key (`is_cvv_value` refuses a code at the
    /// text's start), whatever the kernel.
    const START: Before = Before(0);

    fn digit(self) -> bool {
        self.0 & 1 == 1
    }

    fn key(self) -> u64 {
        self.0 >> 1 & 1
    }

    fn sep(self) -> u64 {
        self.0 >> 2 & 1
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(block: &[u8; 64]) -> (u64, u64) {
    digit_letter_bits(block)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn classify(block: &[u8; 64]) -> (u64, u64) {
    (digit_bits_swar(block), 0)
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

fn letter_at(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_alphabetic)
}

pub(super) fn digit_at(b: &[u8], i: Option<usize>) -> bool {
    i.and_then(|i| b.get(i)).is_some_and(u8::is_ascii_digit)
}
