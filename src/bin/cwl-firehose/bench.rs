//! `cwl-firehose bench EVENT`: how long the warm invocation path takes on the
//! user's own event, where the time goes, and what that costs on Lambda.
//!
//! Two phases, so that each figure measures one thing:
//! 1. whole invocations through one warm `Transformer` (as in a warm Lambda):
//!    their median, then peak RSS, before the bench allocates anything else;
//! 2. each stage alone on the event's records (inputs prepared once,
//!    untimed), the stages interleaved round by round so that a machine
//!    shared with other work disturbs them alike.
//!
//! What is timed (one invocation, one stage) is the library's
//! `internals::{invoke, Stages}`, the same code the criterion benches time;
//! this file only times it and reports.

use crate::read_input;
use cwl_firehose::adapters::settings::Settings;
use cwl_firehose::internals::{invoke, Stage, Stages};
use cwl_firehose::{FirehoseEvent, LineOptions, OutputFormat, Summary, Transformer};
use std::hint::black_box;
use std::time::Instant;

/// Lambda duration price, arm64, US East (N. Virginia), first 7.5 billion
/// GB-seconds a month: <https://aws.amazon.com/lambda/pricing/>, as listed in
/// 2025 (not re-checked here; other regions and tiers differ).
pub const LAMBDA_ARM64_USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// Lambda request price, both architectures: USD 0.20 per million requests
/// (same page, same date).
pub const LAMBDA_USD_PER_REQUEST: f64 = 0.000_000_2;
/// Memory at which a function gets one vCPU; CPU share is proportional below
/// it: <https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html>.
pub const LAMBDA_MB_PER_VCPU: f64 = 1769.0;
/// Lambda bills duration in whole milliseconds, rounded up.
const BILLING_MS: f64 = 1.0;

#[derive(clap::Args)]
// Both argument structs are named `Args`: clap's default group ids would clash.
#[group(id = "bench_args")]
#[command(
    after_help = "Runs the warm invocation path on your own event: the median time per \
invocation, where it goes by stage, MB/s, peak RSS and an estimate of the Lambda arm64 cost \
per GB of logs, so that you can size the function on your own data.\n\n\
Settings are exactly those of `transform` (the same flags and environment variables), except \
that re-ingestion is always OFF: this measures the CPU path, and records that overflow the \
response budget are counted as failed, not sent anywhere (nor split or copied for sending). \
Use --no-budget to time the transformation of every record.",
    mut_arg("lines", |a| a.hide(true)),
    mut_arg("no_reingest", |a| a.hide(true)),
    mut_arg("max_attempts", |a| a.hide(true))
)]
pub struct Args {
    /// The settings and the event, parsed as `transform` parses them.
    #[command(flatten)]
    transform: crate::transform::Args,
    /// Timed invocations (and rounds of each stage), after one warm-up.
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    iterations: u32,
    /// Lambda memory size for the cost estimate, in MB (128-10240).
    #[arg(long, value_name = "MB", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(128..=10_240))]
    memory_mb: u32,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), String> {
    let mut settings: Settings = args.transform.settings()?;
    // Re-ingestion would time the network; overflow becomes ProcessingFailed.
    settings.core.reingest = false;
    let input = read_input(&args.transform.event)?;
    let n = args.iterations as usize;
    let not_an_event = |e: serde_json::Error| format!("not a Firehose event: {e}");

    // Phase 1: whole warm invocations.
    let mut transformer = Transformer::new(settings.core.clone());
    let first = invoke(&mut transformer, &input).map_err(not_an_event)?;
    let mut whole = Vec::with_capacity(n);
    let mut cpu = Vec::with_capacity(n);
    for _ in 0..n {
        let cpu_start = cpu_ns();
        let start = Instant::now();
        let run = invoke(&mut transformer, &input).map_err(not_an_event)?;
        whole.push(ms_since(start));
        if let (Some(a), Some(b)) = (cpu_start, cpu_ns()) {
            cpu.push(b.saturating_sub(a) as f64 / 1e6);
        }
        black_box(run);
    }
    let peak_rss_mib = peak_rss_mib();
    drop(transformer);

    // Phase 2: the stages alone.
    let event = FirehoseEvent::parse(&input).map_err(not_an_event)?;
    let mut stages = Stages::new(&settings.core);
    let inputs = stages.prepare(&event);
    let mut times: [Vec<f64>; 4] = Default::default();
    for round in 0..=n {
        for (all, stage) in times.iter_mut().zip(Stage::ALL) {
            let t = time(|| stages.run(stage, &inputs));
            // Round 0 warms the buffers up.
            if round > 0 {
                all.push(t);
            }
        }
    }

    let report = Report {
        iterations: n,
        memory_mb: args.memory_mb,
        event_bytes: input.len(),
        summary: first.summary,
        overflowed: first.overflowed,
        failed_other: first.failed_other,
        inflated_bytes: inputs.bytes(Stage::Inflate),
        median_ms: median(whole.clone()),
        // Only where a thread CPU clock was read (Linux).
        median_cpu_ms: (cpu.len() == n).then(|| median(cpu)),
        min_ms: whole.iter().copied().fold(f64::INFINITY, f64::min),
        max_ms: whole.iter().copied().fold(0.0, f64::max),
        stages_ms: times.map(median),
        peak_rss_mib,
        options: settings.core.lines,
        settings,
    };
    if args.json {
        println!("{}", report.json());
    } else {
        print!(
            "{}",
            report.text(&args.transform.event.display().to_string())
        );
    }
    Ok(())
}

