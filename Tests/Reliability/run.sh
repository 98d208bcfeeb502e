#!/usr/bin/env bash
# Fault injection against the real `twofold serve` binary: kill it, stop its database, and check
# that no code is ever allowed twice, the audit log and the SQLite file stay intact, and the
# service answers (503, never a hang) while its store is down and recovers on its own.
#
#   Tests/Reliability/run.sh                 the CI set: every scenario below
#   Tests/Reliability/run.sh SCENARIO ...    those scenarios
#   Tests/Reliability/run.sh list            the scenarios, one a line
#
# Scenarios:
#   kill9-sqlite    serve on a fresh SQLite file; enroll 20 TOTP users (a 2 s period, and the
#                   server's TWOFOLD_TOTP_WINDOW=10: an allow per user every 2 s, and each code
#                   stays in the window for 20 s or more, until the replays); verify for 10 s from 4
#                   threads (each user's code of each step, a quarter of them twice at once, plus
#                   verifications of unknown users as writes); SIGKILL the server 5 s in, at a
#                   moment a verification that should be allowed is in flight; restart it on the
#                   same data folder and port (the load goes on against it); then every code that
#                   was answered allow is posted again and must be refused as `replayed`, no
#                   step may have been allowed twice, `twofold audit verify` must exit 0 and
#                   `PRAGMA integrity_check` must say ok.
#   kill9-postgres  the same on a fresh database in the server of TWOFOLD_TEST_POSTGRES_URL
#                   (created and dropped as Tests/Scripts/serve_helpers.sh does).
#   postgres-stop   a throwaway PostgreSQL of its own (provisioning/postgres/start-throwaway.sh
#                   with its own TWOFOLD_PG_DIR; no other server is touched); serve on it, enroll
#                   users, then `pg_ctl stop -m immediate` while verifications are sent: every
#                   verification and GET /readyz sent after the stop must answer 503 with a JSON
#                   `unavailable` error within RELIABILITY_MAX_503_SECONDS (default 12: the
#                   store's wait for a connection is 10 s), none may hang or be allowed; then start
#                   PostgreSQL again on the same data folder and port: within 30 s, without
#                   restarting twofold, /readyz must be 200 and a fresh correct code allowed, and
#                   `twofold audit verify` must exit 0.
#
# Each scenario prints one line on standard output, `reliability SCENARIO: PASS (figures)`,
# `reliability SCENARIO: FAIL: why` or `reliability SCENARIO: SKIP (why)`, with its progress and
# the servers' last log lines (on failure) on standard error; the last line sums up. Exit status
# 1 when a scenario failed, 2 for an unknown scenario, else 0.
#
# Stores: SQLite always. kill9-postgres needs TWOFOLD_TEST_POSTGRES_URL (a role that may create
# databases, as CI's throwaway server has); postgres-stop needs PostgreSQL 15's binaries in
# /usr/lib/postgresql/15/bin (and, as root, the user postgres). Without them a scenario is
# skipped with the reason, or fails when CI=true, as CI must run every scenario.
#
# Environment: TWOFOLD_BIN, the binary (default .build/debug/twofold); TWOFOLD_LOG_LEVEL, the
# servers' level (default info); KEEP_SERVE_DIR=1 keeps each scenario's folder (/tmp/twofold-
# rel.*: logs, summaries, and the allowed codes in a file of mode 0600); RELIABILITY_MAX_503_SECONDS.
# Needs python3 with pyotp (Tests/Scripts/requirements.txt), curl, and psql for kill9-postgres.
# No code, secret or key is ever printed: the key is read from the data folder's file, codes stay
# in the scenario's folder (mode 0700) and are deleted with it.
set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.."
ROOT=$PWD

HERE=Tests/Reliability
SCENARIOS=(kill9-sqlite kill9-postgres postgres-stop)
CI_SET=(kill9-sqlite kill9-postgres postgres-stop)
PG_BIN=/usr/lib/postgresql/15/bin
SKIPPED=77

