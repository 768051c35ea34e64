//! Where each detector looks: two cheap passes find the few places a value may start
//! (keywords, found together by one Aho-Corasick automaton; and `@`, `+`, `:` and the
//! starts of digit runs, by a byte table), and only there does a detector read on.
//! Every detector's reading is bounded (a key of 64 bytes, a value of 4 KiB, an address
//! of 45 characters, …; a private-key block ends at its END line or the text's end), so
//! time is linear in the text.

use super::detector::{Detector, Redact};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::sync::OnceLock;

/// A value a detector or a custom rule found: `start..end` is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Found {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) label: Label,
}

/// Who found a value: a detector, or the custom rule of that index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Label {
    Detector(Detector),
    Rule(usize),
}

/// What a keyword found by the automaton starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    AwsKeyId,
    Jwt,
    Pem,
    Bearer,
    Authorization,
    Url,
    /// A word that may end a key naming a secret (or a My Number).
    Key,
}

/// The key `Authorization` names (the header, or a key ending with it).
const AUTHORIZATION: &str = "authorization";

/// The keywords, matched ignoring ASCII case (detectors check case where it matters).
const KEYWORDS: &[(&str, Keyword)] = &[
    ("akia", Keyword::AwsKeyId),
    ("asia", Keyword::AwsKeyId),
    ("agpa", Keyword::AwsKeyId),
    ("aida", Keyword::AwsKeyId),
    ("aroa", Keyword::AwsKeyId),
    ("aipa", Keyword::AwsKeyId),
    ("anpa", Keyword::AwsKeyId),
    ("anva", Keyword::AwsKeyId),
    ("apka", Keyword::AwsKeyId),
    ("abia", Keyword::AwsKeyId),
    ("acca", Keyword::AwsKeyId),
    ("eyj", Keyword::Jwt),
    ("-----begin ", Keyword::Pem),
    ("bearer", Keyword::Bearer),
    (AUTHORIZATION, Keyword::Authorization),
    ("://", Keyword::Url),
    ("pass", Keyword::Key),
    ("pwd", Keyword::Key),
    ("secret", Keyword::Key),
    ("token", Keyword::Key),
    ("apikey", Keyword::Key),
    ("api_key", Keyword::Key),
    ("api-key", Keyword::Key),
    ("accesskey", Keyword::Key),
    ("access_key", Keyword::Key),
    ("access-key", Keyword::Key),
    ("privatekey", Keyword::Key),
    ("private_key", Keyword::Key),
    ("private-key", Keyword::Key),
    ("credential", Keyword::Key),
    ("number", Keyword::Key),
    ("kojin", Keyword::Key),
    ("マイナンバー", Keyword::Key),
    ("個人番号", Keyword::Key),
];

/// The upper-case prefixes of AWS access key ids (`AKIA` long-term, `ASIA` temporary,
/// the others the ids of other IAM resources printed the same way).
const AWS_KEY_PREFIXES: &[&[u8]] = &[
    b"AKIA", b"ASIA", b"AGPA", b"AIDA", b"AROA", b"AIPA", b"ANPA", b"ANVA", b"APKA", b"ABIA",
    b"ACCA",
];

/// Normalised key endings (lower case, `_`, `-` and `.` dropped) whose value is a secret.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "credential",
    "credentials",
];

/// Normalised key endings whose value is an AWS secret access key.
const AWS_SECRET_KEYS: &[&str] = &["secretaccesskey", "awssecretkey"];

/// Normalised key endings whose value is a My Number (a key in Japanese is its own word).
const MY_NUMBER_KEYS: &[&str] = &[
    "mynumber",
    "individualnumber",
    "kojinbango",
    "kojinbangou",
    "マイナンバー",
    "個人番号",
];

/// The exact forms the detectors that start at a fixed word accept (their checks
/// compare against these): the fast path looks for these, case and all.
const JWT_START: &[u8] = b"eyJ";
const PEM_BEGIN: &[u8] = b"-----BEGIN ";
const BEARER_FORMS: &[&[u8]] = &[b"Bearer", b"bearer", b"BEARER"];

/// What an anchor of the fast path starts: the anchors are every exact form above.
fn anchors() -> Option<&'static (AhoCorasick, Vec<Keyword>)> {
    static AC: OnceLock<Option<(AhoCorasick, Vec<Keyword>)>> = OnceLock::new();
    AC.get_or_init(|| {
        let mut words: Vec<(&[u8], Keyword)> = AWS_KEY_PREFIXES
            .iter()
            .map(|&p| (p, Keyword::AwsKeyId))
            .collect();
        words.push((JWT_START, Keyword::Jwt));
        words.push((PEM_BEGIN, Keyword::Pem));
        words.extend(BEARER_FORMS.iter().map(|&f| (f, Keyword::Bearer)));
        // Leftmost-first and not overlapping, which finds every start the detectors
        // accept: a form can only begin inside another after one of its letters, and
        // every one of these detectors refuses a start right after a letter.
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(words.iter().map(|(w, _)| w))
            .ok()?;
        Some((ac, words.into_iter().map(|(_, k)| k).collect()))
    })
    .as_ref()
}

/// The keywords that start a key (a secret's, a My Number's, `Authorization`), found
/// overlapping, in the few bytes before a key's separator.
fn key_words() -> Option<&'static (AhoCorasick, Vec<Keyword>)> {
    static AC: OnceLock<Option<(AhoCorasick, Vec<Keyword>)>> = OnceLock::new();
    AC.get_or_init(|| {
        let words: Vec<(&str, Keyword)> = KEYWORDS
            .iter()
            .filter(|(_, k)| matches!(k, Keyword::Key | Keyword::Authorization))
            .copied()
            .collect();
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(words.iter().map(|(w, _)| w))
            .ok()?;
        Some((ac, words.into_iter().map(|(_, k)| k).collect()))
    })
    .as_ref()
}

