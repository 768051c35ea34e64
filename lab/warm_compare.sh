#!/usr/bin/env bash
# Warm, in-process comparison: `cwl-firehose bench` against the Python and
# Node.js references called in a loop in one process (lab/warm_refs.py,
# lab/warm_refs.js), both output modes, on a ~1 MB event and the max event.
# A warm Lambda is what users pay for; lab/compare.sh gives the whole-process
# figures (interpreter start-up included) beside these.
#
# Each process runs ITERATIONS invocations after one warm-up and reports their
# median; that is repeated ROUNDS times, the order rotated each round, and the
# table shows the median of the rounds' medians. Before timing, each harness's
# response is checked byte for byte against the reference run as a process.
#
#   BENCH_REFS=DIR bash lab/warm_compare.sh [ITERATIONS]      (default 20)
#
# BENCH_REFS names the folder holding ref_python.py and ref_node.js (not in
# this repository: lab/README.md). Environment: lab/common.sh's, and ROUNDS
# (default 3). Takes about 4 minutes on 2 cores (the references on the max
# event take about half a second per invocation).
set -euo pipefail
source "$(dirname "$0")/common.sh"
iterations=${1:-20}
rounds=${ROUNDS:-3}
need python3
need node
refs ref_python.py ref_node.js
build
events small max

# same RUNNER REFERENCE HARNESS VAR EVENT MODE: the harness (its reference named by VAR)
# returns, byte for byte, what the reference prints run as a process.
same() {
  local run=$1 ref=$2 harness=$3 var=$4 event=$5 mode=$6
  "$run" "$ref" "$out/$event.json" --mode "$mode" >"$out/ref.$event.$mode"
  env "$var=$ref" "$run" "$harness" "$out/$event.json" \
    --mode "$mode" --iterations 1 --warmup 0 --out "$out/warm.$event.$mode" >/dev/null
  cmp -s "$out/ref.$event.$mode" "$out/warm.$event.$mode" || {
    echo "$harness differs from $ref on $event --mode $mode" >&2
    exit 1
  }
  rm -f "$out/ref.$event.$mode" "$out/warm.$event.$mode"
}

echo "checking that the harnesses return what the references print..." >&2
for event in small max; do
  for mode in json message; do
    same python3 "$refs/ref_python.py" lab/warm_refs.py REF_PYTHON "$event" "$mode"
    same node "$refs/ref_node.js" lab/warm_refs.js REF_NODE "$event" "$mode"
  done
done

cat >"$out/warm_rounds.py" <<'PY'
import json, os, statistics, subprocess, sys

ours, refs, out, iterations, rounds = sys.argv[1:6]
iterations, rounds = int(iterations), int(rounds)
clean = {k: v for k, v in os.environ.items() if k not in (
    "OUTPUT_FORMAT", "ADD_TIME", "MERGE_JSON_MESSAGE", "MERGE_KEEP_MESSAGE", "PARTITION_KEYS",
    "MASK_PAN", "MASK_PAN_KEEP", "RESPONSE_BUDGET", "INFLATE_CAP", "REINGEST")}
clean["REF_PYTHON"] = f"{refs}/ref_python.py"
clean["REF_NODE"] = f"{refs}/ref_node.js"


def argv(event, impl, mode):
    path = f"{out}/{event}.json"
    n = str(iterations)
    if impl == "ours":
        return [ours, "bench", path, "--no-budget", "--output-format", mode,
                "--iterations", n, "--json"]
    if impl == "python":
        return ["python3", "lab/warm_refs.py", path, "--mode", mode, "--iterations", n]
    return ["node", "lab/warm_refs.js", path, "--mode", mode, "--iterations", n]


runs = [(e, i, m) for e in ("small", "max") for m in ("json", "message")
        for i in ("ours", "python", "node")]
results = {r: [] for r in runs}
for r in range(rounds):
    for k in range(len(runs)):
        run = runs[(k + r) % len(runs)]
        print(f"round {r + 1}/{rounds}: {' '.join(run)}", file=sys.stderr)
        done = subprocess.run(argv(*run), env=clean, check=True, capture_output=True)
        results[run].append(json.loads(done.stdout))
