//! The line schema, written in one place: one newline-terminated line per log
//! event into a reused buffer.
//!
//! The default line is one JSON object (the contract with the Glue table):
//! `{"timestamp":…,"id":"…","message":"…","log_group":"…","log_stream":"…","owner":"…"}`
//! then `time`, `extracted_fields` and merged message fields when configured
//! or present. The keys are spelled in [`keys`]; the field order, the
//! escaping, masking of every text field and the message mode are decided
//! here, whichever reader of the
//! CloudWatch Logs document feeds it: the fast scan hands over string bodies
//! as the document holds them ([`Text::Json`]), the serde reference decoded
//! text ([`Text::Str`]); both end in the same bytes. Where a line is the bare
//! message (message mode, unmasked: [`LineWriter::line_is_bare_message`]),
//! the scan may decode the message onto the lines itself as it reads it, and
//! the writer ends the line.
//!
//! The record-constant part (group, stream, owner) comes decoded from the
//! record's header and is masked and escaped once per record, not once per
//! event.

mod attribution;
pub(crate) mod columns;
mod group_tags;
pub(crate) mod keys;
mod lambda;
mod merge;
mod static_fields;
pub(crate) mod time;

pub use columns::{ColumnType, MergeColumns};
pub use group_tags::{GroupTagKeys, GroupTags};
pub use static_fields::StaticFields;
pub use time::push_iso8601;

use crate::filter::{EventFilters, Filtering};
use crate::json::{push_int, push_str, JsonStr};
use crate::mask::{json_body_may_mask, mask_bytes_keyed, mask_keyed, Keep, PanKey};
use crate::redact::{Redact, Redactor, Rules, Tally};

/// What each line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// One JSON object per event (the default).
    #[default]
    Json,
    /// The raw message and `\n`: byte for byte what AWS's blueprint writes.
    Message,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "message" => Ok(Self::Message),
            other => Err(format!(
                "unknown output format {other:?} (expected json or message)"
            )),
        }
    }
}

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineOptions {
    /// JSON lines or the bare message.
    pub format: OutputFormat,
    /// Add `time`, the ISO-8601 UTC form of `timestamp`.
    pub add_time: bool,
    /// Merge the top-level fields of a message that is a JSON object.
    pub merge_json_message: bool,
    /// With `merge_json_message`, keep `message` too.
    pub keep_message: bool,
    /// Mask card numbers (PCI DSS 3.5.1) in every text field written.
    pub mask: Option<Keep>,
    /// Redact secrets and personal data in every text field written (after masking).
    pub redact: Option<Redact>,
}

impl Default for LineOptions {
    fn default() -> Self {
        Self {
            format: OutputFormat::Json,
            add_time: false,
            merge_json_message: false,
            keep_message: true,
            mask: None,
            redact: None,
        }
    }
}