/// The detectors a fixed word starts, and those a key starts.
const ANCHOR_DETECTORS: &[Detector] = &[
    Detector::AwsAccessKeyId,
    Detector::AwsSecretKey,
    Detector::Jwt,
    Detector::PrivateKey,
    Detector::Authorization,
];
const KEY_DETECTORS: &[Detector] = &[
    Detector::AwsSecretKey,
    Detector::Authorization,
    Detector::SecretValue,
    Detector::MyNumber,
];

/// How far before a key's end a keyword that starts it may lie: a key reads on at most
/// 64 key characters past its keyword (`key_value`), and the longest keyword is 18 bytes.
const KEY_WINDOW: usize = 64 + 18;

/// Appends to `found` every value the detectors of `set` find in `b`, in no particular
/// order (overlaps are resolved by the caller): what `find_at_every_byte` (the tests' reference) finds, from
/// two passes that stop only where a detector may accept.
///
/// - The fixed words (`AKIA`…, `eyJ`, `-----BEGIN `, `Bearer`) in their exact case, by
///   one automaton.
/// - The marks of `simd::redact_marks16`: the last digit of a run before `.`, space or
///   `-` (an IPv4 octet, a My Number's group), a run's leading `0` (a Japanese phone),
///   `@`, `+`, `:` (IPv6, `://`), and the separators of a key (`:`, `=`, a full-width
///   colon). A key is read back from its separator, and keywords are looked for only
///   in the bytes just before it.
pub(super) fn find_all(b: &[u8], set: Redact, found: &mut Vec<Found>) {
    if set.any(ANCHOR_DETECTORS) {
        if let Some((ac, kinds)) = anchors() {
            for m in ac.find_iter(b) {
                if let Some(&kind) = kinds.get(m.pattern().as_usize()) {
                    on_keyword(b, m.start(), m.end(), kind, set, found);
                }
            }
        }
    }
    let marks = Marks {
        set,
        digits: set.any(&[Detector::Ipv4, Detector::Phone, Detector::MyNumber]),
        keys: set.any(KEY_DETECTORS),
        run_done: usize::MAX,
        v6_done: 0,
    };
    #[cfg(target_arch = "x86_64")]
    if let Some(avx2) = crate::simd::Avx2::detect() {
        return avx2.run(BytePass { b, marks, found });
    }
    byte_pass(b, marks, found, crate::simd::redact_marks32);
}

/// The byte pass, 32 bytes at a time, with the kernel `marks32`.
#[inline(always)]
fn byte_pass(
    b: &[u8],
    mut marks: Marks,
    found: &mut Vec<Found>,
    marks32: impl Fn(&[u8], usize) -> u32,
) {
    let mut at = 0;
    while at < b.len() {
        let bits = marks32(b, at);
        if bits != 0 {
            marks.judge(b, at, bits, found);
        }
        at += 32;
    }
}

/// [`byte_pass`] compiled for AVX2 as a whole, its kernel inlined.
#[cfg(target_arch = "x86_64")]
struct BytePass<'a> {
    b: &'a [u8],
    marks: Marks,
    found: &'a mut Vec<Found>,
}

#[cfg(target_arch = "x86_64")]
impl crate::simd::WithAvx2 for BytePass<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self, avx2: crate::simd::Avx2) {
        byte_pass(self.b, self.marks, self.found, |b, at| {
            avx2.redact_marks32(b, at)
        });
    }
}

/// What judges the marks of [`find_all`]'s byte pass, and what it has judged.
struct Marks {
    set: Redact,
    digits: bool,
    keys: bool,
    /// The start of the last digit run judged, and the end of the last IPv6 candidate
    /// judged: each is judged once.
    run_done: usize,
    v6_done: usize,
}

impl Marks {
    /// Judges the marks `bits` of the bytes from `at` (bit k for byte `at + k`).
    #[inline(always)]
    fn judge(&mut self, b: &[u8], at: usize, mut marks: u32, found: &mut Vec<Found>) {
        let Self {
            set, digits, keys, ..
        } = *self;
        while marks != 0 {
            let i = at + marks.trailing_zeros() as usize;
            marks &= marks - 1;
            let Some(&c) = b.get(i) else {
                break;
            };
            match c {
                b'0'..=b'9' if digits && may_start_a_number(b, i) => {
                    // A leading `0`, or the last digit of a run before `.`, space or `-`:
                    // the detectors want runs of at most 4 digits but for a phone's `0`.
                    let back = b.get(..i).unwrap_or_default();
                    let len = 1 + back
                        .iter()
                        .rev()
                        .take(4)
                        .take_while(|c| c.is_ascii_digit())
                        .count();
                    let s = i + 1 - len;
                    if len <= 4 && s != self.run_done && !is_digit(before(b, s)) {
                        self.run_done = s;
                        digit_run(b, s, set, found);
                    }
                }
                b'@' if set.has(Detector::Email) => {
                    push(found, email(b, i), Detector::Email);
                }
                b'+' if set.has(Detector::Phone) => {
                    push(found, international_phone(b, i), Detector::Phone);
                }
                b':' => {
                    // A run that starts at this colon is an address only if it starts
                    // with `::` (most colons are a key's, or a time's).
                    let v6 = |c: Option<&u8>| c.is_some_and(|&c| is_v6_char(c));
                    if set.has(Detector::Ipv6)
                        && i >= self.v6_done
                        && (v6(before(b, i)) || b.get(i + 1) == Some(&b':'))
                    {
                        if let Some((range, done)) = ipv6(b, i) {
                            push(found, range, Detector::Ipv6);
                            self.v6_done = done;
                        }
                    }
                    if set.has(Detector::UrlCredentials) && b.get(i..i + 3) == Some(b"://") {
                        push(
                            found,
                            url_credentials(b, i, i + 3),
                            Detector::UrlCredentials,
                        );
                    }
                    if keys {
                        key_before(b, i, set, found);
                    }
                }
                b'=' if keys => key_before(b, i, set, found),
                0xEF if keys && b.get(i + 1..i + 3) == Some(&[0xBC, 0x9A]) => {
                    key_before(b, i, set, found);
                }
                _ => {}
            }
        }
    }
}

