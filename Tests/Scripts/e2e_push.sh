#!/usr/bin/env bash
# End to end for push approval: the real `twofold serve` binary on SQLite, driven with curl, and
# `twofold device` as the user's phone.
#
#   Tests/Scripts/e2e_push.sh [STORE]
#
# STORE as for e2e_serve.sh (default sqlite: a fresh file). The binary is $TWOFOLD_BIN (default
# .build/debug/twofold). For each of three users, enrolls a push factor and activates a
# `twofold device` (a device file of its own) with the returned activation URI, then:
#   1. alice: a push (202, with a number) appears in `device pending`; while a long poll waits
#      on it, `device approve` without --number is refused (exit 2, nothing sent), with
#      --number it approves, and the long poll returns approved;
#   2. bob: a push answered through `device watch` with piped answers (y, then the number) is
#      approved;
#   3. carol: a push denied with `device deny --fraud` ends denied/fraud, and the next push is
#      refused (429) for the fraud report.
# One user each, as a user may be sent one push per 30 s.
# Prints "e2e_push (<store>): PASS" or "...: FAIL" last; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

STORE=${1:-sqlite}
SERVE_NAME="e2e_push (${STORE%%:*})"
# shellcheck source=Tests/Scripts/serve_helpers.sh
. Tests/Scripts/serve_helpers.sh

command -v curl >/dev/null || serve_fail "curl is missing"

serve_start "$STORE"
BODY=$SERVE_DIR/body.json
# The devices' keys and ids: files of their own, never the operator's ~/.config.
mkdir -m 700 "$SERVE_DIR/device"

