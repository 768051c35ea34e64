//! `MERGE_JSON_MESSAGE`: the fields of a message that is one JSON object,
//! written into the line under keys that Athena's JSON SerDes, Firehose's
//! Parquet conversion and DuckDB all accept, and (with `MERGE_COLUMNS`)
//! typed to the Glue table's declared columns.
//!
//! The key rule (docs/schema.md): within every object of the line, keys are
//! unique ignoring case and none is empty. The line's own keys come first and
//! win. A merged key that is empty, equals a line key or an earlier key of
//! the same object ignoring case, or (at the top) is a Hive internal column
//! name (`_col` and digits, which Hive's JSON SerDe reads as the column at
//! that position) is written as the first of `msg_KEY`, `msg_KEY_2`,
//! `msg_KEY_3`, … that is free in that object, and counted. A top-level key
//! that (as kept or renamed) names a declared column ignoring case is
//! written in the column's declared spelling, so that readers matching keys
//! exactly (Spark) read the column as the SerDes do. Every other key keeps
//! its spelling. "Ignoring case" is Unicode lowercase, with final
//! sigma folded to sigma: at least as coarse as the Java `toLowerCase` the
//! SerDes use, so two keys they would take for one never both appear.
//!
//! No allocation per event while no key collides: the keys seen are folded
//! into one reused arena, compared linearly in small objects and through a
//! hash index (random keys, so crafted input cannot make it quadratic) in
//! large ones.

use super::columns::{push_value, MergeColumns};
use super::keys::is_line_key;
use crate::json::{push_str, unescape};
use serde::de::{DeserializeSeed, MapAccess, Visitor};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};

/// Prefix under which a merged field is kept when its key collides.
pub const MERGE_COLLISION_PREFIX: &str = "msg_";

/// Objects with more keys than this are looked up through a hash index.
const LINEAR_KEYS: usize = 16;

/// The merged fields of one event, and the counts of the current record.
#[derive(Debug, Default)]
pub(crate) struct Merger {
    columns: MergeColumns,
    /// `,"key":value` for every field of the last message merged.
    pub fields: Vec<u8>,
    keys: KeySet,
    /// A key with escapes, decoded.
    key_scratch: String,
    key_bytes: Vec<u8>,
    /// A renamed key, and its folded form.
    renamed: String,
    renamed_folded: String,
    /// Next suffix to try per (object, folded `msg_KEY`): renaming stays
    /// linear however often one key repeats.
    suffixes: HashMap<(u32, String), u32>,
    /// Keys of nested objects to rewrite: (start, end) in the value, and
    /// the new key's range in `rewrites_text`.
    rewrites: Vec<(usize, usize, usize, usize)>,
    rewrites_text: String,
    stack: Vec<bool>,
    value_scratch: Vec<u8>,
    /// Counted while a message is merged, committed once it is.
    pending_renamed: usize,
    pending_rejected: usize,
    renamed_keys: usize,
    rejected_values: usize,
    /// Keys the line writes before the merged fields besides its own
    /// (`STATIC_FIELDS`): taken, so a merged key equal to one is renamed.
    pub earlier: Vec<String>,
    /// The same for the current event only (`LAMBDA_FORMAT`'s fields).
    pub earlier_now: Vec<&'static str>,
}

impl Merger {
    pub fn new(columns: MergeColumns) -> Self {
        Self {
            columns,
            ..Self::default()
        }
    }

    pub fn start_record(&mut self) {
        self.renamed_keys = 0;
        self.rejected_values = 0;
    }

    /// Keys renamed in the current record.
    pub fn renamed_keys(&self) -> usize {
        self.renamed_keys
    }

    /// Values left out of a declared column in the current record.
    pub fn rejected_values(&self) -> usize {
        self.rejected_values
    }

