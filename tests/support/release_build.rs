//! The release build of the function that tests/sam_build.rs (through `sam
//! build`) and tests/soak.rs (through `cargo lambda build`, the command SAM
//! runs) share: one target folder and one faster profile, so the second
//! build finds everything compiled.
//!
//! What differs from a deploy-time `sam build` (Cargo.toml's
//! `[profile.release]`, arm64):
//! - x86_64, not the arm64 default: the aarch64 Rust target is a rustup
//!   download this machine does not make;
//! - LTO off and 16 codegen units instead of `lto = true` and
//!   `codegen-units = 1`, set through cargo's environment: the same code and
//!   the same `panic = "unwind"`, optimised per crate instead of as a whole
//!   (a cold build takes minutes less; the binary is larger and somewhat
//!   slower, its behaviour is the same);
//! - its own `CARGO_TARGET_DIR` (target/sam-build), so it neither waits on
//!   nor overwrites the suite's target/debug, nor a developer's target/lambda.
//!
//! Everything else is a deploy-time build: SAM's `rust-cargolambda` workflow
//! runs `cargo lambda build --release --bin cwl-firehose-lambda` (cargo
//! lambda adds `strip = "symbols"` and `-C target-cpu=haswell` for x86_64,
//! and links with zig for Lambda's glibc) and copies the binary to
//! `LogsProcessorFunction/bootstrap`.
// Shared by two test crates; each uses a part.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Cargo's environment for the faster release profile.
pub const FAST_PROFILE: &[(&str, &str)] = &[
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
];

/// The binary `BuildProperties: Binary` names in template.yaml.
pub const BINARY: &str = "cwl-firehose-lambda";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The dedicated cargo target folder of these builds.
pub fn target_dir() -> PathBuf {
    repo().join("target").join("sam-build")
}

/// A virtualenv's tool (tests/run.sh installs both venvs first).
pub fn tool(venv_var: &str, default: &str, name: &str) -> PathBuf {
    let venv = std::env::var_os(venv_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(default));
    let path = venv.join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `bash tests/run.sh` once (it installs the pinned tools; \
         {venv_var} overrides {default})",
        path.display()
    );
    path
}

/// cargo-lambda, from the test venv (tests/requirements.txt).
pub fn cargo_lambda() -> PathBuf {
    tool("VENV_TEST", ".venv", "cargo-lambda")
}

/// PATH with `dir` first.
pub fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Sets what both builds need on a command: cargo-lambda on PATH, the
/// target folder, the faster profile.
pub fn configure(cmd: &mut Command) -> &mut Command {
    cmd.env("PATH", path_with(cargo_lambda().parent().unwrap()))
        .env("CARGO_TARGET_DIR", target_dir())
        .envs(FAST_PROFILE.iter().copied())
}

/// `cargo lambda build --release --bin cwl-firehose-lambda`, the command
/// SAM's rust-cargolambda workflow runs for an x86_64 function, into the
/// shared target folder; returns the bootstrap it wrote.
pub fn cargo_lambda_build() -> PathBuf {
    let out = configure(&mut Command::new("cargo"))
        .args(["lambda", "build", "--release", "--bin", BINARY])
        .current_dir(repo())
        .output()
        .expect("cargo lambda build runs");
    assert!(
        out.status.success(),
        "cargo lambda build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bootstrap = target_dir().join("lambda").join(BINARY).join("bootstrap");
    assert!(bootstrap.exists(), "{} is missing", bootstrap.display());
    bootstrap
}
