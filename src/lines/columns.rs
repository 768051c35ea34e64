//! `MERGE_COLUMNS`: merged fields declared as typed columns of the Glue
//! table, and the conversion that makes every value written under one fit its
//! type (so that neither Athena's JSON SerDes nor Firehose's Parquet
//! conversion can fail a row or a record because of one event's field).
//!
//! What converts (docs/schema.md has the table): `null` is kept for every
//! type; `string` takes any value (numbers and booleans as their JSON text,
//! objects and arrays as their JSON text in a string); `bigint` and `int`
//! take JSON numbers and strings holding one whose value is a whole number in
//! range (`2.0`, `"200"`, `1e3`); `double` takes finite numbers and strings
//! holding one; `boolean` takes `true`/`false` and the strings `"true"` and
//! `"false"`; `timestamp` takes RFC 3339 / ISO-8601 date-times (written in
//! UTC as `YYYY-MM-DD HH:MM:SS[.fraction]`) and epoch numbers (13 or more
//! digits: milliseconds, else seconds, a fraction: seconds). Anything else is
//! left out of the line and counted.

use crate::json::{push_int, push_str, unescape};
use crate::lines::keys::LINE_KEYS;
use crate::lines::time::civil_from_days;
use std::fmt;
use std::str::FromStr;

/// The Glue/Athena type of a declared column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `string`: any value, written as a JSON string.
    String,
    /// `bigint`: a whole number in the signed 64-bit range.
    Bigint,
    /// `int`: a whole number in the signed 32-bit range.
    Int,
    /// `double`: a finite number.
    Double,
    /// `boolean`: `true` or `false`.
    Boolean,
    /// `timestamp`: a date-time, written as `YYYY-MM-DD HH:MM:SS[.fraction]` (UTC).
    Timestamp,
}

impl ColumnType {
    /// The Glue type name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Bigint => "bigint",
            Self::Int => "int",
            Self::Double => "double",
            Self::Boolean => "boolean",
            Self::Timestamp => "timestamp",
        }
    }

    const ALL: [Self; 6] = [
        Self::String,
        Self::Bigint,
        Self::Int,
        Self::Double,
        Self::Boolean,
        Self::Timestamp,
    ];
}

/// Names a declared column may not take besides the line's own keys
/// ([`LINE_KEYS`]: the table has those columns
/// already): the partition columns of the template's table.
pub const PARTITION_COLUMNS: [&str; 7] = [
    "dt",
    "year",
    "month",
    "day",
    "hour",
    "partition_log_group",
    "partition_owner",
];

/// Glue's limit on a column name.
const MAX_NAME: usize = 255;

/// The merged fields declared as typed columns (`MERGE_COLUMNS`), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeColumns {
    columns: Vec<(String, ColumnType)>,
}

impl MergeColumns {
    /// No declared columns.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether no column is declared.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// `(name, type)` of every declared column, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, ColumnType)> + '_ {
        self.columns.iter().map(|(n, t)| (n.as_str(), *t))
    }

    /// The column a merged key (folded: lowercase) lands in: its declared
    /// name, the spelling the key is written under, and its type.
    pub(crate) fn find(&self, folded_key: &[u8]) -> Option<(&str, ColumnType)> {
        self.columns
            .iter()
            .find(|(n, _)| n.as_bytes() == folded_key)
            .map(|(n, t)| (n.as_str(), *t))
    }
}

/// `name:type,name:type`, as parsed.
impl fmt::Display for MergeColumns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, ty)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{name}:{}", ty.as_str())?;
        }
        Ok(())
    }
}

/// `name:type,…` (empty or `none`: no columns). Names are Glue column names
/// (lowercase letters, digits, `_`, not starting with a digit, at most 255
/// characters), each once and none reserved; types are `string`, `bigint`,
/// `int`, `double`, `boolean`, `timestamp`.
impl FromStr for MergeColumns {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let mut columns: Vec<(String, ColumnType)> = Vec::new();
        if s.is_empty() || s.eq_ignore_ascii_case("none") {
            return Ok(Self { columns });
        }
        for item in s.split(',') {
            let item = item.trim();
            let (name, ty) = item.split_once(':').ok_or_else(|| {
                format!("{item:?} is not name:type (for example level:string,status:int)")
            })?;
            let (name, ty) = (name.trim(), ty.trim());
            check_column_name(name).map_err(|e| {
                format!(
                    "{e} (a key matches it ignoring case and is written in its spelling: \
                     `RequestId` becomes `requestid`)"
                )
            })?;
            if columns.iter().any(|(n, _)| n == name) {
                return Err(format!("column {name:?} is declared twice"));
            }
            let ty = ColumnType::ALL
                .into_iter()
                .find(|t| t.as_str() == ty)
                .ok_or_else(|| {
                    format!(
                        "column {name:?}: unknown type {ty:?} (expected string, bigint, int, \
                         double, boolean or timestamp)"
                    )
                })?;
            columns.push((name.to_string(), ty));
        }
        Ok(Self { columns })
    }
}