/// A text field of the document, as a reader hands it over.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Text<'a> {
    /// Decoded text (the serde reference).
    Str(&'a str),
    /// A string body as the document holds it, escapes checked (the fast scan).
    Json(JsonStr<'a>),
}

/// A message as it will be written: as the reader gave it, or as masking
/// rewrote it.
#[derive(Clone, Copy)]
enum Message<'s, 'a> {
    /// The body as the document holds it.
    Body(JsonStr<'a>),
    /// Text (decoded, or masked).
    Text(&'s str),
    /// A masked body that had no escapes: nothing in it needs one (masking
    /// only turns digits into `*`), so it is text and body at once.
    Plain(&'s [u8]),
    /// A body escaped as the line writes it, not the document's own: a
    /// redacted body (a replacement needs no escape), or what follows
    /// Lambda's prefix in one. Written as it is, decoded for text.
    Escaped(JsonStr<'s>),
}

impl<'m> Message<'m, 'm> {
    /// The message as text, decoded into `buf` when the body has escapes;
    /// `None` for a body that does not decode.
    fn text<'t>(self, buf: &'t mut Vec<u8>) -> Option<&'t str>
    where
        'm: 't,
    {
        match self {
            Message::Body(j) if j.plain => std::str::from_utf8(j.raw).ok(),
            Message::Body(j) | Message::Escaped(j) => {
                buf.clear();
                j.decode_into(buf)?;
                std::str::from_utf8(buf).ok()
            }
            Message::Text(t) => Some(t),
            Message::Plain(p) => std::str::from_utf8(p).ok(),
        }
    }
}

/// What the line writer counted in one record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Card numbers and verification codes masked.
    pub masked: usize,
    /// Merged keys renamed (the key rule).
    pub merged_keys_renamed: usize,
    /// Merged values left out of their declared column.
    pub merged_values_rejected: usize,
    /// Events the event filters dropped (no line).
    pub filtered: usize,
    /// Values redacted, per detector.
    pub redacted: Tally,
}

/// Writes lines; holds the per-record part so it is built once per record.
#[derive(Debug, Default)]
pub struct LineWriter {
    options: LineOptions,
    /// `,"log_group":…,"log_stream":…,"owner":…` of the current record.
    tail: Vec<u8>,
    /// Values masked in the current record.
    masked: usize,
    /// Decoded strings that must be escaped again.
    scratch: Vec<u8>,
    /// Decoded message text (masking of escaped bodies, merging).
    decoded: Vec<u8>,
    /// Masked decoded text.
    masked_text: String,
    /// Masked bodies without escapes, and masked `extractedFields`.
    masked_plain: Vec<u8>,
    /// Merged fields (`MERGE_JSON_MESSAGE`, `MERGE_COLUMNS`).
    merge: merge::Merger,
    /// The event filters, when there are any.
    filtering: Option<Box<Filtering>>,
    /// The source account of the record's first line that names one.
    source_account: Option<String>,
    /// A masked source field.
    source_masked: String,
    /// `STATIC_FIELDS`, written into every line.
    static_fields: StaticFields,
    /// `LAMBDA_FORMAT`: Lambda's log formats read into fields.
    lambda_format: bool,
    /// `LOG_GROUP_TAGS`: the tags held per log group, when on.
    group_tags: Option<Box<GroupTags>>,
    /// A message decoded for `LAMBDA_FORMAT`.
    lambda_text: Vec<u8>,
    /// Values redacted in the current record.
    redacted: Tally,
    /// Redaction's scratch space, and the redacted copy of a text.
    redactor: Redactor,
    redacted_text: Vec<u8>,
    /// The redacted copy of `extractedFields` (the message's may still be in
    /// use: Lambda's fields borrow from it).
    redacted_extracted: Vec<u8>,
    /// The card-token key (`PAN_TOKEN_KEY`), with masking on.
    pan_key: Option<PanKey>,
}

impl LineWriter {
    /// A writer for `options`.
    pub fn new(options: LineOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }

    /// A writer for `options` that types the merged fields declared in
    /// `columns` (`MERGE_COLUMNS`).
    pub fn with_merge_columns(options: LineOptions, columns: MergeColumns) -> Self {
        Self {
            merge: merge::Merger::new(columns),
            ..Self::new(options)
        }
    }

    /// The same writer, adding `fields` to every line (JSON lines only).
    pub fn with_static_fields(mut self, fields: StaticFields) -> Self {
        // Merged keys that take one of these names are renamed.
        self.merge.earlier = fields.names().map(str::to_string).collect();
        Self {
            static_fields: fields,
            ..self
        }
    }

    /// The writer with card tokens after masked card numbers, under `key`.
    pub fn with_pan_key(self, key: Option<PanKey>) -> Self {
        Self {
            pan_key: key,
            ..self
        }
    }

    /// The same writer, adding the tags of each record's log group to its
    /// lines (JSON lines only), once they are held: see
    /// [`Self::group_tags_mut`]. No tag keys: off.
    pub fn with_group_tags(mut self, keys: GroupTagKeys) -> Self {
        if keys.is_empty() {
            return self;
        }
        // Merged keys that take one of these names are renamed.
        self.merge.earlier.extend(keys.names().map(str::to_string));
        Self {
            group_tags: Some(Box::new(GroupTags::new(keys))),
            ..self
        }
    }

    /// The tags held per log group (`None` when off): the adapter stores
    /// what it read, and learns which groups had none.
    pub fn group_tags_mut(&mut self) -> Option<&mut GroupTags> {
        self.group_tags.as_deref_mut()
    }

    /// The same writer, reading Lambda's log formats into fields when `on`
    /// (JSON lines only).
    pub fn with_lambda_format(self, on: bool) -> Self {
        Self {
            lambda_format: on,
            ..self
        }
    }

    /// The same writer, dropping the events `filters` drop.
    pub fn with_filters(self, filters: EventFilters) -> Self {
        Self {
            filtering: Filtering::new(filters),
            ..self
        }
    }

    /// The writer with custom redaction rules too (with `redact` on).
    pub fn with_redact_rules(self, rules: Rules) -> Self {
        Self {
            redactor: Redactor::with_rules(rules),
            ..self
        }
    }

    /// What was counted in the record written last.
    pub fn counts(&self) -> Counts {
        Counts {
            masked: self.masked,
            merged_keys_renamed: self.merge.renamed_keys(),
            merged_values_rejected: self.merge.rejected_values(),
            filtered: self.filtering.as_ref().map_or(0, |f| f.dropped),
            redacted: self.redacted,
        }
    }

    /// The events each filter rule dropped in the record written last, in
    /// rule order (empty without rules).
    pub fn filtered_by_rule(&self) -> &[usize] {
        self.filtering.as_ref().map_or(&[], |f| &f.by_rule)
    }

    /// The source account of the record written last (its first line that
    /// has one): what partitions it by account.
    pub fn source_account(&self) -> Option<&str> {
        self.source_account.as_deref()
    }

    /// How lines are written.
    pub fn options(&self) -> &LineOptions {
        &self.options
    }

    /// Prepares the record-constant part of the line from the record's
    /// decoded header: the log group as the lines show it, when masking
    /// changed it. With masking on, the group and stream names are masked
    /// too (counted once per record, when the lines show them).
    pub(crate) fn start_record(
        &mut self,
        group: &str,
        stream: &str,
        owner: &str,
    ) -> Option<String> {
        self.tail.clear();
        self.masked = 0;
        self.redacted = Tally::default();
        self.merge.start_record();
        self.source_account = None;
        if let Some(filtering) = &mut self.filtering {
            filtering.start_record(group);
        }
        if let Some(set) = self.options.redact {
            return self.start_record_redacted(group, stream, owner, set);
        }
        let keep = self.options.mask;
        let mut group_masked = None;
        if let Some(keep) = keep {
            let mut masked = String::new();
            if let Some(n) = mask_keyed(group, keep, self.pan_key.as_ref(), &mut masked) {
                group_masked = Some(masked);
                if self.options.format == OutputFormat::Json {
                    self.masked += n;
                }
            }
        }
        if self.options.format == OutputFormat::Json {
            self.tail.extend_from_slice(keys::LOG_GROUP.member);
            push_str(&mut self.tail, group_masked.as_deref().unwrap_or(group));
            self.tail.extend_from_slice(keys::LOG_STREAM.member);
            let key = self.pan_key.as_ref();
            match keep.and_then(|keep| mask_keyed(stream, keep, key, &mut self.masked_text)) {
                Some(n) => {
                    self.masked += n;
                    push_str(&mut self.tail, &self.masked_text);
                }
                None => push_str(&mut self.tail, stream),
            }
            self.tail.extend_from_slice(keys::OWNER.member);
            push_str(&mut self.tail, owner);
            if let Some(tags) = &mut self.group_tags {
                if let Some(members) = tags.members(owner, group) {
                    self.tail.extend_from_slice(members);
                }
            }
        }
        group_masked
    }

    /// [`Self::start_record`] with redaction on: each name masked (if masking is on), then
    /// redacted (kept out of the usual path, which it would slow).
    #[inline(never)]
    fn start_record_redacted(
        &mut self,
        group: &str,
        stream: &str,
        owner: &str,
        set: Redact,
    ) -> Option<String> {
        let json = self.options.format == OutputFormat::Json;
        let mut names = [None, None, None];
        for (slot, name) in names.iter_mut().zip([group, stream, owner]) {
            let mut masked_pans = 0;
            let mut tally = Tally::default();
            let masked = self.options.mask.and_then(|keep| {
                let mut out = String::new();
                masked_pans = mask_keyed(name, keep, self.pan_key.as_ref(), &mut out)?;
                Some(out)
            });
            let text = masked.as_deref().unwrap_or(name);
            let redacted = self.redactor.redact_str(text, set, &mut tally);
            if json {
                self.masked += masked_pans;
                self.redacted.merge(&tally);
            }
            *slot = redacted.or(masked);
        }
        let [group_shown, stream_shown, owner_shown] = names;
        if json {
            self.tail.extend_from_slice(keys::LOG_GROUP.member);
            push_str(&mut self.tail, group_shown.as_deref().unwrap_or(group));
            self.tail.extend_from_slice(keys::LOG_STREAM.member);
            push_str(&mut self.tail, stream_shown.as_deref().unwrap_or(stream));
            self.tail.extend_from_slice(keys::OWNER.member);
            push_str(&mut self.tail, owner_shown.as_deref().unwrap_or(owner));
        }
        group_shown
    }

    /// Whether a line is the decoded message and `\n`, nothing else:
    /// message mode without masking. A reader may then decode each message
    /// straight onto the end of the lines while it reads it and end the line
    /// with [`Self::end_bare_message_line`], instead of handing the message
    /// to [`Self::event`]; the bytes are the same (`document::scan` tests
    /// check it).
    pub(crate) fn line_is_bare_message(&self) -> bool {
        self.options.format == OutputFormat::Message
            && self.options.mask.is_none()
            && self.filtering.is_none()
            && self.options.redact.is_none()
    }

    /// Ends a line whose message a reader decoded onto the end of `out`
    /// (only when [`Self::line_is_bare_message`]).
    pub(crate) fn end_bare_message_line(&self, out: &mut Vec<u8>) {
        debug_assert!(self.line_is_bare_message());
        end_message_line(out);
    }

    /// Appends one event's line to `out`: `false` when the event filters
    /// drop it (nothing written). `extracted` is the event's
    /// `extractedFields` as raw JSON (not `null`). `None` only for a body
    /// that does not decode (the fast reader then declines).
    pub(crate) fn event(
        &mut self,
        out: &mut Vec<u8>,
        id: Text<'_>,
        timestamp: i64,
        message: Text<'_>,
        extracted: Option<&[u8]>,
    ) -> Option<bool> {
        let Self {
            options,
            tail,
            masked,
            scratch,
            decoded,
            masked_text,
            masked_plain,
            merge,
            filtering,
            source_account,
            source_masked,
            static_fields,
            lambda_format,
            lambda_text,
            redacted,
            redactor,
            redacted_text,
            redacted_extracted,
            pan_key,
            ..
        } = self;
        let opts = *options;
        // Mask before anything is written, so every field derived from the
        // message (merged fields included) sees only the masked text.
        let message = match (opts.mask, message) {
            (None, Text::Str(s)) => Message::Text(s),
            (None, Text::Json(j)) => Message::Body(j),
            (Some(keep), message) => {
                let key = pan_key.as_ref();
                mask_message(
                    message,
                    keep,
                    key,
                    masked,
                    decoded,
                    masked_text,
                    masked_plain,
                )?
            }
        };
        let message = match opts.redact {
            None => message,
            Some(set) => redact_message(message, set, redacted, redactor, decoded, redacted_text)?,
        };
        // Filtered after masking: the patterns see what the line would show,
        // and masking has counted what it found.
        if let Some(filtering) = filtering {
            if filter_drops(filtering, message, decoded)? {
                if let Some(raw) = extracted {
                    let key = pan_key.as_ref();
                    let rewrite = (masked, scratch, redacted, redactor, redacted_extracted);
                    rewritten_extracted(raw, opts, key, rewrite);
                }
                return Some(false);
            }
        }

        if opts.format == OutputFormat::Message {
            match message {
                Message::Body(j) | Message::Escaped(j) => j.decode_into(out)?,
                Message::Text(t) => out.extend_from_slice(t.as_bytes()),
                Message::Plain(p) => out.extend_from_slice(p),
            }
            end_message_line(out);
            return Some(true);
        }

        // Lambda's formats: the fields, and the message the line keeps.
        let (lambda, message) = if *lambda_format {
            lambda_message(message, lambda_text, merge)?
        } else {
            (None, message)
        };
        let merged = if opts.merge_json_message {
            merge.merge(message.text(decoded)?)
        } else {
            false
        };
        out.extend_from_slice(keys::TIMESTAMP.open);
        push_int(out, timestamp);
        out.extend_from_slice(keys::ID.member);
        match id {
            Text::Str(s) => push_str(out, s),
            Text::Json(j) => j.push_json(out, scratch)?,
        }
        if !merged || opts.keep_message {
            out.extend_from_slice(keys::MESSAGE.member);
            match message {
                Message::Body(j) | Message::Escaped(j) => j.push_json(out, scratch)?,
                Message::Text(t) => push_str(out, t),
                Message::Plain(p) => {
                    out.reserve(p.len() + 2);
                    out.push(b'"');
                    out.extend_from_slice(p);
                    out.push(b'"');
                }
            }
        }
        out.extend_from_slice(tail);
        if opts.add_time {
            out.extend_from_slice(keys::TIME.member);
            out.push(b'"');
            push_iso8601(out, timestamp);
            out.push(b'"');
        }
        if let Some(raw) = extracted {
            out.extend_from_slice(keys::EXTRACTED_FIELDS.member);
            // Masking only turns digits into `*`, which keeps strings valid
            // but not numbers: a masked value that is no longer JSON is
            // written as a JSON string.
            let key = pan_key.as_ref();
            let rewrite = (masked, scratch, redacted, redactor, redacted_extracted);
            let text = rewritten_extracted(raw, opts, key, rewrite);
            match text {
                None => out.extend_from_slice(raw),
                Some(text) => {
                    if serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok() {
                        out.extend_from_slice(text);
                    } else {
                        push_str(out, std::str::from_utf8(text).ok()?);
                    }
                }
            }
            // With redaction, the source fields are read from what the line
            // shows of `extractedFields` (masked there already).
            match text {
                Some(shown) if opts.redact.is_some() => {
                    attribution::push_source_fields(out, shown, None, source_masked, source_account)
                }
                _ => attribution::push_source_fields(
                    out,
                    raw,
                    opts.mask,
                    source_masked,
                    source_account,
                ),
            }
        }
        if let Some(fields) = &lambda {
            fields.push(out);
        }
        let statics = static_fields.members();
        if !statics.is_empty() {
            out.extend_from_slice(statics);
        }
        if merged {
            out.extend_from_slice(&merge.fields);
        }
        out.extend_from_slice(b"}\n");
        Some(true)
    }
}

/// `LAMBDA_FORMAT`: the fields of `message` and the message the line keeps
/// (what follows Lambda's prefix), decoded into `text` when escaped; the
/// merged fields may not take the fields' keys. `None` for a body that does
/// not decode.
#[inline(never)]
fn lambda_message<'t, 'm: 't>(
    message: Message<'m, 'm>,
    text: &'t mut Vec<u8>,
    merge: &mut merge::Merger,
) -> Option<(Option<lambda::Fields<'t>>, Message<'t, 't>)> {
    merge.earlier_now.clear();
    // Most messages are told apart before any decoding.
    let (bytes, unicode) = match message {
        Message::Body(j) | Message::Escaped(j) => (j.raw, j.unicode),
        Message::Text(t) => (t.as_bytes(), false),
        Message::Plain(p) => (p, false),
    };
    if !lambda::may_be(bytes, unicode) {
        return Some((None, message));
    }
    // An application line's prefix is read on a body escaped as the line
    // writes it, which then keeps the rest as it is, escapes and all.
    if let Message::Body(j) | Message::Escaped(j) = message {
        if j.canonical {
            if let Some((fields, at)) = lambda::app_line_in_body(j.raw) {
                merge.earlier_now.extend(fields.keys());
                let raw = j.raw.get(at..)?;
                let rest = JsonStr {
                    raw,
                    plain: memchr::memchr(b'\\', raw).is_none(),
                    ..j
                };
                return Some((Some(fields), Message::Escaped(rest)));
            }
        }
    }
    let whole = message.text(text)?;
    Some(match lambda::read(whole) {
        Some((fields, rest)) => {
            merge.earlier_now.extend(fields.keys());
            // A platform line stays whole: written as it came.
            let kept = if rest.len() == whole.len() {
                message
            } else {
                Message::Text(rest)
            };
            (Some(fields), kept)
        }
        None => (None, message),
    })
}

/// `extractedFields` as masking, then redaction, leave it, counted (`None`:
/// unchanged): for a line, and for a dropped event, whose finds are counted
/// as the message's are.
fn rewritten_extracted<'b>(
    raw: &[u8],
    opts: LineOptions,
    key: Option<&PanKey>,
    (masked, scratch, redacted, redactor, redacted_text): (
        &mut usize,
        &'b mut Vec<u8>,
        &mut Tally,
        &mut Redactor,
        &'b mut Vec<u8>,
    ),
) -> Option<&'b [u8]> {
    let masked_raw = match opts
        .mask
        .and_then(|keep| mask_bytes_keyed(raw, keep, key, scratch))
    {
        None => None,
        Some(n) => {
            *masked += n;
            Some(&scratch[..])
        }
    };
    match opts.redact {
        Some(set) if redactor.redact(masked_raw.unwrap_or(raw), set, redacted_text, redacted) => {
            Some(&redacted_text[..])
        }
        _ => masked_raw,
    }
}

