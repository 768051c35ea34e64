//! Finding the digit runs that may be a card number or a security code, 64 bytes at
//! a time (the kernels are in `crate::simd`).

use super::bounds::{digit_at, letter_at, run_end};
use super::brand::MIN_LEN;
use super::pan::is_group_sep;
#[cfg(not(target_arch = "x86_64"))]
use crate::simd::digit_bits_swar;
use crate::simd::Classes;
#[cfg(target_arch = "x86_64")]
use crate::simd::{digit_letter_bits, Avx2, WithAvx2};

/// Whether a window's letters come with its digits. SSE2 classifies them in four more
/// instructions a 16-byte block, cheaper than the rules refusing their runs one by one;
/// in SWAR (arm64) they would cost more than they save, so there the byte after each
/// short run is tested in [`Candidates::next`] instead. The runs returned are the same.
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
    b: &'a [u8],
    kernel: K,
    /// Offset of the window; `None` before the first.
    base: Option<usize>,
    /// What the next window needs of the bytes before it, as [`Before`] bits.
    carry_out: Before,
    /// Bit k: a candidate run starts at `base + k` and has not been returned yet.
    pending: u64,
    /// Bit k: 4 or more digits from `base + k` on.
    four: u64,
    /// Bit k: 13 or more digits from `base + k` on, or 5-6 followed by a byte and a
    /// digit (few of either in logs: they take the slower path in `next`).
    rare: u64,
    /// A start inside a run, after [`Candidates::skip_to`].
    forced: Option<usize>,
}

