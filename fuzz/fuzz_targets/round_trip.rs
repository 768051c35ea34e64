//! A CloudWatch Logs document built from the bytes, encoded as CloudWatch
//! Logs would, transformed: exactly its events come back, one line each.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::round_trip(data));
