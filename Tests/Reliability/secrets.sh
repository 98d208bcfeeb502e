#!/usr/bin/env bash
# Secrets at rest, in the logs and in the answers: after a run of every feature against the real
# `twofold serve`, nothing sensitive is anywhere in clear except where it must be.
#
#   Tests/Reliability/secrets.sh [sqlite|postgres|all]      (default all)
#
# Per store, a fresh server (its own data folder, a master key from `twofold keys generate`, and a
# configuration file that the admin commands share) runs with TWOFOLD_LOG_LEVEL=trace, in the JSON
# log format on SQLite and the text format on PostgreSQL (SECRETS_LOG_FORMAT=json|text for both),
# with SMS and voice through the `webhook` provider and pushes through `webpush` and `webhook`, all
# to a gateway on loopback in Tests/Reliability/secrets_scan.py that checks every signature and
# reads the codes. The driver (`secrets_scan.py drive`) then uses every feature, over the API and
# the CLI: TOTP (two) and HOTP factors enrolled, activated, verified, replayed, a wrong code, an
# HOTP resync; a TOTP factor from `twofold enroll`; recovery codes from the API and the CLI, used
# (one typed in capitals without hyphens); SMS, voice-code and press-a-key voice factors enrolled
# and activated (a wrong confirmation code first), then challenged 30 s later (the per-user send
# limit), with signed delivery and key-press callbacks; an SMS factor enrolled by `twofold enroll`
# (the CLI as the sender) and `twofold providers test`; three push devices (`twofold device`
# polling and approving with the number, a webhook relay with a push token, a Web Push
# subscription); a security key (soft-webauthn) registered and signed in, its answer replayed;
# hardware tokens from two fresh PSKC files (a pre-shared key through `twofold tokens import
# --psk-file`, a password through POST /v1/tokens) assigned and verified; API keys from `twofold
# apikey create` (text and --json; one used, one revoked by the whole key); refusals that carry
# secrets (an unknown and a malformed key, a code as a JSON number, in a misspelt field, one digit
# too many, a number that is not E.164, a wrong PSKC password and key, device activations with a
# bad key and an unknown token); exports (API, CLI), an erasure over the API and one with the CLI;
# the audit over the API and with `twofold audit tail` and `audit verify`.
#
# Every sensitive value used is written down (WORK/values.json, mode 0600) and searched for
# (`secrets_scan.py search`) in: on SQLite the database file, -wal and -shm as raw bytes, copied at
# every change of the WAL or file while serving (each admin command folds the WAL back and
# truncates it, so its contents are transient), after each phase, at the end, after SIGTERM and
# after a `wal_checkpoint(TRUNCATE)`; on PostgreSQL `pg_dump` in the plain and the custom
# (uncompressed) formats; every other file of the data folder; every line of the server's log and
# of the CLI's standard error (JSON lines also decoded); every HTTP answer (headers, body, body
# decoded), callback answer and CLI output. secrets_scan.py lists the values, their forms, and the
# only places each may be (the answer or output that hands it out, in the field that carries it;
# a phone number in its user's export); anything else fails, naming the file and offset or line,
# the answer and field, the value's kind and form, never the value. Self-checks: each value must
# be found where it is allowed (so the forms match it); values planted in copies of the log, of a
# store file and of an answer must be found; values the store keeps in clear by design (a security
# key's credential id, a token serial) must be found in the store copies (so they hold the run's
# rows). Codes are matched as whole tokens; the chance that an unrelated number equals one is
# estimated from the distinct code-shaped tokens seen and printed. A log that holds a PostgreSQL
# login's SCRAM exchange (with which a reader could test password guesses offline) fails too.
#
# Prints `reliability secrets-STORE: PASS (figures: …)`, `… FAIL: why` or `… SKIP (why)` per
# store, progress and findings on standard error. postgres needs TWOFOLD_TEST_POSTGRES_URL
# (a role that may create databases; a fresh database is made and dropped), psql and pg_dump:
# without them it skips, or fails when CI is set (as disk_full.sh reads it). Exit status 1 when a
# store failed, 77 when every store asked for was skipped, else 0; 2 for bad usage. About 40 s a
# store. Needs python3 with pyotp, soft-webauthn, fido2 and cryptography
# (Tests/Scripts/requirements.txt), curl and GNU grep. TWOFOLD_BIN is the binary (default
# .build/debug/twofold); KEEP_SERVE_DIR=1 keeps each store's folder (/tmp/twofold-secrets.*, mode
# 0700: it holds the values in clear).
set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.."
TWOFOLD_BIN=${TWOFOLD_BIN:-.build/debug/twofold}
DRIVER=Tests/Reliability/secrets_scan.py
SKIPPED=77

