#!/usr/bin/env python3
"""Markdown table of the last `cargo bench -p cwl-firehose-lab --bench pipeline`
run: median time and MB/s (10^6 bytes per second) per bench, from criterion's
JSON files.

    python3 lab/criterion_table.py [TARGET_DIR]     (default: target)
"""
import glob, json, os, sys

root = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "target", "criterion")
rows = []
for new in sorted(glob.glob(f"{root}/**/new/benchmark.json", recursive=True)):
    bench = json.load(open(new))
    estimates = json.load(open(os.path.join(os.path.dirname(new), "estimates.json")))
    median = estimates["median"]["point_estimate"] / 1e9
    size = (bench.get("throughput") or {}).get("Bytes")
    rate = f"{size / median / 1e6:,.0f}" if size else ""
    mb = f"{size / 1e6:.1f}" if size else ""
    rows.append((bench["full_id"], f"{median * 1e3:.2f}", rate, mb))
if not rows:
    sys.exit(f"no criterion results under {root}: run cargo bench -p cwl-firehose-lab --bench pipeline")
print("| bench | median ms | MB/s | MB per iteration |")
print("|---|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")
