//! Every byte-class kernel of the crate, and all of their `unsafe`, in one
//! file to audit.
//!
//! Two questions are asked of bytes on the hot path, many times per log event:
//! - which bytes end a plain JSON string run (`"`, `\` or a control character
//!   below 0x20), asked by the document scan and by the JSON string writer;
//! - which bytes are ASCII digits (and, on x86_64, which are letters; with AVX2
//!   also the bytes around a security code's key and between a card number's
//!   groups, see [`Classes`]), asked by the card-number masker.
//!
//! Each has an SSE2 kernel on x86_64 (SSE2 is in that architecture's baseline,
//! so no runtime detection is needed; the digits also have an AVX2 one, used where
//! the CPU has it) and a portable SWAR one (arm64, where the
//! Lambda runs, and everything else). The SWAR kernels are compiled and tested
//! on every target, so x86_64 CI checks the code arm64 runs.
//!
//! The bit tricks, written once: `x ^ splat(c)` has a zero byte where a byte is
//! `c`; `(x & LOW7) + LOW7` sets bit 7 of each byte whose low seven bits are not
//! zero, with no carry across bytes (exact at every position: `zero_bytes`); `x - LO & !x & HI`
//! finds the lowest zero byte exactly (borrows run upwards, so only the lowest
//! flag is exact, which is all a "first match" needs).

/// 0x01 in every byte.
pub(crate) const LO: u64 = 0x0101_0101_0101_0101;
/// 0x80 in every byte.
pub(crate) const HI: u64 = 0x8080_8080_8080_8080;
/// 0x7f in every byte.
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
/// Multiplying `(flags >> 7)` by this gathers bit 7 of byte k into bit 56 + k.
const GATHER: u64 = 0x0102_0408_1020_4080;

/// `c` in every byte.
const fn splat(c: u8) -> u64 {
    LO * c as u64
}

/// Bit 7 of each byte of `x` that is zero, exactly per byte (no carry crosses a byte).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
const fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7) + LOW7) | x) & HI
}

fn word(chunk: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(chunk).ok().map(u64::from_le_bytes)
}

// ----------------------------------------------------------- JSON specials

/// Bit 7 set in the lowest byte of `w` that is `"`, `\` or below 0x20 (and
/// maybe in bytes above it): exact for the first match only.
#[inline(always)]
fn json_special_flags(w: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let below_space = w.wrapping_sub(splat(0x20)) & !w & HI;
    below_space | zero(w ^ splat(b'"')) | zero(w ^ splat(b'\\'))
}

/// Whether any byte of `w` is `"`, `\` or below 0x20 (bytes >= 0x80 never are).
#[inline(always)]
pub(crate) fn word_has_json_special(w: u64) -> bool {
    json_special_flags(w) != 0
}

/// The first byte at or after `from` that ends a run of plain JSON string
/// bytes: `"`, `\` or a control character.
#[inline]
pub(crate) fn find_json_special(b: &[u8], from: usize) -> Option<usize> {
    let rest = b.get(from..)?;
    let mut at = from;
    let mut blocks = rest.chunks_exact(16);
    for block in &mut blocks {
        let hits = json_specials16(block);
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize);
        }
        at += 16;
    }
    let mut words = blocks.remainder().chunks_exact(8);
    for chunk in &mut words {
        let hits = word(chunk).map_or(0, json_special_flags);
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}

/// [`find_json_special`] for many searches forward through one text: the
/// last 16-byte block searched is kept (its start and one bit per special
/// byte), so JSON inside a message, which escapes every few bytes, costs a
/// bit test per escape instead of a new search.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SpecialSearch {
    block: Option<(usize, u32)>,
}

impl SpecialSearch {
    /// The first special byte of `b` at or after `from`; `b` must be the same
    /// text on every call. Always inlined: it is the inner loop of the scan.
    #[inline(always)]
    pub(crate) fn next(&mut self, b: &[u8], mut from: usize) -> Option<usize> {
        if let Some((start, hits)) = self.block {
            let offset = from.wrapping_sub(start);
            if offset < 16 {
                let left = hits & (u32::MAX << offset);
                if left != 0 {
                    return Some(start + left.trailing_zeros() as usize);
                }
                from = start + 16;
            }
        }
        while let Some(block) = b.get(from..from + 16) {
            let hits = json_specials16(block);
            if hits != 0 {
                self.block = Some((from, hits));
                return Some(from + hits.trailing_zeros() as usize);
            }
            from += 16;
        }
        find_json_special(b, from)
    }
}