/// Whether the filters drop the event of `message` (kept out of line: no
/// filter is the hot path). `None` for a body that does not decode.
#[inline(never)]
fn filter_drops(
    filtering: &mut Filtering,
    message: Message<'_, '_>,
    decoded: &mut Vec<u8>,
) -> Option<bool> {
    let text: &[u8] = match message {
        Message::Body(j) if j.plain => j.raw,
        Message::Body(j) | Message::Escaped(j) => {
            if j.canonical {
                if let Some(drops) = filtering.drops_by_body(j.raw) {
                    return Some(drops);
                }
            }
            decoded.clear();
            j.decode_into(decoded)?;
            decoded
        }
        Message::Text(t) => t.as_bytes(),
        Message::Plain(p) => p,
    };
    Some(filtering.drops(text))
}

/// The message as masking leaves it (kept out of line: the unmasked path
/// is the hot one).
#[inline(never)]
fn mask_message<'s, 'a: 's>(
    message: Text<'a>,
    keep: Keep,
    key: Option<&PanKey>,
    masked: &mut usize,
    decoded: &mut Vec<u8>,
    masked_text: &'s mut String,
    masked_plain: &'s mut Vec<u8>,
) -> Option<Message<'s, 'a>> {
    Some(match message {
        Text::Str(s) => match mask_keyed(s, keep, key, masked_text) {
            Some(n) => {
                *masked += n;
                Message::Text(masked_text)
            }
            None => Message::Text(s),
        },
        // Without escapes the body is the text: mask it where it lies.
        Text::Json(j) if j.plain => match mask_bytes_keyed(j.raw, keep, key, masked_plain) {
            Some(n) => {
                *masked += n;
                Message::Plain(masked_plain)
            }
            None => Message::Body(j),
        },
        // Escaped: decode only what may hold something to mask (rare in logs,
        // where escapes are quotes, tabs and newlines around text).
        Text::Json(j) if !j.unicode && !json_body_may_mask(j.raw) => Message::Body(j),
        Text::Json(j) => {
            decoded.clear();
            j.decode_into(decoded)?;
            let text = std::str::from_utf8(decoded).ok()?;
            match mask_keyed(text, keep, key, masked_text) {
                Some(n) => {
                    *masked += n;
                    Message::Text(masked_text)
                }
                None => Message::Body(j),
            }
        }
    })
}