usage() { echo "usage: $0 [sqlite|postgres|all]" >&2; exit 2; }

ci_set() { case ${CI:-} in '' | 0 | false | FALSE | False) return 1 ;; *) return 0 ;; esac; }

# ---------------------------------------------------------------------------------------------
# One store, in a process of its own: `secrets.sh --one STORE`.

one() {
  STORE=$1
  NAME=secrets-$STORE
  DIR=""
  PID=""
  PG_ADMIN_URL=""
  PG_DATABASE=""

  say() { printf 'reliability %s: %s\n' "$NAME" "$*" >&2; }
  result() { printf 'reliability %s: %s\n' "$NAME" "$*"; }
  fail() {
    result "FAIL: $*"
    if [ -n "$DIR" ] && [ -s "$DIR/server.log" ]; then
      # Only the level and label of the last lines: a failing run may have logged anything.
      say "last lines of the server log (time, level and label only):"
      tail -n 10 "$DIR/server.log" | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        o = json.loads(line); print(o.get("time", ""), o.get("level", ""), o.get("label", ""))
    except ValueError:
        print(" ".join(line.split()[:3]))' >&2 || true
    fi
    exit 1
  }
  skip() {
    if ci_set; then fail "$*; CI must run every scenario"; fi
    result "SKIP ($*)"
    exit "$SKIPPED"
  }
  cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    if [ -n "$PG_DATABASE" ]; then
      psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$PG_DATABASE\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if [ -n "$DIR" ]; then
      if [ -n "${KEEP_SERVE_DIR:-}" ]; then say "kept $DIR"; else rm -rf "$DIR"; fi
    fi
  }
  trap cleanup EXIT

  local log_format
  case $STORE in
    sqlite) log_format=${SECRETS_LOG_FORMAT:-json} ;;
    postgres)
      log_format=${SECRETS_LOG_FORMAT:-text}
      [ -n "${TWOFOLD_TEST_POSTGRES_URL:-}" ] || skip "TWOFOLD_TEST_POSTGRES_URL is not set; it names a PostgreSQL role that may create databases"
      command -v psql >/dev/null || skip "psql is missing (apt-get install postgresql-client-15)"
      command -v pg_dump >/dev/null || skip "pg_dump is missing (apt-get install postgresql-client-15)"
      ;;
    *) fail "unknown store $STORE" ;;
  esac
  case $log_format in json | text) ;; *) fail "SECRETS_LOG_FORMAT must be json or text" ;; esac
  [ -x "$TWOFOLD_BIN" ] || fail "no executable at $TWOFOLD_BIN: build it (swift build) or set TWOFOLD_BIN"
  python3 -c 'import pyotp, soft_webauthn, fido2, cryptography' 2>/dev/null \
    || fail "python3 needs pyotp, soft-webauthn, fido2 and cryptography (pip install -r Tests/Scripts/requirements.txt; pip install --no-deps soft-webauthn==0.1.4)"
  command -v curl >/dev/null || fail "curl is missing"
  grep -F -a -o -b -n -f /dev/null /dev/null >/dev/null 2>&1 || [ $? -eq 1 ] || fail "grep does not take -F -a -o -b -n -f (GNU grep is needed)"

  DIR=$(mktemp -d /tmp/twofold-secrets.XXXXXX)
  chmod 700 "$DIR"
  umask 077
  mkdir -p "$DIR/keys" "$DIR/data"
  local started
  started=$(date +%s)

  # Every TWOFOLD_* of the caller's environment is dropped: the server and the CLI read only
  # the configuration file made here.
  local clean_env=(env) name
  for name in $(compgen -e); do
    case $name in TWOFOLD_*) clean_env+=(-u "$name") ;; esac
  done

  # The store.
  local store
  if [ "$STORE" = sqlite ]; then
    store="sqlite:$DIR/data/twofold.sqlite"
  else
    PG_ADMIN_URL=$TWOFOLD_TEST_POSTGRES_URL
    PG_DATABASE="twofold_secrets_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DATABASE\" TEMPLATE template0" >/dev/null \
      || fail "cannot create a database with TWOFOLD_TEST_POSTGRES_URL (the role needs CREATEDB)"
    store=$(python3 - "$PG_ADMIN_URL" "$PG_DATABASE" <<'PY'
import sys, urllib.parse
parts = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(parts._replace(path="/" + sys.argv[2])))
PY
)
    # The password of the URL is one of the values searched for.
    python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(urllib.parse.urlsplit(sys.argv[1]).password or ""))' "$store" > "$DIR/keys/pg-password"
  fi

  # The keys: a master key file, the webhook secret, the VAPID key.
  "${clean_env[@]}" "$TWOFOLD_BIN" keys generate "$DIR/keys/master.key" > "$DIR/keys-generate.out" 2>&1 \
    || fail "twofold keys generate: $(cat "$DIR/keys-generate.out")"
  python3 -c 'import secrets; print(secrets.token_urlsafe(36))' > "$DIR/keys/webhook-secret"
  python3 - "$DIR/keys/vapid.pem" <<'PY'
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
open(sys.argv[1], "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                                serialization.NoEncryption()))
PY

  local port gateway_port
  read -r port gateway_port < <(python3 -c '
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in sockets])
for s in sockets: s.close()')
  local url=http://127.0.0.1:$port gw=http://127.0.0.1:$gateway_port

  # One configuration file for `serve` and every admin command (mode 0600: it holds the secrets).
  cat > "$DIR/twofold.env" <<EOF