/// One bit per special byte (`"`, `\`, below 0x20) of a 16-byte block
/// (SSE2, which every x86_64 has); 0 for a shorter slice.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn json_specials16(block: &[u8]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    if block.len() < 16 {
        return 0;
    }
    // SAFETY: SSE2 is in the x86_64 baseline, and `block` has 16 readable
    // bytes (checked above); the load is unaligned.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // v <= 0x1f (unsigned) exactly when max(v, 0x1f) == 0x1f.
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// [`json_specials16`] portably: arm64 (Graviton) and everything but x86_64.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn json_specials16(block: &[u8]) -> u32 {
    json_specials16_swar(block)
}

/// [`json_specials16`] from two 8-byte words, exact at every position.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
pub(crate) fn json_specials16_swar(block: &[u8]) -> u32 {
    match (block.get(..8), block.get(8..16)) {
        (Some(a), Some(b)) => json_specials8(a) | json_specials8(b) << 8,
        _ => 0,
    }
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn json_specials8(chunk: &[u8]) -> u32 {
    let Some(w) = word(chunk) else {
        return 0;
    };
    let below_space = !(((w & LOW7) + splat(0x60)) | w) & HI;
    let hits = below_space | zero_bytes(w ^ splat(b'"')) | zero_bytes(w ^ splat(b'\\'));
    ((hits >> 7).wrapping_mul(GATHER) >> 56) as u32
}

/// Whether every backslash of `b` is followed by a quote: in a JSON string body, that
/// its only escapes are `\"`.
pub(crate) fn only_quotes_escaped(b: &[u8]) -> bool {
    let mut i = 0;
    while let Some(pair) = b.get(i..i + BACKSLASH_BLOCK + 1) {
        if lone_backslashes(pair) {
            return false;
        }
        i += BACKSLASH_BLOCK;
    }
    let tail = b.get(i..).unwrap_or_default();
    !tail
        .iter()
        .enumerate()
        .any(|(k, &c)| c == b'\\' && tail.get(k + 1) != Some(&b'"'))
}

/// The bytes [`lone_backslashes`] judges at a time (it reads one more).
#[cfg(target_arch = "x86_64")]
const BACKSLASH_BLOCK: usize = 16;
#[cfg(not(target_arch = "x86_64"))]
const BACKSLASH_BLOCK: usize = 8;

/// Whether one of the first [`BACKSLASH_BLOCK`] bytes of `pair` (which holds one more)
/// is a backslash not followed by a quote; SSE2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lone_backslashes(pair: &[u8]) -> bool {
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_set1_epi8,
    };
    if pair.len() < BACKSLASH_BLOCK + 1 {
        return false;
    }
    // SAFETY: SSE2 is in the x86_64 baseline; `pair` has 17 readable bytes (checked
    // above), so the loads from offsets 0 and 1 are in bounds; they are unaligned.
    unsafe {
        let v = _mm_loadu_si128(pair.as_ptr().cast::<__m128i>());
        let next = _mm_loadu_si128(pair.as_ptr().add(1).cast::<__m128i>());
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let quote = _mm_cmpeq_epi8(next, _mm_set1_epi8(b'"' as i8));
        _mm_movemask_epi8(_mm_andnot_si128(quote, backslash)) != 0
    }
}

/// [`lone_backslashes`] eight bytes at a time: arm64 (Graviton) and everything else.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn lone_backslashes(pair: &[u8]) -> bool {
    lone_backslashes8(pair)
}

/// Whether one of the first 8 bytes of `pair` is a backslash not followed by a quote
/// (exact per byte; a shorter slice: none).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn lone_backslashes8(pair: &[u8]) -> bool {
    let (Some(v), Some(next)) = (pair.get(..8).and_then(word), pair.get(1..9).and_then(word))
    else {
        return false;
    };
    zero_bytes(v ^ splat(b'\\')) & !zero_bytes(next ^ splat(b'"')) != 0
}

// ----------------------------------------------------------------- digits

/// Bit k of `digits` (of `letters`): byte k of a 64-byte block is an ASCII
/// digit (an ASCII letter). SSE2, which every x86_64 has; see [`digit_bits_swar`]
/// for every other target.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn digit_letter_bits(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let (mut digits, mut letters) = (0u64, 0u64);
    for (n, chunk) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is in the x86_64 baseline, and `chunk` has 16 readable bytes
        // (`chunks_exact`); the load is unaligned.
        let (d, l) = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            // '0'..='9' land on -128..=-119, the only bytes below -118 as signed.
            let shifted = _mm_add_epi8(v, _mm_set1_epi8(0x50));
            let d = _mm_movemask_epi8(_mm_cmplt_epi8(shifted, _mm_set1_epi8(-118)));
            // With bit 5 set, 'A'..='Z' are 'a'..='z', which land on -128..=-103.
            let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let shifted = _mm_add_epi8(lower, _mm_set1_epi8(0x1f));
            let l = _mm_movemask_epi8(_mm_cmplt_epi8(shifted, _mm_set1_epi8(-102)));
            (d, l)
        };
        digits |= u64::from(d as u16) << (16 * n);
        letters |= u64::from(l as u16) << (16 * n);
    }
    (digits, letters)
}

