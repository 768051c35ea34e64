#!/usr/bin/env bash
# The function's default architecture (arm64, Graviton) on an x86_64 CI machine, with Debian's
# packages only (rustup cannot download the aarch64 target here):
#   - Debian's Rust 1.96 (rustc-web, cargo-web) with the aarch64 standard library
#     (libstd-rust-web-dev:arm64) builds the crate for aarch64-unknown-linux-gnu;
#     gcc-aarch64-linux-gnu links it (and compiles the C of libdeflate-sys and aws-lc-sys);
#   - qemu-user-static runs it: the library's tests and every integration test that needs no AWS
#     tooling (moto, cargo lambda, SAM: those stay x86_64-only, below), and the CLI on every
#     fixture event and on the lab's generated benchmark events, compared byte for byte with the x86_64
#     build of the same commit.
# The library's tests are what reach the aarch64-only code (the SWAR kernels as the only kernels,
# the digit finder without the letter window): they run here, under qemu, as aarch64 code.
#
# Packages are installed when missing (root or sudo; idempotent). The aarch64 build has its own
# target directory, target/aarch64 (another compiler: nothing could be shared with target/).
# Integration tests start the aarch64 CLI as a child process; a process under qemu-user cannot
# exec another aarch64 binary by itself, so the tests run in a private user and mount namespace
# whose own binfmt_misc (Linux 6.7 or newer) hands aarch64 binaries to qemu. Nothing outside that
# namespace changes. Where the host already has an aarch64 binfmt handler, that one is used.
set -euo pipefail
script="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$script")/.."
root=$PWD
triple=aarch64-unknown-linux-gnu
qemu=/usr/bin/qemu-aarch64-static
export CARGO_TARGET_DIR="$root/target/aarch64"
out="$CARGO_TARGET_DIR/$triple/debug"

# Integration tests left out, each for the AWS tooling it drives or (memory) for what qemu
# changes (they run on x86_64 in tests/run.sh). Every other file in tests/*.rs runs here.
aws_tooling=(
  digest          # moto's S3 and KMS, and cargo lambda watch
  group_tags      # moto's CloudWatch Logs, and cargo lambda watch
  lambda_runtime  # cargo lambda watch / invoke
  memory          # peak RSS: under qemu-user it is the emulator's with ours, not the function's
  pan_tokens      # moto's Secrets Manager, and cargo lambda watch
  panic_strategy  # cargo lambda build
  pipeline        # moto and cargo lambda
  recover         # moto and cargo lambda watch
  reingest        # moto
  reingest_faults # moto
  sam_build       # SAM CLI and cargo lambda
  soak            # moto and a cargo lambda release build
)
# Single tests of otherwise-included files that drive such tooling, or whose subject is not
# the aarch64 code.
skip_tests=(
  an_event_with_a_byte_order_mark_is_named_by_the_lambda # inputs.rs: cargo lambda watch
  # merged_fields.rs: pyspark (Glue's engine) on a JVM reading lines; the aarch64 CLI's lines
  # are compared byte for byte with the x86_64 ones below, so this would test Spark again.
  spark_reads_every_declared_column_as_athena_does
)

# ------------------------------------------------------------ stage 2: inside the namespace
if [[ "${CWL_FIREHOSE_ARM64_STAGE:-}" == tests ]]; then
  if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    # The ELF header of an aarch64 executable; F: qemu is opened now, so it works in any mount.
    magic='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
    mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
    printf ':qemu-aarch64:M::%s:%s:%s:F' "$magic" "$mask" "$qemu" > /proc/sys/fs/binfmt_misc/register
  fi
  skips=()
  for t in "${skip_tests[@]}"; do skips+=(--skip "$t"); done
  /usr/bin/cargo test --target "$triple" "$@" -- "${skips[@]}"
  exit 0
fi

step() { printf '\n== arm64: %s\n' "$*"; }
start=$SECONDS

