//! `cwl-firehose`: the same code path as the Lambda, on files.
//!
//! Configuration comes from the same environment variables as the Lambda;
//! flags override them.

mod bench;
mod digest;
mod encode;
mod generate;
mod replay;
mod transform;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cwl-firehose",
    version,
    about = "CloudWatch Logs -> Firehose transformation, run locally"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Transform a Firehose event file and print the response the Lambda would return.
    Transform(transform::Args),
    /// Build a Firehose event from CloudWatch Logs documents or raw log lines.
    Encode(encode::Args),
    /// Write a seeded, deterministic benchmark event (max, small or bomb) to stdout.
    Generate(generate::Args),
    /// Replay Firehose processing-failed/ error files: print their lines or a new event.
    Replay(replay::Args),
    /// Time the warm invocation path on an event: per stage, MB/s, peak RSS, Lambda cost.
    Bench(bench::Args),
    /// Write the next signed digest of the log bucket (S3 and KMS).
    Digest(digest::Args),
    /// Verify the digest chain and the objects it lists; non-zero exit on any finding.
    Verify(verify::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Transform(args) => transform::run(args),
        Command::Encode(args) => encode::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Digest(args) => digest::run(args),
        Command::Verify(args) => verify::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cwl-firehose: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reads a file, or stdin for `-`.
pub fn read_input(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }
}

/// Writes all of `bytes` to stdout.
pub fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // Straight to the file descriptor: `Stdout` is line-buffered and scans the
    // whole buffer for its last newline first (3% of a max event's time).
    #[cfg(unix)]
    if let Ok(fd) = std::os::fd::AsFd::as_fd(&out).try_clone_to_owned() {
        return out
            .flush()
            .and_then(|()| std::fs::File::from(fd).write_all(bytes))
            .map_err(|e| format!("cannot write stdout: {e}"));
    }
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write stdout: {e}"))
}