/// Proof that this CPU has AVX2: the only way to reach its kernel (`classes_avx2`).
/// Every x86_64 that AWS Lambda runs on has it; SSE2 is what x86_64 guarantees.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    /// `Some` where the CPU has AVX2, and BMI1 and BMI2 for the bit work around it (every
    /// AVX2 CPU has both; std asks once and caches the answers).
    #[inline]
    pub(crate) fn detect() -> Option<Self> {
        (std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("bmi1")
            && std::is_x86_feature_detected!("bmi2"))
        .then_some(Avx2(()))
    }

    /// Runs `work` compiled for AVX2 as a whole, so that the kernel is inlined into it.
    #[inline]
    pub(crate) fn run<W: WithAvx2>(self, work: W) -> W::Output {
        // SAFETY: `self` exists only where `detect` found AVX2.
        unsafe { run_avx2(self, work) }
    }

    /// The [`Classes`] of a 64-byte block, 32 bytes at a time.
    #[inline(always)]
    pub(crate) fn classes(self, block: &[u8; 64]) -> Classes {
        // SAFETY: `self` exists only where `detect` found AVX2.
        unsafe { classes_avx2(block) }
    }
}

/// Work that uses [`Avx2`]'s kernel, for [`Avx2::run`]; `run` must be
/// `#[inline(always)]`, or it is compiled without AVX2 and the kernel is a call.
#[cfg(target_arch = "x86_64")]
pub(crate) trait WithAvx2 {
    type Output;
    fn run(self, avx2: Avx2) -> Self::Output;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2")]
fn run_avx2<W: WithAvx2>(avx2: Avx2, work: W) -> W::Output {
    work.run(avx2)
}

/// What [`Avx2::classes`] tells of each byte of a block, one bit per byte. Beyond
/// digits and letters, the classes of the bytes around a card security code's key
/// (`mask::cvv`), each a superset of what the masker accepts there (checked in its tests),
/// so that a digit run no key can precede is passed over in the window. (A kernel that
/// does not tell them marks every byte in `key_end` and `sep`, none in `skip`, and every
/// non-digit in `group_sep`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Classes {
    pub(crate) digits: u64,
    pub(crate) letters: u64,
    /// `v 2 c n d e r`, either case: how a security code's key ends.
    pub(crate) key_end: u64,
    /// `:`, `=`, `>`: between a key and its value.
    pub(crate) sep: u64,
    /// Space, tab, `"`, `'`, `\`, `]` and `t` (the escape `\t` of a JSON body): what may
    /// stand between a key, its separator and its value.
    pub(crate) skip: u64,
    /// Space and `-`: what joins the groups of a card number.
    pub(crate) group_sep: u64,
}

impl Classes {
    /// Bytes past a text's end: in no class.
    pub(crate) const NONE: Classes = Classes {
        digits: 0,
        letters: 0,
        key_end: 0,
        sep: 0,
        skip: 0,
        group_sep: 0,
    };

    /// The classes from byte `n` of the block on (bytes past its end in none).
    #[inline(always)]
    pub(crate) fn shifted(self, n: usize) -> Classes {
        Classes {
            digits: self.digits >> n,
            letters: self.letters >> n,
            key_end: self.key_end >> n,
            sep: self.sep >> n,
            skip: self.skip >> n,
            group_sep: self.group_sep >> n,
        }
    }
}

/// What each class of [`Classes`] holds, byte by byte, for the tests.
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) mod class_spec {
    pub(crate) fn key_end(c: u8) -> bool {
        matches!(
            c.to_ascii_lowercase(),
            b'v' | b'2' | b'c' | b'n' | b'd' | b'e' | b'r'
        )
    }
    pub(crate) fn sep(c: u8) -> bool {
        matches!(c, b':' | b'=' | b'>')
    }
    pub(crate) fn skip(c: u8) -> bool {
        matches!(c, b' ' | b'\t' | b'"' | b'\'' | b'\\' | b']' | b't')
    }
    pub(crate) fn group_sep(c: u8) -> bool {
        matches!(c, b' ' | b'-')
    }
}