# ------------------------------------------------------------ packages
step "Debian packages"
packages=(rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  dpkg --print-foreign-architectures | grep -qx arm64 || "${sudo[@]}" dpkg --add-architecture arm64
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
dpkg-query -W -f='   ${Package}:${Architecture} ${Version}\n' "${packages[@]}"
echo "   ready after $((SECONDS - start)) s"

# Debian's cargo and rustc, never rustup's (whose toolchain has no aarch64 standard library).
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$qemu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
# A one-off build: incremental state would only take disk (hundreds of MB) and time.
export CARGO_INCREMENTAL=0
# Code only aarch64 compiles gets no clippy run: its warnings fail the build here instead.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-D warnings"
"$RUSTC" --version

# ------------------------------------------------------------ build
targets=(--lib)
for f in tests/*.rs; do
  name=$(basename "$f" .rs)
  [[ " ${aws_tooling[*]} " == *" $name "* ]] || targets+=(--test "$name")
done
step "build for $triple (${targets[*]})"
t0=$SECONDS
# (The integration tests build the CLI too, with the same features: no separate build.)
/usr/bin/cargo test --target "$triple" --no-run "${targets[@]}"
echo "   built in $((SECONDS - t0)) s"
# e_machine (bytes 18-19 of the ELF header) is 0xb7, AArch64.
[[ "$(od -An -tx1 -j18 -N2 "$out/cwl-firehose" | tr -d ' ')" == b700 ]] \
  || { echo "not an aarch64 binary: $out/cwl-firehose" >&2; exit 1; }

# ------------------------------------------------------------ tests under qemu
step "tests under qemu-user"
t0=$SECONDS
if [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
  CWL_FIREHOSE_ARM64_STAGE=tests bash "$script" "${targets[@]}"
else
  CWL_FIREHOSE_ARM64_STAGE=tests unshare --user --map-root-user --mount bash "$script" "${targets[@]}"
fi
echo "   tests in $((SECONDS - t0)) s"

# ------------------------------------------------------------ the CLI, aarch64 against x86_64
step "the CLI's output, aarch64 against x86_64, byte for byte"
t0=$SECONDS
env -u RUSTC -u RUSTDOC -u CARGO_TARGET_DIR cargo build --quiet --bin cwl-firehose
# The seeded events come from the lab's generator (not product code: built for x86_64 only).
env -u RUSTC -u RUSTDOC -u CARGO_TARGET_DIR cargo build --quiet -p cwl-firehose-lab --bin generate
x86="$root/target/debug/cwl-firehose"
arm="$out/cwl-firehose"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Re-ingestion would need AWS: every run either fits the response or does without a budget.
variants=(
  ""
  "--lines"
  "--mask-pan"
  "--mask-pan --mask-pan-keep last4 --lines"
  "--add-time --merge-json-message --partition-keys --lines"
  "--output-format message --lines"
)
events=(fixtures/events/*.json)
for size in max small bomb; do
  "$root/target/debug/generate" --size "$size" > "$work/$size.json"
  events+=("$work/$size.json")
done
# Output, error output and exit status of one run, into one file; the summary's duration_ms is
# a time, not output, so it is blanked (qemu runs slower).
run() {
  local file=$1 rc=0
  shift
  "$@" > "$file.raw" 2>&1 || rc=$?
  sed -E 's/duration_ms=[0-9]+/duration_ms=_/' "$file.raw" > "$file"
  echo "exit $rc" >> "$file"
}
compared=0
for event in "${events[@]}"; do
  for v in "${variants[@]}"; do
    # shellcheck disable=SC2086 # the variant is a list of options
    run "$work/x86_64.out" "$x86" transform --no-budget $v "$event"
    # shellcheck disable=SC2086
    run "$work/aarch64.out" "$qemu" "$arm" transform --no-budget $v "$event"
    if ! cmp -s "$work/x86_64.out" "$work/aarch64.out"; then
      echo "aarch64 and x86_64 differ: transform $v $event" >&2
      cmp "$work/x86_64.out" "$work/aarch64.out" >&2 || true
      exit 1
    fi
    compared=$((compared + 1))
  done
done
echo "   $compared outputs identical (${#events[@]} events x ${#variants[@]} option sets) in $((SECONDS - t0)) s"
echo "   arm64 step: $((SECONDS - start)) s"
