//! `cwl-firehose`: the same code path as the Lambda, on files.
//!
//! Configuration comes from the same environment variables as the Lambda;
//! flags override them.

mod bench;
mod digest;
mod encode;
mod recover;
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
    /// Replay Firehose processing-failed/ error files: print their lines or a new event.
    Replay(replay::Args),
    /// Replay the bucket's processing-failed/ records into the stream; quarantine what never passes.
    Recover(recover::Args),
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
        Command::Replay(args) => replay::run(args),
        Command::Recover(args) => recover::run(args),
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

/// The most the CLI reads from one input: far more than any event Lambda
/// accepts (6 MB) or any benchmark event, and a bound for a pipe that never
/// ends.
pub const MAX_INPUT: usize = 1 << 30;

/// Reads a file, or stdin for `-`, refusing more than [`MAX_INPUT`] bytes.
pub fn read_input(path: &std::path::Path) -> Result<Vec<u8>, String> {
    read_input_capped(path, MAX_INPUT)
}

/// Reads a file, or stdin for `-`, refusing more than `cap` bytes.
pub fn read_input_capped(path: &std::path::Path, cap: usize) -> Result<Vec<u8>, String> {
    let too_large = || format!("{} is larger than {cap} bytes: refused", path.display());
    let read = |reader: &mut dyn std::io::Read, hint: usize| -> std::io::Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(hint);
        // `take` bounds the read: one byte past the cap says it is too large.
        #[allow(
            clippy::disallowed_methods,
            reason = "bounded by take(cap + 1), checked below"
        )]
        std::io::Read::read_to_end(
            &mut std::io::Read::take(
                reader,
                u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1),
            ),
            &mut buf,
        )?;
        Ok(buf)
    };
    let buf = if path.as_os_str() == "-" {
        read(&mut std::io::stdin().lock(), 0).map_err(|e| format!("cannot read stdin: {e}"))?
    } else {
        let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
        let mut file = std::fs::File::open(path).map_err(cannot)?;
        let len = file.metadata().map_err(cannot)?.len();
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= cap)
            .ok_or_else(too_large)?;
        // One byte more than the file, so its end is seen without growing.
        read(&mut file, len + 1).map_err(cannot)?
    };
    if buf.len() > cap {
        return Err(too_large());
    }
    Ok(buf)
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