/// The products "high nibble in H, low nibble in L" that make up [`Classes`], one bit
/// of a `vpshufb` table pair each, so that two lookups and an AND classify 32 bytes:
/// `(table, bit, high nibbles, low nibbles)`, nibbles as 16-bit sets. Bytes from 0x80
/// are in none (every high entry from 8 on is zero).
#[cfg(target_arch = "x86_64")]
const CLASS_PRODUCTS: [(usize, u8, u16, u16); 12] = [
    // Table 0: digits in bit 7 (which `vpmovmskb` reads), letters, key ends, separators,
    // group separators.
    (0, 0x80, 1 << 3, 0x03ff),            // 0-9
    (0, 0x40, 1 << 4 | 1 << 6, 0xfffe),   // A-O, a-o
    (0, 0x20, 1 << 5 | 1 << 7, 0x07ff),   // P-Z, p-z
    (0, 0x10, 1 << 4 | 1 << 6, 0x4038),   // C D E N, c d e n
    (0, 0x08, 1 << 5 | 1 << 7, 0x0044),   // R V, r v
    (0, 0x04, 1 << 3, 1 << 2),            // 2
    (0, 0x02, 1 << 3, 1 << 0xa | 0x6000), // : = >
    (0, 0x01, 1 << 2, 1 | 1 << 0xd),      // space -
    // Table 1: what may stand between a key, its separator and its value.
    (1, 0x08, 1 << 2, 1 | 1 << 2 | 1 << 7), // space " '
    (1, 0x04, 1, 1 << 9),                   // tab
    (1, 0x02, 1 << 5, 1 << 0xc | 1 << 0xd), // \ ]
    (1, 0x01, 1 << 7, 1 << 4),              // t
];

/// Bits of the tables by class: letters and key ends in table 0, `skip` in table 1.
#[cfg(target_arch = "x86_64")]
const LETTER_BITS: u8 = 0x60;
#[cfg(target_arch = "x86_64")]
const KEY_END_BITS: u8 = 0x1c;
#[cfg(target_arch = "x86_64")]
const SKIP_BITS: u8 = 0x0f;

/// Table `table` of [`CLASS_PRODUCTS`], by high (`high`) or low nibble, in both 16-byte
/// lanes.
#[cfg(target_arch = "x86_64")]
// Evaluated at compile time: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
const fn class_table(table: usize, high: bool) -> [u8; 32] {
    let mut t = [0u8; 32];
    let mut n = 0;
    while n < 16 {
        let mut p = 0;
        while p < CLASS_PRODUCTS.len() {
            let (of, bit, highs, lows) = CLASS_PRODUCTS[p];
            if of == table && (if high { highs } else { lows }) >> n & 1 == 1 {
                t[n] |= bit;
                t[n + 16] |= bit;
            }
            p += 1;
        }
        n += 1;
    }
    t
}

#[cfg(target_arch = "x86_64")]
static CLASS_TABLES: [[u8; 32]; 4] = [
    class_table(0, true),
    class_table(0, false),
    class_table(1, true),
    class_table(1, false),
];

/// [`Avx2::classes`]' kernel.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn classes_avx2(block: &[u8; 64]) -> Classes {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi8, _mm256_and_si256, _mm256_loadu_si256, _mm256_movemask_epi8,
        _mm256_set1_epi8, _mm256_shuffle_epi8, _mm256_slli_epi16, _mm256_srli_epi16,
    };
    // SAFETY: each table is 32 readable bytes; the loads are unaligned.
    let [high0, low0, high1, low1] =
        CLASS_TABLES.map(|t| unsafe { _mm256_loadu_si256(t.as_ptr().cast::<__m256i>()) });
    // Bit 7 of `(bits & class) + 0x7f` (the `LOW7` trick above, per byte): whether any
    // of the class's bits is set, for a class within bits 0-6.
    let any = |bits: __m256i, class: u8| {
        let sum = _mm256_add_epi8(
            _mm256_and_si256(bits, _mm256_set1_epi8(class as i8)),
            _mm256_set1_epi8(0x7f),
        );
        _mm256_movemask_epi8(sum) as u32
    };
    let mut c = Classes::NONE;
    for (n, chunk) in block.chunks_exact(32).enumerate() {
        // SAFETY: `chunk` has 32 readable bytes (`chunks_exact`); the load is unaligned.
        let v = unsafe { _mm256_loadu_si256(chunk.as_ptr().cast::<__m256i>()) };
        // `vpshufb` reads the low nibble, and gives 0 for an index with bit 7 set.
        let high = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f));
        let t0 = _mm256_and_si256(
            _mm256_shuffle_epi8(high0, high),
            _mm256_shuffle_epi8(low0, v),
        );
        let t1 = _mm256_and_si256(
            _mm256_shuffle_epi8(high1, high),
            _mm256_shuffle_epi8(low1, v),
        );
        let at = 32 * n;
        c.digits |= u64::from(_mm256_movemask_epi8(t0) as u32) << at;
        c.letters |= u64::from(any(t0, LETTER_BITS)) << at;
        c.key_end |= u64::from(any(t0, KEY_END_BITS)) << at;
        // A single bit k is moved to bit 7 by a 16-bit shift left by 7 - k (no bit of
        // the low byte reaches bit 15).
        c.sep |= u64::from(_mm256_movemask_epi8(_mm256_slli_epi16(t0, 6)) as u32) << at;
        c.group_sep |= u64::from(_mm256_movemask_epi8(_mm256_slli_epi16(t0, 7)) as u32) << at;
        c.skip |= u64::from(any(t1, SKIP_BITS)) << at;
    }
    c
}