TWOFOLD_ENV=development
TWOFOLD_DATA_DIR=$DIR/data
TWOFOLD_LISTEN=127.0.0.1:$port
TWOFOLD_STORE=$store
TWOFOLD_MASTER_KEY_FILE=$DIR/keys/master.key
TWOFOLD_LOG_LEVEL=trace
TWOFOLD_LOG_FORMAT=$log_format
TWOFOLD_PUBLIC_URL=$url
TWOFOLD_SMS_PROVIDERS=webhook
TWOFOLD_VOICE_PROVIDERS=webhook
TWOFOLD_SMS_WEBHOOK_URL=$gw/sms
TWOFOLD_VOICE_WEBHOOK_URL=$gw/voice
TWOFOLD_WEBHOOK_SECRET=$(cat "$DIR/keys/webhook-secret")
TWOFOLD_PUSH_PROVIDERS=webpush,webhook
TWOFOLD_PUSH_WEBHOOK_URL=$gw/push
TWOFOLD_VAPID_KEY_FILE=$DIR/keys/vapid.pem
TWOFOLD_VAPID_SUBJECT=mailto:secrets@example.com
EOF

  cat > "$DIR/settings.json" <<EOF
{"url": "$url", "gateway_port": $gateway_port, "bin": "$(realpath "$TWOFOLD_BIN")", "config": "$DIR/twofold.env",
 "data_dir": "$DIR/data", "keys_dir": "$DIR/keys", "store": "$STORE", "log_format": "$log_format"}