fn is_digit(c: Option<&u8>) -> bool {
    c.is_some_and(u8::is_ascii_digit)
}

/// Whether the digit mark at `i` may start what its detector accepts, from the bytes
/// that detector needs first (the byte pass marks more, so that its kernel stays
/// small): a time's `12:05`, a decimal's `12.345` and a date's `2026-12-07` stop here.
/// - Before `.`: an IPv4 address's second octet, 1-3 digits and a dot (`ipv4`).
/// - Before a space or `-`: a My Number's second group, a digit, and the same
///   separator after its four (`grouped_my_number`).
/// - Otherwise the `0` of a Japanese phone number: a second digit or a dash after
///   its `0` and first digit, and nothing before it that `japanese_phone` refuses.
#[inline(always)]
fn may_start_a_number(b: &[u8], i: usize) -> bool {
    let at = |k: usize| b.get(i + k).copied();
    let digit = |k: usize| at(k).is_some_and(|c| c.is_ascii_digit());
    match at(1) {
        Some(b'.') => {
            at(3) == Some(b'.')
                || (digit(3) && (at(4) == Some(b'.') || (digit(4) && at(5) == Some(b'.'))))
        }
        Some(sep @ (b' ' | b'-')) => digit(2) && at(6) == Some(sep),
        _ => {
            (digit(2) || at(2) == Some(b'-'))
                && !before(b, i).is_some_and(|&c| c.is_ascii_alphanumeric() || b"+-./".contains(&c))
        }
    }
}

/// [`key_then_keywords`] at the separator `p`, which most separators leave at once: in
/// the usual forms (`key=`, `"key":`, `\"key\":`) the key's last three bytes, read where
/// that function would read them, end no key that names a secret.
#[inline(always)]
fn key_before(b: &[u8], p: usize, set: Redact, found: &mut Vec<Found>) {
    let not = |c: &u8, set: &[u8]| !set.contains(c);
    let k = match b.get(..p).unwrap_or_default() {
        [.., c, b'\\', b'"'] if *c != b'\\' => p - 2,
        [.., c, b'"' | b'\''] if *c != b'\\' => p - 1,
        [.., c] if not(c, b" \t\"'\\") => p,
        _ => return key_then_keywords(b, p, set, found),
    };
    let kept = |c: u8| !matches!(c, b'_' | b'-' | b'.');
    if let Some(&[c, b2, a]) = b.get(k.wrapping_sub(3)..k) {
        if kept(a) && kept(b2) && kept(c) {
            if !ends_a_secret_key(key_three(a, b2, c)) {
                return;
            }
            return key_then_keywords(b, p, set, found);
        }
    }
    // The last three bytes but `_`, `-` and `.`, as `may_name_a_secret` reads them
    // (`user_id`'s `rid`), when they lie in the key's last six.
    let (mut three, mut n) = (0, 0);
    for &c in b
        .get(k.saturating_sub(6)..k)
        .unwrap_or_default()
        .iter()
        .rev()
    {
        if kept(c) {
            three |= key_three(c, 0, 0) >> (5 * n);
            n += 1;
            if n == 3 {
                if !ends_a_secret_key(three) {
                    return;
                }
                break;
            }
        }
    }
    key_then_keywords(b, p, set, found);
}

/// Whether [`KEY_LAST_THREE`] holds the bits `three`.
#[inline(always)]
fn ends_a_secret_key(three: usize) -> bool {
    KEY_LAST_THREE
        .get(three / 64)
        .is_some_and(|bits| bits >> (three % 64) & 1 == 1)
}

/// The key whose separator is at `p`, if one may end there: where it ends (before the
/// backslashes, quote and blanks `value_after_key` reads past), when its last letter
/// may end a key that names a secret; then every keyword in the bytes before that end,
/// judged as the automaton over the whole text would judge it.
#[inline(never)]
fn key_then_keywords(b: &[u8], p: usize, set: Redact, found: &mut Vec<Found>) {
    // Read byte by byte: this runs at every separator, most of which end no key.
    let last = |i: usize| i.checked_sub(1).and_then(|j| b.get(j)).copied();
    let mut k = p;
    let mut blanks = 0;
    while matches!(last(k), Some(b' ' | b'\t')) {
        if blanks == 4 {
            return;
        }
        (k, blanks) = (k - 1, blanks + 1);
    }
    if matches!(last(k), Some(b'"' | b'\'')) {
        k -= 1;
    }
    let mut slashes = 0;
    while last(k) == Some(b'\\') {
        if slashes == 4 {
            return;
        }
        (k, slashes) = (k - 1, slashes + 1);
    }
    if !may_name_a_secret(b, k) {
        return;
    }
    let Some((ac, kinds)) = key_words() else {
        return;
    };
    let from = k.saturating_sub(KEY_WINDOW);
    for m in ac.find_overlapping_iter(b.get(from..k).unwrap_or_default()) {
        if let Some(&kind) = kinds.get(m.pattern().as_usize()) {
            on_keyword(b, from + m.start(), from + m.end(), kind, set, found);
        }
    }
}

/// Every key ending that names a secret (or a My Number, or `Authorization`).
const KEY_ENDINGS: [&[&str]; 4] = [
    SECRET_KEYS,
    AWS_SECRET_KEYS,
    MY_NUMBER_KEYS,
    &[AUTHORIZATION],
];

/// The last three bytes of [`KEY_ENDINGS`], one bit each: five bits of each byte
/// ([`key_three`]; ASCII case drops out), so other keys share bits, never these.
// Evaluated at compile time: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
static KEY_LAST_THREE: [u64; 512] = {
    let mut table = [0u64; 512];
    let mut l = 0;
    while l < KEY_ENDINGS.len() {
        let mut w = 0;
        while w < KEY_ENDINGS[l].len() {
            let word = KEY_ENDINGS[l][w].as_bytes();
            let n = word.len();
            let three = key_three(word[n - 1], word[n - 2], word[n - 3]);
            table[three / 64] |= 1 << (three % 64);
            w += 1;
        }
        l += 1;
    }
    table
};

