//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through the
//! same checks the fuzz targets run, on the stable toolchain, so CI keeps
//! every seed and every past finding green without cargo-fuzz.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus for {target}");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let result = std::panic::catch_unwind(|| check(&bytes));
        assert!(result.is_ok(), "{target}: {} fails", file.display());
    }
}

#[test]
fn record_data_corpus() {
    replay("record_data", checks::record_data);
}

#[test]
fn event_corpus() {
    replay("event", checks::event);
}

#[test]
fn round_trip_corpus() {
    replay("round_trip", checks::round_trip);
}

#[test]
fn mask_corpus() {
    replay("mask", checks::mask);
}