/// Whether `name` may be a column the configuration adds to the table: a
/// Glue column name (lowercase letters, digits, `_`, not starting with a
/// digit, at most 255 characters) that is none of the table's own columns.
pub(crate) fn check_column_name(name: &str) -> Result<(), String> {
    let valid = name.len() <= MAX_NAME
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(format!(
            "column {name:?}: a name is lowercase letters, digits and _ (not first), \
             at most {MAX_NAME} characters"
        ));
    }
    let reserved = LINE_KEYS.iter().chain(&PARTITION_COLUMNS);
    if reserved.clone().any(|r| *r == name) {
        return Err(format!(
            "column {name:?} is one of the table's own columns ({})",
            reserved.copied().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(())
}

/// A setting that adds columns: `item,item,…` (empty or `none`: none),
/// each item read by `read` into its column's name and what goes with it;
/// names as [`check_column_name`] takes them, each once, at most `max`.
pub(crate) fn parse_column_items<T>(
    s: &str,
    max: usize,
    read: impl Fn(&str) -> Result<(&str, T), String>,
) -> Result<Vec<(String, T)>, String> {
    let s = s.trim();
    let mut out: Vec<(String, T)> = Vec::new();
    if s.is_empty() || s.eq_ignore_ascii_case("none") {
        return Ok(out);
    }
    for item in s.split(',') {
        let (name, value) = read(item)?;
        check_column_name(name)?;
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("field {name:?} is named twice"));
        }
        out.push((name.to_string(), value));
    }
    if out.len() > max {
        return Err(format!("{} fields: at most {max}", out.len()));
    }
    Ok(out)
}

/// Appends `raw` (one JSON value, as the message holds it) converted to `ty`;
/// `false` (nothing written) when it does not fit.
pub(crate) fn push_value(
    ty: ColumnType,
    raw: &str,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> bool {
    let bytes = raw.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if raw == "null" {
        out.extend_from_slice(b"null");
        return true;
    }
    match ty {
        ColumnType::String => {
            match first {
                b'"' => out.extend_from_slice(bytes),
                // Numbers and booleans hold nothing to escape.
                b'-' | b'0'..=b'9' | b't' | b'f' => {
                    out.push(b'"');
                    out.extend_from_slice(bytes);
                    out.push(b'"');
                }
                // An object or an array: its JSON text, in a string.
                _ => push_str(out, raw),
            }
            true
        }
        ColumnType::Bigint | ColumnType::Int => {
            let Some(text) = scalar_text(raw, scratch) else {
                return false;
            };
            let (lo, hi) = if ty == ColumnType::Int {
                (i64::from(i32::MIN), i64::from(i32::MAX))
            } else {
                (i64::MIN, i64::MAX)
            };
            match whole_number(text) {
                Some(n) if (lo..=hi).contains(&n) => {
                    push_int(out, n);
                    true
                }
                _ => false,
            }
        }
        ColumnType::Double => {
            let Some(text) = scalar_text(raw, scratch) else {
                return false;
            };
            let finite = is_json_number(text) && text.parse::<f64>().is_ok_and(f64::is_finite);
            if finite {
                out.extend_from_slice(text.as_bytes());
            }
            finite
        }
        ColumnType::Boolean => {
            let value = match raw {
                "true" | "\"true\"" => "true",
                "false" | "\"false\"" => "false",
                _ => return false,
            };
            out.extend_from_slice(value.as_bytes());
            true
        }
        ColumnType::Timestamp => {
            let parsed = if first == b'"' {
                string_text(raw, scratch).and_then(parse_datetime)
            } else {
                parse_epoch(raw)
            };
            match parsed {
                Some(ts) => {
                    ts.push(out);
                    true
                }
                None => false,
            }
        }
    }
}

/// A number's text, or the text of a string (that may hold one).
fn scalar_text<'a>(raw: &'a str, scratch: &'a mut Vec<u8>) -> Option<&'a str> {
    match raw.as_bytes().first()? {
        b'"' => string_text(raw, scratch),
        b'-' | b'0'..=b'9' => Some(raw),
        _ => None,
    }
}

/// The decoded text of a JSON string literal (quotes included in `raw`).
fn string_text<'a>(raw: &'a str, scratch: &'a mut Vec<u8>) -> Option<&'a str> {
    let body = raw.get(1..raw.len().checked_sub(1)?)?;
    if !body.contains('\\') {
        return Some(body);
    }
    scratch.clear();
    // Surrogate escapes (emoji) are not decoded here: such a string is
    // neither a number nor a date-time anyway.
    unescape(body.as_bytes(), scratch)?;
    std::str::from_utf8(scratch).ok()
}

/// The JSON number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(text: &str) -> bool {
    number_parts(text).is_some()
}