# call METHOD PATH [JSON]: prints the status; the body goes to $BODY.
call() {
  local method=$1 path=$2 data=${3:-}
  local args=(-sS -o "$BODY" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $SERVE_KEY" -H "X-Request-Id: e2e-$RANDOM")
  if [ -n "$data" ]; then args+=(-H 'Content-Type: application/json' --data "$data"); fi
  curl "${args[@]}" "$SERVE_URL$path"
}

# field EXPRESSION [FILE]: evaluates a Python expression over a JSON body (the last one by
# default), bound to `b`.
field() { python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "${2:-$BODY}" "$1"; }

expect_status() {
  local got=$1 want=$2 what=$3
  [ "$got" = "$want" ] || serve_fail "$what: status $got, expected $want; body: $(head -c 500 "$BODY")"
}

# device ARGS…: runs `twofold device ARGS…` with the device file $DEVICE_FILE; output in
# $DEVICE_OUT and $DEVICE_ERR, status in $DEVICE_STATUS.
DEVICE_OUT=$SERVE_DIR/device.out
DEVICE_ERR=$SERVE_DIR/device.err
device() {
  DEVICE_STATUS=0
  TWOFOLD_DEVICE_FILE=$DEVICE_FILE "$TWOFOLD_BIN" device "$@" > "$DEVICE_OUT" 2> "$DEVICE_ERR" || DEVICE_STATUS=$?
}
expect_device() {
  local want=$1 what=$2
  [ "$DEVICE_STATUS" = "$want" ] \
    || serve_fail "$what: twofold device exited $DEVICE_STATUS, expected $want; out: $(head -c 500 "$DEVICE_OUT"); err: $(head -c 500 "$DEVICE_ERR")"
}

# push USER: creates a push challenge; sets CHALLENGE and NUMBER.
push() {
  local status
  status=$(call POST "/v1/users/$1/challenges" \
    '{"type": "push", "context": {"ip": "203.0.113.7", "location": "Berlin, DE", "user_agent": "e2e browser"}}')
  expect_status "$status" 202 "push challenge"
  CHALLENGE=$(field 'b["challenge_id"]')
  NUMBER=$(field 'b.get("number")')
  [ "$(field 'b["status"]')" = pending ] || serve_fail "the new push challenge is not pending: $(cat "$BODY")"
}

# --- Enrollment and activation --------------------------------------------------------------

# enroll USER: enrolls a push factor for USER and activates a device for it in
# $SERVE_DIR/device/USER.json; sets DEVICE_FILE, FACTOR and URI.
enroll() {
  local user=$1 status
  status=$(call POST "/v1/users/$user/factors" '{"type": "push", "label": "phone"}')
  expect_status "$status" 201 "enroll push for $user"
  FACTOR=$(field 'b["factor"]["id"]')
  URI=$(field 'b["activation"]["uri"]')
  case $URI in twofold://activate\?*) ;; *) serve_fail "the activation URI is not twofold://activate?…: $URI" ;; esac
  DEVICE_FILE=$SERVE_DIR/device/$user.json
  # The URI goes on standard input: its token is a credential until it is used.
  device activate --uri-file - <<< "$URI"
  expect_device 0 "device activate for $user"
  [ "$(stat -c %a "$DEVICE_FILE")" = 600 ] || serve_fail "the device file is not mode 0600"
  local device_id
  device_id=$(field 'b["device_id"]' "$DEVICE_FILE")
  grep -q "activated device $device_id" "$DEVICE_OUT" || serve_fail "device activate did not name the device: $(cat "$DEVICE_OUT")"
  status=$(call GET "/v1/users/$user/factors")
  expect_status "$status" 200 "list factors"
  [ "$(field "[f['status'] for f in b['factors'] if f['id'] == '$FACTOR'][0]")" = active ] \
    || serve_fail "the push factor is not active after activation: $(cat "$BODY")"
  serve_log "$user: push factor $FACTOR, device $device_id"
}

enroll alice
alice_uri=$URI
alice_file=$DEVICE_FILE
device activate --uri-file - --device-file "$SERVE_DIR/device/again.json" <<< "$alice_uri"
expect_device 1 "a second activation with the same token"
[ ! -e "$SERVE_DIR/device/again.json" ] || serve_fail "a refused activation wrote a device file"
enroll bob
bob_file=$DEVICE_FILE
enroll carol
carol_file=$DEVICE_FILE

# --- 1. approve with the number, while the login page long-polls ----------------------------

DEVICE_FILE=$alice_file
push alice
serve_log "alice: push $CHALLENGE (number $NUMBER)"
device pending --json
expect_device 0 "device pending"
[ "$(field "[c['challenge_id'] for c in b['challenges']] == ['$CHALLENGE']" "$DEVICE_OUT")" = True ] \
  || serve_fail "device pending does not list exactly $CHALLENGE: $(cat "$DEVICE_OUT")"
[ "$(field "b['challenges'][0]['context']['ip']" "$DEVICE_OUT")" = 203.0.113.7 ] || serve_fail "device pending lost the context"
device pending
expect_device 0 "device pending (table)"
grep -q "$CHALLENGE" "$DEVICE_OUT" || serve_fail "the pending table does not show $CHALLENGE"

POLL=$SERVE_DIR/poll.json
curl -sS -o "$POLL" -w '%{http_code}' -H "Authorization: Bearer $SERVE_KEY" \
  "$SERVE_URL/v1/challenges/$CHALLENGE?wait=20" > "$SERVE_DIR/poll.status" &
poll_pid=$!
sleep 0.5

if [ "$NUMBER" != None ]; then
  device approve "$CHALLENGE"
  expect_device 2 "approve without the number"
  grep -q -- "--number" "$DEVICE_ERR" || serve_fail "approve without the number does not ask for --number: $(cat "$DEVICE_ERR")"
  device approve "$CHALLENGE" --number "$NUMBER"
else
  device approve "$CHALLENGE"
fi
expect_device 0 "device approve"
grep -q "approved $CHALLENGE" "$DEVICE_OUT" || serve_fail "device approve did not say approved: $(cat "$DEVICE_OUT")"

wait "$poll_pid" || serve_fail "the long poll failed"
[ "$(cat "$SERVE_DIR/poll.status")" = 200 ] || serve_fail "the long poll answered $(cat "$SERVE_DIR/poll.status"): $(cat "$POLL")"
[ "$(field 'b["status"]' "$POLL")" = approved ] || serve_fail "the long poll did not return approved: $(cat "$POLL")"
serve_log "approved with the number; the long poll saw it"

device approve "$CHALLENGE" --number "${NUMBER/None/10}"
expect_device 1 "approving an approved challenge again"

# --- 2. approve through `device watch`, answers piped ---------------------------------------

DEVICE_FILE=$bob_file
push bob
serve_log "bob: push $CHALLENGE (number $NUMBER), answered through watch"
answers="y"
[ "$NUMBER" = None ] || answers="y
$NUMBER"
DEVICE_STATUS=0
TWOFOLD_DEVICE_FILE=$DEVICE_FILE timeout 30 "$TWOFOLD_BIN" device watch --interval 0.2 <<< "$answers" > "$DEVICE_OUT" 2> "$DEVICE_ERR" || DEVICE_STATUS=$?
expect_device 0 "device watch"
grep -q "Approve sign-in to .* from 203.0.113.7 (Berlin, DE)? \[y\]es/\[n\]o/\[f\]raud" "$DEVICE_OUT" \
  || serve_fail "device watch did not ask about the sign-in: $(cat "$DEVICE_OUT")"
grep -q "approved $CHALLENGE" "$DEVICE_OUT" || serve_fail "device watch did not approve: $(cat "$DEVICE_OUT")"
status=$(call GET "/v1/challenges/$CHALLENGE")
expect_status "$status" 200 "challenge after watch"
[ "$(field 'b["status"]')" = approved ] || serve_fail "the challenge answered through watch is not approved: $(cat "$BODY")"

# --- 3. deny as fraud; further pushes are refused -------------------------------------------

DEVICE_FILE=$carol_file
push carol
device deny "$CHALLENGE" --fraud --json
expect_device 0 "device deny --fraud"
[ "$(field 'b["status"] + " " + b["reason"]' "$DEVICE_OUT")" = "denied fraud" ] \
  || serve_fail "device deny --fraud did not end denied/fraud: $(cat "$DEVICE_OUT")"
status=$(call GET "/v1/challenges/$CHALLENGE")
expect_status "$status" 200 "challenge after fraud"
[ "$(field 'b["status"] + " " + str(b.get("reason"))')" = "denied fraud" ] \
  || serve_fail "the API does not show denied/fraud: $(cat "$BODY")"
serve_log "carol: denied as fraud"

status=$(call POST "/v1/users/carol/challenges" '{"type": "push"}')
expect_status "$status" 429 "a push after a fraud report"
grep -qi "fraud" "$BODY" || serve_fail "the push after a fraud report is refused, but not for the report: $(cat "$BODY")"
serve_log "carol: the next push is refused (429)"

# Nothing secret in the log: not the API key, not the activation token, not the device's key.
token=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.parse_qs(urllib.parse.urlsplit(sys.stdin.read().strip()).query)["token"][0])' <<< "$alice_uri")
key_line=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["private_key"].splitlines()[1])' "$alice_file")
for value in "$SERVE_KEY" "$token" "$key_line"; do
  if grep -qF -- "$value" "$SERVE_LOG"; then serve_fail "the server log contains a key or token"; fi
done

serve_stop
serve_log "stopped cleanly on SIGTERM"
printf '%s: PASS\n' "$SERVE_NAME"
