//! The line schema's own keys, each spelled once: the line writer writes
//! them from here, and whatever must know them (the key rule, so a merged
//! field never takes one; the declared columns, none of which may be named
//! like one; the fuzz checks) reads [`LINE_KEYS`].

/// One key of the line, as the writer writes it.
pub(crate) struct Key {
    /// `{"key":`: the key opening the line.
    pub open: &'static [u8],
    /// `,"key":`: the key after another member.
    pub member: &'static [u8],
}

/// One [`Key`] constant.
macro_rules! key {
    ($name:ident = $key:literal) => {
        #[doc = concat!("`", $key, "`")]
        pub(crate) const $name: Key = Key {
            open: concat!("{\"", $key, "\":").as_bytes(),
            member: concat!(",\"", $key, "\":").as_bytes(),
        };
    };
}

macro_rules! line_keys {
    (
        default: [$($name:ident = $key:literal,)*]
        optional: [$($opt_name:ident = $opt_key:literal,)*]
        lambda: [$($l_name:ident = $l_key:literal,)*]
    ) => {
        $(key!($name = $key);)*
        $(key!($opt_name = $opt_key);)*
        $(key!($l_name = $l_key);)*
        /// The keys `LAMBDA_FORMAT` writes, in the order it writes them:
        /// reserved only with that option on (common merged keys such as
        /// `level` keep their spelling otherwise), and then only where a
        /// line has them (a merged key that takes one is renamed).
        pub const LAMBDA_KEYS: [&str; [$($l_key),*].len()] = [$($l_key),*];
        /// The keys of every line written with the default options, in the
        /// order they are written.
        pub const DEFAULT_LINE_KEYS: [&str; [$($key),*].len()] = [$($key),*];
        /// Every key the line itself may write, in the order it writes them:
        /// all of them reserved whatever the options (`time` is written only
        /// with `ADD_TIME`, `extracted_fields` only when the event has them, the
        /// `source_*` fields only when its `extractedFields` hold system fields),
        /// so a key's spelling does not depend on the configuration or on the
        /// event.
        pub const LINE_KEYS: [&str; [$($key),* $(, $opt_key)*].len()] = [$($key),* $(, $opt_key)*];
    };
}

line_keys! {
    default: [
        TIMESTAMP = "timestamp",
        ID = "id",
        MESSAGE = "message",
        LOG_GROUP = "log_group",
        LOG_STREAM = "log_stream",
        OWNER = "owner",
    ]
    optional: [
        TIME = "time",
        EXTRACTED_FIELDS = "extracted_fields",
        SOURCE_ACCOUNT = "source_account",
        SOURCE_REGION = "source_region",
        SOURCE_LOG_GROUP = "source_log_group",
    ]
    lambda: [
        LEVEL = "level",
        REQUEST_ID = "request_id",
        PLATFORM = "platform",
        DURATION_MS = "duration_ms",
        BILLED_DURATION_MS = "billed_duration_ms",
        MEMORY_SIZE_MB = "memory_size_mb",
        MAX_MEMORY_USED_MB = "max_memory_used_mb",
        INIT_DURATION_MS = "init_duration_ms",
    ]
}

/// Every line key's length, as a set of bits: most keys a message holds
/// have none of these lengths, so they are told apart without a comparison.
const LENGTHS: u64 = lengths(&LINE_KEYS);

const fn lengths(keys: &[&str]) -> u64 {
    match keys {
        [key, rest @ ..] => (1 << key.len()) | lengths(rest),
        [] => 0,
    }
}

/// Whether `key` is one of the line's own keys.
#[inline]
pub(crate) fn is_line_key(key: &[u8]) -> bool {
    key.len() < 64
        && LENGTHS & (1 << key.len()) != 0
        && LINE_KEYS.iter().any(|k| k.as_bytes() == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_keys_are_told_apart_from_every_other() {
        for key in LINE_KEYS {
            assert!(is_line_key(key.as_bytes()), "{key}");
            assert!(!is_line_key(format!("{key}_").as_bytes()), "{key}");
            assert!(!is_line_key(&key.as_bytes()[1..]), "{key}");
        }
        for key in ["", "level", "msg_id", "Timestamp", &"x".repeat(100)] {
            assert!(!is_line_key(key.as_bytes()), "{key}");
        }
    }
}