/// How far the window moves: 64 bits minus the 12 that a 13-digit run needs past its start.
const STEP: usize = 52;

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
    fn is_short_start(&self, s: usize, e: usize) -> bool {
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

    fn is_long_start(&self, s: usize, e: usize) -> bool {
        e - s >= MIN_LEN && matches!(self.b.get(s), Some(b'2'..=b'6'))
    }

    /// Reads the window at `base`; `carry`: what the bytes before it leave.
    #[inline(always)]
    fn load(&mut self, base: usize, carry: Before) {
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
fn bits_at(b: &[u8], at: usize, kernel: impl Kernel) -> Classes {
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
struct Before(u64);

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

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    //! The finder against plain loops over the same bytes: the reference for what it
    //! returns, with each kernel's byte classes written out.

    use super::*;
    use crate::mask::tests::cards::Rng;
    use crate::simd::digit_bits_swar;
    #[cfg(target_arch = "x86_64")]
    use crate::simd::digit_letter_bits;

    #[test]
    fn swar_scans_match_plain_loops() {
        let mut rng = Rng(7);
        let alphabet = b"ab/:0123456789 - \xff\x80\x39\x3a\x2f\x30=\\t\".,cvErV]>'\t_edn";
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
            candidates_match_plain_loops(&bytes, Baseline, &BASELINE_CLASSES);
            #[cfg(target_arch = "x86_64")]
            if let Some(avx2) = crate::simd::Avx2::detect() {
                candidates_match_plain_loops(&bytes, avx2, &AVX2_CLASSES);
            }
        }
    }

    /// A kernel's classes (`crate::simd::Classes`) byte by byte, for plain loops.
    struct ClassModel {
        key_end: fn(u8) -> bool,
        sep: fn(u8) -> bool,
        skip: fn(u8) -> bool,
        group_sep: fn(u8) -> bool,
    }

    const BASELINE_CLASSES: ClassModel = ClassModel {
        key_end: |_| true,
        sep: |_| true,
        skip: |_| false,
        group_sep: |c| !c.is_ascii_digit(),
    };

    #[cfg(target_arch = "x86_64")]
    const AVX2_CLASSES: ClassModel = ClassModel {
        key_end: crate::simd::class_spec::key_end,
        sep: crate::simd::class_spec::sep,
        skip: crate::simd::class_spec::skip,
        group_sep: crate::simd::class_spec::group_sep,
    };

    /// The candidates `kernel` gives on `bytes`, from its start and from anywhere
    /// (`skip_to`), against plain loops; `classes`: the kernel's classes.
    fn candidates_match_plain_loops(bytes: &[u8], kernel: impl Kernel, classes: &ClassModel) {
        let len = bytes.len();
        {
            let is_digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
            let run = |s: usize| (s..).take_while(|&i| is_digit(i)).count();
            // Whether a key's end, `skip` bytes, a separator and `skip` bytes lead to `s`,
            // the search having started at `from`: a start forced by `skip_to` takes both to
            // lead there; nothing leads to the text's start (`Before::START`).
            let after_key_sep = |from: usize, s: usize| {
                let back = |mut i: usize| {
                    while i > from && (classes.skip)(bytes[i - 1]) {
                        i -= 1;
                    }
                    i
                };
                let i = back(s);
                if i == from {
                    return from > 0;
                }
                if !(classes.sep)(bytes[i - 1]) {
                    return false;
                }
                let i = back(i - 1);
                if i == from {
                    return from > 0;
                }
                (classes.key_end)(bytes[i - 1])
            };
            // The candidates from `from` on, `from` counting as a start.
            let want_from = |from: usize| -> Vec<(usize, usize)> {
                (from..len)
                    .filter(|&s| (s == from || !is_digit(s - 1)) && is_digit(s))
                    .map(|s| (s, s + run(s)))
                    .filter(|&(s, e)| {
                        let first_ok = (b'2'..=b'6').contains(&bytes[s]);
                        let sep_after =
                            bytes.get(e).is_some_and(|&c| is_group_sep(c)) && is_digit(e + 1);
                        let glued = bytes.get(e).is_some_and(u8::is_ascii_alphabetic);
                        let group = bytes.get(e).is_some_and(|&c| (classes.group_sep)(c))
                            && (e + 1..e + 4).all(is_digit);
                        (matches!(e - s, 3 | 4) && !glued && (after_key_sep(from, s) || group))
                            || (matches!(e - s, 5 | 6) && first_ok && sep_after)
                            || (e - s >= 13 && first_ok)
                    })
                    .collect()
            };
            let mut it = Candidates::with_kernel(bytes, kernel);
            let got: Vec<_> = std::iter::from_fn(|| it.next()).collect();
            assert_eq!(got, want_from(0), "{bytes:?}");
            // Track data makes the search jump on from a candidate's end or past it.
            for (i, &(_, e)) in got.iter().enumerate() {
                let to = e + i * 7 % 70;
                let mut it = Candidates::with_kernel(bytes, kernel);
                for _ in 0..=i {
                    it.next();
                }
                it.skip_to(to);
                let rest: Vec<_> = std::iter::from_fn(|| it.next()).collect();
                assert_eq!(rest, want_from(to), "{bytes:?} to {to}");
            }
            for from in 0..=len + 1 {
                let mut it = Candidates::with_kernel(bytes, kernel);
                it.skip_to(from);
                let got: Vec<_> = std::iter::from_fn(|| it.next()).collect();
                assert_eq!(got, want_from(from), "{bytes:?} from {from}");
                let end = from
                    + bytes
                        .get(from..)
                        .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
                assert_eq!(run_end(bytes, from), end, "{bytes:?} from {from}");
            }
            let mut padded = [0u8; 64];
            for (slot, &c) in padded.iter_mut().zip(bytes) {
                *slot = c;
            }
            let bits = |class: fn(&u8) -> bool| {
                (0..64).fold(0u64, |acc, i| acc | u64::from(class(&padded[i])) << i)
            };
            let want = (bits(u8::is_ascii_digit), bits(u8::is_ascii_alphabetic));
            #[cfg(target_arch = "x86_64")]
            assert_eq!(digit_letter_bits(&padded), want, "{padded:?}");
            assert_eq!(digit_bits_swar(&padded), want.0, "{padded:?}");
        }
    }
}