/// The message as redaction leaves it (kept out of line, as masking is): a JSON body is
/// decoded first, since the detectors read text, unless its only escapes are `\"`.
#[inline(never)]
fn redact_message<'s, 'a: 's>(
    message: Message<'s, 'a>,
    set: Redact,
    tally: &mut Tally,
    redactor: &mut Redactor,
    decoded: &mut Vec<u8>,
    redacted_text: &'s mut Vec<u8>,
) -> Option<Message<'s, 'a>> {
    let (text, plain): (&[u8], bool) = 'text: {
        match message {
            Message::Body(j) if j.plain => (j.raw, true),
            Message::Body(j) | Message::Escaped(j) => {
                // A JSON line's body, escaped only as `\"`, is read as it is.
                let found = match redactor.redact_body(j.raw, set, redacted_text, tally) {
                    Some(found) => found,
                    None => {
                        decoded.clear();
                        j.decode_into(decoded)?;
                        if !j.canonical {
                            break 'text (&decoded[..], false);
                        }
                        // The kept parts are copied from the body, escaped already.
                        redactor.redact_escaped(decoded, j.raw, set, redacted_text, tally)
                    }
                };
                if !found {
                    return Some(message);
                }
                return Some(Message::Escaped(JsonStr {
                    raw: redacted_text,
                    ..j
                }));
            }
            Message::Text(t) => (t.as_bytes(), false),
            Message::Plain(p) => (p, true),
        }
    };
    if !redactor.redact(text, set, redacted_text, tally) {
        return Some(message);
    }
    // A replacement needs no escape, so a body without escapes stays one.
    Some(if plain {
        Message::Plain(redacted_text)
    } else {
        Message::Text(std::str::from_utf8(redacted_text).ok()?)
    })
}

/// What follows the message in message mode.
#[inline(always)]
fn end_message_line(out: &mut Vec<u8>) {
    out.push(b'\n');
}