summary = {}
for (event, impl, mode), rs in results.items():
    cpu = [x["median_cpu_ms"] for x in rs]
    s = {"median_ms": statistics.median(x["median_ms"] for x in rs),
         "median_cpu_ms": statistics.median(cpu) if None not in cpu else float("nan"),
         "peak_rss_mib": max(x["peak_rss_mib"] or 0 for x in rs)}
    if impl == "ours":
        s["stages_sum_ms"] = statistics.median(x["stages_sum_ms"] for x in rs)
        s["input_base64_bytes"] = rs[0]["input_base64_bytes"]
        s["inflated_bytes"] = rs[0]["inflated_bytes"]
    summary[f"{event}.{impl}.{mode}"] = s
print(json.dumps(summary))
PY

echo "timing: $rounds rounds of $iterations warm invocations per process..." >&2
python3 "$out/warm_rounds.py" "$ours" "$refs" "$out" "$iterations" "$rounds" >"$out/warm.json"

python3 - "$out" "$iterations" "$rounds" "$seed" <<'PY'
import json, os, subprocess, sys
out, iterations, rounds, seed = sys.argv[1:5]
s = json.load(open(f"{out}/warm.json"))
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                        text=True).stdout.strip()
print()
print(f"{os.cpu_count()} cores, commit {commit}, seed {seed}, {rounds} rounds of {iterations} "
      f"warm invocations per process: `bash lab/warm_compare.sh {iterations}`")
print()
print("Warm, in process: median wall time per invocation (median CPU time in brackets; "
      "an invocation = event parse, every record, response bytes; no process start-up):")
print()
print("| event | request | inflated | mode | ours | python | node | python / ours | node / ours |")
print("|---|---|---|---|---|---|---|---|---|")
for event in ("small", "max"):
    size = os.path.getsize(f"{out}/{event}.json") / 1e6
    for mode in ("json", "message"):
        o, p, n = (s[f"{event}.{i}.{mode}"] for i in ("ours", "python", "node"))
        infl = o["inflated_bytes"] / 1e6
        w, c = "median_ms", "median_cpu_ms"
        print(f"| {event} | {size:.2f} MB | {infl:.1f} MB | {mode} | {o[w]:.2f} ({o[c]:.2f}) ms | "
              f"{p[w]:.1f} ({p[c]:.1f}) ms | {n[w]:.1f} ({n[c]:.1f}) ms | "
              f"{p[w] / o[w]:.1f}x ({p[c] / o[c]:.1f}x) | {n[w] / o[w]:.1f}x ({n[c] / o[c]:.1f}x) |")
print()
print("Ours in message mode against JSON lines (wall, CPU in brackets), and whole "
      "invocation against the sum of its stages timed alone (wall):")
print()
print("| event | json | message | message / json | json / stages | message / stages |")
print("|---|---|---|---|---|---|")
for event in ("small", "max"):
    j, m = s[f"{event}.ours.json"], s[f"{event}.ours.message"]
    w, c = "median_ms", "median_cpu_ms"
    print(f"| {event} | {j[w]:.2f} ({j[c]:.2f}) ms | {m[w]:.2f} ({m[c]:.2f}) ms | "
          f"{m[w] / j[w]:.2f} ({m[c] / j[c]:.2f}) | {j[w] / j['stages_sum_ms']:.2f} | "
          f"{m[w] / m['stages_sum_ms']:.2f} |")
print()
print("Peak RSS of the warm process (MiB; ours: VmHWM after the timed invocations; "
      "references: ru_maxrss), largest over the rounds:")
print()
print("| event | mode | ours | python | node |")
print("|---|---|---|---|---|")
for event in ("small", "max"):
    for mode in ("json", "message"):
        r = [s[f"{event}.{i}.{mode}"]["peak_rss_mib"] for i in ("ours", "python", "node")]
        print(f"| {event} | {mode} | {r[0]:.1f} | {r[1]:.1f} | {r[2]:.1f} |")
PY
