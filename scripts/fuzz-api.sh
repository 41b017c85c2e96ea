#!/usr/bin/env bash
# Fuzzes the JSON API with schemathesis (from PyPI) against a real `duijie serve` on the demo
# data: every operation of /api/openapi.json gets generated valid and invalid requests, and
# the run fails on any 5xx or any answer whose status, content type or body is not as the
# document says. Also fails if the server logged a panic.
#
#   scripts/fuzz-api.sh                 # 25 examples per operation, fixed seed
#   FUZZ_EXAMPLES=200 FUZZ_SEED=7 scripts/fuzz-api.sh
#
# Needs python3 (with venv) and network access to PyPI the first time; the virtualenv is kept
# in target/fuzz-venv. DUIJIE_BIN picks a prebuilt binary (default: cargo build).
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${FUZZ_EXAMPLES:-25}"
seed="${FUZZ_SEED:-20261123}"
version="4.32.5"
venv="${FUZZ_VENV:-target/fuzz-venv}"

bin="${DUIJIE_BIN:-}"
if [ -z "$bin" ]; then
  cargo build -q --bin duijie
  bin="target/debug/duijie"
fi

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  echo "installing schemathesis $version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version"
fi

# shellcheck source=scripts/serve-temp.sh
. scripts/serve-temp.sh

token="$("$bin" --data-dir "$data/d" admin create-token --email admin@demo.example --name fuzz 2>/dev/null)"

# writes would sign the fuzzer out or lock it out halfway: password changes, token
# revocation and account edits are fuzzed without credentials (they must still answer 4xx)
export SCHEMATHESIS_HOOKS=fuzz_hooks
export PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}"
status=0
"$venv/bin/schemathesis" run "$base/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$examples" \
  --seed "$seed" \
  --phases examples,coverage,fuzzing \
  --workers 2 \
  --request-timeout 30 \
  --suppress-health-check all \
  --exclude-path-regex '^/api/v1/(me/password|me/tokens/\{id\}|users/\{id\}|sessions)$' \
  -H "Authorization: Bearer $token" \
  --no-color || status=$?

# the excluded ones, anonymously: they must refuse cleanly
"$venv/bin/schemathesis" run "$base/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$examples" \
  --seed "$seed" \
  --phases examples,coverage,fuzzing \
  --request-timeout 30 \
  --suppress-health-check all \
  --include-path-regex '^/api/v1/(me/password|me/tokens/\{id\}|users/\{id\}|sessions)$' \
  --no-color || status=$?

if grep -q "panicked" "$log"; then
  grep -n -A5 "panicked" "$log" >&2
  echo "the server panicked during the fuzz run" >&2
  status=1
fi
if ! curl -fsS "$base/healthz" >/dev/null; then
  echo "the server is not healthy after the fuzz run" >&2
  status=1
fi
exit "$status"