describe() {
  case $1 in
    kill9-sqlite) echo "SIGKILL under verification load on SQLite; replays refused, audit and file intact" ;;
    kill9-postgres) echo "SIGKILL under verification load on PostgreSQL (TWOFOLD_TEST_POSTGRES_URL); replays refused, audit intact" ;;
    postgres-stop) echo "PostgreSQL stopped under verifications: 503 fast, never allow; recovers without a restart" ;;
    *) return 1 ;;
  esac
}

now() { date +%s.%N; }
elapsed() { python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' "$1" "$2"; }

# ---------------------------------------------------------------------------------------------
# One scenario, in a process of its own (`run.sh --one NAME`): its traps, its folder, its verdict.

one() {
  SCENARIO=$1
  SERVE_NAME="reliability $SCENARIO"
  # shellcheck source=Tests/Scripts/serve_helpers.sh
  . Tests/Scripts/serve_helpers.sh
  SERVE_LOG=""
  LOAD_PID=""
  REL_PG_DIR=""
  REL_EXTRA_ENV=()

  # serve_helpers.sh's failures end the scenario with our verdict line (and the log's tail).
  serve_fail() { rel_fail "$@"; }
  trap rel_cleanup EXIT
  trap 'rel_on_error "$LINENO" "$BASH_COMMAND"' ERR
  set -E

  case $SCENARIO in
    kill9-sqlite) scenario_kill9 sqlite ;;
    kill9-postgres)
      if [ -z "${TWOFOLD_TEST_POSTGRES_URL:-}" ]; then
        rel_skip "TWOFOLD_TEST_POSTGRES_URL is not set; it names a PostgreSQL role that may create databases"
      fi
      scenario_kill9 "$TWOFOLD_TEST_POSTGRES_URL"
      ;;
    postgres-stop) scenario_postgres_stop ;;
    *) echo "reliability $SCENARIO: FAIL: unknown scenario"; exit 1 ;;
  esac
}

rel_fail() {
  trap - ERR
  serve_log "FAIL: $*"
  local logfile
  for logfile in "${SERVE_DIR:-/nonexistent}"/server*.log; do
    if [ -s "$logfile" ]; then
      serve_log "last lines of $(basename "$logfile"):"
      tail -n 15 "$logfile" | cut -c1-400 >&2
    fi
  done
  printf 'reliability %s: FAIL: %s\n' "$SCENARIO" "$*"
  exit 1
}

rel_skip() {
  if [ "${CI:-}" = true ]; then rel_fail "$1; CI must run every scenario"; fi
  printf 'reliability %s: SKIP (%s)\n' "$SCENARIO" "$1"
  exit "$SKIPPED"
}

rel_on_error() {
  local status=$? line=$1 command=$2
  # Only the scenario's own shell speaks; a subshell's failure shows up there.
  if [ "$BASHPID" = "$$" ]; then rel_fail "unexpected failure (status $status) at run.sh line $line: $command"; fi
}

rel_cleanup() {
  local status=$?
  trap - ERR
  if [ -n "$LOAD_PID" ] && kill -0 "$LOAD_PID" 2>/dev/null; then
    kill -TERM "$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
  fi
  serve_cleanup
  if [ -n "$REL_PG_DIR" ]; then
    provisioning/postgres/stop-throwaway.sh "$REL_PG_DIR" >/dev/null 2>&1 \
      || serve_log "could not stop the throwaway PostgreSQL in $REL_PG_DIR"
  fi
  exit "$status"
}

