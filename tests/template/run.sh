#!/usr/bin/env bash
# Checks of template.yaml (the SAM template of the whole pipeline), offline once the tools are installed:
#   1. cfn-lint template.yaml                (errors and warnings both fail)
#   2. sam validate --lint                   (dummy region and credentials, no network)
#   3. checkov -f template.yaml              (0 failed; skips are justified in Metadata)
#   4. pytest tests/template/test_template.py (what the linters don't check on SAM templates)
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

echo "== cfn-lint $("$VENV/bin/cfn-lint" --version | awk '{print $2}')"
"$VENV/bin/cfn-lint" template.yaml
echo "   clean"

echo "== sam validate --lint ($("$VENV/bin/sam" --version))"
"$VENV/bin/sam" validate --lint --template-file template.yaml --region us-east-1

echo "== checkov $("$CHECKOV_VENV/bin/checkov" --version)"
# --skip-download: no Prisma Cloud guideline fetch (offline); the built-in checks still run.
set +e
checkov_out="$("$CHECKOV_VENV/bin/checkov" --file template.yaml --framework cloudformation \
  --skip-download --compact 2>&1)"
checkov_rc=$?
set -e
if [[ $checkov_rc -ne 0 ]] || ! grep -q '^Passed checks: [0-9]*, Failed checks: 0,' <<<"$checkov_out"; then
  printf '%s\n' "$checkov_out"
  echo "checkov failed (exit $checkov_rc)" >&2
  exit 1
fi
grep '^Passed checks' <<<"$checkov_out" | sed 's/^/   /'
# The skipped checks and their reasons (from the resources' Metadata).
grep -E '^Check:|SKIPPED|Suppress comment' <<<"$checkov_out" | grep -B1 -A1 'SKIPPED' \
  | grep -v '^--$' | sed 's/^/   /' || true

echo "== pytest tests/template/test_template.py"
echo "   (checks before pytest: $((SECONDS - start)) s in all)"
PYTHONDONTWRITEBYTECODE=1 exec "$VENV/bin/python" -m pytest -p no:cacheprovider -q "$here/test_template.py"
