#!/usr/bin/env bash
# Checks of the two templates - template.yaml (the SAM template of the whole pipeline) and
# templates/source-account.yaml (what a sending account deploys) - and of copies of them whose
# defaults switch each option on (variants.py), offline once the tools are installed:
#   1. cfn-lint                              (errors and warnings both fail)
#   2. sam validate --lint                   (dummy region and credentials, no network)
#   3. checkov -f                            (0 failed; skips are justified in Metadata)
#   4. pytest tests/template/test_template.py (what the linters don't check on these templates)
# Tools are pinned in requirements.txt / requirements-checkov.txt (two venvs: checkov's pins
# conflict with pytest's and SAM CLI's). VENV (default <repo>/.venv-template) and CHECKOV_VENV
# (default "$VENV-checkov") are created when missing and reused otherwise.
# `sam build` is not run: for arm64 it cross-compiles with cargo-lambda, zig and rustup's
# aarch64-unknown-linux-gnu target, which this CI machine cannot download (tests/sam_build.rs
# builds x86_64; tests/arm64.sh builds and tests the aarch64 code with Debian's Rust).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
VENV="${VENV:-$repo/.venv-template}"
CHECKOV_VENV="${CHECKOV_VENV:-$VENV-checkov}"
PYTHON="${PYTHON:-python3}"

# Install into a venv when it is missing or its requirements changed since the last install.
# The packages are installed by uv (pinned in requirements-bootstrap.txt, put into $VENV with
# pip) when it can be had, else by pip.
ensure_venv() {
  local venv="$1" req="$2" constraints="$3" stamp
  stamp="$(cat "$here/requirements-bootstrap.txt" "$req" "$constraints" | sha256sum | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && -f "$venv/.requirements-sha256" \
        && "$(cat "$venv/.requirements-sha256")" == "$stamp" ]]; then
    return 0
  fi
  [[ -x "$venv/bin/python" ]] || "$PYTHON" -m venv "$venv"
  if [[ -x "$UV" ]]; then
    "$UV" pip install --quiet --python "$venv/bin/python" -r "$req"
  else
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
  fi
  echo "$stamp" > "$venv/.requirements-sha256"
}

start=$SECONDS
echo "== venvs: $VENV, $CHECKOV_VENV"
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
UV="$VENV/bin/uv"
if [[ ! -x "$UV" ]] || ! "$UV" --version 2>/dev/null | grep -qF "$(sed -n 's/^uv==//p' "$here/requirements-bootstrap.txt")"; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$here/requirements-bootstrap.txt" || echo "   (uv unavailable: installing with pip)"
fi
# The two installs run side by side (each is mostly download and unpack).
ensure_venv "$CHECKOV_VENV" "$here/requirements-checkov.txt" "$here/constraints-checkov.txt" \
  > "${TMPDIR:-/tmp}/cwl-firehose-checkov-pip.$$.log" 2>&1 &
checkov_pid=$!
ensure_venv "$VENV" "$here/requirements.txt" "$here/constraints.txt"
if ! wait "$checkov_pid"; then
  cat "${TMPDIR:-/tmp}/cwl-firehose-checkov-pip.$$.log" >&2
  rm -f "${TMPDIR:-/tmp}/cwl-firehose-checkov-pip.$$.log"
  echo "install of checkov failed" >&2
  exit 1
fi
rm -f "${TMPDIR:-/tmp}/cwl-firehose-checkov-pip.$$.log"
echo "   ready after $((SECONDS - start)) s"

# Nothing below needs the network or real AWS credentials.
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE
export SAM_CLI_TELEMETRY=0

cd "$repo"

# The linters judge a template as its parameter defaults render it, so each option is linted in a
# copy whose defaults switch it on (variants.py: VPC placement with created and with existing
# endpoints, permissions boundary, code signing, the source template's organization role);
# a checkov skip that only the defaults need is dropped from the copies that must pass the check.
variants="$(mktemp -d)"
trap 'rm -rf "$variants"' EXIT
"$VENV/bin/python" "$here/variants.py" "$variants" > "$variants/list.tsv"
templates=(template.yaml templates/source-account.yaml)
while IFS=$'\t' read -r file _; do templates+=("$file"); done < "$variants/list.tsv"

