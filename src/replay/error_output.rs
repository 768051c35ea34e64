//! Firehose's error output for a failed data transformation: one JSON object
//! per line, `{"attemptsMade", "arrivalTimestamp", "errorCode",
//! "errorMessage", "attemptEndingTimestamp", "rawData", "lambdaArn"}`, with
//! the original record as base64 `rawData`; the object is GZIP when the
//! destination compresses. Unknown keys are ignored; `attemptsMade` and the
//! timestamps are numbers or strings of digits (AWS's documentation shows
//! strings, the service writes numbers).

use crate::decode::gunzip;
use crate::limits::MAX_FAILED_OBJECT;
use base64::Engine;
use serde::Deserialize;

/// One readable record of an error object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRecord {
    /// Its line in the object, from 1.
    pub line: usize,
    /// Firehose's `errorCode` (`Lambda.ProcessingFailedStatus`, ...).
    pub error_code: String,
    /// Firehose's `errorMessage`.
    pub error_message: String,
    /// `attemptsMade`, when present.
    pub attempts_made: Option<u64>,
    /// The original record's bytes (`rawData` decoded).
    pub data: Vec<u8>,
}

/// A line that is not an error record (it can never be replayed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Its line in the object, from 1.
    pub line: usize,
    /// Why it is not a record (never its bytes).
    pub reason: String,
}

/// Every non-blank line of an error object, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorObject {
    /// The records.
    pub records: Vec<ErrorRecord>,
    /// The lines that are not records.
    pub unreadable: Vec<Unreadable>,
}

impl ErrorObject {
    /// Every line number the object holds, records and unreadable lines.
    pub fn lines(&self) -> usize {
        self.records.len() + self.unreadable.len()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    #[serde(borrow)]
    raw_data: std::borrow::Cow<'a, str>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    attempts_made: Option<serde_json::Value>,
}

/// An error object's text: inflated when it is gzip (every member, refused
/// past [`MAX_FAILED_OBJECT`]: a crafted object could otherwise inflate to
/// all of memory), as it is otherwise; invalid UTF-8 replaced (the lines
/// that hold it are then unreadable, the others still read).
pub fn object_text(bytes: Vec<u8>) -> Result<String, String> {
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        gunzip(bytes, MAX_FAILED_OBJECT).map_err(|e| format!("not a readable gzip file: {e}"))?
    } else {
        bytes
    };
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Reads the text of an error object: each non-blank line is a record or
/// unreadable, numbered from 1 as the object holds them.
pub fn parse(text: &str) -> ErrorObject {
    let mut out = ErrorObject::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let number = i + 1;
        match read_line(line) {
            Ok((error_code, error_message, attempts_made, data)) => out.records.push(ErrorRecord {
                line: number,
                error_code,
                error_message,
                attempts_made,
                data,
            }),
            Err(reason) => out.unreadable.push(Unreadable {
                line: number,
                reason,
            }),
        }
    }
    out
}

type Read = (String, String, Option<u64>, Vec<u8>);

fn read_line(line: &str) -> Result<Read, String> {
    let parsed: Line<'_> = serde_json::from_str(line).map_err(|e| {
        // serde's text may quote the value: keep the position only.
        format!(
            "not a processing-failed record (line 1 column {}: {})",
            e.column(),
            match e.classify() {
                serde_json::error::Category::Data => "a field is missing or of the wrong type",
                _ => "not JSON",
            }
        )
    })?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(parsed.raw_data.as_bytes())
        .map_err(|e| format!("rawData is not valid base64: {e}"))?;
    let attempts = parsed.attempts_made.and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    Ok((
        parsed.error_code.unwrap_or_default(),
        parsed.error_message.unwrap_or_default(),
        attempts,
        data,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"attemptsMade":4,"arrivalTimestamp":1765072800000,"errorCode":"Lambda.FunctionError","errorMessage":"The Lambda function was successfully invoked but it returned an error result.","attemptEndingTimestamp":1765073100000,"rawData":"aGVsbG8=","lambdaArn":"arn:aws:lambda:us-east-1:123456789012:function:f"}"#;

    #[test]
    fn reads_records_and_names_the_rest() {
        let text = format!(
            "{LINE}\n\n{}\nnot json\n{{\"rawData\":\"!!\"}}\n{{\"errorCode\":\"x\"}}\n",
            LINE.replace("\"attemptsMade\":4", "\"attemptsMade\":\"2\"")
        );
        let o = parse(&text);
        assert_eq!(o.lines(), 5);
        assert_eq!(o.records.len(), 2);
        let r = &o.records[0];
        assert_eq!(
            (r.line, r.error_code.as_str(), r.attempts_made),
            (1, "Lambda.FunctionError", Some(4))
        );
        assert_eq!(r.data, b"hello");
        assert_eq!(
            (o.records[1].line, o.records[1].attempts_made),
            (3, Some(2))
        );
        let lines: Vec<usize> = o.unreadable.iter().map(|u| u.line).collect();
        assert_eq!(lines, [4, 5, 6]);
        assert!(o.unreadable[0].reason.contains("not JSON"));
        assert!(o.unreadable[1].reason.contains("base64"));
        assert!(o.unreadable[2].reason.contains("missing"));
    }

    #[test]
    fn gzip_objects_are_inflated_and_capped() {
        let gz = crate::gzip(format!("{LINE}\n").as_bytes());
        assert_eq!(parse(&object_text(gz).unwrap()).records.len(), 1);
        assert!(object_text(b"\x1f\x8bnot really".to_vec()).is_err());
        assert_eq!(object_text(LINE.as_bytes().to_vec()).unwrap(), LINE);
    }
}
