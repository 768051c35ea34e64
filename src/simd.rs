//! Every byte-class kernel of the crate, and all of their `unsafe`, in one
//! file to audit.
//!
//! Two questions are asked of bytes on the hot path, many times per log event:
//! - which bytes end a plain JSON string run (`"`, `\` or a control character
//!   below 0x20), asked by the document scan and by the JSON string writer;
//! - which bytes are ASCII digits (and, on x86_64, which are letters), asked by
//!   the card-number masker.
//!
//! Each has an SSE2 kernel on x86_64 (SSE2 is in that architecture's baseline,
//! so no runtime detection is needed; the digits also have an AVX2 one, used where
//! the CPU has it) and a portable SWAR one (arm64, where the
//! Lambda runs, and everything else). The SWAR kernels are compiled and tested
//! on every target, so x86_64 CI checks the code arm64 runs.
//!
//! The bit tricks, written once: `x ^ splat(c)` has a zero byte where a byte is
//! `c`; `(x & LOW7) + LOW7` sets bit 7 of each byte whose low seven bits are not
//! zero, with no carry across bytes (exact at every position); `x - LO & !x & HI`
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
    let zero = |v: u64| !(((v & LOW7) + LOW7) | v) & HI;
    let below_space = !(((w & LOW7) + splat(0x60)) | w) & HI;
    let hits = below_space | zero(w ^ splat(b'"')) | zero(w ^ splat(b'\\'));
    ((hits >> 7).wrapping_mul(GATHER) >> 56) as u32
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
    /// `Some` where the CPU has AVX2 (std asks once and caches the answer).
    #[inline]
    pub(crate) fn detect() -> Option<Self> {
        std::is_x86_feature_detected!("avx2").then_some(Avx2(()))
    }

    /// Runs `work` compiled for AVX2 as a whole, so that the kernel is inlined into it.
    #[inline]
    pub(crate) fn run<W: WithAvx2>(self, work: W) -> W::Output {
        // SAFETY: `self` exists only where `detect` found AVX2.
        unsafe { run_avx2(self, work) }
    }

    /// [`digit_letter_bits`] 32 bytes at a time, and a third mask: the bytes that
    /// [`may_precede_code`]. VEX instructions need no copies of their operands, so the
    /// three cost fewer instructions than SSE2's two.
    #[inline(always)]
    pub(crate) fn classes(self, block: &[u8; 64]) -> (u64, u64, u64) {
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
#[target_feature(enable = "avx2")]
fn run_avx2<W: WithAvx2>(avx2: Avx2, work: W) -> W::Output {
    work.run(avx2)
}

/// Whether `c` may stand before a security code's value: every byte below 0x28 (tab,
/// space, `"`, `'` among them), `:` to `>` (`:`, `=`, `>`), `\\` and `t` (`\\t` in a
/// JSON body). Ranges, so that [`Avx2::classes`] tests it in a few instructions; the
/// masker's own set is smaller (`mask::cvv::is_code_prev`, checked to be inside it).
#[cfg(target_arch = "x86_64")]
pub(crate) fn may_precede_code(c: u8) -> bool {
    c <= 0x27 || (b':'..=b'>').contains(&c) || c == b'\\' || c == b't'
}

/// [`Avx2::classes`]' kernel.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn classes_avx2(block: &[u8; 64]) -> (u64, u64, u64) {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi8, _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_loadu_si256,
        _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_sub_epi8,
    };
    let (mut digits, mut letters, mut code) = (0u64, 0u64, 0u64);
    for (n, chunk) in block.chunks_exact(32).enumerate() {
        // SAFETY: `chunk` has 32 readable bytes (`chunks_exact`); the load is unaligned.
        let v = unsafe { _mm256_loadu_si256(chunk.as_ptr().cast::<__m256i>()) };
        // The same ranges as `digit_letter_bits` (x < c is c > x).
        let shifted = _mm256_add_epi8(v, _mm256_set1_epi8(0x50));
        let d = _mm256_movemask_epi8(_mm256_cmpgt_epi8(_mm256_set1_epi8(-118), shifted));
        let lower = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
        let shifted = _mm256_add_epi8(lower, _mm256_set1_epi8(0x1f));
        let l = _mm256_movemask_epi8(_mm256_cmpgt_epi8(_mm256_set1_epi8(-102), shifted));
        // x <= c (unsigned) exactly when min(x, c) == x.
        let low = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x27)), v);
        let from_colon = _mm256_sub_epi8(v, _mm256_set1_epi8(b':' as i8));
        let seps = _mm256_cmpeq_epi8(_mm256_min_epu8(from_colon, _mm256_set1_epi8(4)), from_colon);
        let backslash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8));
        let tee = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b't' as i8));
        let c = _mm256_or_si256(_mm256_or_si256(low, seps), _mm256_or_si256(backslash, tee));
        let c = _mm256_movemask_epi8(c);
        digits |= u64::from(d as u32) << (32 * n);
        letters |= u64::from(l as u32) << (32 * n);
        code |= u64::from(c as u32) << (32 * n);
    }
    (digits, letters, code)
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
            #[cfg(target_arch = "x86_64")]
            if let Some(avx2) = Avx2::detect() {
                let code = bits(|&c| may_precede_code(c));
                assert_eq!(avx2.classes(&block), (want.0, want.1, code), "{block:?}");
            }
            assert_eq!(digit_bits_swar(&block), want.0, "{block:?}");
            for chunk in block.chunks_exact(8) {
                let first = chunk.iter().position(|c| !c.is_ascii_digit());
                assert_eq!(first_non_digit8(chunk), first, "{chunk:?}");
            }
        }
    }
}