fn format_name(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Json => "json",
        OutputFormat::Message => "message",
    }
}

/// Milliseconds for people: three decimals below one.
fn ms(t: f64) -> String {
    if t.abs() < 1.0 {
        format!("{t:.3}")
    } else {
        format!("{t:.2}")
    }
}

/// Dollars to three significant digits (these are small sums).
fn usd(x: f64) -> String {
    let decimals = if x > 0.0 {
        (2.0 - x.log10().floor()).clamp(0.0, 12.0) as usize
    } else {
        2
    };
    format!("{x:.decimals$}")
}

/// Bytes for people: kB below a megabyte.
fn size(bytes: usize) -> String {
    if bytes < 1_000_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{:.2} MB", bytes as f64 / 1e6)
    }
}

fn time(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    ms_since(start)
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// CPU time this thread has run, in nanoseconds.
#[cfg(target_os = "linux")]
fn cpu_ns() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration;
    // clock_gettime writes nothing else. (schedstat in /proc would do without
    // unsafe, but the kernel updates it only at scheduler ticks.)
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u64::try_from(ts.tv_nsec).ok()?;
    (rc == 0).then(|| secs * 1_000_000_000 + nanos)
}

#[cfg(not(target_os = "linux"))]
fn cpu_ns() -> Option<u64> {
    None
}

/// Peak resident set size of this process (VmHWM), Linux only.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

struct Report {
    iterations: usize,
    memory_mb: u32,
    event_bytes: usize,
    summary: Summary,
    overflowed: usize,
    failed_other: usize,
    inflated_bytes: usize,
    median_ms: f64,
    /// CPU time of this thread per invocation: what a machine shared with
    /// other work disturbs less than wall time.
    median_cpu_ms: Option<f64>,
    min_ms: f64,
    max_ms: f64,
    /// Each stage alone, in `Stage::ALL`'s order.
    stages_ms: [f64; 4],
    peak_rss_mib: Option<f64>,
    options: LineOptions,
    settings: Settings,
}

/// The Lambda estimate for one invocation of the event.
struct Cost {
    cpu_share: f64,
    duration_ms: f64,
    billed_ms: f64,
    usd_per_invocation: f64,
    /// Per GB (10^9 bytes) of lines delivered; `None` when none were.
    usd_per_gb: Option<f64>,
}

impl Report {
    fn mb_per_s(&self, bytes: usize) -> f64 {
        bytes as f64 / 1e6 / (self.median_ms / 1e3)
    }

