//! MB/s for each stage of the job and for the whole record path, on the
//! max benchmark event (`generate --size max --seed 1`), with the reference
//! implementation of each stage beside ours.
//!
//!     cargo bench -p cwl-firehose-lab --bench pipeline
//!
//! Throughput counts the bytes each stage reads (`StageInputs::bytes`),
//! request bytes for the envelope and the whole event, and message bytes (as
//! written in the document) for masking's detection. Our stages are timed
//! through `cwl_firehose::internals::Stages`, the code `cwl-firehose bench`
//! times, so the two report the same work. Under `cargo test` (no `--bench`)
//! every bench runs once on a small event, so CI builds and smoke-runs them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use cwl_firehose::internals::{
    event_spans, invoke, json_body_may_mask, mask, mask_bytes, write_document, Decoder, LineWriter,
    LogsDocument, Record, Stage, StageInputs, Stages,
};
use cwl_firehose::limits::DEFAULT_INFLATE_CAP;
use cwl_firehose::{Config, EventFilters, FirehoseEvent, LineOptions, OutputFormat, Transformer};
use cwl_firehose_lab::generate;
use std::hint::black_box;
use std::io::Read;
use std::time::{Duration, Instant};

/// The event, and what each stage needs of it, computed once.
struct Input {
    event: Vec<u8>,
    stages: StageInputs,
    bomb: String,
}

/// The default settings with the response budget off: every record is
/// transformed and returned, as the references the figures are compared with do.
fn config() -> Config {
    Config {
        response_budget: None,
        ..Config::default()
    }
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
    let stages = Stages::new(&config()).prepare(&parsed);
    // The bomb record alone: 1 GB of whitespace behind a document start
    // (just over the default inflate cap under `cargo test`).
    let inflated = if full {
        generate::BOMB_INFLATED_BYTES
    } else {
        DEFAULT_INFLATE_CAP + (1 << 20)
    };
    let bomb = STANDARD.encode(generate::bomb_document(inflated));
    Input {
        event,
        stages,
        bomb,
    }
}