/// One bit per ASCII digit of a 64-byte block, eight bytes at a time, exact at every
/// position: arm64 (Graviton, where the Lambda runs) and everything but x86_64. Letters
/// are not classified here: in SWAR they would cost more than the masker saves with them
/// (see `mask::digits`).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
pub(crate) fn digit_bits_swar(block: &[u8; 64]) -> u64 {
    let mut bits = 0u64;
    for (n, chunk) in block.chunks_exact(8).enumerate() {
        let Some(w) = word(chunk) else {
            continue;
        };
        // Digits map to 0..=9. A byte is one when neither its own high bit nor that of
        // its low seven bits plus 118 is set; no sum carries into the next byte.
        let x = w ^ splat(b'0');
        let y = (x & !HI) + splat(118);
        let flags = !(x | y) & HI;
        bits |= ((flags >> 7).wrapping_mul(GATHER) >> 56) << (8 * n);
    }
    bits
}

/// The index of the first byte of `chunk` (8 bytes) that is not an ASCII
/// digit, or `None` when all eight are digits.
#[inline]
pub(crate) fn first_non_digit8(chunk: &[u8]) -> Option<usize> {
    let w = word(chunk)?;
    // Digits map to 0..=9; adding 118 sets the high bit of exactly the bytes above 9
    // (bytes >= 128 are flagged by the OR). Carries only run upwards, so the lowest
    // flag is exact.
    let x = w ^ splat(b'0');
    let found = (x.wrapping_add(splat(118)) | x) & HI;
    (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
}

// -------------------------------------------------------------- redaction

/// How many bytes before and after a block [`redact_marks16`]'s kernels read.
const MARK_BEFORE: usize = 4;
const MARK_AFTER: usize = 2;

/// Whether redaction's byte pass stops at byte `i` of `b` (the marks of
/// [`redact_marks16`], one byte at a time), where a detector's value may start or a
/// key's separator stands:
/// - the last digit of a run of 1-3 before `.` and a digit (an IPv4 octet);
/// - the last digit of a run of 4 before a space or `-` (a My Number's group);
/// - a `0` after no digit and before `1`-`9` (a Japanese phone number);
/// - `@`, `+`, `:`, `=`, and 0xEF (a full-width colon's first byte).
///
/// (The rule the kernels are tested against.)
#[cfg(test)]
pub(crate) fn redact_mark(b: &[u8], i: usize) -> bool {
    let at = |k: isize| i.checked_add_signed(k).and_then(|j| b.get(j)).copied();
    let digit = |k: isize| at(k).is_some_and(|c| c.is_ascii_digit());
    let Some(c) = at(0) else {
        return false;
    };
    let run_of_4 = digit(-1) && digit(-2) && digit(-3);
    (c.is_ascii_digit() && at(1) == Some(b'.') && digit(2) && !run_of_4)
        || (c.is_ascii_digit() && matches!(at(1), Some(b' ' | b'-')) && run_of_4 && !digit(-4))
        || (c == b'0' && !digit(-1) && matches!(at(1), Some(b'1'..=b'9')))
        || matches!(c, b'@' | b'+' | b':' | b'=' | 0xEF)
}

/// One bit per byte of `b[at..at + 16]` where `redact_mark` (the tests' rule) holds (bytes past the
/// end: none). A kernel reads the block with the bytes around it, copied beside zeros
/// at the text's edges.
#[inline(always)]
pub(crate) fn redact_marks16(b: &[u8], at: usize) -> u32 {
    let window = at
        .checked_sub(MARK_BEFORE)
        .and_then(|s| b.get(s..at + 16 + MARK_AFTER));
    if let Some(window) = window {
        return redact_marks_kernel(window);
    }
    // At an edge: the bytes there are, with zeros around (a zero is in no class, as a
    // byte past the text is in none).
    let mut padded = [0u8; MARK_BEFORE + 16 + MARK_AFTER];
    let from = at.saturating_sub(MARK_BEFORE);
    let bytes = b
        .get(from..(at + 16 + MARK_AFTER).min(b.len()))
        .unwrap_or_default();
    let offset = MARK_BEFORE - (at - from);
    // One copy (every text starts and ends with such a block).
    if let Some(slots) = padded.get_mut(offset..offset + bytes.len()) {
        slots.copy_from_slice(bytes);
    }
    redact_marks_kernel(&padded)
}

/// [`redact_marks16`] for the 32 bytes from `at` (bit k for byte `at + k`).
#[inline(always)]
pub(crate) fn redact_marks32(b: &[u8], at: usize) -> u32 {
    let window = at
        .checked_sub(MARK_BEFORE)
        .and_then(|s| b.get(s..at + 32 + MARK_AFTER));
    match window {
        Some(w) => {
            redact_marks_kernel(w) | redact_marks_kernel(w.get(16..).unwrap_or_default()) << 16
        }
        None => redact_marks16(b, at) | redact_marks16(b, at + 16) << 16,
    }
}

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    /// [`redact_marks32`] by one 32-byte kernel (the same bits).
    #[inline(always)]
    pub(crate) fn redact_marks32(self, b: &[u8], at: usize) -> u32 {
        let window = at
            .checked_sub(MARK_BEFORE)
            .and_then(|s| b.get(s..at + 32 + MARK_AFTER))
            .and_then(|w| w.try_into().ok());
        match window {
            // SAFETY: `self` exists only where `detect` found AVX2.
            Some(w) => unsafe { redact_marks_avx2(w) },
            None => redact_marks32(b, at),
        }
    }
}

