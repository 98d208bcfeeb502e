#!/usr/bin/env bash
# End to end: the real `twofold serve` binary, driven with curl, codes computed by pyotp.
#
#   Tests/Scripts/e2e_serve.sh [STORE]
#
# STORE: sqlite (default: a fresh file), sqlite:PATH, or a postgres:// URL whose role may create
# databases (a fresh one is made and dropped). The binary is $TWOFOLD_BIN (default
# .build/debug/twofold). Starts it on a free loopback port with a fresh data folder, reads the
# first-start API key, enrolls a user, activates with a pyotp code from the returned otpauth_uri,
# verifies (allow), replays (deny, replayed), then sends SIGTERM and expects a clean exit.
# Prints "e2e_serve (<store>): PASS" or "...: FAIL" last; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

STORE=${1:-sqlite}
SERVE_NAME="e2e_serve (${STORE%%:*})"
# shellcheck source=Tests/Scripts/serve_helpers.sh
. Tests/Scripts/serve_helpers.sh

python3 -c 'import pyotp' 2>/dev/null || serve_fail "pyotp is missing (python3 -m pip install -r Tests/Scripts/requirements.txt)"
command -v curl >/dev/null || serve_fail "curl is missing"

serve_start "$STORE"
BODY=$SERVE_DIR/body.json

# call METHOD PATH [JSON]: prints the status; the body goes to $BODY.
call() {
  local method=$1 path=$2 data=${3:-}
  local args=(-sS -o "$BODY" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $SERVE_KEY" -H "X-Request-Id: e2e-$RANDOM")
  if [ -n "$data" ]; then args+=(-H 'Content-Type: application/json' --data "$data"); fi
  curl "${args[@]}" "$SERVE_URL$path"
}

# field EXPRESSION: evaluates a Python expression over the last body, bound to `b`.
field() { python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$BODY" "$1"; }

expect_status() {
  local got=$1 want=$2 what=$3
  [ "$got" = "$want" ] || serve_fail "$what: status $got, expected $want; body: $(head -c 500 "$BODY")"
}

user="e2e%40example.com"

status=$(call POST "/v1/users/$user/factors" '{"type": "totp", "issuer": "Twofold e2e"}')
expect_status "$status" 201 "enroll"
factor=$(field 'b["factor"]["id"]')
uri=$(field 'b["otpauth_uri"]')
[ "$(field 'b["factor"]["status"]')" = pending ] || serve_fail "the new factor is not pending"
serve_log "enrolled factor $factor"

status=$(call GET "/v1/users/$user/factors/$factor/qr?format=svg")
expect_status "$status" 200 "QR code"
grep -q "<svg" "$BODY" || serve_fail "the QR code is not SVG"

# The code of the current step activates; the next step's code (within the window) verifies.
# The URI holds the secret: it goes to pyotp on standard input, never on a command line.
now_code=$(python3 -c 'import pyotp, sys; print(pyotp.parse_uri(sys.stdin.read().strip()).now())' <<< "$uri")
next_code=$(python3 -c 'import pyotp, sys, time; print(pyotp.parse_uri(sys.stdin.read().strip()).at(time.time() + 30))' <<< "$uri")

status=$(call POST "/v1/users/$user/factors/$factor/activate" "{\"code\": \"$now_code\"}")
expect_status "$status" 200 "activate"
[ "$(field 'b["factor"]["status"]')" = active ] || serve_fail "the factor is not active after activation"

status=$(call POST "/v1/users/$user/verify" "{\"code\": \"$next_code\"}")
expect_status "$status" 200 "verify"
[ "$(field 'b["result"]')" = allow ] || serve_fail "verify did not allow: $(cat "$BODY")"
[ "$(field 'b["factor_id"]')" = "$factor" ] || serve_fail "verify named another factor"

status=$(call POST "/v1/users/$user/verify" "{\"code\": \"$next_code\"}")
expect_status "$status" 200 "replay"
[ "$(field 'b["result"] + " " + b["reason"]')" = "deny replayed" ] || serve_fail "the replay was not refused as replayed: $(cat "$BODY")"
serve_log "allow, then replay refused"

status=$(call GET "/v1/users/$user/verify")
expect_status "$status" 405 "wrong method"
status=$(curl -sS -o "$BODY" -w '%{http_code}' "$SERVE_URL/v1/users/$user/factors")
expect_status "$status" 401 "no key"
curl -fsS "$SERVE_URL/metrics" | grep -q 'twofold_verifications_total{result="allow",reason="none"} 1' \
  || serve_fail "/metrics does not count the allowed verification"

# Nothing secret in the log: not the key, not the codes, not the factor's secret.
secret=$(python3 -c 'import pyotp, sys; print(pyotp.parse_uri(sys.stdin.read().strip()).secret)' <<< "$uri")
for value in "$SERVE_KEY" "$secret" "$now_code" "$next_code"; do
  if grep -qF -- "$value" "$SERVE_LOG"; then serve_fail "the server log contains a key, secret or code"; fi
done
grep -q '"request_id":"e2e-' "$SERVE_LOG" || serve_fail "the log lines do not carry the request id"

serve_stop
serve_log "stopped cleanly on SIGTERM"
printf '%s: PASS\n' "$SERVE_NAME"
