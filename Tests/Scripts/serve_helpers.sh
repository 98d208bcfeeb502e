# Shared by e2e_serve.sh and schemathesis.sh: start the real `twofold serve` binary on a free
# loopback port with a fresh data folder, wait until it is ready, and stop it again.
#
# Source it, then call:
#   serve_start STORE     STORE is "sqlite" (a fresh file in the data folder), sqlite:PATH or
#                         postgres://… (a fresh database is created in that server and dropped
#                         at exit, so the first-start API key is always made).
#   serve_stop            SIGTERM, then wait for a clean exit (status 0) within 30 s.
# Sets: SERVE_DIR, SERVE_PORT, SERVE_URL (http://127.0.0.1:PORT), SERVE_PID, SERVE_LOG, SERVE_KEY
# (the initial API key). The binary is $TWOFOLD_BIN (default .build/debug/twofold). The log format is
# $SERVE_LOG_FORMAT (default json, which the tests grep), the level $TWOFOLD_LOG_LEVEL (default info).

TWOFOLD_BIN=${TWOFOLD_BIN:-.build/debug/twofold}
SERVE_DIR=""
SERVE_PID=""
SERVE_PG_ADMIN_URL=""
SERVE_PG_DATABASE=""

serve_log() { printf '%s: %s\n' "${SERVE_NAME:-serve}" "$*" >&2; }

serve_fail() {
  serve_log "FAIL: $*"
  if [ -n "$SERVE_LOG" ] && [ -s "$SERVE_LOG" ]; then
    serve_log "last lines of the server log:"
    tail -n 30 "$SERVE_LOG" >&2
  fi
  printf '%s: FAIL\n' "${SERVE_NAME:-serve}"
  exit 1
}

serve_cleanup() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -KILL "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  if [ -n "$SERVE_PG_DATABASE" ]; then
    psql "$SERVE_PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$SERVE_PG_DATABASE\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ -n "$SERVE_DIR" ] && [ -z "${KEEP_SERVE_DIR:-}" ]; then
    rm -rf "$SERVE_DIR"
  fi
}

serve_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A fresh database beside the one the URL names; sets SERVE_PG_URL to it.
serve_postgres_database() {
  local url=$1
  command -v psql >/dev/null || serve_fail "psql is needed to create a fresh database (apt-get install postgresql-client-15)"
  SERVE_PG_ADMIN_URL=$url
  SERVE_PG_DATABASE="twofold_e2e_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  psql "$url" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$SERVE_PG_DATABASE\" TEMPLATE template0" >/dev/null \
    || serve_fail "cannot create a database with the given PostgreSQL URL (the role needs CREATEDB)"
  SERVE_PG_URL=$(python3 - "$url" "$SERVE_PG_DATABASE" <<'PY'
import sys, urllib.parse
parts = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(parts._replace(path="/" + sys.argv[2])))
PY
)
}

serve_start() {
  local store=${1:-sqlite}
  [ -x "$TWOFOLD_BIN" ] || serve_fail "no executable at $TWOFOLD_BIN: build it (swift build) or set TWOFOLD_BIN"
  SERVE_DIR=$(mktemp -d /tmp/twofold-serve.XXXXXX)
  SERVE_LOG=$SERVE_DIR/server.log
  trap serve_cleanup EXIT
  case $store in
    sqlite) store="sqlite:$SERVE_DIR/data/twofold.sqlite" ;;
    sqlite:*) ;;
    postgres://* | postgresql://*) serve_postgres_database "$store"; store=$SERVE_PG_URL ;;
    *) serve_fail "unknown store \"$store\": use sqlite, sqlite:PATH or postgres://…" ;;
  esac
  SERVE_PORT=$(serve_free_port)
  SERVE_URL="http://127.0.0.1:$SERVE_PORT"
  # Only the settings given here: nothing from the caller's TWOFOLD_* environment leaks in.
  env -u TWOFOLD_CONFIG -u TWOFOLD_MASTER_KEY_FILE -u TWOFOLD_ENV -u TWOFOLD_TLS_CERT -u TWOFOLD_TLS_KEY \
    TWOFOLD_DATA_DIR="$SERVE_DIR/data" \
    TWOFOLD_LISTEN="127.0.0.1:$SERVE_PORT" \
    TWOFOLD_STORE="$store" \
    TWOFOLD_LOG_FORMAT="${SERVE_LOG_FORMAT:-json}" \
    TWOFOLD_LOG_LEVEL="${TWOFOLD_LOG_LEVEL:-info}" \
    "$TWOFOLD_BIN" serve > "$SERVE_LOG" 2>&1 &
  SERVE_PID=$!
  local waited=0
  until curl -fsS -o /dev/null "$SERVE_URL/readyz" 2>/dev/null; do
    kill -0 "$SERVE_PID" 2>/dev/null || serve_fail "the server exited before it was ready"
    [ "$waited" -lt 600 ] || serve_fail "the server was not ready within 60 s"
    sleep 0.1
    waited=$((waited + 1))
  done
  local keyfile=$SERVE_DIR/data/initial-api-key
  [ -f "$keyfile" ] || serve_fail "no initial API key file at $keyfile"
  [ "$(stat -c %a "$keyfile")" = 600 ] || serve_fail "the initial API key file is not mode 0600"
  grep -q "initial-api-key" "$SERVE_LOG" || serve_fail "the server did not print the initial API key file's path"
  SERVE_KEY=$(tr -d '\n' < "$keyfile")
  [ -n "$SERVE_KEY" ] || serve_fail "the initial API key file is empty"
  serve_log "serving at $SERVE_URL (store ${store%%:*}, data $SERVE_DIR/data)"
}

serve_stop() {
  kill -TERM "$SERVE_PID"
  local waited=0
  while kill -0 "$SERVE_PID" 2>/dev/null; do
    [ "$waited" -lt 300 ] || serve_fail "the server did not stop within 30 s of SIGTERM"
    sleep 0.1
    waited=$((waited + 1))
  done
  local status=0
  wait "$SERVE_PID" || status=$?
  SERVE_PID=""
  [ "$status" -eq 0 ] || serve_fail "the server exited with status $status after SIGTERM"
  grep -q 'server stopped' "$SERVE_LOG" || serve_fail "the server did not log a graceful stop"
}