    /// Reads `message`; when it is exactly one JSON object, writes its fields
    /// into [`Self::fields`], counts what it renamed and rejected, and
    /// answers `true`.
    pub fn merge(&mut self, message: &str) -> bool {
        self.fields.clear();
        let trimmed = message.trim_ascii_start();
        if !trimmed.starts_with('{') {
            return false;
        }
        self.keys.clear();
        self.keys.open();
        for key in self
            .earlier
            .iter()
            .map(String::as_str)
            .chain(self.earlier_now.iter().copied())
        {
            self.keys.stage(key);
            self.keys.keep_staged();
        }
        self.suffixes.clear();
        self.pending_renamed = 0;
        self.pending_rejected = 0;
        let mut de = serde_json::Deserializer::from_str(trimmed);
        let ok =
            serde::Deserializer::deserialize_map(&mut de, Fields(self)).is_ok() && de.end().is_ok();
        if ok {
            self.renamed_keys += self.pending_renamed;
            self.rejected_values += self.pending_rejected;
        } else {
            self.fields.clear();
        }
        ok
    }

    /// Writes one top-level field.
    fn field(&mut self, key: &str, raw: &str) {
        self.keys.stage(key);
        let collides = key.is_empty() || self.keys.staged_reserved() || self.keys.staged_taken();
        if collides {
            self.begin_rename();
            self.rename(key, true);
            self.pending_renamed += 1;
        } else {
            self.keys.keep_staged();
        }
        // The key as kept (renamed or not) names a declared column ignoring
        // case: it is written in the column's declared spelling. The SerDes
        // match keys ignoring case, but Spark (Glue ETL) and DuckDB given the
        // table's schema match them exactly and would read `Level` as NULL
        // in `level`. The declared name is the kept key's fold (names are
        // lowercase ASCII), so the key stays unique in the object and no
        // count changes; only a key that won the column is re-spelled, a
        // later one equal to it ignoring case is renamed as before.
        let column = if self.columns.is_empty() {
            None
        } else {
            self.columns.find(self.keys.last_kept())
        };
        let written = match column {
            Some((name, _)) => name,
            None if collides => self.renamed.as_str(),
            None => key,
        };
        let start = self.fields.len();
        self.fields.push(b',');
        push_str(&mut self.fields, written);
        self.fields.push(b':');
        match column {
            Some((_, ty)) => {
                if !push_value(ty, raw, &mut self.fields, &mut self.value_scratch) {
                    // Left out: the key stays taken, so no later key takes
                    // the column instead.
                    self.fields.truncate(start);
                    self.pending_rejected += 1;
                }
            }
            None => self.push_raw(raw),
        }
    }

    /// The staged (folded) key collides: `msg_` and it is the first name to try.
    fn begin_rename(&mut self) {
        self.renamed_folded.clear();
        self.renamed_folded.push_str(MERGE_COLLISION_PREFIX);
        // Folding is per character, so the prefix and the key fold apart.
        self.renamed_folded.push_str(self.keys.staged_str());
        self.keys.drop_staged();
    }

    /// Decides the new name of a colliding `key` (into `renamed`; its folded
    /// form, `msg_` and the folded key, is in `renamed_folded`) and takes it.
    /// `top`: the line's own keys are reserved too.
    fn rename(&mut self, key: &str, top: bool) {
        let object = self.keys.serial();
        self.renamed.clear();
        self.renamed.push_str(MERGE_COLLISION_PREFIX);
        self.renamed.push_str(key);
        self.keys.stage_folded(&self.renamed_folded);
        if !self.keys.staged_free(top) {
            self.keys.drop_staged();
            let base_len = (self.renamed.len(), self.renamed_folded.len());
            let memo = (object, self.renamed_folded.clone());
            let mut n = self.suffixes.get(&memo).copied().unwrap_or(2);
            // Each try takes a suffix no key of this object has: it ends
            // after at most as many tries as the object has keys.
            loop {
                self.renamed.truncate(base_len.0);
                self.renamed_folded.truncate(base_len.1);
                let mut digits = itoa::Buffer::new();
                let suffix = digits.format(n);
                for s in [&mut self.renamed, &mut self.renamed_folded] {
                    s.push('_');
                    s.push_str(suffix);
                }
                n = n.saturating_add(1);
                self.keys.stage_folded(&self.renamed_folded);
                if self.keys.staged_free(top) {
                    break;
                }
                self.keys.drop_staged();
            }
            self.suffixes.insert(memo, n);
        }
        self.keys.keep_staged();
    }

