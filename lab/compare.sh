#!/usr/bin/env bash
# Whole-process comparison: our CLI against the Python and Node.js references
# and the Rust "floor" (the unavoidable byte work alone), on seeded events.
#
# Runs are interleaved round by round (the order rotates), and each figure is
# the median of the rounds: wall time, and CPU time (user + sys from wait4),
# which a machine shared with other work disturbs less. Quote the ratios.
# Peak memory is max RSS from GNU time (largest of three runs).
#
#   BENCH_REFS=DIR bash lab/compare.sh [ROUNDS]        (default 21)
#
# BENCH_REFS names the folder holding ref_python.py, ref_node.js and floor/
# (not in this repository: lab/README.md). Environment: lab/common.sh's, and
# BOMB_ROUNDS (default 3: the references inflate the whole gigabyte).
set -euo pipefail
source "$(dirname "$0")/common.sh"
rounds=${1:-21}
bomb_rounds=${BOMB_ROUNDS:-3}

if [ ! -x /usr/bin/time ]; then
  echo "GNU time (/usr/bin/time) is needed: apt-get install time" >&2
  exit 1
fi
need python3
need node
refs ref_python.py ref_node.js floor/Cargo.toml

floor=$out/floor/target/release/floor
build
if [ "${NO_BUILD:-}" != 1 ]; then
  # BENCH_REFS may be read-only: build a copy of the floor.
  echo "building the floor..." >&2
  rm -rf "$out/floor/src"
  mkdir -p "$out/floor"
  cp -r "$refs/floor/Cargo.toml" "$refs/floor/Cargo.lock" "$refs/floor/src" "$out/floor/"
  chmod -R u+w "$out/floor"
  CARGO_TARGET_DIR="$out/floor/target" cargo build --release --quiet --manifest-path "$out/floor/Cargo.toml"
fi
events max small bomb

names=(ours python node floor)
declare -A cmd=(
  [ours]="$ours transform --no-budget"
  [masked]="$ours transform --no-budget --mask-pan"
  [python]="python3 $refs/ref_python.py"
  [node]="node $refs/ref_node.js"
  [floor]="$floor"
)

# The runner: interleaved rounds in one process, wall time from
# perf_counter and CPU time from wait4 (microseconds, unlike GNU time's %U).
cat >"$out/rounds.py" <<'PY'
import os, statistics, subprocess, sys, time

rounds, event, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cmds = dict(arg.split("=", 1) for arg in sys.argv[4:])
names = list(cmds)


def run(name):
    argv = cmds[name].split() + [event]
    if name in ("python", "node"):
        argv += ["--mode", "json"]
    with open(os.devnull, "wb") as null, open(f"{out}/{name}.err", "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=null, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"{name} failed on {event}: see {out}/{name}.err")
    return wall, usage.ru_utime + usage.ru_stime


for name in names:  # one warm-up round, not counted: page cache, CPU frequency
    run(name)
wall = {n: [] for n in names}
cpu = {n: [] for n in names}
for r in range(rounds):
    for k in range(len(names)):
        name = names[(k + r) % len(names)]
        w, c = run(name)
        wall[name].append(w)
        cpu[name].append(c)
for name in names:
    print(name, statistics.median(wall[name]), statistics.median(cpu[name]))
PY

cat >"$out/inflated.py" <<'PY'
import base64, json, sys, zlib

event = json.load(open(sys.argv[1]))
total = 0
for r in event["records"]:
    d, data = zlib.decompressobj(31), base64.b64decode(r["data"])
    while data:
        total += len(d.decompress(data, 64 << 20))
        data = d.unconsumed_tail
print(len(event["records"]), total)
PY

# rss NAME EVENT -> max RSS in KiB (GNU time)
rss() {
  local name=$1 event=$2 extra=""
  case $name in python | node) extra="--mode json" ;; esac
  # shellcheck disable=SC2086
  /usr/bin/time -f %M -o "$out/$name.rss" ${cmd[$name]} "$event" $extra >/dev/null 2>/dev/null || true
  tail -n 1 "$out/$name.rss"
}

