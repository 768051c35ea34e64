//! Writes a seeded benchmark event to stdout:
//!
//!     cargo run --release -p cwl-firehose-lab --bin generate -- --size max --seed 1 > max.json

use clap::Parser;
use cwl_firehose_lab::generate::{event, Size};
use std::io::Write;
use std::process::ExitCode;

/// Write a seeded, deterministic benchmark event (max, small or bomb) to stdout.
#[derive(Parser)]
#[command(name = "generate")]
struct Args {
    /// Which event: max, small or bomb.
    #[arg(long, value_enum, default_value = "max")]
    size: Size,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Request size to fill instead of the size's default (the bomb record comes on top).
    #[arg(long, value_name = "BYTES")]
    bytes: Option<usize>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let event = event(args.size, args.seed, args.bytes);
    let mut out = std::io::stdout().lock();
    match out.write_all(&event).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generate: cannot write stdout: {e}");
            ExitCode::FAILURE
        }
    }
}