/// `(negative, integer digits, fraction digits, exponent digits with sign)`.
fn number_parts(text: &str) -> Option<(bool, &str, &str, &str)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits(rest);
    let (int, rest) = rest.split_at(n);
    if n == 0 || (n > 1 && int.starts_with('0')) {
        return None;
    }
    let (frac, rest) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = digits(r);
            if n == 0 {
                return None;
            }
            r.split_at(n)
        }
        None => ("", rest),
    };
    let exp = match rest.strip_prefix(['e', 'E']) {
        Some(r) => {
            let unsigned = r.strip_prefix(['+', '-']).unwrap_or(r);
            if unsigned.is_empty() || digits(unsigned) != unsigned.len() {
                return None;
            }
            r
        }
        None if rest.is_empty() => "",
        None => return None,
    };
    Some((negative, int, frac, exp))
}

/// The value of a JSON number that is a whole number in the `i64` range,
/// exactly (no rounding: `2.5` and `1e19` are `None`, `2.0` and `1e3` are 2
/// and 1000).
fn whole_number(text: &str) -> Option<i64> {
    let (negative, int, frac, exp) = number_parts(text)?;
    // value = digits × 10^shift
    let mut shift: i64 = 0;
    for b in exp.trim_start_matches(['+', '-']).bytes() {
        // Saturates: an exponent this large is out of range either way.
        shift = shift.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if exp.starts_with('-') {
        shift = -shift;
    }
    shift = shift.saturating_sub(frac.len() as i64);
    // The significant digits: no leading zeros, and trailing zeros moved
    // into the shift.
    let all = || int.bytes().chain(frac.bytes());
    let Some(first) = all().position(|b| b != b'0') else {
        return Some(0);
    };
    let total = int.len() + frac.len();
    let last = total - 1 - all().rev().position(|b| b != b'0').unwrap_or(0);
    shift = shift.saturating_add((total - 1 - last) as i64);
    let len = (last + 1 - first) as i64;
    if shift < 0 || len.saturating_add(shift) > 19 {
        return None;
    }
    let mut value: i128 = 0;
    for b in all().skip(first).take(last + 1 - first) {
        value = value * 10 + i128::from(b - b'0');
    }
    for _ in 0..shift {
        value *= 10;
    }
    if negative {
        value = -value;
    }
    i64::try_from(value).ok()
}

/// A timestamp as the SerDes read it: UTC, fraction as given (at most 9 digits).
#[derive(Debug, PartialEq, Eq)]
struct Timestamp<'a> {
    days: i64,
    second_of_day: i64,
    fraction: Fraction<'a>,
}

#[derive(Debug, PartialEq, Eq)]
enum Fraction<'a> {
    None,
    Digits(&'a str),
    Millis(i64),
}