# JSON EXPRESSION FILE: a Python expression over the JSON document in FILE, bound to `j`.
jget() { python3 -c 'import json, sys; j = json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$2"; }

rel_require_tools() {
  command -v curl >/dev/null || rel_fail "curl is missing"
  python3 -c 'import pyotp' 2>/dev/null \
    || rel_fail "pyotp is missing (python3 -m pip install -r Tests/Scripts/requirements.txt)"
  [ -x "$TWOFOLD_BIN" ] || rel_fail "no executable at $TWOFOLD_BIN: build it (swift build) or set TWOFOLD_BIN"
}

# The server's environment, which the admin commands share, as a command prefix in REL_ENV:
# only the settings given here (every TWOFOLD_* variable of the caller is dropped), plus
# REL_EXTRA_ENV. An array, not a function, so that a process started with it in the background
# is the server itself (its PID is the one SIGKILL must reach).
rel_env() {
  REL_ENV=(env)
  local name
  for name in $(compgen -e); do
    case $name in TWOFOLD_*) REL_ENV+=(-u "$name") ;; esac
  done
  REL_ENV+=(
    TWOFOLD_DATA_DIR="$SERVE_DIR/data"
    TWOFOLD_STORE="$REL_STORE"
    TWOFOLD_LISTEN="127.0.0.1:$SERVE_PORT"
    TWOFOLD_LOG_FORMAT=json
    TWOFOLD_LOG_LEVEL="${TWOFOLD_LOG_LEVEL:-info}"
    "${REL_EXTRA_ENV[@]}"
  )
}

# Starts `twofold serve` on REL_STORE in SERVE_DIR on SERVE_PORT, logging to LOGFILE, and waits
# until /readyz answers 200. Sets SERVE_PID and SERVE_LOG.
rel_launch() {
  SERVE_LOG=$SERVE_DIR/$1
  rel_env
  "${REL_ENV[@]}" "$TWOFOLD_BIN" serve >> "$SERVE_LOG" 2>&1 &
  SERVE_PID=$!
  local waited=0
  until curl -fsS -o /dev/null "$SERVE_URL/readyz" 2>/dev/null; do
    kill -0 "$SERVE_PID" 2>/dev/null || rel_fail "the server exited before it was ready (log $1)"
    [ "$waited" -lt 600 ] || rel_fail "the server was not ready within 60 s (log $1)"
    sleep 0.1
    waited=$((waited + 1))
  done
  # The process that answers must be the one started here (the one the kill will reach).
  if [ -e "/proc/$SERVE_PID/exe" ] && [ "$(readlink "/proc/$SERVE_PID/exe")" != "$(readlink -f "$TWOFOLD_BIN")" ]; then
    rel_fail "process $SERVE_PID is not $TWOFOLD_BIN"
  fi
  local listener
  listener=$(ss -Hltnp "sport = :$SERVE_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 || true)
  [ -z "$listener" ] || [ "$listener" = "pid=$SERVE_PID" ] \
    || rel_fail "port $SERVE_PORT is served by $listener, not by the server started here ($SERVE_PID)"
}

# rel_serve_start STORE [as-is]: serve_start's steps (see serve_helpers.sh) with a restartable
# configuration: STORE is sqlite or a postgres:// URL, in which a fresh database is made unless
# `as-is` is given. Sets SERVE_DIR (0700), SERVE_PORT, SERVE_URL, SERVE_PID, SERVE_LOG, REL_STORE
# and REL_KEY_FILE.
rel_serve_start() {
  local store=$1 mode=${2:-}
  SERVE_DIR=$(mktemp -d /tmp/twofold-rel.XXXXXX)
  case $store in
    sqlite) REL_STORE="sqlite:$SERVE_DIR/data/twofold.sqlite" ;;
    postgres://* | postgresql://*)
      if [ "$mode" = as-is ]; then REL_STORE=$store; else serve_postgres_database "$store"; REL_STORE=$SERVE_PG_URL; fi
      ;;
    *) rel_fail "unknown store \"$store\"" ;;
  esac
  SERVE_PORT=$(serve_free_port)
  SERVE_URL="http://127.0.0.1:$SERVE_PORT"
  rel_launch server.log
  REL_KEY_FILE=$SERVE_DIR/data/initial-api-key
  [ -s "$REL_KEY_FILE" ] || rel_fail "no initial API key file at $REL_KEY_FILE"
  [ "$(stat -c %a "$REL_KEY_FILE")" = 600 ] || rel_fail "the initial API key file is not mode 0600"
  serve_log "serving at $SERVE_URL (store ${REL_STORE%%:*}, folder $SERVE_DIR)"
}