fn stages(c: &mut Criterion) {
    let input = input();
    let inputs = &input.stages;
    let throughput = |stage| Throughput::Bytes(inputs.bytes(stage) as u64);

    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::Bytes(input.event.len() as u64));
    g.bench_function("serde_borrowed", |b| {
        b.iter(|| FirehoseEvent::parse(black_box(&input.event)).map(|e| e.records.len()))
    });
    g.finish();

    let mut stage = Stages::new(&config());
    let mut g = c.benchmark_group("base64_decode");
    g.throughput(throughput(Stage::Base64Decode));
    g.bench_function("base64_simd", |b| {
        b.iter(|| stage.run(Stage::Base64Decode, inputs))
    });
    let mut buf = Vec::new();
    g.bench_function("base64_reference", |b| {
        b.iter(|| {
            for d in &inputs.data {
                buf.clear();
                let _ = STANDARD.decode_vec(d, &mut buf);
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("inflate");
    g.throughput(throughput(Stage::Inflate));
    g.bench_function("libdeflate_decoder", |b| {
        b.iter(|| stage.run(Stage::Inflate, inputs))
    });
    let mut plain = Vec::new();
    g.bench_function("flate2_zlib_rs_reference", |b| {
        b.iter(|| {
            for gz in &inputs.raw {
                plain.clear();
                // The uncapped reference is what this bench measures.
                #[allow(clippy::disallowed_methods, reason = "the bench's own seeded event")]
                let _ = flate2::bufread::MultiGzDecoder::new(&gz[..]).read_to_end(&mut plain);
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("cwl_to_lines");
    g.throughput(throughput(Stage::Lines));
    g.bench_function("scan_parse_and_write", |b| {
        b.iter(|| stage.run(Stage::Lines, inputs))
    });
    let mut message = Stages::new(&Config {
        lines: LineOptions {
            format: OutputFormat::Message,
            ..LineOptions::default()
        },
        ..config()
    });
    g.bench_function("scan_parse_and_write_message", |b| {
        b.iter(|| message.run(Stage::Lines, inputs))
    });
    g.bench_function("serde_parse_reference", |b| {
        b.iter(|| {
            for doc in &inputs.docs {
                let _ = black_box(LogsDocument::parse(doc).map(|d| d.log_events.len()));
            }
        })
    });
    // Each parsed document with its events' spans (what the reference's
    // reader finds with a second parse).
    let parsed: Vec<(LogsDocument<'_>, Vec<std::ops::Range<usize>>)> = inputs
        .docs
        .iter()
        .filter_map(|d| Some((LogsDocument::parse(d).ok()?, event_spans(d).ok()?)))
        .collect();
    let mut writer = LineWriter::new(LineOptions::default());
    let mut record = Record::default();
    g.bench_function("line_writer_reference", |b| {
        b.iter(|| {
            for (doc, spans) in &parsed {
                let _ = write_document(doc, spans, &mut writer, &mut record, usize::MAX);
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("base64_encode");
    g.throughput(throughput(Stage::Base64Encode));
    g.bench_function("base64_simd", |b| {
        b.iter(|| stage.run(Stage::Base64Encode, inputs))
    });
    let mut text = String::new();
    g.bench_function("base64_reference", |b| {
        b.iter(|| {
            for l in &inputs.lines {
                text.clear();
                STANDARD.encode_string(l, &mut text);
            }
        })
    });
    g.finish();
}

fn whole(c: &mut Criterion) {
    let input = input();
    let config = config();
    let mut g = c.benchmark_group("record_path");
    g.throughput(Throughput::Bytes(input.event.len() as u64));
    // A warm transformer, as in a warm Lambda: buffers reused across events.
    let mut transformer = Transformer::new(config.clone());
    // Masking on (MASK_PAN=true): its cost is the difference with "warm".
    let mut masking = Transformer::new(Config {
        lines: LineOptions {
            mask: Some(cwl_firehose::Keep::First6Last4),
            ..LineOptions::default()
        },
        ..config.clone()
    });
    // OUTPUT_FORMAT=message and MERGE_JSON_MESSAGE=true on the same event.
    let mut message = Transformer::new(Config {
        lines: LineOptions {
            format: OutputFormat::Message,
            ..LineOptions::default()
        },
        ..config.clone()
    });
    let mut merged = Transformer::new(Config {
        lines: LineOptions {
            merge_json_message: true,
            ..LineOptions::default()
        },
        ..config.clone()
    });
    for (name, t) in [
        ("warm", &mut transformer),
        ("warm_masked", &mut masking),
        ("warm_message", &mut message),
        ("warm_merged", &mut merged),
    ] {
        g.bench_function(BenchmarkId::new("event", name), |b| {
            b.iter(|| invocation(t, &input.event))
        });
    }
    g.bench_function(BenchmarkId::new("event", "cold"), |b| {
        b.iter(|| invocation(&mut Transformer::new(config.clone()), &input.event))
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
    // and one without, in turn first, and only the masked ones' extra time is counted,
    // because two benches taken minutes apart on a shared machine drift by more than
    // that difference. Criterion plans from the time counted, a small part of the time
    // taken: hence the short budget.
    extra_cost(
        c,
        "masking_cost",
        &mut transformer,
        &mut masking,
        &input.event,
    );

    // Event filters, Lambda's formats and static fields on (source attribution is
    // always on): five rules, LAMBDA_FORMAT, three static fields, paired with the plain
    // path as masking_cost is; the extra time is counted.
    let filters = EventFilters::from_settings(
        Some("^DEBUG"),
        None,
        Some(
            r#"[{"name":"health","drop":"GET /health|kube-probe"},
                {"name":"platform","log_groups":"^/aws/lambda/","drop":"^(START|END) RequestId"},
                {"name":"noise","drop":"heartbeat|keepalive"},
                {"name":"trace","log_groups":"^/ecs/","drop":"^TRACE "}]"#,
        ),
    )
    .expect("valid rules");
    let mut enriched = Transformer::new(Config {
        filters,
        lambda_format: true,
        static_fields: "env=prod,pci_scope=cde,team=payments"
            .parse()
            .expect("valid fields"),
        ..config.clone()
    });
    extra_cost(
        c,
        "enrich_cost",
        &mut transformer,
        &mut enriched,
        &input.event,
    );
    // The same pair with the default response budget (6,000,000 bytes), as a
    // Lambda function runs: every record is transformed, and those that do not
    // fit are left out of the response. Without the budget the response is
    // 32-34 MB, and the enrichment's fields take it over 32 MiB, glibc's
    // largest dynamic mmap threshold: every invocation then maps, faults in and
    // unmaps it (kernel time that no Lambda response, 6 MB at most, costs).
    let budgeted = |config: &Config| Config {
        response_budget: Config::default().response_budget,
        ..config.clone()
    };
    let mut plain_budgeted = Transformer::new(budgeted(&config));
    let mut enriched_budgeted = Transformer::new(budgeted(enriched.config()));
    extra_costs(
        c,
        "enrich_cost",
        &mut plain_budgeted,
        &mut [("event_paired_budget", &mut enriched_budgeted)],
        &input.event,
        budgeted_invocation,
    );

    // Redaction's cost, paired the same way: REDACT=all, and MASK_PAN=true with
    // REDACT=all, each against the plain path. Each bench counts only the extra time;
    // the ratio of the totals (the budget: 1.25 and 1.35) is printed after it.
    let redacting = |mask| {
        Transformer::new(Config {
            lines: LineOptions {
                mask,
                redact: Some(cwl_firehose::Redact::ALL),
                ..LineOptions::default()
            },
            ..config.clone()
        })
    };
    let (mut all, mut masked_all) = (
        redacting(None),
        redacting(Some(cwl_firehose::Keep::First6Last4)),
    );
    extra_costs(
        c,
        "redaction_cost",
        &mut transformer,
        &mut [
            ("redact_all_paired", &mut all),
            ("mask_and_redact_all_paired", &mut masked_all),
        ],
        &input.event,
        invocation,
    );
    let (mut all_budgeted, mut masked_all_budgeted) = (
        Transformer::new(budgeted(all.config())),
        Transformer::new(budgeted(masked_all.config())),
    );
    extra_costs(
        c,
        "redaction_cost",
        &mut plain_budgeted,
        &mut [
            ("redact_all_paired_budget", &mut all_budgeted),
            (
                "mask_and_redact_all_paired_budget",
                &mut masked_all_budgeted,
            ),
        ],
        &input.event,
        budgeted_invocation,
    );

    // The whole path against its stages, paired: each iteration runs one warm
    // invocation and the four stages once each, in turn first. Criterion times the
    // invocations; the ratio of the two totals (warm-up included) is printed after it:
    // one measurement, where separate benches taken minutes apart drift apart.
    let mut g = c.benchmark_group("record_path_paired");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3));
    let mut stages = Stages::new(&config);
    let (mut whole_total, mut stages_total, mut pairs) = (Duration::ZERO, Duration::ZERO, 0);
    g.bench_function("warm_against_stages", |b| {
        b.iter_custom(|iters| {
            let (whole, parts) = in_turn(
                iters,
                || timed(|| invocation(&mut transformer, &input.event)),
                || timed(|| stages.all(&input.stages)),
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

/// `GROUP/event_paired`: what `other` costs over `plain` on `event`, paired (see
/// masking_cost above).
fn extra_cost(
    c: &mut Criterion,
    group: &str,
    plain: &mut Transformer,
    other: &mut Transformer,
    event: &[u8],
) {
    extra_costs(
        c,
        group,
        plain,
        &mut [("event_paired", other)],
        event,
        invocation,
    );
}

/// [`extra_cost`] for several settings against one plain path: a bench each, named,
/// counting the extra time; after each, the ratio of the totals (warm-up included) is
/// printed: one measurement, the budget the issues state.
fn extra_costs(
    c: &mut Criterion,
    group: &str,
    plain: &mut Transformer,
    others: &mut [(&str, &mut Transformer)],
    event: &[u8],
    run: fn(&mut Transformer, &[u8]),
) {
    let mut g = c.benchmark_group(group);
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(600));
    for (name, other) in others.iter_mut() {
        let (mut plain_total, mut other_total) = (Duration::ZERO, Duration::ZERO);
        g.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let (base, with) = in_turn(
                    iters,
                    || timed(|| run(plain, event)),
                    || timed(|| run(other, event)),
                );
                plain_total += base;
                other_total += with;
                with.saturating_sub(base)
            })
        });
        // Under `cargo test` (one pair of the small event, a debug build) there is
        // nothing to say.
        if std::env::args().any(|a| a == "--bench") && !plain_total.is_zero() {
            println!(
                "{group}/{name}: with / plain = {:.3}",
                other_total.as_secs_f64() / plain_total.as_secs_f64()
            );
        }
    }
    g.finish();
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

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// One warm invocation of `event`, every record of which must succeed.
fn invocation(t: &mut Transformer, event: &[u8]) {
    let done = invoke(t, event).expect("a Firehose event");
    assert_eq!(done.summary.processing_failed, 0);
}

/// An invocation with the response budget on: every record is transformed;
/// those that do not fit fail (re-ingestion is off here).
fn budgeted_invocation(t: &mut Transformer, event: &[u8]) {
    let done = invoke(t, event).expect("a Firehose event");
    assert!(done.summary.ok > 0);
}

fn criterion() -> Criterion {
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
    for d in &input.stages.docs {
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
    config = criterion();
    targets = stages, whole, masking
}
criterion_main!(benches);
