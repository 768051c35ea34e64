//! MB/s for each stage of the job and for the whole record path, on the
//! max benchmark event (`cwl-firehose generate --size max --seed 1`), with the
//! reference implementation of each stage beside ours.
//!
//!     cargo bench --bench pipeline
//!
//! Throughput counts the bytes each stage reads: the event for the envelope,
//! base64 characters for base64 decode, inflated bytes for inflate (its
//! output), CloudWatch Logs parsing and line writing, line bytes for base64
//! encode, request bytes for the whole event, and message bytes (as written
//! in the document) for masking's detection. Under `cargo test` (no
//! `--bench`) every bench runs once on a small event, so CI only builds them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use cwl_firehose::internals::{
    json_body_may_mask, mask, mask_bytes, scan_lines, write_document, Decoder, LineWriter,
    LogsDocument,
};
use cwl_firehose::limits::DEFAULT_INFLATE_CAP;
use cwl_firehose::{Config, FirehoseEvent, LineOptions, OutputFormat, Transformer};
use std::hint::black_box;
use std::io::Read;
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../src/bin/cwl-firehose/generate.rs"]
mod generate;

/// The event and what each stage needs of it, computed once.
struct Input {
    event: Vec<u8>,
    data: Vec<String>,
    gzips: Vec<Vec<u8>>,
    docs: Vec<Vec<u8>>,
    lines: Vec<Vec<u8>>,
    bomb: String,
}

fn input() -> Input {
    // A full run measures the max event; `cargo test` only checks that the
    // benches run, on a small one (a debug build makes 20 MB slowly).
    let full = std::env::args().any(|a| a == "--bench");
    let (size, bytes) = if full {
        (generate::Size::Max, None)
    } else {
        (generate::Size::Small, Some(60_000))
    };
    let event = generate::event(size, 1, bytes);
    let parsed = FirehoseEvent::parse(&event).expect("a Firehose event");
    let data: Vec<String> = parsed
        .records
        .iter()
        .filter_map(|r| r.data.as_deref().map(str::to_string))
        .collect();
    let gzips: Vec<Vec<u8>> = data
        .iter()
        .map(|d| STANDARD.decode(d).expect("base64"))
        .collect();
    let docs: Vec<Vec<u8>> = gzips
        .iter()
        .map(|g| {
            let mut doc = Vec::new();
            #[allow(clippy::disallowed_methods, reason = "the bench's own seeded event")]
            flate2::read::MultiGzDecoder::new(&g[..])
                .read_to_end(&mut doc)
                .expect("gzip");
            doc
        })
        .collect();
    let mut writer = LineWriter::new(LineOptions::default());
    let lines = docs
        .iter()
        .map(|d| {
            let mut out = Vec::new();
            if let Ok(doc) = LogsDocument::parse(d) {
                let _ = write_document(&doc, &mut writer, &mut out, &mut Vec::new(), usize::MAX);
            }
            out
        })
        .collect();
    // The bomb record alone: 1 GB of whitespace behind a document start
    // (just over the 64 MiB cap under `cargo test`).
    let inflated = if full {
        generate::BOMB_INFLATED_BYTES
    } else {
        DEFAULT_INFLATE_CAP + (1 << 20)
    };
    let bomb = STANDARD.encode(generate::bomb_document(inflated));
    Input {
        event,
        data,
        gzips,
        docs,
        lines,
        bomb,
    }
}

fn total<T: AsRef<[u8]>>(parts: &[T]) -> u64 {
    parts.iter().map(|p| p.as_ref().len() as u64).sum()
}

/// The four stages of the record path, each on every record of the event, with
/// buffers kept across calls: what the per-stage benches time one by one and
/// `record_path_paired/warm_against_stages` times together against the whole path.
struct Stages {
    decoded: Vec<u8>,
    decoder: Decoder,
    writer: LineWriter,
    out: Vec<u8>,
    ends: Vec<usize>,
    spans: Vec<std::ops::Range<usize>>,
    encoded: Vec<u8>,
}

impl Stages {
    fn new() -> Self {
        Stages {
            decoded: Vec::new(),
            decoder: Decoder::new(DEFAULT_INFLATE_CAP),
            writer: LineWriter::new(LineOptions::default()),
            out: Vec::new(),
            ends: Vec::new(),
            spans: Vec::new(),
            encoded: Vec::new(),
        }
    }

