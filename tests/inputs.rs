//! Inputs other tools accept. zlib-wrapped data (AWS Powertools decodes gzip
//! and zlib alike, and its own CloudWatch Logs fixture with `policyLevel` is
//! zlib) is read like gzip, under the same inflate cap, on the fast path and
//! the reference path alike; an event file that starts with a byte-order
//! mark gets an error that says so, from the CLI and from the Lambda under
//! the real runtime (`cargo lambda watch`).
mod common;

use common::*;
use cwl_firehose::gzip;
use cwl_firehose::{Config, FirehoseEvent, Transformer};
use serde_json::{json, Value};
use std::io::Write;
use std::process::Command;

const FIXTURE: &str = "tests/support/fixtures/zlib-policy-level.json";

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

/// The Powertools document, decoded independently of the crate.
fn powertools_document() -> Vec<u8> {
    let event: Value =
        serde_json::from_slice(&std::fs::read(root().join(FIXTURE)).unwrap()).unwrap();
    let data = event["records"][0]["data"].as_str().unwrap();
    let raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).unwrap();
    assert_eq!(&raw[..2], &[0x78, 0xda], "the fixture is zlib, not gzip");
    unzlib(&raw)
}

fn lines_of(response: &[u8], event: &[u8]) -> Vec<Value> {
    check_contract(event, response)
        .into_iter()
        .flat_map(|e| e.lines)
        .collect()
}

#[test]
fn the_powertools_zlib_fixture_gives_its_lines() {
    let out = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
        .args(["transform", "--lines", FIXTURE])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected =
        std::fs::read(root().join("tests/support/fixtures/zlib-policy-level.lines.ndjson"))
            .unwrap();
    assert_eq!(out.stdout, expected);
    // And the lines are the document's events, built without the crate.
    let got: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got, expected_lines(&powertools_document()));
}

/// The same documents as zlib, gzip and plain JSON give the same response,
/// whichever path writes the lines (the one-pass scan, or serde's for the
/// documents it declines, like the pretty-printed Powertools one), and the
/// lines are the ones built independently from the document.
#[test]
fn zlib_gzip_and_plain_records_agree() {
    let mut docs = vec![powertools_document()];
    for name in ["data-message", "multiline-unicode"] {
        docs.push(std::fs::read(root().join(format!("fixtures/source/{name}.json"))).unwrap());
    }
    for doc in &docs {
        let forms = [b64(&zlib(doc)), b64(&gzip(doc)), b64(doc)];
        let responses: Vec<Vec<u8>> = forms
            .iter()
            .map(|data| run(Config::default(), &event(&[("r", data)])).0)
            .collect();
        assert_eq!(responses[0], responses[1], "zlib and gzip differ");
        assert_eq!(responses[0], responses[2], "zlib and plain JSON differ");
        let e = event(&[("r", &forms[0])]);
        assert_eq!(lines_of(&responses[0], &e), expected_lines(doc));
    }
}

#[test]
fn zlib_is_under_the_same_inflate_cap() {
    let doc = String::from_utf8(document(&[(1, &"x".repeat(5000))])).unwrap();
    let bomb = zlib(&vec![b' '; 40 << 20]);
    let e = event(&[
        ("small", &b64(&zlib(doc.as_bytes()))),
        ("bomb", &b64(&bomb)),
    ]);
    let config = Config {
        inflate_cap: 1 << 20,
        ..Config::default()
    };
    let parsed = FirehoseEvent::parse(&e).unwrap();
    let done = Transformer::new(config.clone())
        .process(&parsed, None)
        .finish();
    let (response, summary, failures) = (done.bytes, done.summary, done.failures);
    assert_eq!((summary.ok, summary.processing_failed), (1, 1));
    assert_eq!(failures[0].record_id, "bomb");
    assert!(
        failures[0].error.to_string().contains("cap"),
        "{}",
        failures[0].error
    );
    check_contract(&e, &response);
    // Exactly at the cap is fine, one byte under it is not: as for gzip.
    for (cap, ok) in [(doc.len(), 1), (doc.len() - 1, 0)] {
        let e = event(&[("r", &b64(&zlib(doc.as_bytes())))]);
        let config = Config {
            inflate_cap: cap,
            ..Config::default()
        };
        assert_eq!(run(config, &e).1.ok, ok, "cap {cap}");
    }
}

/// A zlib record that overflows the budget is re-ingested as gzip of its
/// document (what CloudWatch Logs writes), never as gzip of the zlib bytes.
#[test]
fn an_overflowing_zlib_record_is_reingested_as_gzip() {
    let events: Vec<(i64, String)> = (0..100)
        .map(|i| (i, format!("event {i} {}", "y".repeat(100))))
        .collect();
    let events: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
    let doc = document(&events);
    let data = b64(&zlib(&doc));
    let e = event(&[("a", &data), ("b", &data)]);
    let config = Config {
        response_budget: Some(40_000),
        ..Config::default()
    };
    let parsed = FirehoseEvent::parse(&e).unwrap();
    let batch = Transformer::new(config).process(&parsed, None);
    assert_eq!(batch.parts().len(), 1, "the second record overflows");
    let part = &batch.parts()[0].data;
    assert_eq!(&part[..2], &[0x1f, 0x8b]);
    assert_eq!(gunzip(part), doc);
}

fn with_bom(prefix: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    out.extend_from_slice(body);
    out
}

#[test]
fn an_event_file_with_a_byte_order_mark_is_named_by_the_cli() {
    let dir = temp_dir("bom-cli");
    let good = std::fs::read(root().join("fixtures/events/data-message.json")).unwrap();
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(good.iter().flat_map(|&b| [b, 0]))
        .collect();
    for (name, bytes, words) in [
        (
            "utf8-bom.json",
            with_bom(b"\xef\xbb\xbf", &good),
            "UTF-8 byte-order mark",
        ),
        ("utf16.json", utf16, "UTF-16"),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_cwl-firehose"))
            .arg("transform")
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains(words), "{name}: {stderr}");
        assert!(!stderr.contains("expected value"), "{name}: {stderr}");
    }
}

#[test]
fn an_event_with_a_byte_order_mark_is_named_by_the_lambda() {
    let watch = start_watch(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:9")]);
    warm_up(&watch);
    let dir = temp_dir("bom-lambda");
    let good = root().join("fixtures/events/data-message.json");
    let bom = dir.join("bom.json");
    std::fs::write(
        &bom,
        with_bom(b"\xef\xbb\xbf", &std::fs::read(&good).unwrap()),
    )
    .unwrap();
    let out = lambda_invoke(&watch, &bom);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    // cargo lambda wraps the error in a box: compare without the layout.
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect();
    assert!(squeezed.contains("UTF-8byte-ordermark"), "{text}");
    assert!(
        squeezed.contains("notaFirehosetransformationevent"),
        "{text}"
    );
    assert!(!squeezed.contains("expectedvalue"), "{text}");
    // The same event without the mark, and the function still serves.
    let out = lambda_invoke(&watch, &good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(response["records"][0]["result"], json!("Ok"));
}