/// The index of a key's last three bytes (`a` the last) in [`KEY_LAST_THREE`].
const fn key_three(a: u8, b: u8, c: u8) -> usize {
    ((a & 0x1f) as usize) << 10 | ((b & 0x1f) as usize) << 5 | (c & 0x1f) as usize
}

/// Whether a key ending at `k` may name a secret: the run of key characters before `k`,
/// with `_`, `-` and `.` dropped and in lower case, ends with one of [`KEY_ENDINGS`],
/// or `k` ends a Japanese key word. Every key `key_value` reads ends at `k` and is a
/// part of that run, so no key this refuses names one.
fn may_name_a_secret(b: &[u8], k: usize) -> bool {
    const LONGEST: usize = 16;
    let head = b.get(..k).unwrap_or_default();
    // Most separators follow no such key (a time's `12:`, `rt=`, `"logger":`): the last
    // three bytes tell (the key's, once `_`, `-` and `.` are dropped; every ending is
    // three bytes or more).
    let dropped = |c: &u8| matches!(c, b'_' | b'-' | b'.');
    let three = match head {
        // The usual key: its last three bytes are letters.
        [.., c, b, a] if !dropped(a) && !dropped(b) && !dropped(c) => key_three(*a, *b, *c),
        _ => {
            let mut last = head
                .iter()
                .rev()
                .take(KEY_WINDOW + 64)
                .filter(|c| !dropped(c));
            match (last.next(), last.next(), last.next()) {
                (Some(&a), Some(&b), Some(&c)) => key_three(a, b, c),
                _ => return false,
            }
        }
    };
    if !ends_a_secret_key(three) {
        return false;
    }
    if MY_NUMBER_KEYS
        .iter()
        .any(|w| !w.is_ascii() && head.ends_with(w.as_bytes()))
    {
        return true;
    }
    let mut tail = [0u8; LONGEST];
    let mut n = 0;
    for &c in head.iter().rev().take(KEY_WINDOW + 64) {
        if !is_key_char(c) || n == LONGEST {
            break;
        }
        if !matches!(c, b'_' | b'-' | b'.') {
            n += 1;
            if let Some(slot) = tail.get_mut(LONGEST - n) {
                *slot = c.to_ascii_lowercase();
            }
        }
    }
    let tail = tail.get(LONGEST - n..).unwrap_or_default();
    KEY_ENDINGS
        .iter()
        .flat_map(|list| list.iter())
        .any(|w| tail.ends_with(w.as_bytes()))
}

/// What the keyword `kind` at `s..e` starts; for a key, returns the key's end.
fn on_keyword(
    b: &[u8],
    s: usize,
    e: usize,
    kind: Keyword,
    set: Redact,
    found: &mut Vec<Found>,
) -> Option<usize> {
    match kind {
        Keyword::AwsKeyId if set.any(&[Detector::AwsAccessKeyId, Detector::AwsSecretKey]) => {
            aws_key_id(b, s, set, found)
        }
        Keyword::Jwt if set.has(Detector::Jwt) => push(found, jwt(b, s), Detector::Jwt),
        Keyword::Pem if set.has(Detector::PrivateKey) => {
            push(found, private_key(b, s), Detector::PrivateKey)
        }
        Keyword::Bearer if set.has(Detector::Authorization) => {
            push(found, bearer(b, s, e), Detector::Authorization)
        }
        Keyword::Authorization if set.has(Detector::Authorization) => {
            push(found, authorization(b, s, e), Detector::Authorization)
        }
        Keyword::Url if set.has(Detector::UrlCredentials) => {
            push(found, url_credentials(b, s, e), Detector::UrlCredentials)
        }
        Keyword::Key => {
            let (end, f) = key_value(b, s, e, set)?;
            found.extend(f);
            Some(end)
        }
        _ => None,
    }
}

/// Records `range` as found by `detector`; answers nothing (for the dispatchers).
fn push(
    found: &mut Vec<Found>,
    range: Option<(usize, usize)>,
    detector: Detector,
) -> Option<usize> {
    if let Some((start, end)) = range {
        found.push(Found {
            start,
            end,
            label: Label::Detector(detector),
        });
    }
    None
}

/// The reference's byte classes: what each byte may start, by a table.
#[cfg(test)]
const DIGIT: u8 = 1;
#[cfg(test)]
const AT: u8 = 2;
#[cfg(test)]
const PLUS: u8 = 4;
#[cfg(test)]
const COLON: u8 = 8;

#[cfg(test)]
fn byte_class(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => DIGIT,
        b'@' => AT,
        b'+' => PLUS,
        b':' => COLON,
        _ => 0,
    }
}

/// What the byte of class `class` (not a digit) at `i` starts.
#[cfg(test)]
fn on_byte(b: &[u8], i: usize, class: u8, set: Redact, found: &mut Vec<Found>) {
    match class {
        AT if set.has(Detector::Email) => {
            push(found, email(b, i), Detector::Email);
        }
        PLUS if set.has(Detector::Phone) => {
            push(found, international_phone(b, i), Detector::Phone);
        }
        COLON if set.has(Detector::Ipv6) => {
            if let Some((range, _)) = ipv6(b, i) {
                push(found, range, Detector::Ipv6);
            }
        }
        _ => {}
    }
}