echo "== cfn-lint $("$VENV/bin/cfn-lint" --version | awk '{print $2}')"
"$VENV/bin/cfn-lint" "${templates[@]}"
echo "   clean: ${templates[*]##*/}"

echo "== sam validate --lint ($("$VENV/bin/sam" --version))"
# Two at a time (each is a Python start and a transform, ~10 s of one core).
printf '%s\0' "${templates[@]}" \
  | xargs -0 -n1 -P2 "$VENV/bin/sam" validate --lint --region us-east-1 --template-file

echo "== checkov $("$CHECKOV_VENV/bin/checkov" --version)"
# One run over all files (each start of checkov costs seconds). --skip-download: no Prisma
# Cloud guideline fetch (offline); the built-in checks still run.
checkov_files=()
for t in "${templates[@]}"; do checkov_files+=(--file "$t"); done
set +e
"$CHECKOV_VENV/bin/checkov" --framework cloudformation --skip-download -o json \
  "${checkov_files[@]}" > "$variants/checkov.json" 2> "$variants/checkov.err"
checkov_rc=$?
set -e
# 0 failed in all, every file but the source template's defaults (an account policy only, which
# checkov has no checks for) checked, each dropped skip passed in its copy; each skip printed
# with its reason (from Metadata).
if ! "$VENV/bin/python" - "$variants/checkov.json" "$variants/list.tsv" <<'PY'
import json, os, sys
report = json.load(open(sys.argv[1]))
must_pass = {}
for line in open(sys.argv[2]):
    path, checks = line.rstrip("\n").split("\t")
    must_pass[os.path.basename(path)] = {c for c in checks.split(",") if c}
reports = report if isinstance(report, list) else [report]
assert len(reports) == 1 and reports[0]["check_type"] == "cloudformation", [r.get("check_type") for r in reports]
results, summary = reports[0]["results"], reports[0]["summary"]
per_file = {}
for kind in ("passed", "failed", "skipped"):
    for c in results[f"{kind}_checks"]:
        per_file.setdefault(os.path.basename(c["file_path"]), {"passed": 0, "failed": 0, "skipped": 0})[kind] += 1
for name, n in sorted(per_file.items()):
    print(f"   {name}: Passed checks: {n['passed']}, Failed checks: {n['failed']}, Skipped checks: {n['skipped']}")
for skip in sorted({(c["check_id"], c["resource"], c["check_result"].get("suppress_comment")) for c in results["skipped_checks"]}):
    print("   skipped %s on %s: %s" % skip)
for c in results["failed_checks"]:
    print(f"   FAILED {c['check_id']} on {c['resource']} ({c['file_path']}): {c['check_name']}")
passed = {(os.path.basename(c["file_path"]), c["check_id"]) for c in results["passed_checks"]}
missing = {(f, c) for f, checks in must_pass.items() for c in checks} - passed
for f, c in sorted(missing):
    print(f"   NOT PASSED {c} on {f} (its skip is dropped there)")
ok = (summary["failed"] == 0 and summary["parsing_errors"] == 0 and not missing
      and {"template.yaml"} | set(must_pass) <= set(per_file))
sys.exit(0 if ok else 1)
PY
then
  cat "$variants/checkov.err" >&2
  echo "checkov failed (exit $checkov_rc)" >&2
  exit 1
fi
[[ $checkov_rc -eq 0 ]] || { cat "$variants/checkov.err" >&2; echo "checkov exited $checkov_rc" >&2; exit 1; }

echo "== pytest tests/template/test_template.py"
echo "   (checks before pytest: $((SECONDS - start)) s in all)"
PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" -m pytest -p no:cacheprovider -q "$here/test_template.py"
echo "   all template checks: $((SECONDS - start)) s"
