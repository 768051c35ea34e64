#!/usr/bin/env bash
# Checks of the two templates - template.yaml (the SAM template of the whole pipeline) and
# templates/source-account.yaml (what a sending account deploys) - offline once the tools are
# installed:
#   1. cfn-lint                              (errors and warnings both fail)
#   2. sam validate --lint                   (dummy region and credentials, no network)
#   3. checkov -f                            (0 failed; skips are justified in Metadata)
#   4. pytest tests/template/test_template.py (what the linters don't check on these templates)
# Tools are pinned in requirements.txt / requirements-checkov.txt (two venvs: checkov's pins
# conflict with pytest's and SAM CLI's). VENV (default <repo>/.venv-template) and CHECKOV_VENV
# (default "$VENV-checkov") are created when missing and reused otherwise.
# `sam build` is not run: it cross-compiles for arm64 with cargo-lambda, zig and the
# aarch64-unknown-linux-gnu Rust target, which this CI machine cannot download.
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

templates=(template.yaml templates/source-account.yaml)

echo "== cfn-lint $("$VENV/bin/cfn-lint" --version | awk '{print $2}')"
"$VENV/bin/cfn-lint" "${templates[@]}"
echo "   clean: ${templates[*]}"

echo "== sam validate --lint ($("$VENV/bin/sam" --version))"
for t in "${templates[@]}"; do
  "$VENV/bin/sam" validate --lint --template-file "$t" --region us-east-1
done

echo "== checkov $("$CHECKOV_VENV/bin/checkov" --version)"
# checkov resolves the conditions of a plain CloudFormation template with the parameters'
# defaults and skips what they switch off: the source template's role exists only with
# DestinationGrantsOrganization=true, so a copy with that default is checked as well.
variants="$(mktemp -d)"
trap 'rm -rf "$variants"' EXIT
awk '/^  DestinationGrantsOrganization:/ {p=1} p && /Default:/ {sub(/"false"/, "\"true\""); p=0} {print}' \
  templates/source-account.yaml > "$variants/source-account-organization.yaml"
grep -A2 '^  DestinationGrantsOrganization:' "$variants/source-account-organization.yaml" | grep -q 'Default: "true"'
# One run over all files (each start of checkov costs seconds). --skip-download: no Prisma
# Cloud guideline fetch (offline); the built-in checks still run.
set +e
"$CHECKOV_VENV/bin/checkov" --framework cloudformation --skip-download -o json \
  --file template.yaml --file templates/source-account.yaml \
  --file "$variants/source-account-organization.yaml" > "$variants/checkov.json" 2> "$variants/checkov.err"
checkov_rc=$?
set -e
# 0 failed in all, every file but the source template's defaults (an account policy only, which
# checkov has no checks for) checked; each skip printed with its reason (from Metadata).
if ! "$VENV/bin/python" - "$variants/checkov.json" <<'PY'
import json, os, sys
report = json.load(open(sys.argv[1]))
reports = report if isinstance(report, list) else [report]
assert len(reports) == 1 and reports[0]["check_type"] == "cloudformation", [r.get("check_type") for r in reports]
results, summary = reports[0]["results"], reports[0]["summary"]
per_file = {}
for kind in ("passed", "failed", "skipped"):
    for c in results[f"{kind}_checks"]:
        per_file.setdefault(os.path.basename(c["file_path"]), {"passed": 0, "failed": 0, "skipped": 0})[kind] += 1
for name, n in sorted(per_file.items()):
    print(f"   {name}: Passed checks: {n['passed']}, Failed checks: {n['failed']}, Skipped checks: {n['skipped']}")
for c in results["skipped_checks"]:
    print(f"   skipped {c['check_id']} on {c['resource']}: {c['check_result'].get('suppress_comment')}")
for c in results["failed_checks"]:
    print(f"   FAILED {c['check_id']} on {c['resource']} ({c['file_path']}): {c['check_name']}")
ok = (summary["failed"] == 0 and summary["parsing_errors"] == 0
      and {"template.yaml", "source-account-organization.yaml"} <= set(per_file))
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