    /// Appends a value that goes to no declared column: as the message holds
    /// it, but with the keys of nested objects made unique by the same rule,
    /// and no line break (JSON whitespace between tokens may be one).
    fn push_raw(&mut self, raw: &str) {
        let bytes = raw.as_bytes();
        if !matches!(bytes.first(), Some(b'{' | b'[')) {
            // A scalar: nothing in it to rename, and no whitespace.
            self.fields.extend_from_slice(bytes);
            return;
        }
        self.rewrites.clear();
        self.rewrites_text.clear();
        let breaks = self.walk(raw);
        if self.rewrites.is_empty() && !breaks {
            self.fields.extend_from_slice(bytes);
            return;
        }
        let mut at = 0;
        for &(start, end, text_start, text_end) in &self.rewrites {
            push_spaced(&mut self.fields, bytes.get(at..start).unwrap_or_default());
            push_str(
                &mut self.fields,
                self.rewrites_text
                    .get(text_start..text_end)
                    .unwrap_or_default(),
            );
            at = end;
        }
        push_spaced(&mut self.fields, bytes.get(at..).unwrap_or_default());
    }

    /// Walks a nested value (valid JSON: serde_json read it) and notes in
    /// `rewrites` every key to rename; answers whether the value holds a line
    /// break. Iterative: depth costs no stack.
    fn walk(&mut self, raw: &str) -> bool {
        let bytes = raw.as_bytes();
        self.stack.clear();
        let mut breaks = false;
        let mut expect_key = false;
        let mut i = 0;
        while let Some(&c) = bytes.get(i) {
            match c {
                b'{' => {
                    self.stack.push(true);
                    self.keys.open();
                    expect_key = true;
                }
                b'[' => {
                    self.stack.push(false);
                    expect_key = false;
                }
                b'}' | b']' => {
                    if self.stack.pop() == Some(true) {
                        self.keys.close();
                    }
                    expect_key = false;
                }
                b',' => expect_key = self.stack.last() == Some(&true),
                b':' => expect_key = false,
                b'\n' | b'\r' => breaks = true,
                b'"' => {
                    let end = string_end(bytes, i + 1);
                    if expect_key {
                        self.nested_key(raw, i, end);
                    }
                    i = end;
                    expect_key = false;
                }
                _ => {}
            }
            i += 1;
        }
        // Objects left open (never, for valid JSON) must not leak into the
        // top-level object's keys.
        for open in std::mem::take(&mut self.stack) {
            if open {
                self.keys.close();
            }
        }
        breaks
    }

    /// Decides the key at `bytes[quote..=end]` (quotes included) of a nested object.
    fn nested_key(&mut self, raw: &str, quote: usize, end: usize) {
        // Quotes are ASCII: the slice lies on character boundaries.
        let key = raw.get(quote + 1..end).unwrap_or_default();
        if !key.contains('\\') {
            self.nested_key_text(key, quote, end);
            return;
        }
        let (bytes, body) = (raw.as_bytes(), key.as_bytes());
        let mut buf = std::mem::take(&mut self.key_bytes);
        buf.clear();
        let decoded = unescape(body, &mut buf).and_then(|()| std::str::from_utf8(&buf).ok());
        match decoded {
            Some(key) => self.nested_key_text(key, quote, end),
            None => {
                // A surrogate pair escape (an emoji): serde_json decodes those.
                let key = bytes
                    .get(quote..=end)
                    .and_then(|q| serde_json::from_slice::<String>(q).ok())
                    .unwrap_or_default();
                self.nested_key_text(&key, quote, end);
            }
        }
        self.key_bytes = buf;
    }

    fn nested_key_text(&mut self, key: &str, quote: usize, end: usize) {
        self.keys.stage(key);
        if !key.is_empty() && !self.keys.staged_taken() {
            self.keys.keep_staged();
            return;
        }
        self.begin_rename();
        self.rename(key, false);
        self.pending_renamed += 1;
        let text_start = self.rewrites_text.len();
        self.rewrites_text.push_str(&self.renamed);
        self.rewrites
            .push((quote, end + 1, text_start, self.rewrites_text.len()));
    }
}

