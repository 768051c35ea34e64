//! The fast reader: one pass over the inflated CloudWatch Logs bytes that
//! checks the document and hands each event to the line writer as it goes,
//! string bodies as the document holds them (so a message whose escapes are
//! the ones the writer would write is copied, not decoded and escaped again).
//! When the writer says a line is the bare message
//! ([`LineWriter::line_is_bare_message`]: message mode, unmasked), the
//! message is decoded onto the lines in the same pass that checks it, and
//! the writer ends the line.
//!
//! The header (group, stream, owner) comes before `logEvents` in every
//! document CloudWatch Logs writes: it is decoded and handed to exclusion
//! before the first event, and an excluded record's events are only
//! checked, never written.
//!
//! It only ever answers for documents that the reference reader
//! ([`super::reference`], serde) accepts, and then the writer gets the same
//! fields and writes the same bytes. Anything else — keys with escapes,
//! duplicate keys, a missing field, `logEvents` before the header, a
//! timestamp that is not a plain integer of at most 18 digits, surrogate
//! escapes, invalid UTF-8, nesting past [`MAX_DEPTH`], more than
//! [`MAX_EVENTS`] events, an unknown `messageType` — is [`Scan::Decline`]d,
//! and the caller forgets what was written and takes the reference path,
//! which decides and words any error. The byte-class kernels it runs on are
//! in [`crate::simd`].

use super::{Excluded, Outcome, Record, CONTROL_MESSAGE, DATA_MESSAGE};
use crate::json::{hex4, push_char, short_escape, JsonStr};
use crate::limits::MAX_EVENTS;
use crate::lines::{LineWriter, Text};
use crate::simd::{json_specials16, SpecialSearch};

/// What the fast path made of a document.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// Decided: a valid document, read into the record.
    Read(Outcome),
    /// A whole line took the lines past their limit.
    Cap,
    /// Not decided here: take the reference path. The record may hold part
    /// of a line.
    Decline,
}

/// Depth past which nested values are left to serde (its own limit is 128).
const MAX_DEPTH: u32 = 100;

/// Checks `doc` and reads it into `record`, which the caller cleared: the
/// header, then, unless `excluded` names it, one line per event of at most
/// `limit` bytes in all, each paired with the event's span in the document.
pub(crate) fn scan(
    doc: &[u8],
    writer: &mut LineWriter,
    record: &mut Record,
    limit: usize,
    excluded: Excluded<'_>,
) -> Scan {
    if std::str::from_utf8(doc).is_err() {
        return Scan::Decline;
    }
    let mut cursor = Cursor {
        b: doc,
        i: 0,
        search: SpecialSearch::default(),
        capped: false,
    };
    match cursor.document(writer, record, limit, excluded) {
        Some(outcome) => Scan::Read(outcome),
        None if cursor.capped => Scan::Cap,
        None => Scan::Decline,
    }
}

/// What is done with each event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Events {
    /// Checked only (the record is excluded, or a CONTROL_MESSAGE).
    Check,
    /// Handed to the line writer as the document holds it.
    Write,
    /// The line is the bare message: decoded onto the lines as it is read.
    Bare,
}

