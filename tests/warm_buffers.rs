//! A warm transformer writes each response into the buffer the last one
//! came back in (`Transformer::recycle`), as the Lambda handler does once the
//! runtime has sent a response: the bytes are the same as a cold
//! transformer's, and no fresh pages are touched for them.

mod common;

use common::*;
use cwl_firehose::{Config, FirehoseEvent, Transformer};

fn events() -> Vec<Vec<u8>> {
    let big: Vec<(i64, String)> = (0..2_000)
        .map(|i| {
            (
                1_764_300_000_000 + i,
                format!("request {i} done in {} ms", i % 97),
            )
        })
        .collect();
    let big: Vec<(i64, &str)> = big.iter().map(|(t, m)| (*t, m.as_str())).collect();
    let small = document(&[(1_764_300_000_000, "one line")]);
    vec![
        event(&[("a", &b64(&gz(&document(&big)))), ("b", &b64(&gz(&small)))]),
        event(&[("c", &b64(&gz(&small)))]),
        event(&[("d", &b64(&gz(&document(&big))))]),
    ]
}

#[test]
fn recycled_buffers_give_the_same_bytes_and_are_written_into() {
    let events = events();
    let mut warm = Transformer::new(Config::default());
    let mut last: Option<(*const u8, usize)> = None;
    for raw in events.iter().chain(events.iter()) {
        let parsed = FirehoseEvent::parse(raw).unwrap();
        let response = warm.process(&parsed, None).finish();
        let cold = Transformer::new(Config::default())
            .process(&parsed, None)
            .finish();
        assert_eq!(response.bytes, cold.bytes);
        check_contract(raw, &response.bytes);
        // The buffer handed back is the one written into, while it is large
        // enough (it is never shrunk, so from the first big event on).
        if let Some((ptr, capacity)) = last {
            if response.bytes.len() <= capacity {
                assert_eq!(response.bytes.as_ptr(), ptr);
            }
        }
        last = Some((response.bytes.as_ptr(), response.bytes.capacity()));
        warm.recycle(response.bytes);
    }
}

#[test]
fn a_smaller_buffer_does_not_replace_a_larger_one() {
    let events = events();
    let mut t = Transformer::new(Config::default());
    let parsed = FirehoseEvent::parse(&events[0]).unwrap();
    let big = t.process(&parsed, None).finish().bytes;
    let (ptr, capacity) = (big.as_ptr(), big.capacity());
    t.recycle(big);
    t.recycle(Vec::with_capacity(16));
    let again = t.process(&parsed, None).finish().bytes;
    assert_eq!(again.as_ptr(), ptr);
    assert_eq!(again.capacity(), capacity);
}