/// Copies `bytes`, a line break (only ever JSON whitespace here) as a space.
fn push_spaced(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend(
        bytes
            .iter()
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
    );
}

/// The index of the quote closing the string whose body starts at `from`.
fn string_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `_col` and digits: Hive's JSON SerDe (and Athena's) reads such a key as
/// the table's column at that position.
fn is_hive_internal(folded: &str) -> bool {
    folded
        .strip_prefix("_col")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Fingerprints a folded key eight bytes at a time, so that most
/// comparisons are one of two integers (equal fingerprints are then compared
/// as bytes).
#[derive(Clone, Copy)]
struct Fingerprint(u64);

impl Fingerprint {
    fn new(len: usize) -> Self {
        Self(len as u64)
    }

    #[inline]
    fn mix(self, word: u64) -> Self {
        Self(
            (self.0 ^ word)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29),
        )
    }

    fn finish(self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }

    /// Of bytes folded already.
    fn of(bytes: &[u8]) -> u64 {
        let mut fp = Self::new(bytes.len());
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            fp = fp.mix(word(chunk));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            fp = fp.mix(word(rest));
        }
        fp.finish()
    }
}

/// Up to eight bytes as a little-endian word, zero-padded.
#[inline]
fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    for (d, s) in w.iter_mut().zip(bytes) {
        *d = *s;
    }
    u64::from_le_bytes(w)
}

/// ASCII lowercase of eight ASCII bytes at once: `A`-`Z` get 0x20.
#[inline]
fn lower_ascii_word(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Bytes are below 0x80, so neither sum carries into the next byte.
    let at_least_a = w.wrapping_add(ONES * (0x80 - 0x41));
    let above_z = w.wrapping_add(ONES * (0x80 - 0x5b));
    let upper = at_least_a & !above_z & (ONES * 0x80);
    w | (upper >> 2)
}

/// The folded keys of the open objects, innermost last. A key is folded
/// once, onto the end of the arena (staged), compared there, then kept or
/// dropped: no copy, no allocation once the buffers have grown.
#[derive(Debug, Default)]
struct KeySet {
    /// Folded keys (ASCII lowercase, else Unicode lowercase per character
    /// with final sigma as sigma), as UTF-8.
    arena: Vec<u8>,
    /// Fingerprint of every key kept, and where it is in `arena`.
    fps: Vec<u64>,
    spans: Vec<(usize, usize)>,
    levels: Vec<Level>,
    /// Per depth, for objects past [`LINEAR_KEYS`]: SipHash (random keys)
    /// → index in `spans`.
    index: Vec<HashMap<u64, usize>>,
    hasher: RandomState,
    serials: u32,
    /// The staged key is `arena[staged..]`.
    staged: usize,
    staged_fp: u64,
}

#[derive(Debug, Clone, Copy)]
struct Level {
    first_key: usize,
    arena_start: usize,
    indexed: bool,
    serial: u32,
}

impl KeySet {
    fn clear(&mut self) {
        while !self.levels.is_empty() {
            self.close();
        }
        self.arena.clear();
        self.fps.clear();
        self.spans.clear();
        self.staged = 0;
        self.serials = 0;
    }

    fn open(&mut self) {
        let depth = self.levels.len();
        self.serials = self.serials.wrapping_add(1);
        self.levels.push(Level {
            first_key: self.spans.len(),
            arena_start: self.arena.len(),
            indexed: false,
            serial: self.serials,
        });
        if self.index.len() <= depth {
            self.index.push(HashMap::new());
        }
    }

    fn close(&mut self) {
        if let Some(level) = self.levels.pop() {
            self.fps.truncate(level.first_key);
            self.spans.truncate(level.first_key);
            self.arena.truncate(level.arena_start);
            self.staged = self.arena.len();
            // Only an index in use is cleared (clearing costs its capacity).
            if level.indexed {
                if let Some(index) = self.index.get_mut(self.levels.len()) {
                    index.clear();
                }
            }
        }
    }

    /// Identifies the innermost open object (for the suffix memo).
    fn serial(&self) -> u32 {
        self.levels.last().map_or(0, |l| l.serial)
    }

