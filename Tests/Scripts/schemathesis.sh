#!/usr/bin/env bash
# Property-based API testing: schemathesis generates requests from /openapi.json and checks the
# real server's answers against it (no 5xx, statuses, content types, headers and bodies as
# documented, 405 for undocumented methods, 401 without the key).
#
#   Tests/Scripts/schemathesis.sh [STORE]
#
# STORE as for e2e_serve.sh (default sqlite). The binary is $TWOFOLD_BIN (default
# .build/debug/twofold). SCHEMATHESIS_EXAMPLES (default 30) bounds the examples per operation,
# SCHEMATHESIS_SEED (default 20240501) makes a run reproducible. Installs schemathesis from PyPI
# when it is missing. Prints "schemathesis: PASS" or "schemathesis: FAIL" last.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
SERVE_NAME="schemathesis"
# shellcheck source=Tests/Scripts/serve_helpers.sh
. Tests/Scripts/serve_helpers.sh

if ! command -v schemathesis >/dev/null; then
  serve_log "installing schemathesis $SCHEMATHESIS_VERSION from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2 \
    || serve_fail "cannot install schemathesis"
fi

serve_start "${1:-sqlite}"

report=$SERVE_DIR/schemathesis
# One worker: schemathesis's threads trip a CPython 3.11 bug in its own schema walking
# ("AST constructor recursion depth mismatch"), which it reports as an error of the run.
set +e
# Run from the data folder: schemathesis keeps a cache in ./.schemathesis.
(cd "$SERVE_DIR" && schemathesis run "$SERVE_URL/openapi.json" \
  --header "Authorization: Bearer $SERVE_KEY" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,unsupported_method,ignored_auth \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-30}" \
  --seed "${SCHEMATHESIS_SEED:-20240501}" \
  --workers 1 \
  --request-timeout 10 \
  --generation-database none \
  --report junit --report-dir "$report" \
  --no-color)
status=$?
set -e

# A 5xx also shows in the server's own log: report it even if a check missed it.
if grep -q '"status":"5' "$SERVE_LOG"; then
  serve_log "the server answered 5xx:"
  grep '"status":"5' "$SERVE_LOG" | head -n 5 >&2
  status=1
fi
[ "$status" -eq 0 ] || serve_fail "schemathesis found failures (exit $status)"
serve_stop
printf '%s: PASS\n' "$SERVE_NAME"