/// [`find_all`] written plainly, for the tests: every keyword (in any case) tried at
/// every byte, every byte's class at every byte, nothing skipped.
#[cfg(test)]
pub(super) fn find_at_every_byte(b: &[u8], set: Redact, found: &mut Vec<Found>) {
    for (i, &c) in b.iter().enumerate() {
        for &(word, kind) in KEYWORDS {
            let w = word.as_bytes();
            if b.get(i..i + w.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(w))
            {
                on_keyword(b, i, i + w.len(), kind, set, found);
            }
        }
        let class = byte_class(c);
        if class == DIGIT {
            if !before(b, i).is_some_and(u8::is_ascii_digit) {
                digit_run(b, i, set, found);
            }
        } else if class != 0 {
            on_byte(b, i, class, set, found);
        }
    }
}

/// The detectors a digit run may start.
fn digit_run(b: &[u8], s: usize, set: Redact, found: &mut Vec<Found>) {
    let e = run_end(b, s);
    let len = e - s;
    let next = b.get(e).copied();
    if set.has(Detector::Ipv4) && len <= 3 && next == Some(b'.') {
        push(found, ipv4(b, s), Detector::Ipv4);
    }
    if set.has(Detector::MyNumber) && len == 4 && matches!(next, Some(b' ' | b'-')) {
        push(found, grouped_my_number(b, s), Detector::MyNumber);
    }
    if set.has(Detector::Phone) && b.get(s) == Some(&b'0') {
        push(found, japanese_phone(b, s, e), Detector::Phone);
    }
}

fn is_alnum(c: Option<&u8>) -> bool {
    c.is_some_and(u8::is_ascii_alphanumeric)
}

fn before(b: &[u8], i: usize) -> Option<&u8> {
    i.checked_sub(1).and_then(|j| b.get(j))
}

fn run_end(b: &[u8], s: usize) -> usize {
    run_end_of(b, s, usize::MAX, |c| c.is_ascii_digit())
}

/// The end of the run of bytes `class` accepts from `s`, at most `max` long.
fn run_end_of(b: &[u8], s: usize, max: usize, class: impl Fn(u8) -> bool) -> usize {
    let rest = b.get(s..).unwrap_or_default();
    s + rest.iter().take(max).take_while(|&&c| class(c)).count()
}

/// Whether `b[i..]` starts with an escaped quote, `\"`.
///
/// A value ends at a quote, and a JSON body (`{\"password\":\"…\"}`) writes each
/// quote so: the detectors treat the pair as the quote, wherever a quote matters to
/// them, so that they find in a body whose only escapes are `\"` what they find in its
/// decoded text (`Redactor::redact_body`).
fn escaped_quote(b: &[u8], i: usize) -> bool {
    b.get(i..i + 2) == Some(b"\\\"")
}

/// [`run_end_of`], stopping before an escaped quote too.
fn run_end_before_quote(b: &[u8], s: usize, max: usize, class: impl Fn(u8) -> bool) -> usize {
    let mut e = s;
    while e - s < max && b.get(e).is_some_and(|&c| class(c)) && !escaped_quote(b, e) {
        e += 1;
    }
    e
}

fn is_base64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// `AKIA` and 16 upper-case letters or digits, nothing alphanumeric around; then, if a
/// 40-character secret key follows (after at most 3 separators), that too.
fn aws_key_id(b: &[u8], s: usize, set: Redact, found: &mut Vec<Found>) -> Option<usize> {
    let prefix = b.get(s..s + 4)?;
    if !AWS_KEY_PREFIXES.contains(&prefix) || is_alnum(before(b, s)) {
        return None;
    }
    let e = run_end_of(b, s + 4, 17, |c| {
        c.is_ascii_uppercase() || c.is_ascii_digit()
    });
    if e - s != 20 || is_alnum(b.get(e)) {
        return None;
    }
    if set.has(Detector::AwsAccessKeyId) {
        push(found, Some((s, e)), Detector::AwsAccessKeyId);
    }
    if set.has(Detector::AwsSecretKey) {
        // Up to 3 separators; an escaped quote is one.
        let mut gap = e;
        for _ in 0..3 {
            match b.get(gap) {
                _ if escaped_quote(b, gap) => gap += 2,
                Some(c) if b" \t:,;=|\"'".contains(c) => gap += 1,
                _ => break,
            }
        }
        if gap > e {
            push(found, aws_secret_at(b, gap), Detector::AwsSecretKey);
        }
    }
    None
}

fn is_secret_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'/' || c == b'+'
}

/// Exactly 40 characters of `A-Za-z0-9/+` from `s`, with none of them around, both
/// cases among them (base64 of random bytes; a hex digest has one case).
fn aws_secret_at(b: &[u8], s: usize) -> Option<(usize, usize)> {
    if before(b, s).is_some_and(|&c| is_secret_char(c)) {
        return None;
    }
    let e = run_end_of(b, s, 41, is_secret_char);
    let key = b.get(s..e)?;
    (key.len() == 40
        && key.iter().any(u8::is_ascii_uppercase)
        && key.iter().any(u8::is_ascii_lowercase))
    .then_some((s, e))
}

/// `eyJ` (a JSON header in base64url), then a payload and a signature: three base64url
/// parts joined by dots, the signature possibly empty.
fn jwt(b: &[u8], s: usize) -> Option<(usize, usize)> {
    if b.get(s..s + JWT_START.len()) != Some(JWT_START)
        || before(b, s).is_some_and(|&c| is_base64url(c))
    {
        return None;
    }
    let h = run_end_of(b, s, 4096, is_base64url);
    if h - s < 10 || b.get(h) != Some(&b'.') {
        return None;
    }
    let p = run_end_of(b, h + 1, 16384, is_base64url);
    if p - (h + 1) < 2 || b.get(p) != Some(&b'.') {
        return None;
    }
    let sig = run_end_of(b, p + 1, 4096, is_base64url);
    if b.get(sig) == Some(&b'.') && b.get(sig + 1).is_some_and(|&c| is_base64url(c)) {
        // A fourth part: JWE or something else, not a signed token.
        return None;
    }
    Some((s, sig))
}