impl Timestamp<'_> {
    fn push(&self, out: &mut Vec<u8>) {
        let (y, m, d) = civil_from_days(self.days);
        let two = |out: &mut Vec<u8>, v: i64| {
            out.push(b'0' + (v / 10 % 10) as u8);
            out.push(b'0' + (v % 10) as u8);
        };
        out.push(b'"');
        for div in [1000, 100, 10, 1] {
            out.push(b'0' + (y / div % 10) as u8);
        }
        out.push(b'-');
        two(out, m);
        out.push(b'-');
        two(out, d);
        out.push(b' ');
        two(out, self.second_of_day / 3600);
        out.push(b':');
        two(out, self.second_of_day / 60 % 60);
        out.push(b':');
        two(out, self.second_of_day % 60);
        match self.fraction {
            Fraction::None => {}
            Fraction::Digits(f) => {
                out.push(b'.');
                out.extend_from_slice(f.as_bytes());
            }
            Fraction::Millis(ms) => {
                out.push(b'.');
                out.push(b'0' + (ms / 100) as u8);
                two(out, ms % 100);
            }
        }
        out.push(b'"');
    }

    /// Within the years 0001-9999 that every reader accepts.
    fn new(seconds: i64, fraction: Fraction<'_>) -> Option<Timestamp<'_>> {
        let days = seconds.div_euclid(86_400);
        let (y, _, _) = civil_from_days(days);
        (1..=9999).contains(&y).then_some(Timestamp {
            days,
            second_of_day: seconds.rem_euclid(86_400),
            fraction,
        })
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD[T| ]HH:MM:SS[(.|,)f{1,9}][Z|±HH[:MM]|±HHMM]`; with a zone, moved to UTC.
fn parse_datetime(text: &str) -> Option<Timestamp<'_>> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = b.get(range)?;
        s.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let at = |i: usize, set: &[u8]| b.get(i).is_some_and(|c| set.contains(c));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if y < 1 || !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut i = 19;
    let mut fraction = Fraction::None;
    // ISO 8601 allows a comma (Python's logging writes one).
    if at(i, b".,") {
        let digits = b
            .get(i + 1..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        fraction = Fraction::Digits(text.get(i + 1..i + 1 + digits)?);
        i += 1 + digits;
    }
    let offset = match b.get(i..) {
        Some([]) => 0,
        Some([b'Z' | b'z']) => 0,
        Some([sign @ (b'+' | b'-'), rest @ ..]) => {
            let (oh, om) = match rest {
                [_, _] => (num(i + 1..i + 3)?, 0),
                [_, _, _, _] => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                [_, _, b':', _, _] => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                _ => return None,
            };
            if oh > 18 || om > 59 || oh * 60 + om > 18 * 60 {
                return None;
            }
            let minutes = oh * 60 + om;
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let local = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
    Timestamp::new(local - offset * 60, fraction)
}

/// Epoch numbers as Firehose's OpenX deserializer reads them: a fraction
/// means seconds, 13 or more digits milliseconds, fewer seconds. No exponent.
fn parse_epoch(raw: &str) -> Option<Timestamp<'_>> {
    let (negative, int, frac, exp) = number_parts(raw)?;
    if !exp.is_empty() || int.len() > 18 || frac.len() > 9 {
        return None;
    }
    let mut n: i64 = int.parse().ok()?;
    if negative {
        n = -n;
    }
    if !frac.is_empty() {
        return Timestamp::new(n, Fraction::Digits(frac));
    }
    if int.len() >= 13 {
        Timestamp::new(n.div_euclid(1000), Fraction::Millis(n.rem_euclid(1000)))
    } else {
        Timestamp::new(n, Fraction::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(ty: ColumnType, raw: &str) -> Option<String> {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        push_value(ty, raw, &mut out, &mut scratch).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn parses_the_setting() {
        let c: MergeColumns = " level:string, status:int ,duration_ms:double,request_id:string"
            .parse()
            .unwrap();
        assert_eq!(
            c.to_string(),
            "level:string,status:int,duration_ms:double,request_id:string"
        );
        assert_eq!(c.find(b"status"), Some(("status", ColumnType::Int)));
        assert_eq!(c.find(b"Status"), None, "keys are folded before the lookup");
        assert!("".parse::<MergeColumns>().unwrap().is_empty());
        assert!("none".parse::<MergeColumns>().unwrap().is_empty());
        for bad in [
            "level",
            "level:str",
            "Level:string",
            "1st:int",
            "a-b:int",
            "a.b:int",
            ":int",
            "a:int,a:bigint",
            "message:string",
            "time:timestamp",
            "year:int",
            "a:int,",
        ] {
            assert!(bad.parse::<MergeColumns>().is_err(), "{bad}");
        }
        let long = format!("{}:int", "a".repeat(256));
        assert!(long.parse::<MergeColumns>().is_err());
        assert!(format!("{}:int", "a".repeat(255))
            .parse::<MergeColumns>()
            .is_ok());
    }

    #[test]
    fn whole_numbers() {
        for (text, want) in [
            ("0", Some(0)),
            ("-0", Some(0)),
            ("200", Some(200)),
            ("2.0", Some(2)),
            ("2.50e1", Some(25)),
            ("1e3", Some(1000)),
            ("1E+3", Some(1000)),
            ("12300e-2", Some(123)),
            ("0.0e5", Some(0)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("2.5", None),
            ("1e-1", None),
            ("1e19", None),
            ("1e999999999999999999999", None),
            ("0.1e-999999999999999999999", None),
            ("0e999999999999999999999", Some(0)),
            ("01", None),
            ("+1", None),
            ("1.", None),
            (".5", None),
            (" 1", None),
            ("0x10", None),
            ("", None),
        ] {
            assert_eq!(whole_number(text), want, "{text}");
        }
    }

    #[test]
    fn conversions() {
        use ColumnType::*;
        let cases: &[(ColumnType, &str, Option<&str>)] = &[
            (String, r#""a\"b""#, Some(r#""a\"b""#)),
            (String, "200", Some(r#""200""#)),
            (String, "true", Some(r#""true""#)),
            (
                String,
                r#"{"a": [1, "x"]}"#,
                Some(r#""{\"a\": [1, \"x\"]}""#),
            ),
            (String, "null", Some("null")),
            (Int, "200", Some("200")),
            (Int, r#""200""#, Some("200")),
            (Int, r#""\u0032\u0030\u0030""#, Some("200")),
            (Int, "2.0", Some("2")),
            (Int, "2147483647", Some("2147483647")),
            (Int, "2147483648", None),
            (Int, "-2147483649", None),
            (Int, r#""200 ""#, None),
            (Int, r#""OK""#, None),
            (Int, "true", None),
            (Int, "[200]", None),
            (Int, "null", Some("null")),
            (Bigint, "2147483648", Some("2147483648")),
            (Bigint, "123456789012345678901234567890", None),
            (Bigint, "1.5", None),
            (Double, "348.885", Some("348.885")),
            (Double, "1E5", Some("1E5")),
            (Double, r#""0.25""#, Some("0.25")),
            (Double, "1e400", None),
            (Double, r#""NaN""#, None),
            (Double, r#""Infinity""#, None),
            (Double, r#""1,5""#, None),
            (Double, "false", None),
            (Boolean, "true", Some("true")),
            (Boolean, r#""false""#, Some("false")),
            (Boolean, r#""True""#, None),
            (Boolean, "1", None),
            (Boolean, r#""yes""#, None),
            (
                Timestamp,
                r#""2025-11-28T03:19:00.000Z""#,
                Some(r#""2025-11-28 03:19:00.000""#),
            ),
            (
                Timestamp,
                r#""2025-11-28T04:19:00.123456789+01:00""#,
                Some(r#""2025-11-28 03:19:00.123456789""#),
            ),
            (
                Timestamp,
                r#""2025-01-01T00:30:00-0100""#,
                Some(r#""2025-01-01 01:30:00""#),
            ),
            (
                Timestamp,
                r#""2025-03-01 00:00:00+05""#,
                Some(r#""2025-02-28 19:00:00""#),
            ),
            (
                Timestamp,
                r#""2024-02-29 23:59:59""#,
                Some(r#""2024-02-29 23:59:59""#),
            ),
            (Timestamp, "1764299940", Some(r#""2025-11-28 03:19:00""#)),
            (
                Timestamp,
                "1764299940123",
                Some(r#""2025-11-28 03:19:00.123""#),
            ),
            (
                Timestamp,
                "1764299940.5",
                Some(r#""2025-11-28 03:19:00.5""#),
            ),
            (Timestamp, "1.76429994e9", None),
            (Timestamp, r#""2023-02-29 00:00:00""#, None),
            (Timestamp, r#""2025-11-28T24:00:00Z""#, None),
            (Timestamp, r#""2025-11-28T23:59:60Z""#, None),
            (
                Timestamp,
                r#""2025-11-28 03:19:00,123+0000""#,
                Some(r#""2025-11-28 03:19:00.123""#),
            ),
            (Timestamp, r#""2025-11-28T03:19Z""#, None),
            (Timestamp, r#""2025-11-28""#, None),
            (Timestamp, r#""2025-11-28T03:19:00.Z""#, None),
            (Timestamp, r#""2025-11-28T03:19:00.1234567890Z""#, None),
            (Timestamp, r#""2025-11-28T03:19:00+19:00""#, None),
            (Timestamp, r#""0001-01-01T00:00:00+01:00""#, None),
            (Timestamp, r#""9999-12-31T23:59:59-01:00""#, None),
            (Timestamp, r#""28/Nov/2025:03:19:00 +0000""#, None),
            (Timestamp, "true", None),
            (Timestamp, "99999999999999999999", None),
        ];
        for (ty, raw, want) in cases {
            assert_eq!(conv(*ty, raw).as_deref(), *want, "{ty:?} {raw}");
        }
    }

    #[test]
    fn days_round_trip() {
        for days in [-719_162, -1, 0, 1, 11_016, 20_420, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