/// A position in the document; every method returns `None` to decline.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    /// Finds the next `"`, `\\` or control byte (see [`SpecialSearch`]).
    search: SpecialSearch,
    /// Stopped because a whole line took the lines past their limit.
    capped: bool,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// The first special byte (`"`, `\\`, control) at or after `from`.
    #[inline]
    fn next_special(&mut self, from: usize) -> Option<usize> {
        self.search.next(self.b, from)
    }

    /// JSON whitespace, as serde_json skips it.
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.i += 1)
    }

    /// After a member or element: `true` for `,` (more follow), `false` for `close`.
    fn next_or_close(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let b = self.peek()?;
        self.i += 1;
        match b {
            b',' => {
                self.ws();
                Some(true)
            }
            _ if b == close => Some(false),
            _ => None,
        }
    }

    /// An object key (no escapes) and its colon.
    fn key(&mut self) -> Option<&'a [u8]> {
        let key = self.string()?;
        if !key.plain {
            return None;
        }
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(key.raw)
    }

    /// A string; declines on control characters, unknown or surrogate escapes.
    fn string(&mut self) -> Option<JsonStr<'a>> {
        self.eat(b'"')?;
        let start = self.i;
        let mut j = start;
        let (mut plain, mut canonical, mut unicode) = (true, true, false);
        loop {
            j = self.next_special(j)?;
            match self.b.get(j)? {
                b'"' => break,
                b'\\' => {
                    plain = false;
                    match self.b.get(j + 1)? {
                        b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f' => j += 2,
                        b'/' => {
                            canonical = false;
                            j += 2;
                        }
                        b'u' => {
                            unicode = true;
                            let hex = self.b.get(j + 2..j + 6)?;
                            let v = hex4(hex)?;
                            if (0xd800..0xe000).contains(&v) {
                                return None;
                            }
                            // push_str writes `\u00xx`, lowercase, only for
                            // controls without a short escape.
                            canonical &= v < 0x20
                                && !matches!(v, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d)
                                && !hex.iter().any(u8::is_ascii_uppercase);
                            j += 6;
                        }
                        _ => return None,
                    }
                }
                // A raw control character: not JSON.
                _ => return None,
            }
        }
        let raw = self.b.get(start..j)?;
        self.i = j + 1;
        Some(JsonStr {
            raw,
            plain,
            canonical,
            unicode,
        })
    }

    /// A string whose value is decoded onto the end of `out` as it is
    /// read: what [`Self::string`] accepts, in one pass that checks and
    /// decodes (message mode writes the decoded message, so copying it as
    /// the document holds it would leave a second pass to do).
    ///
    /// 16 bytes at a time: each block is copied to `out` whole and the copy
    /// cut back to the block's first special byte, which is then decoded.
    /// JSON inside a message escapes every few bytes, so an escape costs one
    /// block test and one fixed-size copy. `out` may hold part of the value
    /// after `None`.
    fn string_decoded(&mut self, out: &mut Vec<u8>) -> Option<()> {
        self.eat(b'"')?;
        let mut i = self.i;
        loop {
            let block = block16(self.b, i);
            let hits = json_specials16(&block);
            let base = out.len();
            out.extend_from_slice(&block);
            if hits == 0 {
                i += 16;
                continue;
            }
            let n = hits.trailing_zeros() as usize;
            let at = i + n;
            // Past the end of the document (the zeros block16 added): None.
            match self.b.get(at)? {
                b'"' => {
                    out.truncate(base + n);
                    self.i = at + 1;
                    return Some(());
                }
                b'\\' => {}
                // A raw control character: not JSON.
                _ => return None,
            }
            match *self.b.get(at + 1)? {
                b'u' => {
                    out.truncate(base + n);
                    let v = hex4(self.b.get(at + 2..at + 6)?)?;
                    // Surrogates are the reference's (as in `string`).
                    if (0xd800..0xe000).contains(&v) {
                        return None;
                    }
                    push_char(out, v)?;
                    i = at + 6;
                }
                letter => {
                    let byte = short_escape(letter)?;
                    *out.get_mut(base + n)? = byte;
                    out.truncate(base + n + 1);
                    i = at + 2;
                }
            }
        }
    }

    /// An integer that serde reads as an `i64`: `-?(0|[1-9][0-9]*)`, at most
    /// 18 digits, not followed by a fraction or an exponent.
    fn int(&mut self) -> Option<i64> {
        let negative = self.peek()? == b'-';
        if negative {
            self.i += 1;
        }
        let start = self.i;
        self.digits();
        let digits = self.b.get(start..self.i)?;
        let leading_zero = digits.len() > 1 && digits.first() == Some(&b'0');
        if digits.is_empty()
            || digits.len() > 18
            || leading_zero
            || matches!(self.peek(), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        let value = digits
            .iter()
            .fold(0i64, |v, &d| v * 10 + i64::from(d - b'0'));
        match (negative, value) {
            // serde reads `-0` as a float, which is no i64.
            (true, 0) => None,
            (true, v) => Some(-v),
            (false, v) => Some(v),
        }
    }

    /// Any JSON value, checked as serde_json checks what it ignores.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip_value(depth + 1)?;
                    if !self.next_or_close(b'}')? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if !self.next_or_close(b']')? {
                        return Some(());
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        if self.peek()? == b'-' {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        match self.peek() {
            Some(b'0'..=b'9') => None,
            _ => Some(()),
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    /// The whole document, into `record`.
    fn document(
        &mut self,
        w: &mut LineWriter,
        record: &mut Record,
        limit: usize,
        excluded: Excluded<'_>,
    ) -> Option<Outcome> {
        let (mut kind, mut owner, mut group, mut stream) = (None, None, None, None);
        let mut filters = false;
        // The events' count, and whether the header left them unwritten.
        let mut events: Option<(usize, bool)> = None;
        self.ws();
        self.eat(b'{')?;
        self.ws();
        loop {
            let key = self.key()?;
            match key {
                b"messageType" => set_once(&mut kind, self.string()?)?,
                b"owner" => set_once(&mut owner, self.string()?)?,
                b"logGroup" => set_once(&mut group, self.string()?)?,
                b"logStream" => set_once(&mut stream, self.string()?)?,
                b"subscriptionFilters" => {
                    if std::mem::replace(&mut filters, true) {
                        return None;
                    }
                    self.strings()?;
                }
                b"logEvents" => {
                    // CloudWatch Logs writes them last: the header is known
                    // before the first line.
                    if events.is_some() {
                        return None;
                    }
                    let header = &mut record.header;
                    header.set(&owner?.decode()?, &group?.decode()?, &stream?.decode()?);
                    let control = match kind {
                        Some(kind) => kind.decode()? == CONTROL_MESSAGE,
                        None => false,
                    };
                    // A control message has no lines; an excluded record
                    // writes none.
                    let unwritten = control || excluded(header);
                    let mode = if unwritten {
                        Events::Check
                    } else {
                        record.group_masked = header.start_lines(w);
                        // Asked once per record: the writer decides what a line is.
                        if w.line_is_bare_message() {
                            Events::Bare
                        } else {
                            Events::Write
                        }
                    };
                    let (count, first) = self.events(w, record, limit, mode)?;
                    if !unwritten {
                        record.counts = w.counts();
                        record.first_timestamp = first;
                    }
                    events = Some((count, unwritten));
                }
                _ => self.skip_value(1)?,
            }
            if !self.next_or_close(b'}')? {
                break;
            }
        }
        self.ws();
        if self.i != self.b.len() {
            return None;
        }
        let (count, unwritten) = events?;
        match kind?.decode()?.as_ref() {
            CONTROL_MESSAGE => Some(Outcome::Control),
            DATA_MESSAGE if count == 0 => Some(Outcome::NoEvents),
            DATA_MESSAGE if unwritten => Some(Outcome::Excluded),
            DATA_MESSAGE => Some(Outcome::Lines),
            _ => None,
        }
    }

    /// An array of strings.
    fn strings(&mut self) -> Option<()> {
        self.eat(b'[')?;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.string()?;
            if !self.next_or_close(b']')? {
                return Some(());
            }
        }
    }

    /// `logEvents`, each event's line written as `mode` says: the count
    /// and the first timestamp.
    fn events(
        &mut self,
        w: &mut LineWriter,
        record: &mut Record,
        limit: usize,
        mode: Events,
    ) -> Option<(usize, i64)> {
        self.eat(b'[')?;
        self.ws();
        let (mut count, mut first) = (0, 0);
        if self.peek()? == b']' {
            self.i += 1;
            return Some((0, 0));
        }
        loop {
            let timestamp = self.event(w, record, mode)?;
            if count == 0 {
                first = timestamp;
            }
            count += 1;
            if record.lines.len() > limit {
                self.capped = true;
                return None;
            }
            // Past it serde's path decides (and words) the failure.
            if count > MAX_EVENTS {
                return None;
            }
            if !self.next_or_close(b']')? {
                return Some((count, first));
            }
        }
    }

    /// One event and, unless `mode` only checks it, its line: its
    /// timestamp. With bare lines the message is decoded straight onto the
    /// end of the lines while it is read (it is the line), else the writer
    /// gets it as the document holds it. `None` may leave part of a line
    /// behind.
    fn event(&mut self, w: &mut LineWriter, record: &mut Record, mode: Events) -> Option<i64> {
        let (mut id, mut timestamp, mut message, mut extracted) = (None, None, None, None);
        let start = self.i;
        self.eat(b'{')?;
        self.ws();
        loop {
            match self.key()? {
                b"id" => set_once(&mut id, self.string()?)?,
                b"timestamp" => set_once(&mut timestamp, self.int()?)?,
                b"message" if mode == Events::Bare => {
                    self.string_decoded(&mut record.lines)?;
                    set_once(&mut message, None)?;
                }
                b"message" => set_once(&mut message, Some(self.string()?))?,
                b"extractedFields" => {
                    let start = self.i;
                    self.skip_value(3)?;
                    // serde reads `null` as no field at all.
                    let raw = self.b.get(start..self.i)?;
                    set_once(&mut extracted, (raw != b"null").then_some(raw))?;
                }
                _ => self.skip_value(3)?,
            }
            if !self.next_or_close(b'}')? {
                break;
            }
        }
        let (id, timestamp, message) = (id?, timestamp?, message?);
        match (mode, message) {
            (Events::Check, _) => return Some(timestamp),
            // The message is on the lines already.
            (_, None) => w.end_bare_message_line(&mut record.lines),
            (_, Some(message)) => {
                let written = w.event(
                    &mut record.lines,
                    Text::Json(id),
                    timestamp,
                    Text::Json(message),
                    extracted.flatten(),
                )?;
                // Filtered: no line, no event (as in the reference).
                if !written {
                    return Some(timestamp);
                }
            }
        }
        record.push_event(start..self.i);
        Some(timestamp)
    }
}

/// Sets a field seen for the first time; `None` for a duplicate (serde refuses those).
fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

/// The 16 bytes of `b` from `at`, zeros past its end.
#[inline(always)]
fn block16(b: &[u8], at: usize) -> [u8; 16] {
    match b.get(at..at + 16).map(<[u8; 16]>::try_from) {
        Some(Ok(block)) => block,
        _ => {
            let mut block = [0u8; 16];
            for (to, from) in block.iter_mut().zip(b.get(at..).unwrap_or_default()) {
                *to = *from;
            }
            block
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::reference::{event_spans, LogsDocument};
    use crate::document::{none_excluded, Header};
    use crate::error::RecordError;
    use crate::lines::{LineOptions, OutputFormat};
    use crate::mask::Keep;

    /// The reference: serde, then the line writer.
    fn reference(doc: &str, options: LineOptions) -> Option<(Vec<u8>, usize, usize)> {
        let mut record = Record::default();
        let mut writer = LineWriter::new(options);
        super::super::reference::read(
            doc.as_bytes(),
            &mut writer,
            &mut record,
            usize::MAX,
            &none_excluded,
        )
        .ok()?;
        let events = record.events().len();
        Some((record.lines, events, record.counts.masked))
    }

    struct Fast {
        scan: Scan,
        out: Vec<u8>,
        ends: Vec<usize>,
        spans: Vec<std::ops::Range<usize>>,
        masked: usize,
    }

    fn fast_within(doc: &[u8], options: LineOptions, limit: usize) -> Fast {
        let mut record = Record::default();
        let mut writer = LineWriter::new(options);
        let scan = scan(doc, &mut writer, &mut record, limit, &none_excluded);
        Fast {
            scan,
            ends: record.events().iter().map(|e| e.line_end).collect(),
            spans: record.events().iter().map(|e| e.span.clone()).collect(),
            out: record.lines,
            masked: record.counts.masked,
        }
    }

    fn fast(doc: &str, options: LineOptions) -> Fast {
        fast_within(doc.as_bytes(), options, usize::MAX)
    }

    /// The fast path either declines or agrees with the reference.
    fn agrees(doc: &str) -> bool {
        let mut answered = false;
        for options in [
            LineOptions::default(),
            LineOptions {
                format: OutputFormat::Message,
                ..LineOptions::default()
            },
            LineOptions {
                add_time: true,
                ..LineOptions::default()
            },
            LineOptions {
                mask: Some(Keep::First6Last4),
                ..LineOptions::default()
            },
            LineOptions {
                format: OutputFormat::Message,
                mask: Some(Keep::Last4),
                ..LineOptions::default()
            },
            LineOptions {
                merge_json_message: true,
                ..LineOptions::default()
            },
            LineOptions {
                merge_json_message: true,
                keep_message: false,
                add_time: true,
                mask: Some(Keep::First6Last4),
                ..LineOptions::default()
            },
        ] {
            let Fast {
                scan,
                out,
                ends,
                spans,
                masked,
            } = fast(doc, options);
            // The record path answers as the reference does: the same
            // bytes, or the same refusal in the same words.
            let bytes = doc.as_bytes();
            assert_eq!(
                read_within(bytes, options, usize::MAX),
                reference_within(bytes, options, usize::MAX),
                "{doc}"
            );
            match scan {
                Scan::Decline | Scan::Cap => {}
                Scan::Read(Outcome::Lines) => {
                    let events = ends.len();
                    let (expected, n, masked_there) =
                        reference(doc, options).expect("serde accepts");
                    assert_eq!(masked, masked_there, "{doc}");
                    assert_eq!(
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(&expected),
                        "{doc}"
                    );
                    assert_eq!((events, ends.len()), (n, n));
                    assert_eq!(ends.last(), Some(&out.len()));
                    // The spans are the events the reference finds.
                    assert_eq!(spans, event_spans(doc.as_bytes()).unwrap(), "{doc}");
                    answered = true;
                }
                Scan::Read(outcome) => {
                    let parsed = LogsDocument::parse(doc.as_bytes()).expect("serde accepts");
                    let control = parsed.message_type == CONTROL_MESSAGE;
                    assert_eq!(outcome == Outcome::Control, control, "{doc}");
                    assert!(control || parsed.log_events.is_empty());
                    answered = true;
                }
            }
        }
        answered
    }

    fn doc(events: &str) -> String {
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/ecs/api","logStream":"api/1","subscriptionFilters":["all"],"logEvents":[{events}]}}"#
        )
    }

    #[test]
    fn usual_documents_are_answered_and_agree() {
        for events in [
            r#"{"id":"1","timestamp":1764300000123,"message":"hello"}"#,
            r#"{"id":"1","timestamp":1,"message":"card 4111 1111 1111 1111 cvv=123"},{"id":"2","timestamp":2,"message":"{\"pan\":\"5555555555554444\"}"}"#,
            r#"{"id":"1","timestamp":1,"message":"a \"quoted\" \\ path\n\tat x"},{"id":"2","timestamp":-5,"message":""}"#,
            r#"{"id":"1","timestamp":0,"message":"ctl \u0001\u001f é ✓ 😀 \u007f"}"#,
            r#" { "message" : "key order" , "timestamp" : 7 , "id" : "x" } "#,
            r#"{"id":"1","timestamp":2,"message":"m","extractedFields":{"ip":"1.2.3.4","n":[1,2.5e3,-0.5,true,null,{}]}}"#,
            r#"{"id":"1","timestamp":2,"message":"m","extractedFields":null,"other":[[],{"a":"b"}]}"#,
            "",
        ] {
            assert!(agrees(&doc(events)), "{events}");
        }
        let control = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE"}]}"#;
        assert!(agrees(control));
        assert_eq!(
            fast(control, LineOptions::default()).scan,
            Scan::Read(Outcome::Control)
        );
    }

    #[test]
    fn unusual_escapes_are_rewritten_like_push_str() {
        for events in [
            r#"{"id":"\/1","timestamp":1,"message":"slash \/ and \u00e9 and \u00E9 and \u000A and \u0041"}"#,
            r#"{"id":"1","timestamp":1,"message":"\u001B[31mred\u001b[0m \b\f"}"#,
        ] {
            let d = doc(events);
            assert!(matches!(
                fast(&d, LineOptions::default()).scan,
                Scan::Read(Outcome::Lines)
            ));
            assert!(agrees(&d), "{events}");
        }
    }

    #[test]
    fn declines_what_it_does_not_decide() {
        for d in [
            doc(r#"{"id":"1","timestamp":1.0,"message":"float"}"#),
            doc(r#"{"id":"1","timestamp":1e3,"message":"exp"}"#),
            doc(r#"{"id":"1","timestamp":01,"message":"leading zero"}"#),
            doc(r#"{"id":"1","timestamp":-0,"message":"negative zero"}"#),
            doc(r#"{"id":"1","timestamp":-,"message":"sign only"}"#),
            doc(r#"{"id":"1","timestamp":99999999999999999999,"message":"big"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"dup","message":"x"}"#),
            doc(r#"{"id":"1","timestamp":1}"#),
            doc(r#"{"id":1,"timestamp":1,"message":"id not a string"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"lone \ud800"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"pair \ud83d\ude00"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"raw	tab"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"bad \x escape"}"#),
            doc(r#"{"id":"1","timestamp":1,"message":"m"},"#),
            doc(r#"{"id":"1","timestamp":1,"message":"m","extractedFields":{"a":01}}"#),
            format!("{} x", doc("")),
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logEvents":[]}"#.to_string(),
            r#"{"messageType":"OTHER","owner":"o","logGroup":"g","logStream":"s","logEvents":[]}"#.to_string(),
            r#"{"messageType":"DATA_MESSAGE","logEvents":[],"owner":"o","logGroup":"g","logStream":"s"}"#.to_string(),
            r#"{"messageType":"DATA_MESSAGE","owner":"o","owner":"o","logGroup":"g","logStream":"s","logEvents":[]}"#.to_string(),
            r#"{"message\u0054ype":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[]}"#.to_string(),
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","subscriptionFilters":null,"logEvents":[]}"#.to_string(),
        ] {
            assert_eq!(fast(&d, LineOptions::default()).scan, Scan::Decline, "{d}");
        }
        let mut invalid_utf8 = doc(r#"{"id":"1","timestamp":1,"message":"m"}"#).into_bytes();
        invalid_utf8.insert(10, 0xff);
        let scan = fast_within(&invalid_utf8, LineOptions::default(), usize::MAX).scan;
        assert_eq!(scan, Scan::Decline);
    }

    /// Random documents from fragments, escapes dense and at every offset
    /// of a 16-byte block: the fast path declines or agrees, always.
    #[test]
    fn random_documents_agree_with_the_reference() {
        const FRAGMENTS: &[&str] = &[
            "a",
            "bcdefghijklmnop",
            "é",
            "日本",
            "😀",
            " ",
            "{",
            "}",
            ":",
            ",",
            "\\\"",
            "\\\\",
            "\\n",
            "\\t",
            "\\r",
            "\\b",
            "\\f",
            "\\/",
            "\\u00e9",
            "\\u00E9",
            "\\u001b",
            "\\u001B",
            "\\u0000",
            "\\u0041",
            "\\u000a",
            "\\u007f",
            // What masking reacts to, around the escapes above.
            "4111111111111111",
            "4111 1111 1111 1111",
            "3782-822463-10005",
            "\\\"cvv\\\":\\\"",
            "cvv=",
            "card_cvc: ",
            "123",
            "1234",
            "7",
            "B",
            "^",
            "=",
            ".",
            "-",
            "\\u0034",
            "\\u0020",
            // Messages that are JSON objects (merging), colliding keys included.
            "{\\\"level\\\":\\\"info\\\",\\\"n\\\":12}",
            "{\\\"id\\\":\\\"x\\\",\\\"card\\\":\\\"4111111111111111\\\"}",
            // Lambda's formats (LAMBDA_FORMAT), as a message's start or not.
            "2026-12-07T00:00:00.000Z\\t8f5a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b\\tINFO\\t",
            "REPORT RequestId: 8f5a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b\\tDuration: 1.5 ms\\tBilled Duration: 2 ms",
            "{\\\"type\\\":\\\"platform.report\\\",\\\"record\\\":{\\\"metrics\\\":{\\\"durationMs\\\":3}}}",
        ];
        // What serde refuses or this path leaves to serde: rare, so most
        // documents are valid.
        const ODD: &[&str] = &["\\ud83d\\ude00", "\\ud800", "\\x", "\t", "\u{1}"];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut answered, mut masked_docs, mut filtered_docs, mut lambda_docs) = (0, 0, 0, 0);
        for _ in 0..3000 {
            let string = |next: &mut dyn FnMut(usize) -> usize| {
                let mut s = String::new();
                for _ in 0..next(40) {
                    s.push_str(if next(200) == 0 {
                        ODD[next(ODD.len())]
                    } else {
                        FRAGMENTS[next(FRAGMENTS.len())]
                    });
                }
                s
            };
            let mut events = Vec::new();
            for e in 0..next(4) {
                let mut fields = vec![
                    format!("\"id\":\"{}\"", string(&mut next)),
                    format!(
                        "\"timestamp\":{}",
                        [e as i64, -7, 1_764_300_000_123][next(3)]
                    ),
                    format!("\"message\":\"{}\"", string(&mut next)),
                ];
                if next(4) == 0 {
                    fields.push(format!(
                        "\"extractedFields\":{{\"k\":\"{}\"}}",
                        string(&mut next)
                    ));
                } else if next(8) == 0 {
                    // System fields (source attribution), some escaped.
                    fields.push(format!(
                        "\"extractedFields\":{{\"@aws.account\":\"{}\",\"@aws.region\":\"eu-west-1\",\"@source.log\":\"111122223333:{}\"}}",
                        ["111122223333", "4111111111111111", "\\u0031"][next(3)],
                        string(&mut next)
                    ));
                }
                // Key order and whitespace vary.
                let first = next(fields.len());
                fields.swap(0, first);
                let ws = [" ", "", "\n\t"][next(3)];
                events.push(format!(
                    "{{{ws}{}{ws}}}",
                    fields.join(&format!("{ws},{ws}"))
                ));
            }
            let group = string(&mut next);
            let d = format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"{group}","logStream":"s","logEvents":[{}]}}"#,
                events.join(",")
            );
            answered += usize::from(agrees(&d));
            let (filtered, lambda) = agrees_filtered(&d);
            filtered_docs += usize::from(filtered);
            lambda_docs += usize::from(lambda);
            let masking = LineOptions {
                mask: Some(Keep::First6Last4),
                ..LineOptions::default()
            };
            let f = fast(&d, masking);
            if let Scan::Read(Outcome::Lines) = f.scan {
                masked_docs += usize::from(f.masked > 0);
            }
        }
        // Most are valid and answered here, not handed on; many have
        // something to mask.
        assert!(answered > 1000, "{answered}");
        assert!(masked_docs > 300, "{masked_docs}");
        assert!(filtered_docs > 300, "{filtered_docs}");
        assert!(lambda_docs > 30, "{lambda_docs}");
    }

    /// Event filters on (by log group, drop and keep, masking first), and
    /// with some options `LAMBDA_FORMAT` and `STATIC_FIELDS`: the scan
    /// declines or writes the reference's bytes, with the same events (so a
    /// split re-ingests the same subset) and the same counts. Whether the
    /// scan answered with some event filtered out, and with Lambda's fields.
    fn agrees_filtered(doc: &str) -> (bool, bool) {
        use crate::filter::{Action, EventFilters, Rule};
        let rule = |name: &str, action, pattern: &str, groups: Option<&str>| Rule {
            name: name.to_string(),
            action,
            pattern: pattern.to_string(),
            log_groups: groups.map(str::to_string),
        };
        let filters = EventFilters::new(vec![
            rule("a", Action::Drop, "^a", None),
            rule("e", Action::Drop, "é|\\*{4}", Some("日")),
            rule("digits", Action::Keep, "[0-9]", Some("b")),
            rule("json", Action::Drop, "level", None),
        ])
        .unwrap();
        let (mut some_filtered, mut some_lambda) = (false, false);
        let statics: crate::lines::StaticFields = "env=prod,team=x".parse().unwrap();
        for (options, enrich) in [
            (LineOptions::default(), false),
            (bare(), true),
            (
                LineOptions {
                    mask: Some(Keep::First6Last4),
                    ..LineOptions::default()
                },
                true,
            ),
            (
                LineOptions {
                    merge_json_message: true,
                    mask: Some(Keep::Last4),
                    ..LineOptions::default()
                },
                false,
            ),
            (
                LineOptions {
                    merge_json_message: true,
                    ..LineOptions::default()
                },
                true,
            ),
        ] {
            let writer = || {
                let w = LineWriter::new(options).with_filters(filters.clone());
                match enrich {
                    true => w
                        .with_lambda_format(true)
                        .with_static_fields(statics.clone()),
                    false => w,
                }
            };
            let read = |reader: Reader| {
                let (mut w, mut record) = (writer(), Record::default());
                let outcome = reader(
                    doc.as_bytes(),
                    &mut w,
                    &mut record,
                    usize::MAX,
                    &none_excluded,
                )
                .map_err(|e| e.to_string());
                let by_rule = w.filtered_by_rule().to_vec();
                // Only lines have counts (the other outcomes leave them).
                let events = record.events().to_vec();
                match outcome {
                    Ok(Outcome::Lines) => (outcome, record.lines, events, record.counts, by_rule),
                    _ => (outcome, vec![], vec![], Default::default(), vec![]),
                }
            };
            let reference = read(crate::document::reference::read);
            assert_eq!(read(crate::document::read), reference, "{doc}");
            let fast = read(scan_reader);
            if fast.0.is_ok() {
                assert_eq!(fast, reference, "{doc}");
                some_filtered |= reference.3.filtered > 0;
                some_lambda |= enrich && reference.1.windows(13).any(|w| w == b"\"request_id\":");
            }
        }
        (some_filtered, some_lambda)
    }

    /// Merging and masked `extractedFields` are the scan's to answer too.
    #[test]
    fn merging_and_masked_extracted_fields_are_answered_here() {
        let d = doc(
            r#"{"id":"1","timestamp":1,"message":"{\"level\":\"warn\",\"id\":7,\"pan\":\"4111 1111 1111 1111\"}","extractedFields":{"card":"5555555555554444","n":4111111111111111}}"#,
        );
        for options in [
            LineOptions {
                merge_json_message: true,
                ..LineOptions::default()
            },
            LineOptions {
                merge_json_message: true,
                mask: Some(Keep::First6Last4),
                ..LineOptions::default()
            },
        ] {
            let f = fast(&d, options);
            assert!(
                f.scan == Scan::Read(Outcome::Lines) && f.ends.len() == 1,
                "{options:?}"
            );
            let (expected, _, masked) = reference(&d, options).unwrap();
            assert_eq!(f.out, expected);
            assert_eq!(f.masked, masked);
        }
        let masked = fast(
            &d,
            LineOptions {
                merge_json_message: true,
                mask: Some(Keep::First6Last4),
                ..LineOptions::default()
            },
        );
        let line: serde_json::Value = serde_json::from_slice(&masked.out).unwrap();
        assert_eq!(line["level"], "warn");
        assert_eq!(line["msg_id"], 7);
        assert_eq!(line["pan"], "4111 11** **** 1111");
        // A masked number is no longer a number: the whole object becomes a string.
        let fields = line["extracted_fields"].as_str().unwrap();
        assert!(fields.contains(r#""card":"555555******4444""#), "{fields}");
        assert!(fields.contains(r#""n":411111******1111"#), "{fields}");
        assert_eq!(masked.masked, 3);
    }

    /// Message mode, unmasked: the line writer says a line is the bare
    /// message, and the scan decodes it while it reads it.
    fn bare() -> LineOptions {
        let options = LineOptions {
            format: OutputFormat::Message,
            ..LineOptions::default()
        };
        assert!(LineWriter::new(options).line_is_bare_message());
        options
    }

    /// A reader of a document into a record, as [`crate::document::read`].
    type Reader = fn(
        &[u8],
        &mut LineWriter,
        &mut Record,
        usize,
        Excluded<'_>,
    ) -> Result<Outcome, RecordError>;

    /// What `reader` makes of `doc`: the lines, or the error's wording.
    fn lines_of(
        reader: Reader,
        doc: &[u8],
        options: LineOptions,
        limit: usize,
    ) -> Result<Vec<u8>, String> {
        let mut record = Record::default();
        match reader(
            doc,
            &mut LineWriter::new(options),
            &mut record,
            limit,
            &none_excluded,
        ) {
            Ok(_) => Ok(record.lines),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Both readers through [`crate::document::read`], as the pipeline
    /// calls them.
    fn read_within(doc: &[u8], options: LineOptions, limit: usize) -> Result<Vec<u8>, String> {
        lines_of(crate::document::read, doc, options, limit)
    }

    /// What the reference alone makes of `doc`.
    fn reference_within(doc: &[u8], options: LineOptions, limit: usize) -> Result<Vec<u8>, String> {
        lines_of(crate::document::reference::read, doc, options, limit)
    }

    #[test]
    fn only_message_mode_without_masking_is_bare() {
        for (options, is_bare) in [
            (LineOptions::default(), false),
            (bare(), true),
            (
                LineOptions {
                    mask: Some(Keep::Last4),
                    ..bare()
                },
                false,
            ),
            (
                LineOptions {
                    add_time: true,
                    merge_json_message: true,
                    ..bare()
                },
                true,
            ),
        ] {
            assert_eq!(
                LineWriter::new(options).line_is_bare_message(),
                is_bare,
                "{options:?}"
            );
        }
    }

    /// Every kind of escape the scan decodes, at every offset of a 16-byte
    /// block, with the message first or last in its event and the last
    /// event's message ending a few bytes before the document does (where
    /// the last block runs past the end).
    #[test]
    fn bare_messages_are_decoded_while_read_and_agree() {
        let escapes = [
            "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000", "\\u001f",
            "\\u001F", "\\u0041", "\\u007f", "\\u00e9", "\\u00E9", "\\u07ff", "\\u0800", "\\u20ac",
            "\\uD7FF", "\\ue000", "\\uffff",
        ];
        let plain = ["a", "é", "日本", "😀", " ", "{"];
        let mut checked = 0;
        for (k, esc) in escapes.iter().enumerate() {
            for pos in 0..40 {
                let p = plain[(k + pos) % plain.len()];
                let message = format!("{}{esc}{}{esc}{esc}", "x".repeat(pos), p.repeat(pos % 5));
                let events = [
                    format!(r#"{{"id":"1","timestamp":1,"message":"{message}"}}"#),
                    format!(r#"{{"message":"{message}","id":"2","timestamp":2}}"#),
                ];
                // First event only, second only, both: the last message sits
                // right before `"}]}` or before the other fields.
                for d in [doc(&events[0]), doc(&events[1]), doc(&events.join(","))] {
                    let f = fast(&d, bare());
                    assert!(matches!(f.scan, Scan::Read(Outcome::Lines)), "{d}");
                    let (expected, _, _) = reference(&d, bare()).unwrap();
                    assert_eq!(f.out, expected, "{d}");
                    assert_eq!(f.ends.last(), Some(&f.out.len()));
                    assert!(agrees(&d), "{d}");
                    checked += 1;
                }
            }
        }
        // JSON inside a message, escapes every few bytes; an empty message.
        let d = doc(
            r#"{"id":"1","timestamp":1,"message":"{\"level\":\"info\",\"msg\":\"a\\tb\",\"path\":\"C:\\\\x\\/y\",\"n\":[1,2]}\n"},{"id":"2","timestamp":2,"message":""}"#,
        );
        let f = fast(&d, bare());
        assert_eq!((f.scan, f.ends.len()), (Scan::Read(Outcome::Lines), 2));
        assert_eq!(
            String::from_utf8(f.out).unwrap(),
            "{\"level\":\"info\",\"msg\":\"a\\tb\",\"path\":\"C:\\\\x\\/y\",\"n\":[1,2]}\n\n\n"
        );
        assert!(checked > 2000);
    }

    /// What the scan leaves to the reference in a bare message, or finds
    /// wrong after the message is already on the lines: declined, and the
    /// whole path answers as the reference does (its lines, or its error's
    /// wording).
    #[test]
    fn bare_messages_declined_after_writing_answer_as_the_reference() {
        let good = r#"{"id":"0","timestamp":0,"message":"first \"line\""}"#;
        let bad_events = [
            // Surrogates, a pair or alone: the reference's to decode or refuse.
            r#"{"id":"1","timestamp":1,"message":"pair \ud83d\ude00 after"}"#,
            r#"{"id":"1","timestamp":1,"message":"lone \ud800 after"}"#,
            r#"{"id":"1","timestamp":1,"message":"low \udc00"}"#,
            // Not JSON.
            "{\"id\":\"1\",\"timestamp\":1,\"message\":\"raw\ttab\"}",
            "{\"id\":\"1\",\"timestamp\":1,\"message\":\"raw \u{1} control\"}",
            r#"{"id":"1","timestamp":1,"message":"bad \x escape"}"#,
            r#"{"id":"1","timestamp":1,"message":"bad \u12g4 hex"}"#,
            r#"{"id":"1","timestamp":1,"message":"short \u12"}"#,
            // Wrong after the message was written.
            r#"{"id":"1","message":"written \n first","timestamp":1.5}"#,
            r#"{"message":"written \n first","timestamp":1}"#,
            r#"{"id":"1","message":"written","message":"twice","timestamp":1}"#,
            r#"{"id":"1","timestamp":1,"message":"written","extractedFields":{"a":01}}"#,
            r#"{"id":2,"timestamp":1,"message":"written"}"#,
        ];
        for bad in bad_events {
            for events in [bad.to_string(), format!("{good},{bad}")] {
                let d = doc(&events);
                let f = fast(&d, bare());
                assert_eq!(f.scan, Scan::Decline, "{d}");
                // Only whole lines are events.
                assert_eq!(f.ends.len(), usize::from(events.starts_with(good)));
                let (limit, d) = (usize::MAX, d.as_bytes());
                assert_eq!(
                    read_within(d, bare(), limit),
                    reference_within(d, bare(), limit)
                );
            }
        }
        // The message is read, the document is not right afterwards.
        let m = r#"{"id":"1","timestamp":1,"message":"m\tm"}"#;
        for d in [
            format!("{} x", doc(m)),
            doc(&format!("{m},")),
            r#"{"messageType":"OTHER","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"m\tm"}]}"#.to_string(),
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"m\tm"}],"owner":"p"}"#.to_string(),
        ] {
            let f = fast(&d, bare());
            assert_eq!(f.scan, Scan::Decline, "{d}");
            assert_eq!(f.out, b"m\tm\n", "{d}");
            let d = d.as_bytes();
            assert_eq!(read_within(d, bare(), usize::MAX), reference_within(d, bare(), usize::MAX));
        }
    }

    /// A message that passes the lines' cap while it is written, then turns
    /// out not to be JSON: the error is the reference's (invalid JSON), not
    /// the cap, exactly as when the scan decoded nothing before the writer.
    #[test]
    fn a_bare_message_past_the_cap_then_invalid_is_the_references_error() {
        let long = "a\\n".repeat(100);
        let d = doc(&format!(
            r#"{{"id":"0","timestamp":0,"message":"ok"}},{{"id":"1","timestamp":1,"message":"{long} \x"}}"#
        ));
        let f = fast_within(d.as_bytes(), bare(), 50);
        assert_eq!(f.scan, Scan::Decline);
        let answer = read_within(d.as_bytes(), bare(), 50);
        assert_eq!(answer, reference_within(d.as_bytes(), bare(), 50));
        assert!(!answer.unwrap_err().contains("exceed the cap"));
        // Valid, the same message is past the cap: the cap's error.
        let d = doc(&format!(r#"{{"id":"1","timestamp":1,"message":"{long}"}}"#));
        let answer = read_within(d.as_bytes(), bare(), 50);
        assert_eq!(answer, reference_within(d.as_bytes(), bare(), 50));
        assert!(answer.unwrap_err().contains("exceed the cap"));
    }

    #[test]
    fn a_whole_line_past_the_limit_is_the_cap() {
        let d = doc(
            r#"{"id":"1","timestamp":1,"message":"aaaa"},{"id":"2","timestamp":2,"message":"bbbb"}"#,
        );
        let scan = fast_within(d.as_bytes(), LineOptions::default(), 20).scan;
        assert_eq!(scan, Scan::Cap);
    }

    /// Exclusion is asked once, with the decoded header, before the first
    /// line; an excluded record's events are checked, never written, and
    /// both readers decide it alike.
    #[test]
    fn an_excluded_header_writes_no_line() {
        let asked = std::cell::Cell::new(0);
        let excluded = |h: &Header| {
            asked.set(asked.get() + 1);
            (h.owner.as_str(), h.group.as_str(), h.stream.as_str())
                == ("123456789012", "/ecs/api", "api/1")
        };
        let many = doc(
            r#"{"id":"1","timestamp":1,"message":"card 4111 1111 1111 1111"},{"id":"2","timestamp":2,"message":"{\"a\":1}"}"#,
        );
        let options = LineOptions {
            merge_json_message: true,
            mask: Some(Keep::Last4),
            ..LineOptions::default()
        };
        for reader in [
            scan_reader as Reader,
            crate::document::reference::read,
            crate::document::read,
        ] {
            asked.set(0);
            let mut record = Record::default();
            let mut writer = LineWriter::new(options);
            // A limit no line fits: nothing is written, so no cap is hit.
            let outcome = reader(many.as_bytes(), &mut writer, &mut record, 1, &excluded);
            assert_eq!(outcome.unwrap(), Outcome::Excluded);
            assert_eq!(asked.get(), 1);
            assert!(record.lines.is_empty() && record.events().is_empty());
            assert_eq!(record.counts, Default::default());
            // Without events, or a control message: not asked to exclude,
            // or not an exclusion.
            for (d, expected) in [
                (doc(""), Outcome::NoEvents),
                (
                    many.replace("DATA_MESSAGE", "CONTROL_MESSAGE"),
                    Outcome::Control,
                ),
            ] {
                let outcome = reader(d.as_bytes(), &mut writer, &mut record, 1, &excluded);
                assert_eq!(outcome.unwrap(), expected, "{d}");
            }
        }
        // An excluded document that is not one still fails.
        let broken = many.replace(r#""timestamp":2"#, r#""timestamp":"2""#);
        let mut record = Record::default();
        let mut writer = LineWriter::new(options);
        assert_eq!(
            scan(broken.as_bytes(), &mut writer, &mut record, 1, &excluded),
            Scan::Decline
        );
        let answer =
            crate::document::read(broken.as_bytes(), &mut writer, &mut record, 1, &excluded);
        assert!(matches!(answer, Err(RecordError::Json(_))), "{answer:?}");
    }

    /// The scan as a reader: what it decides, or its decline as an error.
    fn scan_reader(
        doc: &[u8],
        writer: &mut LineWriter,
        record: &mut Record,
        limit: usize,
        excluded: Excluded<'_>,
    ) -> Result<Outcome, RecordError> {
        match scan(doc, writer, record, limit, excluded) {
            Scan::Read(outcome) => Ok(outcome),
            Scan::Cap => Err(RecordError::LinesCap { cap: limit }),
            Scan::Decline => Err(RecordError::Unwritable),
        }
    }
}
