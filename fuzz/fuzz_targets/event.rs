//! Arbitrary bytes as the whole Firehose event: a response or a clean error.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::event(data));