declare -A wall cpu mem
for event in max small bomb; do
  n=$rounds
  [ "$event" = bomb ] && n=$bomb_rounds
  echo "timing $event ($n rounds)..." >&2
  while read -r name w c; do
    wall[$event.$name]=$w
    cpu[$event.$name]=$c
  done < <(python3 "$out/rounds.py" "$n" "$out/$event.json" "$out" \
    "ours=${cmd[ours]}" "masked=${cmd[masked]}" "python=${cmd[python]}" "node=${cmd[node]}" "floor=${cmd[floor]}")
  for name in "${names[@]}"; do
    mem[$event.$name]=$(for _ in 1 2 3; do rss "$name" "$out/$event.json"; done | sort -n | tail -n 1)
  done
done

ms() { awk -v s="$1" 'BEGIN {printf "%.1f", s * 1000}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
mark() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN {ok = (dir == ">=") ? v >= t : v <= t; print ok ? "met" : "MISSED"}'; }

echo
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $rounds interleaved rounds ($bomb_rounds for bomb), seed $seed: \`bash lab/compare.sh $rounds\`"
echo
echo "Median wall time (median CPU time, user + sys, in brackets):"
echo
echo "| event | request | records | inflated | ours | python | node | floor | python / ours | node / ours | ours / floor |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for event in max small bomb; do
  read -r records infl < <(python3 "$out/inflated.py" "$out/$event.json")
  size=$(stat -c %s "$out/$event.json")
  row="| $event | $(awk -v b="$size" 'BEGIN {printf "%.2f", b / 1e6}') MB | $records | $(awk -v b="$infl" 'BEGIN {printf "%.1f", b / 1e6}') MB"
  for name in "${names[@]}"; do
    row+=" | $(ms "${wall[$event.$name]}") ($(ms "${cpu[$event.$name]}")) ms"
  done
  for name in python node; do
    row+=" | $(ratio "${wall[$event.$name]}" "${wall[$event.ours]}")x ($(ratio "${cpu[$event.$name]}" "${cpu[$event.ours]}")x)"
  done
  row+=" | $(ratio "${wall[$event.ours]}" "${wall[$event.floor]}") ($(ratio "${cpu[$event.ours]}" "${cpu[$event.floor]}")) |"
  echo "$row"
done
echo
echo "Peak memory (max RSS, MiB, largest of 3 runs, GNU time):"
echo
echo "| event | ours | python | node | floor |"
echo "|---|---|---|---|---|"
for event in max small bomb; do
  echo "| $event | $(mib "${mem[$event.ours]}") | $(mib "${mem[$event.python]}") | $(mib "${mem[$event.node]}") | $(mib "${mem[$event.floor]}") |"
done
echo
echo "Targets (max event; time on wall-clock medians):"
echo
p=$(ratio "${wall[max.python]}" "${wall[max.ours]}")
n=$(ratio "${wall[max.node]}" "${wall[max.ours]}")
f=$(ratio "${wall[max.ours]}" "${wall[max.floor]}")
echo "- python / ours >= 7: ${p}x, $(mark "$p" 7 '>=')"
echo "- node / ours >= 7: ${n}x, $(mark "$n" 7 '>=')"
echo "- ours / floor <= 0.8: $f, $(mark "$f" 0.8 '<=')"
echo "- max RSS <= 64 MiB on max: $(mib "${mem[max.ours]}") MiB, $(mark "$(mib "${mem[max.ours]}")" 64 '<=')"
echo "- max RSS <= 128 MiB on bomb: $(mib "${mem[bomb.ours]}") MiB, $(mark "$(mib "${mem[bomb.ours]}")" 128 '<=')"
m=$(ratio "${wall[max.masked]}" "${wall[max.ours]}")
echo "- masking (--mask-pan) / ours <= 1.15: $m ($(ms "${wall[max.masked]}") ms, CPU $(ratio "${cpu[max.masked]}" "${cpu[max.ours]}")), $(mark "$m" 1.15 '<=')"
echo
echo "Binary: $(stat -c %s "$ours" | awk '{printf "%.1f MB", $1 / 1e6}') (cwl-firehose CLI, $(rustc --version | cut -d' ' -f1-2))"