/// The marks' formula on vectors, written once for the SSE2 and AVX2 kernels: `$load(o)`
/// is the vector at offset `o` of the window (the block at `MARK_BEFORE`), the other
/// arguments that width's vector type and intrinsics.
#[cfg(target_arch = "x86_64")]
macro_rules! redact_marks_formula {
    ($load:expr, $vec:ty, $set1:ident, $eq:ident, $gt:ident, $add:ident, $and:ident,
     $or:ident, $andnot:ident, $movemask:ident) => {{
        let load = $load;
        let eq = |x: $vec, c: u8| $eq(x, $set1(c as i8));
        // '0'..='9' land on -128..=-119, the only bytes below -118 as signed.
        let digit = |o: usize| $gt($set1(-118), $add(load(o), $set1(0x50)));
        let v = load(MARK_BEFORE);
        let next = load(MARK_BEFORE + 1);
        let d = digit(MARK_BEFORE);
        let d1 = digit(MARK_BEFORE - 1);
        let run_of_4 = $and($and(d1, digit(1)), digit(2));
        let octet = $andnot(
            run_of_4,
            $and($and(d, eq(next, b'.')), digit(MARK_BEFORE + 2)),
        );
        let group = $andnot(
            digit(0),
            $and($and(d, $or(eq(next, b' '), eq(next, b'-'))), run_of_4),
        );
        // A digit after it that is not `0`: a digit, and not `0`.
        let lead_zero = $andnot(
            $or(d1, eq(next, b'0')),
            $and(eq(v, b'0'), digit(MARK_BEFORE + 1)),
        );
        let single = $or(
            $or($or(eq(v, b'@'), eq(v, b'+')), $or(eq(v, b':'), eq(v, b'='))),
            eq(v, 0xEF),
        );
        $movemask($or($or(octet, group), $or(lead_zero, single))) as u32
    }};
}

/// [`Avx2::redact_marks32`]'s kernel: [`redact_marks_kernel`]'s, 32 bytes wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn redact_marks_avx2(window: &[u8; MARK_BEFORE + 32 + MARK_AFTER]) -> u32 {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi8, _mm256_and_si256, _mm256_andnot_si256, _mm256_cmpeq_epi8,
        _mm256_cmpgt_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    // SAFETY: `window` has 38 bytes, so each 32-byte load from offsets 0 to 6 is in
    // bounds; the loads are unaligned.
    unsafe {
        redact_marks_formula!(
            |o: usize| _mm256_loadu_si256(window.as_ptr().add(o).cast::<__m256i>()),
            __m256i,
            _mm256_set1_epi8,
            _mm256_cmpeq_epi8,
            _mm256_cmpgt_epi8,
            _mm256_add_epi8,
            _mm256_and_si256,
            _mm256_or_si256,
            _mm256_andnot_si256,
            _mm256_movemask_epi8
        )
    }
}

/// [`redact_marks16`]'s kernel on the block and the bytes around it (22 bytes); SSE2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn redact_marks_kernel(window: &[u8]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_and_si128, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8,
        _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    if window.len() < MARK_BEFORE + 16 + MARK_AFTER {
        return redact_marks_swar(window);
    }
    // SAFETY: SSE2 is in the x86_64 baseline; `window` has 22 readable bytes (checked
    // above), so each 16-byte load from offsets 0 to 6 is in bounds; the loads are
    // unaligned.
    unsafe {
        redact_marks_formula!(
            |o: usize| _mm_loadu_si128(window.as_ptr().add(o).cast::<__m128i>()),
            __m128i,
            _mm_set1_epi8,
            _mm_cmpeq_epi8,
            _mm_cmpgt_epi8,
            _mm_add_epi8,
            _mm_and_si128,
            _mm_or_si128,
            _mm_andnot_si128,
            _mm_movemask_epi8
        )
    }
}