    fn base64_decode(&mut self, input: &Input) {
        for d in &input.data {
            self.decoded.clear();
            let _ = base64_simd::STANDARD.decode_append(d.as_bytes(), &mut self.decoded);
        }
    }

    fn inflate(&mut self, input: &Input) {
        for gz in &input.gzips {
            let _ = black_box(self.decoder.decode_bytes(gz).map(<[u8]>::len));
        }
    }

    fn lines(&mut self, input: &Input) {
        for doc in &input.docs {
            let events = scan_lines(
                doc,
                &mut self.writer,
                &mut self.out,
                &mut self.ends,
                &mut self.spans,
                usize::MAX,
            );
            assert!(events.is_some());
        }
    }

    fn base64_encode(&mut self, input: &Input) {
        for l in &input.lines {
            self.encoded.clear();
            base64_simd::STANDARD.encode_append(l, &mut self.encoded);
        }
    }

    fn all(&mut self, input: &Input) {
        self.base64_decode(input);
        self.inflate(input);
        self.lines(input);
        self.base64_encode(input);
    }
}

fn stages(c: &mut Criterion) {
    let input = input();
    let event_bytes = input.event.len() as u64;
    let b64_bytes: u64 = input.data.iter().map(|d| d.len() as u64).sum();
    let doc_bytes = total(&input.docs);
    let line_bytes = total(&input.lines);

    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::Bytes(event_bytes));
    g.bench_function("serde_borrowed", |b| {
        b.iter(|| FirehoseEvent::parse(black_box(&input.event)).map(|e| e.records.len()))
    });
    g.finish();

    let mut g = c.benchmark_group("base64_decode");
    g.throughput(Throughput::Bytes(b64_bytes));
    let mut stage = Stages::new();
    g.bench_function("base64_simd", |b| b.iter(|| stage.base64_decode(&input)));
    let mut buf = Vec::new();
    g.bench_function("base64_reference", |b| {
        b.iter(|| {
            for d in &input.data {
                buf.clear();
                let _ = STANDARD.decode_vec(d.as_bytes(), &mut buf);
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("inflate");
    g.throughput(Throughput::Bytes(doc_bytes));
    g.bench_function("libdeflate_decoder", |b| b.iter(|| stage.inflate(&input)));
    let mut plain = Vec::new();
    g.bench_function("flate2_zlib_rs_reference", |b| {
        b.iter(|| {
            for gz in &input.gzips {
                plain.clear();
                // The uncapped reference is what this bench measures.
                #[allow(clippy::disallowed_methods, reason = "the bench's own seeded event")]
                let _ = flate2::bufread::MultiGzDecoder::new(&gz[..]).read_to_end(&mut plain);
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("cwl_to_lines");
    g.throughput(Throughput::Bytes(doc_bytes));
    g.bench_function("scan_parse_and_write", |b| b.iter(|| stage.lines(&input)));
    let (mut out, mut ends, mut spans) = (Vec::new(), Vec::new(), Vec::new());
    let mut message = LineWriter::new(LineOptions {
        format: OutputFormat::Message,
        ..LineOptions::default()
    });
    g.bench_function("scan_parse_and_write_message", |b| {
        b.iter(|| {
            for doc in &input.docs {
                let events = scan_lines(
                    doc,
                    &mut message,
                    &mut out,
                    &mut ends,
                    &mut spans,
                    usize::MAX,
                );
                assert!(events.is_some());
            }
        })
    });
    g.bench_function("serde_parse_reference", |b| {
        b.iter(|| {
            for doc in &input.docs {
                let _ = black_box(LogsDocument::parse(doc).map(|d| d.log_events.len()));
            }
        })
    });
    let parsed: Vec<LogsDocument<'_>> = input
        .docs
        .iter()
        .filter_map(|d| LogsDocument::parse(d).ok())
        .collect();
    let mut writer = LineWriter::new(LineOptions::default());
    g.bench_function("line_writer_reference", |b| {
        b.iter(|| {
            for doc in &parsed {
                out.clear();
                ends.clear();
                let _ = write_document(doc, &mut writer, &mut out, &mut ends, usize::MAX);
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("base64_encode");
    g.throughput(Throughput::Bytes(line_bytes));
    g.bench_function("base64_simd", |b| b.iter(|| stage.base64_encode(&input)));
    let mut text = String::new();
    g.bench_function("base64_reference", |b| {
        b.iter(|| {
            for l in &input.lines {
                text.clear();
                STANDARD.encode_string(l, &mut text);
            }
        })
    });
    g.finish();
}

fn whole(c: &mut Criterion) {
    let input = input();
    let config = Config {
        response_budget: None,
        ..Config::default()
    };
    let mut g = c.benchmark_group("record_path");
    g.throughput(Throughput::Bytes(input.event.len() as u64));
    // A warm transformer, as in a warm Lambda: buffers reused across events.
    let mut transformer = Transformer::new(config.clone());
    g.bench_function(BenchmarkId::new("event", "warm"), |b| {
        b.iter(|| {
            let event = FirehoseEvent::parse(&input.event).expect("event");
            let response = transformer.process(&event, None).finish();
            assert_eq!(response.summary.processing_failed, 0);
            response.bytes.len()
        })
    });
    // Masking on (MASK_PAN=true): its cost is the difference with "warm".
    let mut masking = Transformer::new(Config {
        lines: LineOptions {
            mask: Some(cwl_firehose::Keep::First6Last4),
            ..LineOptions::default()
        },
        ..config.clone()
    });
    g.bench_function(BenchmarkId::new("event", "warm_masked"), |b| {
        b.iter(|| {
            let event = FirehoseEvent::parse(&input.event).expect("event");
            let response = masking.process(&event, None).finish();
            assert_eq!(response.summary.processing_failed, 0);
            response.bytes.len()
        })
    });
    // OUTPUT_FORMAT=message and MERGE_JSON_MESSAGE=true on the same event.
    for (name, lines) in [
        (
            "warm_message",
            LineOptions {
                format: OutputFormat::Message,
                ..LineOptions::default()
            },
        ),
        (
            "warm_merged",
            LineOptions {
                merge_json_message: true,
                ..LineOptions::default()
            },
        ),
    ] {
        let mut t = Transformer::new(Config {
            lines,
            ..config.clone()
        });
        g.bench_function(BenchmarkId::new("event", name), |b| {
            b.iter(|| {
                let event = FirehoseEvent::parse(&input.event).expect("event");
                let response = t.process(&event, None).finish();
                assert_eq!(response.summary.processing_failed, 0);
                response.bytes.len()
            })
        });
    }
    g.bench_function(BenchmarkId::new("event", "cold"), |b| {
        b.iter(|| {
            let event = FirehoseEvent::parse(&input.event).expect("event");
            let response = Transformer::new(config.clone())
                .process(&event, None)
                .finish();
            response.bytes.len()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("bomb_record");
    g.throughput(Throughput::Bytes(input.bomb.len() as u64));
    let mut decoder = Decoder::new(DEFAULT_INFLATE_CAP);
    g.bench_function("refused_at_cap", |b| {
        b.iter(|| assert!(decoder.decode(&input.bomb).is_err()))
    });
    g.finish();

    // Masking's cost alone, paired: each iteration runs one invocation with masking
    // and one without, in turn first, and only the masked ones' extra time is counted.
    // Two separate benches taken minutes apart drift on a shared machine by more than
    // that difference (`warm` moved 7-9% between two runs of the same code). Criterion
    // plans from the time counted, about 1/17 of the time taken (4.4 of 77 ms on the max
    // event): hence the short budget.
    let mut g = c.benchmark_group("masking_cost");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(600));
    g.bench_function("event_paired", |b| {
        b.iter_custom(|iters| {
            let (plain, masked) = in_turn(
                iters,
                || invocation(&mut transformer, &input.event),
                || invocation(&mut masking, &input.event),
            );
            masked.saturating_sub(plain)
        })
    });
    g.finish();

    // The whole path against its stages, paired: each iteration runs one warm
    // invocation and the four stages once each, in turn first. Criterion times the
    // invocations; the ratio of the two totals (warm-up included) is printed after it,
    // one measurement instead of five benches taken minutes apart (issue 12's target:
    // at most 1.25).
    let mut g = c.benchmark_group("record_path_paired");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3));
    let mut stage = Stages::new();
    let (mut whole_total, mut stages_total, mut pairs) = (Duration::ZERO, Duration::ZERO, 0);
    g.bench_function("warm_against_stages", |b| {
        b.iter_custom(|iters| {
            let (whole, parts) = in_turn(
                iters,
                || invocation(&mut transformer, &input.event),
                || {
                    let start = Instant::now();
                    stage.all(&input);
                    start.elapsed()
                },
            );
            whole_total += whole;
            stages_total += parts;
            pairs += iters;
            whole
        })
    });
    g.finish();
    // Under `cargo test` (one pair of the small event, a debug build) there is nothing to say.
    if std::env::args().any(|a| a == "--bench") && !stages_total.is_zero() {
        println!(
            "record_path_paired/warm_against_stages: warm / stages = {:.3} ({pairs} pairs; {:.2} ms against {:.2} ms a pair)",
            whole_total.as_secs_f64() / stages_total.as_secs_f64(),
            whole_total.as_secs_f64() * 1e3 / pairs as f64,
            stages_total.as_secs_f64() * 1e3 / pairs as f64,
        );
    }
}

/// For the paired benches: `iters` runs of each of `a` and `b`, which goes first
/// alternating, and the total time each reported.
fn in_turn(
    iters: u64,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) -> (Duration, Duration) {
    let (mut ta, mut tb) = (Duration::ZERO, Duration::ZERO);
    for i in 0..iters {
        if i % 2 == 0 {
            ta += a();
            tb += b();
        } else {
            tb += b();
            ta += a();
        }
    }
    (ta, tb)
}

/// One warm invocation on `event`, timed, for the paired benches.
fn invocation(t: &mut Transformer, event: &[u8]) -> Duration {
    let start = Instant::now();
    let event = FirehoseEvent::parse(event).expect("event");
    let response = t.process(&event, None).finish();
    assert_eq!(response.summary.processing_failed, 0);
    black_box(response.bytes.len());
    start.elapsed()
}

fn config() -> Criterion {
    // 2 noisy cores: enough samples for a stable median, not minutes per bench.
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

/// Masking's detection alone, as the line writer asks it of each message: the
/// JSON string body as written, checked by `json_body_may_mask` when it has
/// escapes, masked by `mask_bytes` when it has none (a message with `\u`
/// escapes is decoded and masked). The scan has already told the writer which
/// of the three a message is, so that is decided here before timing. Its time
/// is most of `warm_masked - warm`.
fn masking(c: &mut Criterion) {
    enum Kind {
        Plain,
        Escaped,
        Unicode,
    }
    let input = input();
    // One buffer, as the messages lie in a document: (kind, range of the body).
    let mut text = String::new();
    let mut bodies = Vec::new();
    for d in &input.docs {
        if let Ok(doc) = LogsDocument::parse(d) {
            for e in &doc.log_events {
                let quoted = serde_json::to_string(&e.message).expect("a string");
                let body = &quoted[1..quoted.len() - 1];
                let kind = if body.contains("\\u") {
                    Kind::Unicode
                } else if body.contains('\\') {
                    Kind::Escaped
                } else {
                    Kind::Plain
                };
                let start = text.len();
                text.push_str(match kind {
                    Kind::Unicode => &e.message,
                    _ => body,
                });
                bodies.push((kind, start..text.len()));
            }
        }
    }
    let mut g = c.benchmark_group("mask_detection");
    g.throughput(Throughput::Bytes(text.len() as u64));
    let keep = cwl_firehose::Keep::First6Last4;
    let (mut bytes, mut decoded) = (Vec::new(), String::new());
    g.bench_function("messages", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for (kind, range) in &bodies {
                let body = &text[range.clone()];
                found += usize::from(match kind {
                    Kind::Plain => mask_bytes(body.as_bytes(), keep, &mut bytes).is_some(),
                    Kind::Escaped => json_body_may_mask(body.as_bytes()),
                    Kind::Unicode => mask(body, keep, &mut decoded).is_some(),
                });
            }
            found
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = stages, whole, masking
}
criterion_main!(benches);