/// `-----BEGIN … PRIVATE KEY-----` to its `-----END …-----` line, or to the end of the
/// text when the block is cut short.
fn private_key(b: &[u8], s: usize) -> Option<(usize, usize)> {
    let label_start = s + PEM_BEGIN.len();
    if b.get(s..label_start) != Some(PEM_BEGIN) {
        return None;
    }
    let label_end = run_end_of(b, label_start, 64, |c| {
        c.is_ascii_uppercase() || c == b' ' || c.is_ascii_digit()
    });
    let label = b.get(label_start..label_end)?;
    if b.get(label_end..label_end + 5) != Some(b"-----")
        || !label.windows(11).any(|w| w == b"PRIVATE KEY")
    {
        return None;
    }
    let body = label_end + 5;
    let rest = b.get(body..).unwrap_or_default();
    let Some(at) = memchr::memmem::find(rest, b"-----END ") else {
        return Some((s, b.len()));
    };
    let end_label = body + at + b"-----END ".len();
    let close = run_end_of(b, end_label, 64, |c| !matches!(c, b'-' | b'\n' | b'"'));
    if b.get(close..close + 5) == Some(b"-----") {
        Some((s, close + 5))
    } else {
        Some((s, b.len()))
    }
}

fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~+/".contains(&c)
}

/// `Bearer` and a token of 8 or more characters that is not a plain word: the token.
fn bearer(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    if !BEARER_FORMS.contains(&b.get(s..e)?) {
        return None;
    }
    if is_alnum(before(b, s)) {
        return None;
    }
    let ts = run_end_of(b, e, 4, |c| c == b' ');
    if ts == e {
        return None;
    }
    token(b, ts)
}

/// A token from `ts` (`A-Za-z0-9-._~+/` then `=` padding) of 8 or more characters, not
/// all letters.
fn token(b: &[u8], ts: usize) -> Option<(usize, usize)> {
    let te = run_end_of(b, ts, 16384, is_token_char);
    let te = run_end_of(b, te, 3, |c| c == b'=');
    let tok = b.get(ts..te)?;
    (tok.len() >= 8 && !tok.iter().all(u8::is_ascii_alphabetic)).then_some((ts, te))
}

/// The value of an `Authorization` key or header: the credentials after the scheme
/// (`Basic …`, `Bearer …`, `AWS4-HMAC-SHA256 Credential=…`), or the whole value when it
/// has no scheme.
fn authorization(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    if is_alnum(before(b, s)) || b.get(e).is_some_and(|&c| is_key_char(c) && c != b'.') {
        return None;
    }
    let v = value_after_key(b, e)?;
    let text = b.get(v.start..v.end)?;
    let scheme = text
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
        .count();
    if v.quoted && scheme > 0 && text.get(scheme) == Some(&b' ') {
        let cs = v.start + scheme + 1;
        return (v.end > cs).then_some((cs, v.end));
    }
    if !v.quoted && scheme == text.len() && b.get(v.end) == Some(&b' ') {
        // `Authorization: Basic dXNl…`: the credentials are the next word.
        let cs = run_end_of(b, v.end, 4, |c| c == b' ');
        let ce = run_end_before_quote(b, cs, 16384, |c| !c.is_ascii_whitespace() && c != b'"');
        if ce > cs {
            return Some((cs, ce));
        }
    }
    Some((v.start, v.end))
}

/// `scheme://user:password@`: the user and password.
fn url_credentials(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    if !before(b, s).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let u = e;
    let end = run_end_of(b, u, 512, |c| {
        !(c.is_ascii_whitespace() || b"/?#@\"'<>\\".contains(&c))
    });
    let userinfo = b.get(u..end)?;
    let colon = userinfo.iter().position(|&c| c == b':')?;
    (b.get(end) == Some(&b'@') && colon > 0 && colon + 1 < userinfo.len()).then_some((u, end))
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.'
}

/// A value after a key, by [`value_after_key`].
struct Value {
    start: usize,
    end: usize,
    quoted: bool,
}

/// The value after a key ending at `k`: `"key": "value"` (JSON, escaped JSON too),
/// `key=value`, `key: value`; quoted values end at their closing quote, others at
/// whitespace or `&,;"'<)]}`. `null`, `true`, `false`, objects, arrays and empty values
/// are none.
fn value_after_key(b: &[u8], k: usize) -> Option<Value> {
    let mut i = run_end_of(b, k, 4, |c| c == b'\\');
    if matches!(b.get(i), Some(b'"' | b'\'')) {
        i += 1;
    }
    i = run_end_of(b, i, 4, |c| c == b' ' || c == b'\t');
    match b.get(i..) {
        Some([b':' | b'=', ..]) => i += 1,
        // A full-width colon, as Japanese text writes it.
        Some([0xEF, 0xBC, 0x9A, ..]) => i += 3,
        _ => return None,
    }
    i = run_end_of(b, i, 4, |c| c == b' ' || c == b'\t');
    let slashes = run_end_of(b, i, 8, |c| c == b'\\') - i;
    i += slashes;
    if let Some(&q @ (b'"' | b'\'')) = b.get(i) {
        let vs = i + 1;
        // The closing quote: the first one not escaped inside the value (escaped by
        // `slashes` backslashes when the JSON around is itself escaped).
        let mut j = vs;
        let limit = vs.saturating_add(4096).min(b.len());
        while j < limit {
            match b.get(j) {
                Some(&c) if c == q => {
                    let bs = b.get(vs..j).unwrap_or_default();
                    let run = bs.iter().rev().take_while(|&&c| c == b'\\').count();
                    if run == slashes {
                        let ve = j - run;
                        return (ve > vs).then_some(Value {
                            start: vs,
                            end: ve,
                            quoted: true,
                        });
                    }
                }
                Some(b'\\') if slashes == 0 => j += 1,
                _ => {}
            }
            j += 1;
        }
        return None;
    }
    if slashes > 0 {
        return None;
    }
    let ve = run_end_before_quote(b, i, 4096, |c| {
        !(c.is_ascii_whitespace() || b"&,;\"'<)]}".contains(&c))
    });
    let v = b.get(i..ve)?;
    if v.is_empty()
        || matches!(v, b"null" | b"true" | b"false")
        || matches!(v.first(), Some(b'{' | b'['))
    {
        return None;
    }
    Some(Value {
        start: i,
        end: ve,
        quoted: false,
    })
}