# The audit chain check, with the server's environment. Sets REL_AUDIT (its first line).
rel_audit_verify() {
  local status=0
  rel_env
  "${REL_ENV[@]}" "$TWOFOLD_BIN" audit verify > "$SERVE_DIR/audit-verify.txt" 2> "$SERVE_DIR/audit-verify.err" || status=$?
  REL_AUDIT=$(head -n 1 "$SERVE_DIR/audit-verify.txt")
  if [ "$status" -ne 0 ]; then
    serve_log "twofold audit verify exited $status:"
    head -n 20 "$SERVE_DIR/audit-verify.txt" "$SERVE_DIR/audit-verify.err" | cut -c1-400 >&2
    REL_AUDIT="exit $status: ${REL_AUDIT:-$(grep -v DEVELOPMENT "$SERVE_DIR/audit-verify.err" | head -n 1 | cut -c1-300)}"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------

scenario_kill9() {
  local store=$1
  rel_require_tools
  # Short steps and a wide window: each user gets a code allowed every 2 s through the load, and
  # a code stays within the window (10 steps, 20 s or more) until the replays after the load.
  local period=2
  REL_EXTRA_ENV=(TWOFOLD_TOTP_WINDOW=10)
  rel_serve_start "$store"
  local started dir=$SERVE_DIR
  started=$(now)

  python3 "$HERE/load.py" load --url "$SERVE_URL" --key-file "$REL_KEY_FILE" \
    --users 20 --period "$period" --threads 4 --duration 10 --kill-after 5 --kill-pid "$SERVE_PID" \
    --kill-file "$dir/killed.json" --restarted-file "$dir/restarted" \
    --codes "$dir/allowed-codes.jsonl" --summary "$dir/load.json" --user-prefix "rel-$SCENARIO" &
  LOAD_PID=$!

  # The load sends SIGKILL; wait for it (or for something going wrong first). Standard error is
  # muted meanwhile: bash would report the killed job there ("Killed …"), which is the point.
  local waited=0 why="" status=0
  {
    until [ -s "$dir/killed.json" ]; do
      if ! kill -0 "$SERVE_PID" 2>/dev/null; then
        sleep 0.5  # the load writes the file just after the kill
        [ -s "$dir/killed.json" ] && break
        why="the server exited on its own before the kill"
        break
      fi
      if ! kill -0 "$LOAD_PID" 2>/dev/null; then why="the load ended before it killed the server"; break; fi
      if [ "$waited" -ge 1200 ]; then why="no kill within 120 s"; break; fi
      sleep 0.05
      waited=$((waited + 1))
    done
    if [ -z "$why" ]; then wait "$SERVE_PID" || status=$?; fi
  } 2>/dev/null
  [ -z "$why" ] || rel_fail "$why"
  [ "$status" -eq 137 ] || rel_fail "the server's exit status was $status, not 137 (SIGKILL)"
  SERVE_PID=""
  local killed restarted
  killed=$(jget 'j["time"]' "$dir/killed.json")
  serve_log "killed with $(jget 'j["codes_in_flight"]' "$dir/killed.json") codes ($(jget 'j["in_flight"]' "$dir/killed.json") requests) in flight; restarting"

  rel_launch server-2.log
  restarted=$(now)
  printf '%s\n' "$restarted" > "$dir/restarted"
  local restart_seconds
  restart_seconds=$(elapsed "$killed" "$restarted")
  serve_log "ready again $restart_seconds s after the kill"

  local load_status=0
  wait "$LOAD_PID" || load_status=$?
  LOAD_PID=""
  [ -s "$dir/load.json" ] || rel_fail "the load wrote no summary (exit $load_status)"

  local replay_status=0
  python3 "$HERE/load.py" replay --url "$SERVE_URL" --key-file "$REL_KEY_FILE" \
    --codes "$dir/allowed-codes.jsonl" --summary "$dir/replay.json" || replay_status=$?
  [ -s "$dir/replay.json" ] || rel_fail "the replay wrote no summary (exit $replay_status)"

  local problems=()
  if [ "$load_status" -ne 0 ]; then
    problems+=("load: $(jget '"; ".join(f"{k}: {v}" for k, v in j["unexpected"].items())' "$dir/load.json")")
  fi
  local before refused_before allowed_again
  before=$(jget 'j["allows_before_kill"]' "$dir/load.json")
  refused_before=$(jget 'j["before_kill"].get("replayed", 0)' "$dir/replay.json")
  allowed_again=$(jget 'j["allowed"]' "$dir/replay.json")
  [ "$before" -gt 0 ] || problems+=("no code was allowed before the kill")
  if [ "$allowed_again" -ne 0 ]; then
    problems+=("$allowed_again code(s) answered allow before were ALLOWED AGAIN after the restart (before the kill: $(jget 'j["before_kill"]' "$dir/replay.json"), after: $(jget 'j["after_kill"]' "$dir/replay.json"))")
  elif [ "$replay_status" -ne 0 ]; then
    problems+=("replays not all refused as replayed: before the kill $(jget 'j["before_kill"]' "$dir/replay.json"), after $(jget 'j["after_kill"]' "$dir/replay.json") $(jget '"; ".join(j["problems"])' "$dir/replay.json")")
  fi

  rel_audit_verify || problems+=("twofold audit verify failed: $REL_AUDIT")
  serve_stop
  local integrity=n/a
  if [ "$store" = sqlite ]; then
    integrity=$(python3 -c 'import sqlite3, sys; print(";".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check")))' \
      "${REL_STORE#sqlite:}" 2>&1) || true
    [ "$integrity" = ok ] || problems+=("PRAGMA integrity_check: $integrity")
  fi
  local total
  total=$(elapsed "$started" "$(now)")

  local figures
  figures=$(python3 - "$dir/load.json" "$dir/replay.json" "$dir/killed.json" <<'PY'
import json, sys
load, replay, kill = (json.load(open(p)) for p in sys.argv[1:4])
print(f"{load['users']} users, {load['requests']} requests in {load['duration']} s "
      f"({load['verifications_per_second']}/s answered, p99 {load['latency_p99_ms']} ms), "
      f"killed at {load['kill_at']} s with {kill['codes_in_flight']} codes in flight; "
      f"{load['allows_before_kill']} allows before the kill, {load['allows_after_kill']} after; "
      f"{replay['before_kill'].get('replayed', 0)}/{load['allows_before_kill']} pre-kill replays refused as replayed "
      f"(+{replay['after_kill'].get('replayed', 0)}/{load['allows_after_kill']} post-kill), {replay['allowed']} allowed again, "
      f"oldest replayed {replay['oldest_code_age_seconds']} s after its allow; "
      f"{load['dup_pairs']} concurrent pairs, {load['double_allows']} double allows")
PY
)
  if [ "${#problems[@]}" -gt 0 ]; then
    local IFS='|'
    rel_fail "${problems[*]} [$figures; restart $restart_seconds s; audit: $REL_AUDIT; integrity $integrity]"
  fi
  printf 'reliability %s: PASS (%s; restart %s s; audit: %s; integrity %s; %s s)\n' \
    "$SCENARIO" "$figures" "$restart_seconds" "$REL_AUDIT" "$integrity" "$total"
}

# ---------------------------------------------------------------------------------------------

# Runs pg_ctl on the scenario's own cluster, as start-throwaway.sh does (as postgres when root).
rel_pg_ctl() {
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -s /bin/sh -c 'exec "$0" "$@"' -- "$PG_BIN/pg_ctl" -D "$REL_PG_DIR/data" "$@"
  else
    "$PG_BIN/pg_ctl" -D "$REL_PG_DIR/data" "$@"
  fi
}

scenario_postgres_stop() {
  rel_require_tools
  [ -x "$PG_BIN/pg_ctl" ] || rel_skip "PostgreSQL 15 is not installed in $PG_BIN (apt-get install postgresql-15)"
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then rel_skip "the user postgres is missing"; fi
  local started
  started=$(now)
  local max503=${RELIABILITY_MAX_503_SECONDS:-12}

  REL_PG_DIR=$(mktemp -d /tmp/twofold-rel-pg.XXXXXX)
  local url
  url=$(TWOFOLD_PG_DIR=$REL_PG_DIR provisioning/postgres/start-throwaway.sh 2>"$REL_PG_DIR.start.log" | tail -n 1) \
    || { cat "$REL_PG_DIR.start.log" >&2; rm -f "$REL_PG_DIR.start.log"; rel_fail "the throwaway PostgreSQL did not start"; }
  rm -f "$REL_PG_DIR.start.log"
  local pg_port
  pg_port=$(cat "$REL_PG_DIR/port")
  serve_log "throwaway PostgreSQL on 127.0.0.1:$pg_port (folder $REL_PG_DIR)"

  rel_serve_start "$url" as-is
  local dir=$SERVE_DIR pid=$SERVE_PID
  local -a users=() before=() during=()
  local i
  for i in 1 2 3; do before+=(--before "rel-stop-a$i@example.com"); users+=(--user "rel-stop-a$i@example.com"); done
  for i in 1 2 3 4; do during+=(--during "rel-stop-b$i@example.com"); users+=(--user "rel-stop-b$i@example.com"); done
  users+=(--user "rel-stop-fresh@example.com")
  python3 "$HERE/load.py" enroll --url "$SERVE_URL" --key-file "$REL_KEY_FILE" "${users[@]}" --state "$dir/state.json" \
    || rel_fail "enrolling the users failed"

  python3 "$HERE/load.py" outage --url "$SERVE_URL" --key-file "$REL_KEY_FILE" --state "$dir/state.json" \
    "${before[@]}" "${during[@]}" --stopped-file "$dir/stopped" --after-stop 10 \
    --max-503-seconds "$max503" --timeout 60 --summary "$dir/outage.json" &
  LOAD_PID=$!
  sleep 1
  local stop_began stopped
  stop_began=$(now)
  rel_pg_ctl -m immediate -w -t 30 stop >/dev/null || rel_fail "pg_ctl stop -m immediate failed"
  stopped=$(now)
  printf '%s\n' "$stopped" > "$dir/stopped"
  serve_log "PostgreSQL stopped (immediate) in $(elapsed "$stop_began" "$stopped") s; verifying while it is down"

  local outage_status=0
  wait "$LOAD_PID" || outage_status=$?
  LOAD_PID=""
  [ -s "$dir/outage.json" ] || rel_fail "the outage driver wrote no summary (exit $outage_status)"
  kill -0 "$pid" 2>/dev/null || rel_fail "twofold exited while PostgreSQL was down"

  local pg_began pg_ready
  pg_began=$(now)
  TWOFOLD_PG_DIR=$REL_PG_DIR provisioning/postgres/start-throwaway.sh "$pg_port" >/dev/null 2>"$dir/pg-restart.log" \
    || { cat "$dir/pg-restart.log" >&2; rel_fail "PostgreSQL did not start again on port $pg_port"; }
  pg_ready=$(now)
  serve_log "PostgreSQL up again on the same port in $(elapsed "$pg_began" "$pg_ready") s"

  local recover_status=0
  python3 "$HERE/load.py" recover --url "$SERVE_URL" --key-file "$REL_KEY_FILE" --state "$dir/state.json" \
    --user rel-stop-fresh@example.com --deadline 30 --summary "$dir/recover.json" || recover_status=$?
  [ -s "$dir/recover.json" ] || rel_fail "the recovery check wrote no summary (exit $recover_status)"
  [ "$SERVE_PID" = "$pid" ] && kill -0 "$pid" 2>/dev/null || rel_fail "twofold is no longer the process that was started"

  local problems=()
  if [ "$outage_status" -ne 0 ]; then
    problems+=("while stopped: $(jget '"; ".join(f"{k} ({v}x)" for k, v in j["problems"].items())' "$dir/outage.json")")
  fi
  if [ "$recover_status" -ne 0 ]; then
    problems+=("recovery: $(jget '"; ".join(j["problems"])' "$dir/recover.json")")
  fi
  rel_audit_verify || problems+=("twofold audit verify failed: $REL_AUDIT")
  serve_stop
  local total
  total=$(elapsed "$started" "$(now)")
  local figures
  figures=$(python3 - "$dir/outage.json" "$dir/recover.json" <<'PY'
import json, sys
outage, recover = (json.load(open(p)) for p in sys.argv[1:3])
print(f"{outage['verify_503']}/{outage['verifications_during_stop']} verifications sent while stopped answered 503, "
      f"{outage['allowed_during_stop']} allowed; slowest verification 503 {outage['verify_503_slowest']} s "
      f"(median {outage['verify_503_median']} s, with the {outage['straddling_stop']} requests in flight at the stop); "
      f"/readyz {outage['readyz_503']}/{outage['readyz_during_stop']} 503, slowest {outage['readyz_503_slowest']} s; recovery: /readyz 200 {recover['ready_after']} s and a fresh "
      f"code allowed {recover['allowed_after']} s after PostgreSQL was up ({recover['verify_503_after_ready']} 503s after ready)")
PY
)
  if [ "${#problems[@]}" -gt 0 ]; then
    local IFS='|'
    rel_fail "${problems[*]} [$figures; audit: $REL_AUDIT]"
  fi
  printf 'reliability %s: PASS (%s; audit: %s; %s s)\n' "$SCENARIO" "$figures" "$REL_AUDIT" "$total"
}

# ---------------------------------------------------------------------------------------------
# The runner.

if [ "${1:-}" = --one ]; then
  one "$2"
  exit 0
fi
if [ "${1:-}" = list ]; then
  for name in "${SCENARIOS[@]}"; do printf '%-15s %s\n' "$name" "$(describe "$name")"; done
  exit 0
fi

if [ $# -eq 0 ]; then set -- "${CI_SET[@]}"; fi
for name in "$@"; do
  describe "$name" >/dev/null || { echo "reliability: unknown scenario \"$name\" (run.sh list names them)" >&2; exit 2; }
done

TWOFOLD_BIN=${TWOFOLD_BIN:-.build/debug/twofold}
[[ $TWOFOLD_BIN == /* ]] || TWOFOLD_BIN=$ROOT/$TWOFOLD_BIN
export TWOFOLD_BIN
passed=0 failed=0 skipped=0
began=$(now)
for name in "$@"; do
  status=0
  verdict=$(bash "$SELF" --one "$name") || status=$?
  if [ -n "$verdict" ]; then
    printf '%s\n' "$verdict"
  elif [ "$status" -ne 0 ]; then
    printf 'reliability %s: FAIL: the scenario stopped (status %s) before its verdict\n' "$name" "$status"
  fi
  case $status in
    0) passed=$((passed + 1)) ;;
    "$SKIPPED") skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)) ;;
  esac
done
printf 'reliability: %d passed, %d failed, %d skipped in %s s\n' "$passed" "$failed" "$skipped" "$(elapsed "$began" "$(now)")"
[ "$failed" -eq 0 ]
