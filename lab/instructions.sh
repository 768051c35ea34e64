#!/usr/bin/env bash
# Instruction counts of whole `cwl-firehose transform --no-reingest` runs on the
# max event (valgrind cachegrind, `I refs`): the before/after yardstick for
# changes that must not make the path slower. Unlike times they repeat to a few
# parts per million on a machine shared with other work.
#
# Each configuration runs with the default response budget (most of the max
# event's records overflow it and, re-ingestion off, fail after being
# transformed: the normal case on busy streams) and with --no-budget (every
# record transformed and returned). The response's SHA-256 is printed beside
# each count, so that a change can show its bytes did not move.
#
#   bash lab/instructions.sh
#
# Environment: lab/common.sh's, and BIN (a cwl-firehose binary to measure
# instead of the release build). Takes about 2 minutes.
#
# Counts are what valgrind's virtual CPU executes: on x86_64 it offers up to
# AVX2 (no AVX-512), so runtime-dispatched code (base64-simd, libdeflate) takes
# those paths; the process is counted whole (start-up, reading the event,
# writing the response to /dev/null), the kernel's work is not.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need valgrind "apt-get install valgrind"
build
events max
bin=${BIN:-$ours}

# name|environment (space-separated VAR=value, or empty)
configs=(
  "default|"
  "MASK_PAN=true|MASK_PAN=true"
  "REDACT=all|REDACT=all"
  "MASK_PAN=true REDACT=all|MASK_PAN=true REDACT=all"
  "OUTPUT_FORMAT=message|OUTPUT_FORMAT=message"
  "MERGE_JSON_MESSAGE=true|MERGE_JSON_MESSAGE=true"
  "filter+LAMBDA_FORMAT+STATIC_FIELDS|DROP_MESSAGES=^DEBUG LAMBDA_FORMAT=true STATIC_FIELDS=env=prod,pci_scope=cde,team=payments"
  # The enrich_cost bench's five rules (JSON's `\u0020` is a space: the list is split on spaces).
  "five rules+LAMBDA_FORMAT+STATIC_FIELDS|DROP_MESSAGES=^DEBUG EVENT_FILTERS=[{\"name\":\"health\",\"drop\":\"GET\u0020/health|kube-probe\"},{\"name\":\"platform\",\"log_groups\":\"^/aws/lambda/\",\"drop\":\"^(START|END)\u0020RequestId\"},{\"name\":\"noise\",\"drop\":\"heartbeat|keepalive\"},{\"name\":\"trace\",\"log_groups\":\"^/ecs/\",\"drop\":\"^TRACE\u0020\"}] LAMBDA_FORMAT=true STATIC_FIELDS=env=prod,pci_scope=cde,team=payments"
)
# Nothing from the caller's shell may change the settings.
unset OUTPUT_FORMAT ADD_TIME MERGE_JSON_MESSAGE MERGE_KEEP_MESSAGE PARTITION_KEYS \
  MASK_PAN MASK_PAN_KEEP REDACT RESPONSE_BUDGET INFLATE_CAP REINGEST \
  DROP_MESSAGES KEEP_MESSAGES EVENT_FILTERS LAMBDA_FORMAT STATIC_FIELDS

rows=()
for config in "${configs[@]}"; do
  name=${config%%|*}
  vars=${config#*|}
  for budget in "" "--no-budget"; do
    echo "cachegrind: $name ${budget:-(budget 6000000)}..." >&2
    # shellcheck disable=SC2086
    env $vars valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
      "$bin" transform --no-reingest $budget "$out/max.json" \
      >"$out/instr.response" 2>"$out/instr.err"
    ir=$(sed -n 's/^==[0-9]*== I *refs: *//p' "$out/instr.err" | tr -d ,)
    # The CLI's summary line: `records_in=16 ok=3 dropped=1 processing_failed=12 …`.
    summary=$(sed -n 's/^records_in=.* ok=\([0-9]*\) .* processing_failed=\([0-9]*\) .*/ok \1, failed \2/p' "$out/instr.err")
    sha=$(sha256sum "$out/instr.response" | cut -c1-12)
    rows+=("| $name | ${budget:-default (6,000,000)} | $(echo "$ir" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta') | $summary | $sha |")
  done
done

echo
echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD), $(valgrind --version), seed $seed: \`bash lab/instructions.sh\`"
echo
echo "Instructions executed by \`cwl-firehose transform --no-reingest [--no-budget] max.json\` (whole process):"
echo
echo "| settings | budget | instructions | records (of 16) | response sha256 |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
