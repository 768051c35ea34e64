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
//! `msg_KEY_3`, … that is free in that object, and counted. Every other key
//! keeps its spelling. "Ignoring case" is Unicode lowercase, with final
//! sigma folded to sigma: at least as coarse as the Java `toLowerCase` the
//! SerDes use, so two keys they would take for one never both appear.
//!
//! No allocation per event while no key collides: the keys seen are folded
//! into one reused arena, compared linearly in small objects and through a
//! hash index (random keys, so crafted input cannot make it quadratic) in
//! large ones.

use super::columns::{push_value, MergeColumns};
use crate::json::{push_str, unescape};
use serde::de::{DeserializeSeed, MapAccess, Visitor};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};

/// Prefix under which a merged field is kept when its key collides.
pub const MERGE_COLLISION_PREFIX: &str = "msg_";

/// Keys the line itself writes; merged message fields never take them. All
/// eight are reserved whatever the options (`time` is written only with
/// `ADD_TIME`, `extracted_fields` only when the event has them): a key's
/// spelling then does not depend on the configuration or on the event.
pub(crate) const LINE_KEYS: [&str; 8] = [
    "timestamp",
    "id",
    "message",
    "log_group",
    "log_stream",
    "owner",
    "time",
    "extracted_fields",
];

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
    /// The folded key being decided.
    folded: String,
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
        fold_into(key, &mut self.folded);
        let top_reserved = |f: &str| LINE_KEYS.contains(&f) || is_hive_internal(f);
        let collides =
            key.is_empty() || top_reserved(&self.folded) || self.keys.contains(&self.folded);
        let final_folded = if collides {
            self.rename(key, &top_reserved);
            self.pending_renamed += 1;
            &self.renamed_folded
        } else {
            self.keys.insert(&self.folded);
            &self.folded
        };
        let column = self.columns.find(final_folded);
        let start = self.fields.len();
        self.fields.push(b',');
        push_str(&mut self.fields, if collides { &self.renamed } else { key });
        self.fields.push(b':');
        match column {
            Some(ty) => {
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

    /// Decides the new name of a colliding `key` (into `renamed`, folded into
    /// `renamed_folded`) and takes it.
    fn rename(&mut self, key: &str, reserved: &dyn Fn(&str) -> bool) {
        let object = self.keys.serial();
        self.renamed.clear();
        self.renamed.push_str(MERGE_COLLISION_PREFIX);
        self.renamed.push_str(key);
        // Folding is per character, so the prefix folds on its own.
        self.renamed_folded.clear();
        self.renamed_folded.push_str(MERGE_COLLISION_PREFIX);
        self.renamed_folded.push_str(&self.folded);
        let free = |s: &Self, f: &str| !reserved(f) && !s.keys.contains(f);
        if !free(self, &self.renamed_folded) {
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
                if free(self, &self.renamed_folded) {
                    break;
                }
            }
            self.suffixes.insert(memo, n);
        }
        self.keys.insert(&self.renamed_folded);
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
        let breaks = self.walk(bytes);
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
    fn walk(&mut self, bytes: &[u8]) -> bool {
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
                        self.nested_key(bytes, i, end);
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
    fn nested_key(&mut self, bytes: &[u8], quote: usize, end: usize) {
        let body = bytes.get(quote + 1..end).unwrap_or_default();
        if !body.contains(&b'\\') {
            let key = std::str::from_utf8(body).unwrap_or_default();
            self.nested_key_text(key, quote, end);
            return;
        }
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
        fold_into(key, &mut self.folded);
        if !key.is_empty() && !self.keys.contains(&self.folded) {
            self.keys.insert(&self.folded);
            return;
        }
        self.rename(key, &|_| false);
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

/// Case-folds `key` into `out`: ASCII lowercase, else Unicode lowercase per
/// character with final sigma as sigma.
fn fold_into(key: &str, out: &mut String) {
    out.clear();
    if key.is_ascii() {
        out.push_str(key);
        out.make_ascii_lowercase();
        return;
    }
    for c in key.chars() {
        for l in c.to_lowercase() {
            out.push(if l == 'ς' { 'σ' } else { l });
        }
    }
}

/// The folded keys of the open objects, innermost last.
#[derive(Debug, Default)]
struct KeySet {
    arena: String,
    spans: Vec<(usize, usize)>,
    levels: Vec<Level>,
    /// Per depth, for objects past [`LINEAR_KEYS`]: hash → span index.
    index: Vec<HashMap<u64, usize>>,
    hasher: RandomState,
    serials: u32,
}

#[derive(Debug, Clone, Copy)]
struct Level {
    first_span: usize,
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
        self.spans.clear();
        self.serials = 0;
    }

    fn open(&mut self) {
        let depth = self.levels.len();
        self.serials = self.serials.wrapping_add(1);
        self.levels.push(Level {
            first_span: self.spans.len(),
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
            self.spans.truncate(level.first_span);
            self.arena.truncate(level.arena_start);
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

    fn key(&self, span: usize) -> &str {
        self.spans
            .get(span)
            .and_then(|&(s, e)| self.arena.get(s..e))
            .unwrap_or_default()
    }

    fn contains(&self, folded: &str) -> bool {
        let Some(level) = self.levels.last() else {
            return false;
        };
        let linear = || {
            self.spans
                .get(level.first_span..)
                .unwrap_or_default()
                .iter()
                .any(|&(s, e)| e - s == folded.len() && self.arena.get(s..e) == Some(folded))
        };
        if !level.indexed {
            return linear();
        }
        let index = self.index.get(self.levels.len() - 1);
        match index.and_then(|i| i.get(&self.hasher.hash_one(folded))) {
            None => false,
            Some(&span) if self.key(span) == folded => true,
            // Two keys with one 64-bit hash: astronomically rare.
            Some(_) => linear(),
        }
    }

    fn insert(&mut self, folded: &str) {
        let start = self.arena.len();
        self.arena.push_str(folded);
        self.spans.push((start, self.arena.len()));
        let depth = self.levels.len().saturating_sub(1);
        let Some(level) = self.levels.last_mut() else {
            return;
        };
        let count = self.spans.len() - level.first_span;
        let Some(index) = self.index.get_mut(depth) else {
            return;
        };
        if level.indexed {
            index
                .entry(self.hasher.hash_one(folded))
                .or_insert(self.spans.len() - 1);
        } else if count > LINEAR_KEYS {
            level.indexed = true;
            for span in level.first_span..self.spans.len() {
                let text = self
                    .spans
                    .get(span)
                    .and_then(|&(s, e)| self.arena.get(s..e))
                    .unwrap_or_default();
                index.entry(self.hasher.hash_one(text)).or_insert(span);
            }
        }
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
            r#","Level":"info","Status":200,"duration_ms":12,"ok":true,"at":"2025-11-28 03:19:00","big":1000,"other":"x""#
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
