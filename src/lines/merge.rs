//! `MERGE_JSON_MESSAGE`: the top-level fields of a message that is one JSON
//! object, and the rule for keys that collide with the line's own.

use std::borrow::Cow;

/// Prefix under which a merged message field is kept when its key collides
/// with one of the line's own keys.
pub const MERGE_COLLISION_PREFIX: &str = "msg_";

/// Keys the line itself writes; merged message fields never overwrite them.
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

/// Appends `,"KEY":VALUE` for one merged field; a key the line owns is
/// written as `msg_KEY`.
pub(crate) fn push_field(out: &mut Vec<u8>, key: &str, value: &serde_json::value::RawValue) {
    out.push(b',');
    if LINE_KEYS.contains(&key) {
        let prefixed = format!("{MERGE_COLLISION_PREFIX}{key}");
        crate::json::push_str(out, &prefixed);
    } else {
        crate::json::push_str(out, key);
    }
    out.push(b':');
    out.extend_from_slice(value.get().as_bytes());
}

pub(crate) type Fields<'m> = Vec<(Cow<'m, str>, &'m serde_json::value::RawValue)>;

/// The top-level fields of `message` when it is exactly one JSON object, in
/// their order, values as raw JSON; `None` for anything else.
pub(crate) fn json_object_fields(message: &str) -> Option<Fields<'_>> {
    let trimmed = message.trim_ascii_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Fields<'de>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
            while let Some(entry) =
                map.next_entry::<Cow<'de, str>, &'de serde_json::value::RawValue>()?
            {
                fields.push(entry);
            }
            Ok(fields)
        }
    }
    let mut de = serde_json::Deserializer::from_str(trimmed);
    let fields = serde::Deserializer::deserialize_map(&mut de, V).ok()?;
    de.end().ok()?;
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_fields() {
        let f = json_object_fields(r#" {"level":"info","n":1,"o":{"a":[1]}}"#).unwrap();
        let keys: Vec<_> = f.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["level", "n", "o"]);
        assert_eq!(f[2].1.get(), r#"{"a":[1]}"#);
        assert!(json_object_fields("[1]").is_none());
        assert!(json_object_fields("{\"a\":1} trailing").is_none());
        assert!(json_object_fields("{not json").is_none());
        assert!(json_object_fields("plain text").is_none());
    }
}