/// A key holding the keyword at `s..e`, and the value after it if the key names a secret
/// (or a My Number): the key's end, and what was found.
fn key_value(b: &[u8], s: usize, e: usize, set: Redact) -> Option<(usize, Option<Found>)> {
    let ascii = b.get(s).is_some_and(u8::is_ascii);
    let (ks, ke) = if ascii {
        let ke = run_end_of(b, e, 64, is_key_char);
        let before = b.get(..s).unwrap_or_default();
        let back = before
            .iter()
            .rev()
            .take(64)
            .take_while(|&&c| is_key_char(c))
            .count();
        (s - back, ke)
    } else {
        (s, e)
    };
    let key: Vec<u8> = b
        .get(ks..ke)?
        .iter()
        .filter(|c| !matches!(c, b'_' | b'-' | b'.'))
        .map(u8::to_ascii_lowercase)
        .collect();
    let ends = |list: &[&str]| list.iter().any(|w| key.ends_with(w.as_bytes()));
    let detector = if ends(MY_NUMBER_KEYS) {
        Detector::MyNumber
    } else if ends(AWS_SECRET_KEYS) {
        Detector::AwsSecretKey
    } else if ends(SECRET_KEYS) {
        Detector::SecretValue
    } else {
        return Some((ke, None));
    };
    if !set.has(detector) {
        return Some((ke, None));
    }
    let v = value_after_key(b, ke)?;
    if detector == Detector::MyNumber {
        let digits = b.get(v.start..v.end)?;
        if !my_number_text(digits) {
            return Some((ke, None));
        }
    }
    Some((
        ke,
        Some(Found {
            start: v.start,
            end: v.end,
            label: Label::Detector(detector),
        }),
    ))
}

/// Whether `v` is a My Number: 12 digits, or 4-4-4 joined by one space or dash, with a
/// valid check digit.
fn my_number_text(v: &[u8]) -> bool {
    let shape = match v.len() {
        12 => v.iter().all(u8::is_ascii_digit),
        14 => {
            v.get(4) == v.get(9)
                && matches!(v.get(4), Some(b' ' | b'-'))
                && v.iter()
                    .enumerate()
                    .all(|(i, c)| i == 4 || i == 9 || c.is_ascii_digit())
        }
        _ => false,
    };
    if !shape {
        return false;
    }
    let mut digits = [0u8; 12];
    for (slot, c) in digits
        .iter_mut()
        .zip(v.iter().filter(|c| c.is_ascii_digit()))
    {
        *slot = c - b'0';
    }
    my_number_check(&digits)
}

/// The check digit of an Individual Number (the 12th digit), as the ordinance defines
/// it: the 11 others weighted 2-7 then 2-6 from the right, the sum modulo 11.
pub(super) fn my_number_check(d: &[u8]) -> bool {
    let [payload @ .., check] = d else {
        return false;
    };
    if payload.len() != 11 {
        return false;
    }
    let sum: usize = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &p)| {
            let n = i + 1;
            usize::from(p) * if n <= 6 { n + 1 } else { n - 5 }
        })
        .sum();
    let r = sum % 11;
    let want = if r <= 1 { 0 } else { 11 - r };
    usize::from(*check) == want
}

/// `dddd-dddd-dddd` (or spaces) from `s`, alone (not inside a longer run of groups),
/// with a valid check digit.
fn grouped_my_number(b: &[u8], s: usize) -> Option<(usize, usize)> {
    let sep = *b.get(s + 4)?;
    // Joined by its separator to more letters or digits (a UUID, a longer code), it is a
    // part of something else.
    let joined =
        before(b, s) == Some(&sep) && is_alnum(s.checked_sub(1).and_then(|i| before(b, i)));
    if is_alnum(before(b, s)) || joined {
        return None;
    }
    let e = s + 14;
    let text = b.get(s..e)?;
    if !my_number_text(text)
        || is_alnum(b.get(e))
        || (b.get(e) == Some(&sep) && is_alnum(b.get(e + 1)))
    {
        return None;
    }
    Some((s, e))
}

fn is_local_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"._%+-".contains(&c)
}

/// `local@domain.tld`: a local part of up to 64 characters, a domain of two labels or
/// more, the last of 2 or more letters.
fn email(b: &[u8], at: usize) -> Option<(usize, usize)> {
    let head = b.get(..at).unwrap_or_default();
    let local = head
        .iter()
        .rev()
        .take(65)
        .take_while(|&&c| is_local_char(c))
        .count();
    if local == 0 || local > 64 {
        return None;
    }
    let s = at - local;
    // After a slash it is a URL's user (`ssh://git@host`) or a path, not an address.
    if b.get(s) == Some(&b'.') || before(b, s) == Some(&b'/') {
        return None;
    }
    let mut e = run_end_of(b, at + 1, 253, |c| {
        c.is_ascii_alphanumeric() || c == b'-' || c == b'.'
    });
    while e > at + 1 && matches!(b.get(e - 1), Some(b'.' | b'-')) {
        e -= 1;
    }
    let domain = b.get(at + 1..e)?;
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in domain.split(|&c| c == b'.') {
        if label.is_empty() || label.first() == Some(&b'-') || label.last() == Some(&b'-') {
            return None;
        }
        labels += 1;
        last = label;
    }
    (labels >= 2 && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic)).then_some((s, e))
}

