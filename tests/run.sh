#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the pinned tools the tests
# drive (cargo-lambda, moto, DuckDB, the template linters) into local
# virtualenvs, then runs the gates and every test. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export VENV_TEST="${VENV_TEST:-$root/.venv}"
# SAM CLI and cfn-lint (tests/template/run.sh installs them); tests/sam_build.rs uses them too.
export VENV_TEMPLATE="${VENV_TEMPLATE:-${VENV:-$root/.venv-template}}"

step() { printf '\n== %s\n' "$*"; }

# -- Java for pyspark (the Spark test in tests/merged_fields.rs): only when none is installed.
if ! command -v java >/dev/null 2>&1; then
  step "java (default-jre-headless, for pyspark)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless
fi
# -- end of the Java step.

step "tools (pinned, into $VENV_TEST)"
[ -x "$VENV_TEST/bin/python" ] || python3 -m venv "$VENV_TEST"
"$VENV_TEST/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
export PATH="$VENV_TEST/bin:$PATH"

step "format, lints, core without adapters"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo check --lib --no-default-features
# Intra-doc links resolve, private items included (the internal modules' docs link each other).
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --document-private-items --quiet

step "fuzz targets compile (stable; the corpus is replayed by tests/fuzz_corpus.rs)"
cargo check --manifest-path fuzz/Cargo.toml --bins

# Before cargo test: it installs the SAM CLI that tests/sam_build.rs runs.
step "template checks"
VENV="$VENV_TEMPLATE" bash tests/template/run.sh

# Includes tests/sam_build.rs (sam build of template.yaml for x86_64, its bootstrap against
# fixture events; a cold release build into target/sam-build) and tests/soak.rs (that
# bootstrap warm under a few hundred invocations; SOAK_INVOCATIONS=N for a longer soak).
step "cargo test"
cargo test --all-targets
cargo test --doc