    /// Folds `key` onto the end of the arena.
    fn stage(&mut self, key: &str) {
        self.staged = self.arena.len();
        let bytes = key.as_bytes();
        if key.is_ascii() {
            // Folded and fingerprinted in one pass, a word at a time.
            let mut fp = Fingerprint::new(bytes.len());
            let mut chunks = bytes.chunks_exact(8);
            for chunk in &mut chunks {
                let w = lower_ascii_word(word(chunk));
                fp = fp.mix(w);
                self.arena.extend_from_slice(&w.to_le_bytes());
            }
            let rest = chunks.remainder();
            if !rest.is_empty() {
                let w = lower_ascii_word(word(rest));
                fp = fp.mix(w);
                self.arena
                    .extend_from_slice(w.to_le_bytes().get(..rest.len()).unwrap_or_default());
            }
            self.staged_fp = fp.finish();
            return;
        }
        let mut utf8 = [0u8; 4];
        for c in key.chars() {
            for l in c.to_lowercase() {
                let l = if l == 'ς' { 'σ' } else { l };
                self.arena
                    .extend_from_slice(l.encode_utf8(&mut utf8).as_bytes());
            }
        }
        self.staged_fp = Fingerprint::of(self.staged_bytes());
    }

    /// Stages a key that is folded already.
    fn stage_folded(&mut self, folded: &str) {
        self.staged = self.arena.len();
        self.arena.extend_from_slice(folded.as_bytes());
        self.staged_fp = Fingerprint::of(folded.as_bytes());
    }

    fn staged_bytes(&self) -> &[u8] {
        self.arena.get(self.staged..).unwrap_or_default()
    }

    /// The staged key as text (folding keeps UTF-8 valid).
    fn staged_str(&self) -> &str {
        std::str::from_utf8(self.staged_bytes()).unwrap_or_default()
    }

    fn drop_staged(&mut self) {
        self.arena.truncate(self.staged);
    }

    /// One of the line's own keys, or a Hive internal column name.
    fn staged_reserved(&self) -> bool {
        let key = self.staged_bytes();
        if key.first() == Some(&b'_') {
            return std::str::from_utf8(key).is_ok_and(is_hive_internal);
        }
        is_line_key(key)
    }

    /// Free in the innermost object (and, with `top`, not reserved).
    fn staged_free(&self, top: bool) -> bool {
        !((top && self.staged_reserved()) || self.staged_taken())
    }

    fn text(&self, i: usize) -> &[u8] {
        self.spans
            .get(i)
            .and_then(|&(s, e)| self.arena.get(s..e))
            .unwrap_or_default()
    }

    /// A key of the innermost object equals the staged one.
    fn staged_taken(&self) -> bool {
        let Some(level) = self.levels.last() else {
            return false;
        };
        let staged = self.staged_bytes();
        let fp = self.staged_fp;
        let linear = || {
            let fps = self.fps.get(level.first_key..).unwrap_or_default();
            let spans = self.spans.get(level.first_key..).unwrap_or_default();
            fps.iter()
                .zip(spans)
                .any(|(&f, &(s, e))| f == fp && self.arena.get(s..e).unwrap_or_default() == staged)
        };
        if !level.indexed {
            return linear();
        }
        let index = self.index.get(self.levels.len() - 1);
        match index.and_then(|i| i.get(&self.hasher.hash_one(staged))) {
            None => false,
            Some(&i) if self.text(i) == staged => true,
            // Two keys with one 64-bit SipHash: astronomically rare.
            Some(_) => linear(),
        }
    }

    /// Keeps the staged key in the innermost object.
    fn keep_staged(&mut self) {
        let (start, end) = (self.staged, self.arena.len());
        self.fps.push(self.staged_fp);
        self.spans.push((start, end));
        self.staged = end;
        let depth = self.levels.len().saturating_sub(1);
        let Some(level) = self.levels.last_mut() else {
            return;
        };
        let count = self.spans.len() - level.first_key;
        if count <= LINEAR_KEYS {
            return;
        }
        let Some(index) = self.index.get_mut(depth) else {
            return;
        };
        let text = |(s, e): (usize, usize)| self.arena.get(s..e).unwrap_or_default();
        if level.indexed {
            index
                .entry(self.hasher.hash_one(text((start, end))))
                .or_insert(self.spans.len() - 1);
        } else {
            level.indexed = true;
            for (i, &span) in self.spans.iter().enumerate().skip(level.first_key) {
                index.entry(self.hasher.hash_one(text(span))).or_insert(i);
            }
        }
    }