EOF

  # Serve.
  "${clean_env[@]}" TWOFOLD_CONFIG="$DIR/twofold.env" "$TWOFOLD_BIN" serve > "$DIR/server.log" 2>&1 &
  PID=$!
  local waited=0
  until curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || fail "the server exited before it was ready"
    [ "$waited" -lt 600 ] || fail "the server was not ready within 60 s"
    sleep 0.1
    waited=$((waited + 1))
  done
  [ -s "$DIR/data/initial-api-key" ] || fail "no initial API key in the data folder"
  say "serving at $url (store $STORE, log format $log_format, level trace)"

  # Every feature; the driver prints its progress (no value) on standard error.
  python3 "$DRIVER" drive "$DIR" || fail "the driver failed: $(tail -n 1 "$DIR/driver.fail" 2>/dev/null || echo 'see above')"

  # What the store holds, while serving.
  mkdir -p "$DIR/snap"
  local f
  if [ "$STORE" = sqlite ]; then
    mkdir -p "$DIR/snap/serving"
    for f in twofold.sqlite twofold.sqlite-wal twofold.sqlite-shm; do
      [ -e "$DIR/data/$f" ] && cp "$DIR/data/$f" "$DIR/snap/serving/$f"
    done
  else
    pg_dump --no-owner -Fp -f "$DIR/snap/pg_dump.sql" "$store" 2> "$DIR/pg_dump.err" || fail "pg_dump (plain): $(head -c 300 "$DIR/pg_dump.err")"
    pg_dump --no-owner -Fc -Z 0 -f "$DIR/snap/pg_dump.custom" "$store" 2> "$DIR/pg_dump.err" || fail "pg_dump (custom): $(head -c 300 "$DIR/pg_dump.err")"
  fi

  # Stop: SIGTERM, a clean exit.
  kill -TERM "$PID"
  local status=0
  wait "$PID" || status=$?
  PID=""
  [ "$status" -eq 0 ] || fail "SIGTERM ended the server with status $status"

  if [ "$STORE" = sqlite ]; then
    mkdir -p "$DIR/snap/stopped" "$DIR/snap/checkpointed"
    for f in twofold.sqlite twofold.sqlite-wal twofold.sqlite-shm; do
      [ -e "$DIR/data/$f" ] && cp "$DIR/data/$f" "$DIR/snap/stopped/$f"
    done
    python3 - "$DIR/data/twofold.sqlite" <<'PY' || fail "the WAL checkpoint failed"
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
assert busy == 0, "checkpoint busy"
assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity_check"
connection.close()
PY
    for f in twofold.sqlite twofold.sqlite-wal twofold.sqlite-shm; do
      [ -e "$DIR/data/$f" ] && cp "$DIR/data/$f" "$DIR/snap/checkpointed/$f"
    done
  fi

  # The search.
  python3 "$DRIVER" search "$DIR" || fail "$(tail -n 1 "$DIR/search.fail" 2>/dev/null || echo 'the search failed')"
  result "PASS (figures: $(cat "$DIR/figures.txt"); $(( $(date +%s) - started )) s)"
}

if [ "${1:-}" = --one ]; then
  one "$2"
  exit 0
fi

case ${1:-all} in
  sqlite | postgres) STORES=("$1") ;;
  all) STORES=(sqlite postgres) ;;
  *) usage ;;
esac
[ $# -le 1 ] || usage

failed=0
passed=0
for store in "${STORES[@]}"; do
  status=0
  bash "$SELF" --one "$store" || status=$?
  case $status in
    0) passed=$((passed + 1)) ;;
    "$SKIPPED") ;;
    *) failed=$((failed + 1)) ;;
  esac
done
if [ "$failed" -gt 0 ]; then exit 1; fi
if [ "$passed" -eq 0 ]; then exit "$SKIPPED"; fi
exit 0
