//! The one builder of CloudWatch Logs subscription documents for the tests
//! and the fuzz checks (which include this file by path). It writes keys in
//! CloudWatch Logs' order and 56-digit event ids, with serde_json alone, so
//! it depends on nothing the crate under test does. Malformed documents are
//! spelled out in the tests that need them.

use serde_json::Value;

/// The account of a document that does not name one.
pub const OWNER: &str = "123456789012";
/// The first event's timestamp when a test gives only messages.
pub const T0: i64 = 1_764_300_000_000;

/// A DATA_MESSAGE document, built up event by event.
#[derive(Debug, Clone)]
pub struct Doc {
    message_type: String,
    owner: String,
    group: String,
    stream: String,
    filters: Vec<String>,
    /// Each event already written as JSON.
    events: Vec<String>,
}

impl Default for Doc {
    fn default() -> Self {
        Self {
            message_type: "DATA_MESSAGE".into(),
            owner: OWNER.into(),
            group: "/test/group".into(),
            stream: "stream-1".into(),
            filters: vec!["f".into()],
            events: Vec::new(),
        }
    }
}

fn quote(s: &str) -> String {
    Value::from(s).to_string()
}

impl Doc {
    /// An empty DATA_MESSAGE of [`OWNER`], group `/test/group`, stream `stream-1`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The CONTROL_MESSAGE CloudWatch Logs sends to check a new destination.
    pub fn control() -> Self {
        Self {
            message_type: "CONTROL_MESSAGE".into(),
            owner: "CloudwatchLogs".into(),
            group: String::new(),
            stream: String::new(),
            filters: Vec::new(),
            events: Vec::new(),
        }
        .event_with_id(
            "",
            T0,
            "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
        )
    }

    pub fn message_type(mut self, message_type: &str) -> Self {
        self.message_type = message_type.into();
        self
    }

    pub fn owner(mut self, owner: &str) -> Self {
        self.owner = owner.into();
        self
    }

    pub fn group(mut self, group: &str) -> Self {
        self.group = group.into();
        self
    }

    pub fn stream(mut self, stream: &str) -> Self {
        self.stream = stream.into();
        self
    }

    pub fn filters(mut self, filters: &[&str]) -> Self {
        self.filters = filters.iter().map(|f| f.to_string()).collect();
        self
    }

    /// One more event; its id is its index in 56 digits, as CloudWatch Logs
    /// writes ids.
    pub fn event(self, timestamp: i64, message: &str) -> Self {
        let id = format!("{:056}", self.events.len());
        self.event_with_id(&id, timestamp, message)
    }

    /// One more event with this id.
    pub fn event_with_id(mut self, id: &str, timestamp: i64, message: &str) -> Self {
        self.events.push(format!(
            "{{\"id\":{},\"timestamp\":{timestamp},\"message\":{}}}",
            quote(id),
            quote(message)
        ));
        self
    }

    /// One event per message, [`T0`] and every millisecond after.
    pub fn messages<S: AsRef<str>>(mut self, messages: impl IntoIterator<Item = S>) -> Self {
        for message in messages {
            let at = T0 + self.events.len() as i64;
            self = self.event(at, message.as_ref());
        }
        self
    }

    /// One more event as given: other keys, other types, keys left out.
    pub fn raw_event(mut self, event: Value) -> Self {
        self.events.push(event.to_string());
        self
    }

    /// How many events so far.
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// The document's JSON bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let filters: Vec<String> = self.filters.iter().map(|f| quote(f)).collect();
        format!(
            "{{\"messageType\":{},\"owner\":{},\"logGroup\":{},\"logStream\":{},\"subscriptionFilters\":[{}],\"logEvents\":[{}]}}",
            quote(&self.message_type),
            quote(&self.owner),
            quote(&self.group),
            quote(&self.stream),
            filters.join(","),
            self.events.join(",")
        )
        .into_bytes()
    }
}
