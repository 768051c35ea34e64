//! The panic strategy the Lambda ships with: unwind.
//!
//! `cargo lambda build --release` sets `panic = "abort"` unless the manifest's
//! `[profile.release]` says otherwise. With unwind, lambda_runtime 1.5 wraps
//! the handler in `CatchPanicService` (src/layers/panic.rs): a panic becomes an
//! error reported to the Runtime API for that invocation and the process
//! stays warm. With abort the process dies and Lambda starts a new one. In
//! both cases Firehose retries the whole batch, which is why no input may
//! reach a panic (clippy denies unwrap, expect, panic and indexing in the
//! library; the fuzz targets and tests/limits.rs look for the rest).

use std::path::Path;

/// `key = value` lines of one `[section]` of a TOML file.
fn section(toml: &str, name: &str) -> Vec<(String, String)> {
    let header = format!("[{name}]");
    toml.lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn release_profile_unwinds_even_under_cargo_lambda() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let release = section(&manifest, "profile.release");
    assert!(
        release.contains(&("panic".to_string(), "\"unwind\"".to_string())),
        "[profile.release] must set panic = \"unwind\" explicitly: {release:?}"
    );
}