    /// This machine's median CPU time per invocation (wall time where there
    /// is no CPU clock: time spent waiting for other work on this machine is
    /// not the function's), stretched by Lambda's CPU share at the memory
    /// size (the path is single-threaded and CPU-bound), taking one core here
    /// as one Lambda vCPU; priced per GB of lines delivered (the Ok records'
    /// lines, what lands in S3 before any Firehose compression), so that the
    /// work spent on records that overflow, and are transformed again in a
    /// later invocation, counts as cost.
    fn cost(&self) -> Cost {
        let cpu_share = (f64::from(self.memory_mb) / LAMBDA_MB_PER_VCPU).min(1.0);
        let duration_ms = self.median_cpu_ms.unwrap_or(self.median_ms) / cpu_share;
        let billed_ms = (duration_ms / BILLING_MS).ceil() * BILLING_MS;
        let gb_seconds = f64::from(self.memory_mb) / 1024.0 * billed_ms / 1000.0;
        let usd_per_invocation =
            gb_seconds * LAMBDA_ARM64_USD_PER_GB_SECOND + LAMBDA_USD_PER_REQUEST;
        let lines = self.summary.bytes_out as f64;
        Cost {
            cpu_share,
            duration_ms,
            billed_ms,
            usd_per_invocation,
            usd_per_gb: (lines > 0.0).then(|| usd_per_invocation * 1e9 / lines),
        }
    }

    fn json(&self) -> serde_json::Value {
        let cost = self.cost();
        let stages: serde_json::Map<String, serde_json::Value> = Stage::ALL
            .iter()
            .zip(self.stages_ms)
            .map(|(stage, ms)| (stage.name().to_string(), ms.into()))
            .collect();
        let s = &self.summary;
        let core = &self.settings.core;
        serde_json::json!({
            "iterations": self.iterations,
            "median_ms": self.median_ms,
            "median_cpu_ms": self.median_cpu_ms,
            "min_ms": self.min_ms,
            "max_ms": self.max_ms,
            "stages_ms": stages,
            "stages_sum_ms": self.stages_ms.iter().sum::<f64>(),
            "peak_rss_mib": self.peak_rss_mib,
            "event_bytes": self.event_bytes,
            "records": s.records_in,
            "ok": s.ok,
            "dropped": s.dropped,
            "processing_failed": s.processing_failed,
            "overflowed": self.overflowed,
            "events_out": s.events_out,
            "input_base64_bytes": s.bytes_in,
            "inflated_bytes": self.inflated_bytes,
            "line_bytes_out": s.bytes_out,
            "response_bytes": s.response_bytes,
            "mb_per_s": {
                "input_base64": self.mb_per_s(s.bytes_in),
                "lines_out": self.mb_per_s(s.bytes_out),
            },
            "settings": {
                "output_format": format_name(self.options.format),
                "add_time": self.options.add_time,
                "merge_json_message": self.options.merge_json_message,
                "keep_message": self.options.keep_message,
                "mask_pan": self.options.mask.map(|k| k.to_string()),
                "redact": self.options.redact.map(|r| r.to_string()),
                "partition_keys": core.partition_keys,
                "response_budget": core.response_budget,
                "inflate_cap": core.inflate_cap,
                "reingest": core.reingest,
            },
            "lambda_arm64": {
                "memory_mb": self.memory_mb,
                "cpu_share": cost.cpu_share,
                "from": if self.median_cpu_ms.is_some() { "median_cpu_ms" } else { "median_ms" },
                "estimated_duration_ms": cost.duration_ms,
                "billed_ms": cost.billed_ms,
                "usd_per_gb_second": LAMBDA_ARM64_USD_PER_GB_SECOND,
                "usd_per_request": LAMBDA_USD_PER_REQUEST,
                "usd_per_invocation": cost.usd_per_invocation,
                "usd_per_gb_of_lines": cost.usd_per_gb,
            },
        })
    }

