# Sourced by the lab's scripts: where things are, the release builds, the
# seeded events and the references.
#
# Environment: OUT (default lab/out, git-ignored), SEED (default 1), NO_BUILD=1
# to reuse what is built, CARGO_TARGET_DIR, and BENCH_REFS for the scripts that
# compare against the references (see refs below).
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=${OUT:-$repo/lab/out}
seed=${SEED:-1}
target=${CARGO_TARGET_DIR:-$repo/target}
ours=$target/release/cwl-firehose
generate=$target/release/generate
mkdir -p "$out"

# need TOOL [HOW]: stop unless TOOL is on PATH.
need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "$1 is needed${2:+: $2}" >&2
    exit 1
  }
}

# The release CLI (lto, codegen-units = 1, as deployed) and the event
# generator, unless NO_BUILD=1.
build() {
  [ "${NO_BUILD:-}" = 1 ] && return
  need cargo
  echo "building cwl-firehose and generate (release)..." >&2
  cargo build --release --quiet -p cwl-firehose --bin cwl-firehose
  cargo build --release --quiet -p cwl-firehose-lab --bin generate
}

# events SIZE...: the seeded events, as $out/SIZE.json.
events() {
  for size in "$@"; do
    "$generate" --size "$size" --seed "$seed" >"$out/$size.json"
  done
}

# refs FILE...: the references are not part of this repository. BENCH_REFS
# names the folder that holds them (ref_python.py, ref_node.js, floor/; see
# lab/README.md); stop with a clear message when it does not hold FILE....
refs() {
  if [ -z "${BENCH_REFS:-}" ]; then
    echo "BENCH_REFS is not set: it names the folder holding the references ($*)." >&2
    echo "They are not part of this repository; lab/README.md says what they are." >&2
    exit 2
  fi
  local f missing=0
  for f in "$@"; do
    if [ ! -e "$BENCH_REFS/$f" ]; then
      echo "BENCH_REFS=$BENCH_REFS holds no $f" >&2
      missing=1
    fi
  done
  [ "$missing" = 0 ] || exit 2
  refs=$(cd "$BENCH_REFS" && pwd)
}
