//! The CloudWatch Logs subscription document, borrowed from the inflated bytes.
//!
//! Strings are `Cow`: borrowed when the JSON string has no escapes (the common
//! case, and then it can be copied to the output without re-escaping), owned
//! only when an escape had to be decoded. Unknown keys are ignored, since new
//! subscription options add keys.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `messageType` values CloudWatch Logs sends.
pub const DATA_MESSAGE: &str = "DATA_MESSAGE";
pub const CONTROL_MESSAGE: &str = "CONTROL_MESSAGE";

/// What kind of document a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType<'a> {
    Data,
    Control,
    /// Anything else, kept so the failure can name it.
    Other(&'a str),
}

/// One CloudWatch Logs subscription document.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsDocument<'a> {
    #[serde(borrow)]
    pub message_type: Cow<'a, str>,
    #[serde(borrow)]
    pub owner: Cow<'a, str>,
    #[serde(borrow)]
    pub log_group: Cow<'a, str>,
    #[serde(borrow)]
    pub log_stream: Cow<'a, str>,
    #[serde(borrow, default)]
    pub subscription_filters: Vec<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "bounded_events")]
    pub log_events: Vec<LogEvent<'a>>,
}

/// One log event.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    pub timestamp: i64,
    #[serde(borrow)]
    pub message: Cow<'a, str>,
    /// Present when the subscription filter pattern extracts fields; passed
    /// through to the line as it is.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub extracted_fields: Option<&'a RawValue>,
}

/// At most this many events per document. CloudWatch Logs sends at most
/// 10,000; the bound keeps a crafted document of millions of empty events
/// (a few hundred KB of gzip) from building a list of hundreds of megabytes.
pub const MAX_EVENTS: usize = 100_000;

fn bounded_events<'de: 'a, 'a, D>(d: D) -> Result<Vec<LogEvent<'a>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Events<'a>(std::marker::PhantomData<LogEvent<'a>>);
    impl<'de: 'a, 'a> serde::de::Visitor<'de> for Events<'a> {
        type Value = Vec<LogEvent<'a>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of log events")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut events = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(event) = seq.next_element::<LogEvent<'a>>()? {
                if events.len() == MAX_EVENTS {
                    return Err(serde::de::Error::custom(format_args!(
                        "more than {MAX_EVENTS} log events in one document"
                    )));
                }
                events.push(event);
            }
            Ok(events)
        }
    }
    d.deserialize_seq(Events(std::marker::PhantomData))
}

impl<'a> LogsDocument<'a> {
    /// Parses one document; fails on anything that is not one.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The document's kind.
    pub fn kind(&self) -> MessageType<'_> {
        match &*self.message_type {
            DATA_MESSAGE => MessageType::Data,
            CONTROL_MESSAGE => MessageType::Control,
            other => MessageType::Other(other),
        }
    }

    /// The same document with only `events`: what re-ingestion writes when a
    /// record must be split.
    pub fn with_events<'b>(&'b self, events: &'b [LogEvent<'a>]) -> DocumentPart<'b, 'a> {
        DocumentPart { doc: self, events }
    }
}

/// A document restricted to some of its events, serialized exactly like a
/// CloudWatch Logs document.
#[derive(Debug, Clone, Copy)]
pub struct DocumentPart<'b, 'a> {
    doc: &'b LogsDocument<'a>,
    events: &'b [LogEvent<'a>],
}

impl Serialize for DocumentPart<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let d = self.doc;
        let mut st = s.serialize_struct("LogsDocument", 6)?;
        st.serialize_field("messageType", &d.message_type)?;
        st.serialize_field("owner", &d.owner)?;
        st.serialize_field("logGroup", &d.log_group)?;
        st.serialize_field("logStream", &d.log_stream)?;
        st.serialize_field("subscriptionFilters", &d.subscription_filters)?;
        st.serialize_field("logEvents", self.events)?;
        st.end()
    }
}