    fn text(&self, event: &str) -> String {
        use std::fmt::Write;
        let s = &self.summary;
        let cost = self.cost();
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{event}: {}, {} records ({} ok, {} dropped, {} failed), {} events",
            size(self.event_bytes),
            s.records_in,
            s.ok,
            s.dropped,
            s.processing_failed,
            s.events_out
        );
        let _ = writeln!(
            o,
            "  {} of base64 in, {} inflated, {} of lines out, {} response",
            size(s.bytes_in),
            size(self.inflated_bytes),
            size(s.bytes_out),
            size(s.response_bytes)
        );
        let core = &self.settings.core;
        let _ = writeln!(
            o,
            "  settings: output {}, add_time {}, merge_json_message {}, mask_pan {}, \
             partition_keys {}, budget {}, inflate cap {}; re-ingestion off",
            format_name(self.options.format),
            self.options.add_time,
            self.options.merge_json_message,
            self.options
                .mask
                .map_or("off".to_string(), |k| k.to_string()),
            core.partition_keys,
            core.response_budget
                .map_or("off".to_string(), |b| b.to_string()),
            core.inflate_cap
        );
        if self.overflowed > 0 {
            let _ = writeln!(
                o,
                "  {} records overflowed the response budget: with re-ingestion off they are \
                 failed, not sent (a Lambda would re-ingest them and transform them again later); \
                 --no-budget times every record",
                self.overflowed
            );
        }
        if self.failed_other > 0 {
            let _ = writeln!(
                o,
                "  {} records failed (`transform` names them and why)",
                self.failed_other
            );
        }
        let _ = writeln!(
            o,
            "\nwarm invocation (parse, transform, response; no re-ingestion), {} runs after 1 warm-up:",
            self.iterations
        );
        let _ = writeln!(
            o,
            "  median {} ms (min {}, max {}){}",
            ms(self.median_ms),
            ms(self.min_ms),
            ms(self.max_ms),
            self.median_cpu_ms
                .map_or(String::new(), |c| format!("; CPU time {} ms", ms(c)))
        );
        let _ = writeln!(
            o,
            "  {:.0} MB/s of base64 in, {:.0} MB/s of lines out",
            self.mb_per_s(s.bytes_in),
            self.mb_per_s(s.bytes_out)
        );
        if let Some(rss) = self.peak_rss_mib {
            let _ = writeln!(o, "  peak RSS {rss:.1} MiB (VmHWM, the whole process)");
        }
        let _ = writeln!(
            o,
            "\neach stage alone on the event's records (median of {}):",
            self.iterations
        );
        for (stage, t) in Stage::ALL.iter().zip(self.stages_ms) {
            let label = stage.name().replace('_', " ");
            let _ = writeln!(
                o,
                "  {label:<14} {:>9} ms  {:>5.1}%",
                ms(t),
                100.0 * t / self.median_ms
            );
        }
        let sum: f64 = self.stages_ms.iter().sum();
        let _ = writeln!(
            o,
            "  {:<14} {:>9} ms  {:>5.1}%",
            "sum",
            ms(sum),
            100.0 * sum / self.median_ms
        );
        let _ = writeln!(
            o,
            "  {:<14} {:>9} ms  {:>5.1}%  (envelope, budget, response, allocation, page faults)",
            "the rest",
            ms(self.median_ms - sum),
            100.0 * (self.median_ms - sum) / self.median_ms
        );
        let _ = writeln!(
            o,
            "\nLambda arm64 at {} MB ({:.3} vCPU; from the median {} time, one core here taken as one vCPU):",
            self.memory_mb,
            cost.cpu_share,
            if self.median_cpu_ms.is_some() { "CPU" } else { "wall" }
        );
        let _ = writeln!(
            o,
            "  about {} ms per invocation, billed {:.0} ms: USD {} per million invocations",
            ms(cost.duration_ms),
            cost.billed_ms,
            usd(cost.usd_per_invocation * 1e6)
        );
        match cost.usd_per_gb {
            Some(per_gb) => {
                let _ = writeln!(
                    o,
                    "  USD {} per GB of lines delivered (USD {LAMBDA_ARM64_USD_PER_GB_SECOND} \
                     per GB-second, {LAMBDA_USD_PER_REQUEST:.7} per request: us-east-1, 2025)",
                    usd(per_gb)
                );
            }
            None => {
                let _ = writeln!(o, "  no lines delivered: no cost per GB");
            }
        }
        o
    }
}