    /// The key kept last (folded).
    fn last_kept(&self) -> &[u8] {
        self.text(self.spans.len().wrapping_sub(1))
    }
}

/// The map visitor: one [`Merger::field`] per field, in order.
struct Fields<'m>(&'m mut Merger);

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let m = self.0;
        while let Some(key) = map.next_key_seed(KeySeed(&mut m.key_scratch))? {
            let raw: &'de serde_json::value::RawValue = map.next_value()?;
            match key {
                Some(borrowed) => m.field(borrowed, raw.get()),
                None => {
                    let key = std::mem::take(&mut m.key_scratch);
                    m.field(&key, raw.get());
                    m.key_scratch = key;
                }
            }
        }
        Ok(())
    }
}

/// A key borrowed from the message (`Some`), or decoded into the scratch
/// string when it has escapes (`None`).
struct KeySeed<'s>(&'s mut String);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<&'de str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<&'de str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        self.0.clear();
        self.0.push_str(v);
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(columns: &str, message: &str) -> Option<(String, usize, usize)> {
        let mut m = Merger::new(columns.parse().unwrap());
        m.start_record();
        m.merge(message).then(|| {
            (
                String::from_utf8(m.fields.clone()).unwrap(),
                m.renamed_keys(),
                m.rejected_values(),
            )
        })
    }

    fn fields(message: &str) -> String {
        merged("", message).unwrap().0
    }

    #[test]
    fn only_one_json_object_merges() {
        assert_eq!(
            fields(r#" {"level":"info","n":1,"o":{"a":[1]}}"#),
            r#","level":"info","n":1,"o":{"a":[1]}"#
        );
        for not in [
            "[1]",
            "{\"a\":1} trailing",
            "{not json",
            "plain text",
            "",
            "{\"a\":1",
            "{}{}",
        ] {
            assert!(merged("", not).is_none(), "{not}");
        }
        assert_eq!(fields("{}"), "");
    }

    #[test]
    fn the_issue_line() {
        // The line from the issue: every pair that Athena took for one key.
        let (f, renamed, _) = merged(
            "",
            r#"{"Message":"x","ID":5,"level":"a","Level":"b","Timestamp":"t"}"#,
        )
        .unwrap();
        assert_eq!(
            f,
            r#","msg_Message":"x","msg_ID":5,"level":"a","msg_Level":"b","msg_Timestamp":"t""#
        );
        assert_eq!(renamed, 4);
    }

    #[test]
    fn renamed_keys_never_collide_again() {
        assert_eq!(
            fields(r#"{"message":1,"msg_message":2,"MESSAGE":3,"Msg_Message":4}"#),
            r#","msg_message":1,"msg_msg_message":2,"msg_MESSAGE_2":3,"msg_Msg_Message_2":4"#
        );
        // A literal key taking a suffix first pushes the rename further.
        assert_eq!(
            fields(r#"{"a":1,"msg_a":2,"msg_a_2":3,"A":4}"#),
            r#","a":1,"msg_a":2,"msg_a_2":3,"msg_A_3":4"#
        );
        assert_eq!(
            fields(r#"{"":1,"":2,"msg_":3}"#),
            r#","msg_":1,"msg__2":2,"msg_msg_":3"#
        );
        assert_eq!(
            fields(r#"{"_col1":1,"_COL22":2,"_col":3,"_col1x":4}"#),
            r#","msg__col1":1,"msg__COL22":2,"_col":3,"_col1x":4"#
        );
    }

    #[test]
    fn case_is_unicode() {
        // Kelvin sign, final sigma, dotted capital I: the SerDes' Java
        // lowercase takes each pair for one key.
        let (f, renamed, _) = merged(
            "",
            "{\"key\":1,\"\u{212a}ey\":2,\"ΟΔΟΣ\":3,\"οδος\":4,\"\u{130}\":5,\"i\u{307}\":6}",
        )
        .unwrap();
        assert_eq!(
            f,
            ",\"key\":1,\"msg_\u{212a}ey\":2,\"ΟΔΟΣ\":3,\"msg_οδος\":4,\"\u{130}\":5,\"msg_i\u{307}\":6"
        );
        assert_eq!(renamed, 3);
    }

    #[test]
    fn escaped_keys_are_decided_decoded() {
        assert_eq!(
            fields(r#"{"L\u0065vel":1,"level":2}"#),
            r#","Level":1,"msg_level":2"#
        );
    }

    #[test]
    fn nested_objects_follow_the_rule() {
        let (f, renamed, _) = merged(
            "",
            r#"{"user":{"Id":1,"id":2,"":3,"x":{"A":[{"b":1,"B":2}],"a":0}},"arr":[{"k":1,"K":2}],"id":3}"#,
        )
        .unwrap();
        assert_eq!(
            f,
            r#","user":{"Id":1,"msg_id":2,"msg_":3,"x":{"A":[{"b":1,"msg_B":2}],"msg_a":0}},"arr":[{"k":1,"msg_K":2}],"msg_id":3"#
        );
        assert_eq!(renamed, 6);
        // Clean nested values are copied as they are (a string that looks
        // like keys is a string).
        assert_eq!(
            fields(r#"{"o":{"a":{"b":[1,{"c":"}{\"d\":1,\"D\":2}"}]},"B":1}}"#),
            r#","o":{"a":{"b":[1,{"c":"}{\"d\":1,\"D\":2}"}]},"B":1}"#
        );
    }

    #[test]
    fn pretty_printed_messages_stay_on_one_line() {
        let f = fields("{\n  \"a\": {\n    \"b\": [1,\r\n 2]\n  },\n  \"c\": \"x\\ny\"\n}");
        assert_eq!(f, r#","a":{     "b": [1,   2]   },"c":"x\ny""#);
        assert!(!f.contains('\n') && !f.contains('\r'));
    }

    #[test]
    fn many_keys_and_many_repeats_stay_linear() {
        // 20,000 distinct keys, then the same key 20,000 times: both finish
        // quickly (quadratic work would take minutes) and stay unique.
        let mut msg = String::from("{");
        for i in 0..20_000 {
            msg.push_str(&format!("\"K{i}\":1,"));
        }
        for _ in 0..20_000 {
            msg.push_str("\"k7\":1,");
        }
        msg.push_str("\"end\":1}");
        let (f, renamed, _) = merged("", &msg).unwrap();
        assert_eq!(renamed, 20_000);
        let line: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&format!("{{{}}}", &f[1..])).unwrap();
        let mut lower: Vec<String> = line.keys().map(|k| k.to_lowercase()).collect();
        lower.sort();
        lower.dedup();
        assert_eq!(lower.len(), 40_001);
    }

    #[test]
    fn declared_columns_are_typed_or_left_out() {
        let cols = "level:string,status:int,duration_ms:double,ok:boolean,at:timestamp,big:bigint";
        let (f, _, rejected) = merged(
            cols,
            r#"{"Level":"info","Status":"200","duration_ms":12,"ok":"true","at":"2025-11-28T03:19:00Z","big":1e3,"other":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            f,
            r#","level":"info","status":200,"duration_ms":12,"ok":true,"at":"2025-11-28 03:19:00","big":1000,"other":"x""#
        );
        assert_eq!(rejected, 0);
        let (f, _, rejected) = merged(
            cols,
            r#"{"level":{"a":1},"status":"OK","duration_ms":"slow","ok":1,"at":"yesterday","big":1.5,"LEVEL":"x"}"#,
        )
        .unwrap();
        // The object becomes its text; the rest does not fit and is left
        // out; "LEVEL" collides with "level" and is renamed, not typed.
        assert_eq!(f, r#","level":"{\"a\":1}","msg_LEVEL":"x""#);
        assert_eq!(rejected, 5);
    }

    #[test]
    fn declared_columns_are_written_in_their_declared_spelling() {
        let cols = "level:string,status:int,request_id:string,msg_timestamp:timestamp,key:int";
        // Every spelling of a declared name, escaped or not, is written as
        // declared, typed; undeclared and nested keys keep theirs.
        for (message, want) in [
            (r#"{"LEVEL":"a"}"#, r#","level":"a""#),
            (r#"{"Level":"a"}"#, r#","level":"a""#),
            (r#"{"lEvEl":"a"}"#, r#","level":"a""#),
            (r#"{"L\u0045VEL":"a"}"#, r#","level":"a""#),
            (r#"{"STATUS":"404"}"#, r#","status":404"#),
            (r#"{"Request_ID":"R1"}"#, r#","request_id":"R1""#),
            ("{\"\u{212a}EY\":1}", r#","key":1"#),
            (
                r#"{"Levels":"a","o":{"Level":"b"},"RequestId":"c"}"#,
                r#","Levels":"a","o":{"Level":"b"},"RequestId":"c""#,
            ),
        ] {
            assert_eq!(
                merged(cols, message).unwrap(),
                (want.into(), 0, 0),
                "{message}"
            );
        }
        // Two keys for one column: the first takes it (declared spelling),
        // the second is renamed and counted, as without MERGE_COLUMNS. A
        // renamed key that names a declared column is written as declared.
        assert_eq!(
            merged(
                cols,
                r#"{"Level":"a","LEVEL":"b","Timestamp":"2025-11-28T03:19:00Z"}"#
            )
            .unwrap(),
            (
                r#","level":"a","msg_LEVEL":"b","msg_timestamp":"2025-11-28 03:19:00""#.into(),
                2,
                0
            )
        );
        // A value left out keeps the key taken: the later spelling does not
        // take the column.
        assert_eq!(
            merged(cols, r#"{"Status":"OK","status":200}"#).unwrap(),
            (r#","msg_status":200"#.into(), 1, 1)
        );
        // Without declared columns every key keeps its spelling.
        assert_eq!(fields(r#"{"Level":"a"}"#), r#","Level":"a""#);
    }

    #[test]
    fn every_line_key_is_reserved() {
        use crate::lines::keys::LINE_KEYS;
        let mut keys = KeySet::default();
        keys.open();
        for k in LINE_KEYS {
            keys.stage(&k.to_uppercase());
            assert!(keys.staged_reserved(), "{k}");
            keys.drop_staged();
        }
        keys.stage("levels");
        assert!(!keys.staged_reserved());
    }

    #[test]
    fn word_folding_is_ascii_lowercase() {
        for b in 0u8..0x80 {
            for at in 0..8 {
                let mut bytes = *b"aZ_9-Q.x";
                bytes[at] = b;
                let lowered: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
                assert_eq!(
                    lower_ascii_word(u64::from_le_bytes(bytes))
                        .to_le_bytes()
                        .to_vec(),
                    lowered
                );
            }
        }
        // Folding a key and fingerprinting its folded text agree, whatever
        // the length, so an ASCII key and a folded one compare.
        let mut keys = KeySet::default();
        keys.open();
        for key in ["", "a", "Level", "REQUESTID_AND_MORE", "msg_Time_2"] {
            keys.stage(key);
            assert_eq!(
                keys.staged_fp,
                Fingerprint::of(key.to_ascii_lowercase().as_bytes())
            );
            assert_eq!(keys.staged_bytes(), key.to_ascii_lowercase().as_bytes());
            keys.drop_staged();
        }
    }

    #[test]
    fn counts_only_merged_messages() {
        let mut m = Merger::new(MergeColumns::none());
        m.start_record();
        assert!(!m.merge(r#"{"id":1} trailing"#));
        assert_eq!(m.renamed_keys(), 0);
        assert!(m.merge(r#"{"id":1}"#));
        assert!(m.merge(r#"{"ID":1}"#));
        assert_eq!(m.renamed_keys(), 2);
        m.start_record();
        assert_eq!(m.renamed_keys(), 0);
    }
}