/// Four decimal octets (0-255, no leading zero) joined by dots, with neither letters,
/// digits nor a dot and digit around.
fn ipv4(b: &[u8], s: usize) -> Option<(usize, usize)> {
    if is_alnum(before(b, s))
        || (before(b, s) == Some(&b'.') && before(b, s - 1).is_some_and(u8::is_ascii_digit))
    {
        return None;
    }
    let mut i = s;
    for n in 0..4 {
        let e = run_end_of(b, i, 4, |c| c.is_ascii_digit());
        let octet = b.get(i..e)?;
        if octet.is_empty() || octet.len() > 3 || (octet.len() > 1 && octet.first() == Some(&b'0'))
        {
            return None;
        }
        let v = octet
            .iter()
            .fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
        if v > 255 {
            return None;
        }
        i = e;
        if n < 3 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    if is_alnum(b.get(i))
        || (b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit))
    {
        return None;
    }
    Some((s, i))
}

/// What an IPv6 candidate is a run of: hex digits, colons and dots.
fn is_v6_char(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b':' || c == b'.'
}

/// The IPv6 candidate around the colon at `i`: the run of hex digits, colons and dots
/// through it, judged as a whole (the same run from whichever of its colons). Returns
/// where the run ends (judged once) and, if it is an address, its range.
fn ipv6(b: &[u8], i: usize) -> Option<(Option<(usize, usize)>, usize)> {
    /// The longest text of an address (`ffff:…:255.255.255.255`).
    const LONGEST: usize = 45;
    let class = is_v6_char;
    let head = b.get(..i).unwrap_or_default();
    let back = head
        .iter()
        .rev()
        .take(LONGEST + 1)
        .take_while(|&&c| class(c))
        .count();
    let s = i - back;
    let done = run_end_of(b, i, LONGEST + 1, class);
    let mut e = done;
    if e - s > LONGEST || is_alnum(before(b, s)) || is_alnum(b.get(e)) {
        return Some((None, done));
    }
    // A sentence may end right after an address.
    if e > i + 1 && b.get(e - 1) == Some(&b'.') {
        e -= 1;
    }
    let text = b.get(s..e)?;
    let colons = text.iter().filter(|&&c| c == b':').count();
    let ok = colons >= 2
        && (colons == 7 || text.windows(2).any(|w| w == b"::"))
        && text.iter().any(u8::is_ascii_hexdigit)
        && std::str::from_utf8(text).is_ok_and(|t| t.parse::<std::net::Ipv6Addr>().is_ok());
    Some((ok.then_some((s, e)), done))
}

/// `+`, a country code (not starting with `0`) and 8 to 15 digits in all (E.164): whole
/// (`+14155552671`), or the country code of 1-3 digits then groups of 1-5 joined by one
/// space or dash, `(0)` allowed after the country code (`+81 90-1234-5678`,
/// `+44 (0)20 7946 0958`). A longer group ends the number before it.
fn international_phone(b: &[u8], plus: usize) -> Option<(usize, usize)> {
    if is_alnum(before(b, plus)) || !b.get(plus + 1).is_some_and(|c| (b'1'..=b'9').contains(c)) {
        return None;
    }
    let first = run_end(b, plus + 1);
    let cc = first - (plus + 1);
    let mut digits = cc;
    let mut end = first;
    if cc <= 3 {
        let mut i = first;
        // `(0)` after the country code: the trunk prefix, not dialled from abroad.
        let trunk = |i: usize| match b.get(i..i + 4) {
            Some([b' ', b'(', b'0', b')']) => Some(i + 4),
            _ => match b.get(i..i + 3) {
                Some(b"(0)") => Some(i + 3),
                _ => None,
            },
        };
        if let Some(t) = trunk(i) {
            i = t;
            if b.get(i).is_some_and(u8::is_ascii_digit) {
                let e = run_end(b, i);
                if e - i > 5 {
                    return None;
                }
                digits += e - i;
                (end, i) = (e, e);
            } else if !matches!(b.get(i), Some(b' ' | b'-')) {
                return None;
            }
        }
        while matches!(b.get(i), Some(b' ' | b'-')) && b.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            let e = run_end(b, i + 1);
            if e - (i + 1) > 5 || digits + (e - i - 1) > 15 {
                break;
            }
            digits += e - i - 1;
            end = e;
            i = e;
        }
    }
    if is_alnum(b.get(end)) || !(8..=15).contains(&digits) {
        return None;
    }
    Some((plus, end))
}

/// A Japanese number from the digit run `s..e` (which starts with `0`): three groups
/// joined by dashes, 10 or 11 digits, the first group 2-5 digits (`03-1234-5678`,
/// `090-1234-5678`, `0120-123-456`); or a mobile or IP phone number written whole
/// (`09012345678`: `050`, `070`, `080`, `090` and 8 digits).
fn japanese_phone(b: &[u8], s: usize, e: usize) -> Option<(usize, usize)> {
    let left = before(b, s);
    if is_alnum(left) || matches!(left, Some(b'-' | b'+' | b'.' | b'/')) {
        return None;
    }
    if !b.get(s + 1).is_some_and(|&c| (b'1'..=b'9').contains(&c)) {
        return None;
    }
    // Nothing alphanumeric after it, nor a separator and more digits.
    let right_free = |x: usize| {
        let joined = matches!(b.get(x), Some(b'-' | b'.' | b'/'))
            && b.get(x + 1).is_some_and(u8::is_ascii_digit);
        !(is_alnum(b.get(x)) || joined)
    };
    let len = e - s;
    if len == 11 {
        let p = b.get(s..s + 3)?;
        return (matches!(p, b"050" | b"070" | b"080" | b"090") && right_free(e)).then_some((s, e));
    }
    if !(2..=5).contains(&len) || b.get(e) != Some(&b'-') {
        return None;
    }
    let e2 = run_end(b, e + 1);
    if e2 == e + 1 || b.get(e2) != Some(&b'-') {
        return None;
    }
    let e3 = run_end(b, e2 + 1);
    let digits = len + (e2 - e - 1) + (e3 - e2 - 1);
    if e3 == e2 + 1 || !(10..=11).contains(&digits) || !right_free(e3) {
        return None;
    }
    Some((s, e3))
}
