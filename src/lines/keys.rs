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

macro_rules! line_keys {
    (
        default: [$($name:ident = $key:literal,)*]
        optional: [$($opt_name:ident = $opt_key:literal,)*]
    ) => {
        $(
            #[doc = concat!("`", $key, "`")]
            pub(crate) const $name: Key = Key {
                open: concat!("{\"", $key, "\":").as_bytes(),
                member: concat!(",\"", $key, "\":").as_bytes(),
            };
        )*
        $(
            #[doc = concat!("`", $opt_key, "`")]
            pub(crate) const $opt_name: Key = Key {
                open: concat!("{\"", $opt_key, "\":").as_bytes(),
                member: concat!(",\"", $opt_key, "\":").as_bytes(),
            };
        )*
        /// The keys of every line written with the default options, in the
        /// order they are written.
        pub const DEFAULT_LINE_KEYS: [&str; [$($key),*].len()] = [$($key),*];
        /// Every key the line itself may write, in the order it writes them:
        /// all of them reserved whatever the options (`time` is written only
        /// with `ADD_TIME`, `extracted_fields` only when the event has them),
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
    ]
}
