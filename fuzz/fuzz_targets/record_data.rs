//! Arbitrary bytes as a record's `data` (raw, and as the base64 text itself):
//! a response, never a panic, and memory bounded by the inflated size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

#[path = "../checks.rs"]
mod checks;

/// Counts live heap bytes and their peak.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            PEAK.fetch_max(LIVE.fetch_add(l.size(), Relaxed) + l.size(), Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            // Counted as if old and new were both live for a moment.
            PEAK.fetch_max(LIVE.fetch_add(new, Relaxed) + new, Relaxed);
            LIVE.fetch_sub(l.size(), Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fuzz_target!(|data: &[u8]| {
    // The largest document this input can become: the inflated bytes (at
    // most the cap) or the bytes themselves.
    thread_local! {
        static DECODER: std::cell::RefCell<cwl_firehose::internals::Decoder> =
            std::cell::RefCell::new(cwl_firehose::internals::Decoder::new(checks::FUZZ_INFLATE_CAP));
    }
    let doc = DECODER.with_borrow_mut(|d| {
        [
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, data),
            String::from_utf8_lossy(data).into_owned(),
        ]
        .iter()
        .map(|s| match d.decode(s) {
            Ok(b) => b.len(),
            Err(_) => checks::FUZZ_INFLATE_CAP,
        })
        .max()
        .unwrap_or(0)
    });
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    checks::record_data(data);
    let used = PEAK.load(Relaxed) - before;
    let bound = 3 * checks::FUZZ_INFLATE_CAP + 64 * (doc + data.len()) + (1 << 20);
    assert!(
        used <= bound,
        "peak heap {used} > bound {bound} (doc {doc} bytes)"
    );
});