/// [`redact_marks16`]'s kernel portably: arm64 (Graviton) and everything but x86_64.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn redact_marks_kernel(window: &[u8]) -> u32 {
    redact_marks_swar(window)
}

/// The kernel eight bytes at a time, exact at every position (a shorter window: none).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
pub(crate) fn redact_marks_swar(window: &[u8]) -> u32 {
    let half = |o: usize| {
        let mut w = [0u64; MARK_BEFORE + 1 + MARK_AFTER];
        for (k, slot) in w.iter_mut().enumerate() {
            match window.get(o + k..o + k + 8).and_then(word) {
                Some(x) => *slot = x,
                None => return 0,
            }
        }
        redact_marks8(&w)
    };
    half(0) | half(8) << 8
}

/// Eight bytes' marks from the words at offsets -4 to +2 around them.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn redact_marks8(w: &[u64; MARK_BEFORE + 1 + MARK_AFTER]) -> u32 {
    let eq = |x: u64, c: u8| zero_bytes(x ^ splat(c));
    // Digits map to 0..=9; adding 118 to the low seven bits sets bit 7 above 9.
    let digit = |x: u64| {
        let x = x ^ splat(b'0');
        !(x | ((x & !HI) + splat(118))) & HI
    };
    let [p4, p3, p2, p1, v, n1, n2] = *w;
    let d = digit(v);
    let run_of_4 = digit(p1) & digit(p2) & digit(p3);
    let octet = d & eq(n1, b'.') & digit(n2) & !run_of_4;
    let group = d & (eq(n1, b' ') | eq(n1, b'-')) & run_of_4 & !digit(p4);
    let lead_zero = eq(v, b'0') & !digit(p1) & digit(n1) & !eq(n1, b'0');
    let flags = octet
        | group
        | lead_zero
        | eq(v, b'@')
        | eq(v, b'+')
        | eq(v, b':')
        | eq(v, b'=')
        | eq(v, 0xEF);
    ((flags >> 7).wrapping_mul(GATHER) >> 56) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn only_quotes_escaped_is_exact() {
        let rule = |b: &[u8]| {
            b.iter()
                .enumerate()
                .all(|(k, &c)| c != b'\\' || b.get(k + 1) == Some(&b'"'))
        };
        let bytes = [b'\\', b'"', b'a', 0x5d, 0xdc];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let len = (xorshift(&mut state) % 48) as usize;
            // Mostly `\"` pairs, as a JSON line inside a message has them.
            let mut b = Vec::with_capacity(len + 1);
            while b.len() < len {
                match xorshift(&mut state) % 4 {
                    0 => b.extend_from_slice(b"\\\""),
                    _ => b.push(bytes[(xorshift(&mut state) % bytes.len() as u64) as usize]),
                }
            }
            assert_eq!(only_quotes_escaped(&b), rule(&b), "{b:?}");
            // The portable kernel, on every window (x86_64 runs the SSE2 one above).
            for k in 0..b.len() {
                let pair: Vec<u8> = b.iter().skip(k).take(9).copied().collect();
                if pair.len() == 9 {
                    let lone = (0..8).any(|j| pair[j] == b'\\' && pair[j + 1] != b'"');
                    assert_eq!(lone_backslashes8(&pair), lone, "{pair:?}");
                }
            }
        }
    }

    #[test]
    fn json_block_masks_are_exact() {
        let special = |c: u8| c == b'"' || c == b'\\' || c < 0x20;
        let bytes = [
            0u8, 1, 0x1f, 0x20, 0x21, b'"', b'\\', b'a', 0x7f, 0x80, 0x9f, 0xa0, 0xdc, 0xff,
        ];
        let mut state = 0x853c_49e6_748f_ea9bu64;
        for _ in 0..20_000 {
            let mut block = [0u8; 16];
            for b in &mut block {
                *b = bytes[(xorshift(&mut state) % bytes.len() as u64) as usize];
            }
            let expected = block
                .iter()
                .enumerate()
                .filter(|(_, &c)| special(c))
                .fold(0u32, |m, (i, _)| m | 1 << i);
            assert_eq!(json_specials16_swar(&block), expected, "{block:?}");
            assert_eq!(json_specials16(&block), expected, "{block:?}");
            let words = [&block[..8], &block[8..]];
            for w in words {
                let has = w.iter().any(|&c| special(c));
                assert_eq!(word_has_json_special(word(w).unwrap()), has, "{w:?}");
            }
        }
    }

    #[test]
    fn find_json_special_is_exact_at_every_position() {
        // Past 16 + 8 bytes, so SIMD blocks, SWAR words and the tail all run.
        for len in 0..44 {
            for pos in 0..len {
                for special in [b'"', b'\\', b'\n', 0u8, 0x1f] {
                    let mut v = vec![b'a'; len];
                    v[pos] = special;
                    // Bytes that look special to a sloppy test sit after it.
                    if pos + 1 < len {
                        v[pos + 1] = 0x80;
                    }
                    for from in [0, pos / 2, pos] {
                        assert_eq!(find_json_special(&v, from), Some(pos));
                    }
                    assert_eq!(find_json_special(&v, pos + 1), None);
                }
            }
            let clean: Vec<u8> = (0..len)
                .map(|i| [b'a', 0x20, 0x7f, 0x80, 0xff, b'!', b'#'][i % 7])
                .collect();
            assert_eq!(find_json_special(&clean, 0), None);
        }
    }

    /// The AVX2 tables, at every byte value and every position of a block.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_classes_every_byte() {
        let Some(avx2) = Avx2::detect() else {
            return;
        };
        for rotate in 0..64 {
            for quarter in 0..4u8 {
                let mut block = [0u8; 64];
                for (i, b) in block.iter_mut().enumerate() {
                    *b = quarter * 64 + ((i + rotate) % 64) as u8;
                }
                let bits = |class: fn(u8) -> bool| {
                    (block.iter().enumerate())
                        .filter(|&(_, &c)| class(c))
                        .fold(0u64, |m, (i, _)| m | 1 << i)
                };
                use super::class_spec as spec;
                let want = Classes {
                    digits: bits(|c| c.is_ascii_digit()),
                    letters: bits(|c| c.is_ascii_alphabetic()),
                    key_end: bits(spec::key_end),
                    sep: bits(spec::sep),
                    skip: bits(spec::skip),
                    group_sep: bits(spec::group_sep),
                };
                assert_eq!(avx2.classes(&block), want, "{block:?}");
            }
        }
    }

    #[test]
    fn digit_kernels_match_plain_loops() {
        let bytes = [
            b'0', b'5', b'9', b'/', b':', b' ', b'a', 0x80, 0xb0, 0xb9, 0xff, 0, b'A', b'Z', b'z',
            b'@', b'[', b'`', b'{', 0xc1, 0xe1, 0xfa, 0xa1, 0x7f, 0x27, 0x28, b'=', b'>', b'?',
            b'\\', b't', b's', b'u', b'"', b'\t',
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let mut block = [0u8; 64];
            for b in &mut block {
                *b = bytes[(xorshift(&mut state) % bytes.len() as u64) as usize];
            }
            let bits = |class: fn(&u8) -> bool| {
                (block.iter().enumerate())
                    .filter(|(_, c)| class(c))
                    .fold(0u64, |m, (i, _)| m | 1 << i)
            };
            let want = (bits(u8::is_ascii_digit), bits(u8::is_ascii_alphabetic));
            #[cfg(target_arch = "x86_64")]
            assert_eq!(digit_letter_bits(&block), want, "{block:?}");
            // (The AVX2 kernel's classes are checked at every byte and position in
            // `avx2_classes_every_byte`.)
            assert_eq!(digit_bits_swar(&block), want.0, "{block:?}");
            for chunk in block.chunks_exact(8) {
                let first = chunk.iter().position(|c| !c.is_ascii_digit());
                assert_eq!(first_non_digit8(chunk), first, "{chunk:?}");
            }
        }
    }

    #[test]
    fn redact_marks_match_the_byte_rule_everywhere() {
        let bytes = [
            b'0', b'1', b'9', b'.', b' ', b'-', b'@', b'+', b':', b'=', 0xEF, 0xBC, b'a', b'/',
            0x80, 0xff, b'\\', b'"', 0x2f, 0x3a, b'\t',
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let len = (xorshift(&mut state) % 90) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| bytes[(xorshift(&mut state) % bytes.len() as u64) as usize])
                .collect();
            for at in (0..len.max(1)).step_by(16).chain([1, 3, 4, 5, 9]) {
                let want = (0..16)
                    .filter(|&k| redact_mark(&text, at + k))
                    .fold(0u32, |m, k| m | 1 << k);
                assert_eq!(redact_marks16(&text, at), want, "{text:?} at {at}");
                let window = at
                    .checked_sub(MARK_BEFORE)
                    .and_then(|s| text.get(s..at + 16 + MARK_AFTER));
                if let Some(window) = window {
                    assert_eq!(redact_marks_swar(window), want, "{text:?} at {at}");
                }
                let want32 = (0..32)
                    .filter(|&k| redact_mark(&text, at + k))
                    .fold(0u32, |m, k| m | 1 << k);
                assert_eq!(redact_marks32(&text, at), want32, "{text:?} at {at}");
                #[cfg(target_arch = "x86_64")]
                if let Some(avx2) = Avx2::detect() {
                    assert_eq!(avx2.redact_marks32(&text, at), want32, "{text:?} at {at}");
                }
            }
        }
    }
}
