#!/usr/bin/env python3
"""Warm, in-process timing of the Python reference (ref_python.py, kept outside
this repository; lab/README.md says what it is):
its per-record function called in a loop in one process, as a warm Lambda calls
its handler, so that interpreter start-up is not counted.

One invocation = what the Python runtime and the handler do between receiving the
payload bytes and handing back the response bytes: json.loads of the event, the
reference's `process` for every record, json.dumps of the response (exactly what
the reference's main writes) and its UTF-8 encoding.

usage: warm_refs.py EVENT.json [--mode json|message] [--iterations N] [--warmup N]
                               [--out FILE]
The reference is $REF_PYTHON (lab/warm_compare.sh sets it from $BENCH_REFS).
Prints one JSON object: median_ms, median_cpu_ms, min_ms, max_ms, iterations,
peak_rss_mib.
--out writes the last response, to check it against the reference run as a process.
"""
import argparse
import importlib.util
import json
import os
import resource
import statistics
import time


def load(path):
    spec = importlib.util.spec_from_file_location("ref_python", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # its main() is behind `if __name__ == "__main__"`
    return module


def main():
    p = argparse.ArgumentParser()
    p.add_argument("event")
    p.add_argument("--mode", choices=["json", "message"], default="json")
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--out")
    args = p.parse_args()
    ref_path = os.environ.get("REF_PYTHON", "")
    if not os.path.isfile(ref_path):
        p.exit(2, f"warm_refs.py: REF_PYTHON must name the Python reference "
                  f"(ref_python.py; see lab/README.md), not {ref_path!r}\n")
    ref = load(ref_path)
    with open(args.event, "rb") as f:
        payload = f.read()

    def invoke():
        event = json.loads(payload)
        response = {"records": [ref.process(r, args.mode) for r in event["records"]]}
        return json.dumps(response).encode()

    out = b""
    for _ in range(args.warmup):
        out = invoke()
    times, cpu = [], []
    for _ in range(max(1, args.iterations)):
        cpu_start = time.process_time()
        start = time.perf_counter()
        out = invoke()
        times.append((time.perf_counter() - start) * 1000.0)
        cpu.append((time.process_time() - cpu_start) * 1000.0)
    if args.out:
        with open(args.out, "wb") as f:
            f.write(out)
    print(json.dumps({
        "impl": "python",
        "reference": os.path.abspath(ref_path),
        "mode": args.mode,
        "iterations": len(times),
        "median_ms": statistics.median(times),
        # CPU time of the process (user + system) per invocation.
        "median_cpu_ms": statistics.median(cpu),
        "min_ms": min(times),
        "max_ms": max(times),
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))


if __name__ == "__main__":
    main()
