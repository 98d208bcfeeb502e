#!/usr/bin/env bash
# Fault injection against the real `twofold serve` binary: kill it, stop its database, race one
# code on two nodes, kill a node behind nginx, make every delivery provider fail, race challenge
# codes and push answers on two nodes, and check that no code is ever allowed twice, the audit log
# and the SQLite file stay intact, the service answers (503, never a hang) while its store is down
# and recovers on its own, a front with one node left still answers, and a dead provider fails
# only its own challenges.
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
#   replay-race     two `twofold serve` nodes on one fresh database in the server of
#                   TWOFOLD_TEST_POSTGRES_URL, with one master key file (`twofold keys generate`)
#                   and data folders of their own; node 2 starts once node 1 is ready, finds the
#                   API key node 1's first start created and must create none (no initial-api-key
#                   file, one key in `twofold apikey list`). Then RELIABILITY_RACE_ROUNDS rounds
#                   (default 150 for CI: 70-75 s on 2 cores with another build running, where 200
#                   took 85-92 s; the full figure is 1000, 8 minutes): in each, a user
#                   enrolled and activated moments before (a chunk of 25 at a time) and ONE valid,
#                   never used code of theirs (the step after the activation's; the server's
#                   default 30 s period and ±1 window, nothing widened) sent 50 times at once, 25
#                   to each node, each racer on its own kept-alive connection, released together
#                   by a threading.Barrier. A fresh user per round keeps every round real without
#                   tuning the window: the losers' refusals count towards the lock, so a user
#                   raced once stays locked for 30 s. Exactly one allow per round; the losers are
#                   refused as the throttle rules: `replayed` while it still evaluates codes (5 free
#                   failures, then the 6th refusal, also `replayed`, locks), `locked` (the code not
#                   evaluated) after that, so 1 allow / 6 replayed / 43 locked; another count of
#                   `replayed` would mean the two nodes miscounted failures. Then
#                   RELIABILITY_RACE_RECOVERY_USERS users (default 10) get a set of recovery codes
#                   (POST …/recovery-codes) and the first code of each is raced 50 ways the same
#                   way: one allow (9 remaining), the losers `invalid_code` (a spent recovery code
#                   matches nothing) then `locked`; after an unlock the raced code is refused
#                   (invalid_code) and the set's second code allowed with 8 remaining. Both nodes
#                   must still run, `twofold audit verify` exit 0, both stop cleanly on SIGTERM.
#   node-kill       provisioning/multi-node.sh `up` with a state folder of its own (a throwaway
#                   PostgreSQL, two nodes with TWOFOLD_ENV=production, nginx round robin on a
#                   free loopback port, run as nobody); 60 TOTP users enrolled through the front,
#                   then 4 threads verify through it for 16 s: fresh codes (default period and
#                   window; 5 a second, each must be allowed), each allowed code replayed once
#                   soon after (replayed) and verifications of users with nothing stored
#                   (no_factors). 4 s in, at a moment a fresh code is in flight, node 1 gets
#                   SIGKILL; the kill instant lasts until the process is seen gone. A request
#                   sent before its end may fail (nginx's 502: it was on its way to node 1, and
#                   nginx never passes a POST it has sent on to another node, as it could be
#                   applied twice): counted apart, and a fresh code that failed so is sent again
#                   once (allow, or replayed when node 1 committed it before it died). So may one
#                   sent in the second after, and only when nginx's access log shows it went to
#                   node 1 alone and got 502: with the front's `keepalive 16`, nginx may write a
#                   request to a connection to node 1 kept alive from before the kill before it
#                   has read that connection's end (seen once in 12 runs here, under load), and
#                   then does not pass it on either; counted apart too. Every other request
#                   sent after must be answered as expected by node 2 (nginx's access log, by
#                   request id), the ones nginx first tried on node 1 (connection refused: not
#                   yet sent, so passed on) counted; no step allowed twice; then every allowed
#                   code is replayed through the front and must be refused as `replayed`,
#                   `twofold audit verify` must exit 0 and `down` must stop node 2 cleanly.
#   providers       serve on a fresh SQLite file with the SMS, voice and push providers all
#                   `webhook`, pointed at a gateway on loopback (Tests/Reliability/
#                   providers_gateway.py, run by providers.py) that checks every post's
#                   Twofold-Signature (a fresh TWOFOLD_WEBHOOK_SECRET in a 0600 configuration file)
#                   and its Idempotency-Key, and is switched between healthy, hang (reads the post,
#                   never answers), refuse (no listener: connection refused; its connections
#                   closed) and 500. TWOFOLD_DELIVERY_TIMEOUT is RELIABILITY_PROVIDER_TIMEOUT
#                   (default 2 s, not 5, so that a hang fails within 3 attempts x 2 s + backoff).
#                   Beside it a control server ("node 0": the same binary, a SQLite file of its
#                   own, no provider settings). Phone factors are enrolled through the healthy
#                   gateway first (their confirmation spends the user's SMS or voice budget, 1 per
#                   30 s, so the phases wait for it: the verify load warms up meanwhile). Then four
#                   phases, healthy, hang, refuse, 500: 8 s each of verifications from 4 threads to
#                   each server (fresh HOTP and TOTP codes, every answer must be allow; latency
#                   measured), and 0.5 s in, per phase 2 SMS, 2 voice (a code, a press-a-key call)
#                   and 2 push challenges (devices with a push token: the webhook relay). Healthy:
#                   each post arrives signed, to the user's number (the device's token), and the
#                   SMS code verifies against its challenge, the spoken one for the user, the key
#                   press (a signed digits callback) and the device's signed approval approve
#                   theirs. Each fault: every start still answers 202 within the delivery timeout;
#                   every challenge ends `failed` with reason provider_error (hang, 500) or
#                   unreachable (refuse), and its `challenge.finished` audit event says last_failure
#                   timeout, provider_error or unreachable, within the delivery's worst case (hang:
#                   3 x the timeout + 0.75 s of backoff; else the backoff) + 3 s, a hang no sooner
#                   than one timeout; the gateway saw 1 to 3 attempts per challenge (none while
#                   refusing) and every connection it held was closed by Twofold; /readyz answers
#                   200 and shows SMS and voice degraded after 3 failures in a row. The verify p99
#                   of each fault phase must stay within max(3 x ref, ref + 50 ms), ref the larger
#                   of the healthy phase's p99 and the control's p99 in the same window. Why: a
#                   verification never waits for a provider, so a coupling (a shared pool, thread
#                   or lock, delivery on the request path) costs seconds in the hang phase (the 2 s
#                   timeout, 3 times), far over the bound; while on this 2-core machine, quiet, the
#                   p99 is 9-17 ms (debug build; bound about 60 ms), and a neighbour's burst (another
#                   scenario running at once: load average 6-8) raised one 8 s window's p99 to 80+
#                   ms with its p50 doubled. Against the healthy phase alone that failed 1 run in
#                   3; the control, slowed in the same window by the same burst (its p99 within a
#                   third of the tested server's in every run here), keeps the bound honest without
#                   widening it when the machine is quiet. Then the gateway heals: one SMS, voice and push challenge
#                   are delivered and answered, /readyz shows SMS and voice ok. The server log must
#                   hold no full number and not the secret; `twofold audit verify` must exit 0; both
#                   servers stop cleanly on SIGTERM.
#   challenge-race  two nodes on one fresh PostgreSQL database (as replay-race: one master key,
#                   node 2 finds node 1's API key), both with their SMS provider `webhook` at one
#                   loopback gateway (providers_gateway.py, run by race_challenges.py) that catches
#                   each code. RELIABILITY_CHALLENGE_RACE_ROUNDS (default 40) push rounds and as
#                   many SMS rounds, a fresh user each (a user may be sent one push or SMS per
#                   30 s). Push: a device per user (its own P-256 key, `cryptography`), a push
#                   started on one node, listed by the device with a signed request, and 50
#                   approvals with the number, each signed afresh, sent at once, 25 to each node
#                   (load.py's Racers and threading.Barrier): exactly one 200 approved, 49 400
#                   (a push once answered); the application reads it `approved` on both nodes
#                   every time (nothing consumes it), a code sent to it is refused, one more
#                   answer is 400, the device's list is empty. SMS, once the users' budgets allow
#                   (their enrollment spent it; the push rounds run meanwhile): the code the
#                   gateway caught sent 50 ways at once. Even rounds to the challenge
#                   (POST /v1/challenges/{id}/verify): exactly one allow (sms), 6 replayed (the
#                   challenge approved under them; counted, the 6th locks), 43 locked, the
#                   export says 6 failures and a lock, and the code sent once more is locked.
#                   Odd rounds to the user (POST …/verify): exactly
#                   one allow, 6 invalid_code (the spent challenge matches nothing; counted, the
#                   6th locks), 43 locked, and the export says 6 failures and a lock. Every raced
#                   challenge ends approved. Both nodes must still run, `twofold audit verify`
#                   exit 0, both stop cleanly on SIGTERM.
#
# Each scenario prints one line on standard output, `reliability SCENARIO: PASS (figures)`,
# `reliability SCENARIO: FAIL: why` or `reliability SCENARIO: SKIP (why)`, with its progress and
# the servers' last log lines (on failure) on standard error; the last line sums up. Exit status
# 1 when a scenario failed, 2 for an unknown scenario, else 0.
#
# Stores: SQLite always. kill9-postgres, replay-race and challenge-race need
# TWOFOLD_TEST_POSTGRES_URL (a role that may create databases, as CI's throwaway server has);
# postgres-stop and node-kill need
# PostgreSQL 15's binaries in /usr/lib/postgresql/15/bin (and, as root, the user postgres);
# node-kill needs nginx too. Without them a scenario is skipped with the reason, or fails when
# CI=true, as CI must run every scenario.
#
# Environment: TWOFOLD_BIN, the binary (default .build/debug/twofold); TWOFOLD_LOG_LEVEL, the
# servers' level (default info); KEEP_SERVE_DIR=1 keeps each scenario's folder (/tmp/twofold-
# rel.*: logs, summaries, and the allowed codes in a file of mode 0600); RELIABILITY_MAX_503_SECONDS;
# RELIABILITY_RACE_ROUNDS and RELIABILITY_RACE_RECOVERY_USERS (replay-race);
# RELIABILITY_PROVIDER_TIMEOUT (providers: TWOFOLD_DELIVERY_TIMEOUT in whole seconds, default 2);
# RELIABILITY_CHALLENGE_RACE_ROUNDS (challenge-race: push rounds and SMS rounds, default 40 each).
# Needs python3 with pyotp (Tests/Scripts/requirements.txt), curl, psql for kill9-postgres,
# replay-race and challenge-race, and for providers and challenge-race python3's `cryptography`
# (which requirements.txt's twilio, py-vapid and fido2 bring).
# No code, secret, key or full phone number is ever printed: the key is read from the data
# folder's file, codes stay in the scenario's folder (mode 0700) and are deleted with it, the
# webhook secret is in a 0600 file there, and numbers and codes stay in the drivers' memory.
set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.."
ROOT=$PWD

HERE=Tests/Reliability
SCENARIOS=(kill9-sqlite kill9-postgres postgres-stop replay-race node-kill providers challenge-race)
CI_SET=(kill9-sqlite kill9-postgres postgres-stop replay-race node-kill providers challenge-race)
PG_BIN=/usr/lib/postgresql/15/bin
SKIPPED=77

describe() {
  case $1 in
    kill9-sqlite) echo "SIGKILL under verification load on SQLite; replays refused, audit and file intact" ;;
    kill9-postgres) echo "SIGKILL under verification load on PostgreSQL (TWOFOLD_TEST_POSTGRES_URL); replays refused, audit intact" ;;
    postgres-stop) echo "PostgreSQL stopped under verifications: 503 fast, never allow; recovers without a restart" ;;
    replay-race) echo "one code sent 50 times at once to two nodes on one PostgreSQL, per round: one allow; recovery codes too" ;;
    node-kill) echo "SIGKILL one of two nodes behind nginx under verifications: the other answers; nothing allowed twice" ;;
    providers) echo "SMS, voice and push providers hang, refuse, answer 500: verify p99 holds, challenges end failed with the reason" ;;
    challenge-race) echo "an SMS code and a push's signed approval sent 50 times at once to two nodes on one PostgreSQL: one accepted" ;;
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
  REL_MULTI_DIR=""
  REL_DATA_DIR=""
  REL_EXTRA_ENV=()
  REL_NODE_PIDS=()

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
    replay-race)
      if [ -z "${TWOFOLD_TEST_POSTGRES_URL:-}" ]; then
        rel_skip "TWOFOLD_TEST_POSTGRES_URL is not set; it names a PostgreSQL role that may create databases"
      fi
      scenario_replay_race "$TWOFOLD_TEST_POSTGRES_URL"
      ;;
    node-kill) scenario_node_kill ;;
    providers) scenario_providers ;;
    challenge-race)
      if [ -z "${TWOFOLD_TEST_POSTGRES_URL:-}" ]; then
        rel_skip "TWOFOLD_TEST_POSTGRES_URL is not set; it names a PostgreSQL role that may create databases"
      fi
      scenario_challenge_race "$TWOFOLD_TEST_POSTGRES_URL"
      ;;
    *) echo "reliability $SCENARIO: FAIL: unknown scenario"; exit 1 ;;
  esac
}

rel_fail() {
  trap - ERR
  serve_log "FAIL: $*"
  local logfile logs=("${SERVE_DIR:-/nonexistent}"/server*.log)
  if [ -n "${REL_MULTI_DIR:-}" ]; then
    logs+=("$REL_MULTI_DIR/node1.log" "$REL_MULTI_DIR/node2.log" "$REL_MULTI_DIR/nginx/error.log")
  fi
  for logfile in "${logs[@]}"; do
    if [ -s "$logfile" ]; then
      serve_log "last lines of $(basename "$logfile"):"
      tail -n 15 "$logfile" | cut -c1-400 >&2
    fi
  done
  printf 'reliability %s: FAIL: %s\n' "$SCENARIO" "$*"
  exit 1
}

rel_skip() {
  # CI as the Swift tests read it (TestEnvironment.isCI): set, and not empty, 0 or false.
  case ${CI:-} in '' | 0 | false | FALSE | False) ;; *) rel_fail "$1; CI must run every scenario" ;; esac
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
  # The nodes this scenario started (its children: never another process).
  local pid
  for pid in "${REL_NODE_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  serve_cleanup
  if [ -n "$REL_PG_DIR" ]; then
    provisioning/postgres/stop-throwaway.sh "$REL_PG_DIR" >/dev/null 2>&1 \
      || serve_log "could not stop the throwaway PostgreSQL in $REL_PG_DIR"
  fi
  if [ -n "$REL_MULTI_DIR" ]; then
    # multi-node.sh stops what it started there (its marker says so) and deletes the folder.
    if [ -e "$REL_MULTI_DIR/.twofold-multi" ]; then
      TWOFOLD_MULTI_DIR=$REL_MULTI_DIR provisioning/multi-node.sh down >/dev/null 2>&1 \
        || serve_log "multi-node.sh down did not stop everything in $REL_MULTI_DIR"
    elif [ -d "$REL_MULTI_DIR" ]; then
      rmdir "$REL_MULTI_DIR" 2>/dev/null || true
    fi
  fi
  exit "$status"
}

# JSON EXPRESSION FILE: a Python expression over the JSON document in FILE, bound to `j`.
jget() { python3 -c 'import json, sys; j = json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$2"; }

# The scenario's verdict from the caller's `problems`: FAIL naming each of them (with FIGURES
# and the audit's result), or one PASS line with FIGURES, the audit's result and TOTAL seconds.
rel_verdict() {
  local figures=$1 total=$2
  if [ "${#problems[@]}" -gt 0 ]; then
    local IFS='|'
    rel_fail "${problems[*]} [$figures; audit: $REL_AUDIT]"
  fi
  printf 'reliability %s: PASS (%s; audit: %s; %s s)\n' "$SCENARIO" "$figures" "$REL_AUDIT" "$total"
}

# The problems a driver wrote to its summary FILE, or DEFAULT when it listed none.
rel_driver_problems() {
  jget '"; ".join(f"{k} ({v}x)" for k, v in j["problems"].items()) or "'"$2"'"' "$1"
}

rel_require_tools() {
  command -v curl >/dev/null || rel_fail "curl is missing"
  python3 -c 'import pyotp' 2>/dev/null \
    || rel_fail "pyotp is missing (python3 -m pip install -r Tests/Scripts/requirements.txt)"
  [ -x "$TWOFOLD_BIN" ] || rel_fail "no executable at $TWOFOLD_BIN: build it (swift build) or set TWOFOLD_BIN"
}

# The push devices of providers and challenge-race sign with P-256 keys of python's `cryptography`.
rel_require_cryptography() {
  python3 -c 'from cryptography.hazmat.primitives.asymmetric import ec' 2>/dev/null \
    || rel_fail "python3's cryptography is missing (python3 -m pip install -r Tests/Scripts/requirements.txt brings it)"
}

# The webhook providers' settings for a scenario's servers, pointed at a gateway on a free
# loopback port that the scenario's driver runs: REL_GATEWAY_PORT, REL_WEBHOOK_CONFIG (a 0600
# configuration file in SERVE_DIR holding a fresh TWOFOLD_WEBHOOK_SECRET, read by the servers
# through TWOFOLD_CONFIG and by the driver: the secret is never on a command line) and
# REL_WEBHOOK_ENV (the settings, for REL_EXTRA_ENV): SMS and voice through the webhook.
rel_webhook_setup() {
  REL_GATEWAY_PORT=$(serve_free_port)
  REL_WEBHOOK_CONFIG=$SERVE_DIR/webhook.env
  local secret
  secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  [ "${#secret}" -eq 64 ] || rel_fail "could not make a webhook secret"
  (umask 077 && printf 'TWOFOLD_WEBHOOK_SECRET=%s\n' "$secret" > "$REL_WEBHOOK_CONFIG")
  local gateway="http://127.0.0.1:$REL_GATEWAY_PORT"
  REL_WEBHOOK_ENV=(
    TWOFOLD_CONFIG="$REL_WEBHOOK_CONFIG"
    TWOFOLD_SMS_PROVIDERS=webhook
    TWOFOLD_SMS_WEBHOOK_URL="$gateway/sms"
    TWOFOLD_VOICE_PROVIDERS=webhook
    TWOFOLD_VOICE_WEBHOOK_URL="$gateway/voice"
  )
}

# The server's environment, which the admin commands share, as a command prefix in REL_ENV:
# only the settings given here (every TWOFOLD_* variable of the caller is dropped), plus
# REL_EXTRA_ENV; the data folder is REL_DATA_DIR when set (a node's), else SERVE_DIR/data. An array, not a function, so that a process started with it in the background
# is the server itself (its PID is the one SIGKILL must reach).
rel_env() {
  REL_ENV=(env)
  local name
  for name in $(compgen -e); do
    case $name in TWOFOLD_*) REL_ENV+=(-u "$name") ;; esac
  done
  REL_ENV+=(
    TWOFOLD_DATA_DIR="${REL_DATA_DIR:-$SERVE_DIR/data}"
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
# `as-is` is given. Sets SERVE_DIR (0700; kept when already set), SERVE_PORT, SERVE_URL, SERVE_PID, SERVE_LOG, REL_STORE
# and REL_KEY_FILE.
rel_serve_start() {
  local store=$1 mode=${2:-}
  # A scenario may have made its folder already (to write a configuration file into it).
  [ -n "$SERVE_DIR" ] || SERVE_DIR=$(mktemp -d /tmp/twofold-rel.XXXXXX)
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
  rel_verdict "$figures; restart $restart_seconds s; integrity $integrity" "$total"
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
  rel_verdict "$figures" "$total"
}

# ---------------------------------------------------------------------------------------------

# Starts node N of a two-node scenario on REL_STORE (rel_launch, with the node's own data folder
# SERVE_DIR/nodeN, port and log server-nodeN.log). Sets REL_NODE_PIDS[N] and REL_NODE_URLS[N].
rel_node_start() {
  local n=$1
  SERVE_PORT=$(serve_free_port)
  SERVE_URL="http://127.0.0.1:$SERVE_PORT"
  REL_DATA_DIR=$SERVE_DIR/node$n
  rel_launch "server-node$n.log"
  REL_NODE_PIDS[n]=$SERVE_PID
  REL_NODE_URLS[n]=$SERVE_URL
  SERVE_PID=""
  serve_log "node $n serving at $SERVE_URL (pid ${REL_NODE_PIDS[n]}, data folder $REL_DATA_DIR)"
}

# SIGTERM to each node of REL_NODE_PIDS: each must exit 0 within 30 s and log a graceful stop.
# Adds what went wrong to the caller's `problems`.
rel_nodes_stop() {
  local n pid status waited
  for n in "${!REL_NODE_PIDS[@]}"; do
    kill -TERM "${REL_NODE_PIDS[n]}" 2>/dev/null || problems+=("node $n was no longer running at the stop")
  done
  for n in "${!REL_NODE_PIDS[@]}"; do
    pid=${REL_NODE_PIDS[n]}
    waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 300 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
      problems+=("node $n did not stop within 30 s of SIGTERM")
      continue
    fi
    status=0
    wait "$pid" 2>/dev/null || status=$?
    unset "REL_NODE_PIDS[n]"
    [ "$status" -eq 0 ] || problems+=("node $n exited with status $status after SIGTERM")
    grep -q 'server stopped' "$SERVE_DIR/server-node$n.log" || problems+=("node $n did not log a graceful stop")
  done
}

# rel_two_nodes ADMIN_URL [SETTING=VALUE…]: two `twofold serve` nodes on one fresh database in the
# server of ADMIN_URL (in SERVE_DIR, which the caller made), sharing one master key file
# (`twofold keys generate`) with data folders of their own, and the given settings. Node 1 starts
# first: its first start finds no API key in the fresh database and writes one (REL_KEY_FILE,
# 0600); node 2 starts once node 1 is ready and must find it, not make a second one (no
# initial-api-key file, one key in `twofold apikey list`). Sets REL_NODE_PIDS, REL_NODE_URLS,
# REL_STORE, REL_KEY_FILE, and REL_DATA_DIR to node 1's folder (admin commands then run as an
# operator on node 1 would).
rel_two_nodes() {
  local admin_url=$1
  shift
  local dir=$SERVE_DIR
  serve_postgres_database "$admin_url"
  REL_STORE=$SERVE_PG_URL
  env -i PATH="$PATH" "$TWOFOLD_BIN" keys generate "$dir/master.key" >/dev/null 2>"$dir/keys.err" \
    || rel_fail "twofold keys generate failed: $(head -c 300 "$dir/keys.err")"
  REL_EXTRA_ENV=(TWOFOLD_MASTER_KEY_FILE="$dir/master.key" "$@")
  rel_node_start 1
  REL_KEY_FILE=$dir/node1/initial-api-key
  [ -s "$REL_KEY_FILE" ] || rel_fail "node 1 wrote no initial API key file at $REL_KEY_FILE"
  [ "$(stat -c %a "$REL_KEY_FILE")" = 600 ] || rel_fail "the initial API key file is not mode 0600"
  rel_node_start 2
  [ ! -e "$dir/node2/initial-api-key" ] || rel_fail "node 2 created a second initial API key ($dir/node2/initial-api-key)"
  if grep -q 'created the initial API key' "$dir/server-node2.log"; then rel_fail "node 2 logged that it created an initial API key"; fi
  REL_DATA_DIR=$dir/node1
  rel_env
  local keys
  keys=$("${REL_ENV[@]}" "$TWOFOLD_BIN" apikey list --json 2>"$dir/apikey.err" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["api_keys"]))') \
    || rel_fail "twofold apikey list failed: $(grep -v DEVELOPMENT "$dir/apikey.err" | head -c 300)"
  [ "$keys" = 1 ] || rel_fail "the database holds $keys API keys after both nodes started, not 1"
}

# After a two-node scenario's driver (WHAT names it): both nodes must still run, `twofold audit
# verify` exit 0, and both stop cleanly on SIGTERM. Adds what went wrong to the caller's `problems`.
rel_two_nodes_finish() {
  local what=$1 n
  for n in 1 2; do
    kill -0 "${REL_NODE_PIDS[n]}" 2>/dev/null || problems+=("node $n is no longer running after $what")
  done
  rel_audit_verify || problems+=("twofold audit verify failed: $REL_AUDIT")
  rel_nodes_stop
}

scenario_replay_race() {
  local admin_url=$1
  rel_require_tools
  command -v psql >/dev/null || rel_skip "psql is missing (apt-get install postgresql-client-15)"
  local rounds=${RELIABILITY_RACE_ROUNDS:-150} recovery=${RELIABILITY_RACE_RECOVERY_USERS:-10}
  [[ $rounds =~ ^[1-9][0-9]*$ ]] || rel_fail "RELIABILITY_RACE_ROUNDS must be a positive whole number, not \"$rounds\""
  [[ $recovery =~ ^[0-9]+$ ]] || rel_fail "RELIABILITY_RACE_RECOVERY_USERS must be a whole number, not \"$recovery\""
  local started
  started=$(now)
  SERVE_DIR=$(mktemp -d /tmp/twofold-rel.XXXXXX)
  local dir=$SERVE_DIR
  rel_two_nodes "$admin_url"

  local race_status=0
  python3 "$HERE/load.py" race --node "${REL_NODE_URLS[1]}" --node "${REL_NODE_URLS[2]}" --key-file "$REL_KEY_FILE" \
    --rounds "$rounds" --recovery-users "$recovery" --racers 50 --summary "$dir/race.json" \
    --user-prefix "rel-$SCENARIO" || race_status=$?
  [ -s "$dir/race.json" ] || rel_fail "the race wrote no summary (exit $race_status)"

  local problems=()
  if [ "$race_status" -ne 0 ]; then
    problems+=("$(rel_driver_problems "$dir/race.json" "the race failed")")
  fi
  rel_two_nodes_finish "the race"
  local total
  total=$(elapsed "$started" "$(now)")
  local figures
  figures=$(python3 - "$dir/race.json" <<'PY'
import json, sys
race = json.load(open(sys.argv[1]))
totp, recovery, after = race["totp"], race["recovery"], race["recovery_after"]
def mixes(tally):
    return ", ".join(f"{shape} in {count}" for shape, count in sorted(tally["round_mixes"].items(), key=lambda i: -i[1]))
print(f"{totp['rounds']} rounds of one fresh TOTP code x {race['racers']} at once over {race['nodes']} nodes: "
      f"allows per round {totp['allows_per_round']}, answers {mixes(totp)}; allowed by node 1/2 "
      f"{totp['allowed_by_node'][0]}/{totp['allowed_by_node'][1]}; round median {totp['round_ms_median']} ms "
      f"(max {totp['round_ms_max']}), sends spread over median {totp['send_spread_ms_median']} ms; "
      f"{recovery['rounds']} recovery-code rounds: allows per round {recovery['allows_per_round']}, answers "
      f"{mixes(recovery)}; after an unlock the raced code {after['used_code_after_unlock']}, the second "
      f"{after['second_code']}; racing {race['race_seconds']} s, enrolling {race['enroll_seconds']} s")
PY
)
  rel_verdict "$figures; one API key" "$total"
}

# ---------------------------------------------------------------------------------------------

scenario_node_kill() {
  rel_require_tools
  [ -x "$PG_BIN/pg_ctl" ] || rel_skip "PostgreSQL 15 is not installed in $PG_BIN (apt-get install postgresql-15)"
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then rel_skip "the user postgres is missing"; fi
  if ! command -v nginx >/dev/null && ! [ -x /usr/sbin/nginx ]; then rel_skip "nginx is not installed (apt-get install nginx)"; fi
  local started
  started=$(now)
  SERVE_DIR=$(mktemp -d /tmp/twofold-rel.XXXXXX)
  local dir=$SERVE_DIR
  # multi-node.sh's state folder, outside SERVE_DIR (0700): nginx and PostgreSQL run as nobody
  # and postgres there; every secret in it is a 0600 file. `down` deletes it.
  REL_MULTI_DIR=$(mktemp -d /tmp/twofold-rel-multi.XXXXXX)
  local multi=$REL_MULTI_DIR
  TWOFOLD_MULTI_DIR=$multi TWOFOLD_BIN=$TWOFOLD_BIN provisioning/multi-node.sh up >/dev/null 2>"$dir/multi-up.log" \
    || { tail -n 20 "$dir/multi-up.log" | cut -c1-400 >&2; rel_fail "provisioning/multi-node.sh up failed"; }
  local NODE1_URL NODE2_URL FRONT_URL API_KEY_FILE MASTER_KEY_FILE STORE_URL
  # shellcheck source=/dev/null
  . "$multi/multi.env"
  local victim survivor p1 p2
  victim=$(cat "$multi/node1.pid")
  survivor=$(cat "$multi/node2.pid")
  p1=$(cat "$multi/node1.port")
  p2=$(cat "$multi/node2.port")
  # The pid to kill must be node 1 as multi-node.sh started it, not a process that took its number.
  tr '\0' '\n' < "/proc/$victim/environ" 2>/dev/null | grep -qxF "TWOFOLD_DATA_DIR=$multi/node1" \
    || rel_fail "process $victim is not node 1 of $multi"
  [ "$(readlink "/proc/$victim/exe")" = "$(readlink -f "$TWOFOLD_BIN")" ] || rel_fail "process $victim is not $TWOFOLD_BIN"
  serve_log "front $FRONT_URL, node 1 on port $p1 (pid $victim, to be killed), node 2 on port $p2 (pid $survivor); state in $multi"

  local front_status=0
  python3 "$HERE/load.py" front --url "$FRONT_URL" --key-file "$API_KEY_FILE" --users 60 --threads 4 \
    --duration 16 --kill-after 4 --fresh-rate 5 --interval 0.02 --kill-pid "$victim" --kill-file "$dir/killed.json" \
    --killed-port "$p1" --other-port "$p2" --access-log "$multi/nginx/access.log" --error-log "$multi/nginx/error.log" \
    --codes "$dir/allowed-codes.jsonl" --summary "$dir/front.json" --user-prefix "rel-$SCENARIO" || front_status=$?
  [ -s "$dir/front.json" ] || rel_fail "the load through the front wrote no summary (exit $front_status)"

  local problems=()
  [ "$(jget 'j["kill"].get("gone")' "$dir/front.json")" = True ] || problems+=("node 1 was still running after SIGKILL")
  tr '\0' '\n' < "/proc/$survivor/environ" 2>/dev/null | grep -qxF "TWOFOLD_DATA_DIR=$multi/node2" \
    || problems+=("node 2 is no longer running")
  if [ "$front_status" -ne 0 ]; then
    problems+=("through the front: $(jget '"; ".join(f"{k} ({v}x)" for k, v in j["unexpected"].items())' "$dir/front.json")")
  fi

  local replay_status=0
  python3 "$HERE/load.py" replay --url "$FRONT_URL" --key-file "$API_KEY_FILE" \
    --codes "$dir/allowed-codes.jsonl" --summary "$dir/replay.json" || replay_status=$?
  [ -s "$dir/replay.json" ] || rel_fail "the replay wrote no summary (exit $replay_status)"
  local allowed_again
  allowed_again=$(jget 'j["allowed"]' "$dir/replay.json")
  if [ "$allowed_again" -ne 0 ]; then
    problems+=("$allowed_again code(s) answered allow before were ALLOWED AGAIN through the front (before the kill: $(jget 'j["before_kill"]' "$dir/replay.json"), after: $(jget 'j["after_kill"]' "$dir/replay.json"))")
  elif [ "$replay_status" -ne 0 ]; then
    problems+=("replays not all refused as replayed: before the kill $(jget 'j["before_kill"]' "$dir/replay.json"), after $(jget 'j["after_kill"]' "$dir/replay.json") $(jget '"; ".join(j["problems"])' "$dir/replay.json")")
  fi

  # The audit chains both nodes wrote, node 1 up to its death: the CLI as multi-node.sh runs it.
  REL_STORE=$STORE_URL
  REL_DATA_DIR=$multi/cli
  SERVE_PORT=$p2
  REL_EXTRA_ENV=(TWOFOLD_ENV=production TWOFOLD_MASTER_KEY_FILE="$MASTER_KEY_FILE")
  rel_audit_verify || problems+=("twofold audit verify failed: $REL_AUDIT")

  # The logs outlive the folder `down` deletes (a failure shows their last lines).
  cp "$multi/node1.log" "$dir/server-node1.log" 2>/dev/null || true
  cp "$multi/node2.log" "$dir/server-node2.log" 2>/dev/null || true
  cp "$multi/nginx/error.log" "$dir/server-front-error.log" 2>/dev/null || true
  cp "$multi/nginx/access.log" "$dir/front-access.log" 2>/dev/null || true
  # `down` stops nginx, then node 2 with SIGTERM (it must exit within 40 s and log a graceful
  # stop, or `down` fails), finds node 1 not running, and stops PostgreSQL.
  local down_status=0
  TWOFOLD_MULTI_DIR=$multi provisioning/multi-node.sh down >/dev/null 2>"$dir/multi-down.log" || down_status=$?
  if [ "$down_status" -ne 0 ]; then
    problems+=("multi-node.sh down did not stop everything cleanly: $(grep -v 'was not running' "$dir/multi-down.log" | tail -n 3 | tr '\n' ' ' | cut -c1-300)")
  else
    REL_MULTI_DIR=""
  fi
  local total
  total=$(elapsed "$started" "$(now)")

  local figures
  figures=$(python3 - "$dir/front.json" "$dir/replay.json" <<'PY'
import json, sys
front, replay = (json.load(open(p)) for p in sys.argv[1:3])
kill, failed = front["kill"], front["failed_at_kill"]
after = front["answered_by_after_kill"]
print(f"{front['users']} users, {front['requests']} requests through nginx in {front['duration']} s from {front['threads']} "
      f"threads (p99 {front['latency_p99_ms']} ms): {front['requests_before_kill']} before the kill "
      f"(answered by {front['answered_by_before_kill']}), {front['requests_at_kill']} at it, {front['requests_after_kill']} after; "
      f"node 1 killed at {front['kill_at']} s with {kill.get('codes_in_flight')} fresh codes ({kill.get('in_flight')} requests) "
      f"in flight, gone {kill.get('dying_ms')} ms later; failed at the kill instant: {failed['sent_before_sigkill']} sent before "
      f"SIGKILL + {failed['sent_while_dying']} while it died + {failed['sent_after_on_stale_connection']} sent after but written by "
      f"nginx to a kept-alive connection to node 1, their fresh codes sent again: {front['retried_fresh_codes'] or 'none'}; "
      f"after the kill answered by {after}, {front['passed_on_after_kill']} of them passed on by nginx after "
      f"node 1 refused the connection (at +{front['passed_on_seconds_after_kill']} s); front errors {front['front_errors']}; "
      f"{front['allows_before_kill']} allows before the kill, {front['allows_after_kill']} after, {front['double_allows']} twice; "
      f"{replay['refused_replayed']}/{replay['codes']} replays refused as replayed, {replay['allowed']} allowed again")
PY
)
  rel_verdict "$figures; node 2 stopped cleanly" "$total"
}

# ---------------------------------------------------------------------------------------------

scenario_providers() {
  rel_require_tools
  rel_require_cryptography
  local delivery=${RELIABILITY_PROVIDER_TIMEOUT:-2}
  [[ $delivery =~ ^[1-9][0-9]?$ ]] && [ "$delivery" -le 60 ] \
    || rel_fail "RELIABILITY_PROVIDER_TIMEOUT must be whole seconds from 1 to 60 (TWOFOLD_DELIVERY_TIMEOUT), not \"$delivery\""
  local started
  started=$(now)
  SERVE_DIR=$(mktemp -d /tmp/twofold-rel.XXXXXX)
  local dir=$SERVE_DIR
  rel_webhook_setup
  # The control, "node 0": the same binary on a SQLite file of its own, without provider settings,
  # given the same verify load in the same windows, so that a window slowed by the machine (a
  # neighbour's burst on 2 cores) is told from one slowed by the fault.
  REL_STORE="sqlite:$dir/node0/twofold.sqlite"
  rel_node_start 0
  local control_url=${REL_NODE_URLS[0]}
  REL_DATA_DIR=""
  REL_EXTRA_ENV=("${REL_WEBHOOK_ENV[@]}"
    TWOFOLD_PUSH_PROVIDERS=webhook
    TWOFOLD_PUSH_WEBHOOK_URL="http://127.0.0.1:$REL_GATEWAY_PORT/push"
    TWOFOLD_DELIVERY_TIMEOUT="${delivery}s")
  rel_serve_start sqlite
  local pid=$SERVE_PID
  [ "$SERVE_PORT" != "$REL_GATEWAY_PORT" ] && [ "$control_url" != "http://127.0.0.1:$REL_GATEWAY_PORT" ] \
    || rel_fail "a server and the gateway were given the same port"

  # The driver bounds every wait itself; the outer limit is a last resort against a hang.
  local driver_status=0
  timeout -k 10 300 python3 "$HERE/providers.py" --url "$SERVE_URL" --key-file "$REL_KEY_FILE" \
    --control-url "$control_url" --control-key-file "$dir/node0/initial-api-key" --gateway-port "$REL_GATEWAY_PORT" --config-file "$REL_WEBHOOK_CONFIG" --delivery-timeout "$delivery" \
    --server-log "$SERVE_LOG" --summary "$dir/providers.json" --user-prefix "rel-$SCENARIO" || driver_status=$?
  [ -s "$dir/providers.json" ] || rel_fail "the providers driver wrote no summary (exit $driver_status)"

  local problems=()
  kill -0 "$pid" 2>/dev/null || problems+=("the server is no longer running")
  kill -0 "${REL_NODE_PIDS[0]}" 2>/dev/null || problems+=("the control server is no longer running")
  if [ "$driver_status" -ne 0 ]; then
    problems+=("$(rel_driver_problems "$dir/providers.json" "the driver exited with status $driver_status")")
  fi
  rel_audit_verify || problems+=("twofold audit verify failed: $REL_AUDIT")
  rel_nodes_stop
  serve_stop
  local total
  total=$(elapsed "$started" "$(now)")
  local figures
  figures=$(python3 - "$dir/providers.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
# The summary's keys are sorted: the phases in the order they ran.
order = ["healthy", "hang", "refuse", "500"]
phases = dict(sorted((s.get("phases") or {}).items(), key=lambda item: order.index(item[0]) if item[0] in order else 9))
if not phases:
    print("no figures: the driver stopped before its phases")
    sys.exit(0)
def fmt(values, unit=""):
    values = [v for v in values if v is not None]
    if not values:
        return "none"
    return f"{min(values)}{unit}" if min(values) == max(values) else f"{min(values)}-{max(values)}{unit}"
parts = []
bound = (s.get("bound") or {}).get("phases") or {}
for name, phase in phases.items():
    v, c = phase["verify"], phase["control"]
    parts.append(f"{name} p99 {v['p99_ms']} ms (p50 {v['p50_ms']}, {v['count']} verifications; control p99 {c['p99_ms']}"
                 + (f"; bound {bound[name]} ms)" if name in bound else ")"))
line = "verify " + ", ".join(parts)
answers = {}
for phase in list(phases.values()) + [{"verify": s.get("warmup") or {"answers": {}}}]:
    for word, count in phase["verify"]["answers"].items():
        answers[word] = answers.get(word, 0) + count
line += "; answers " + ", ".join(f"{w} {c}" for w, c in sorted(answers.items()))
for name, phase in phases.items():
    cases = phase["challenges"]
    starts = fmt([c["create_ms"] for c in cases], " ms")
    if phase["mode"] == "healthy":
        done = sum(1 for c in cases if c["final"] == "approved" and not c["problems"])
        line += f"; {name}: {done}/{len(cases)} delivered and answered (start {starts})"
        continue
    ends = sorted({f"{c['final']}/{c['reason']} ({c['last_failure']})" for c in cases})
    posts = fmt([c["gateway_posts"] for c in cases])
    held = [h for c in cases for h in c.get("held_seconds") or []]
    line += (f"; {name}: {len(cases)} challenges {', '.join(ends)} after {fmt([c['seconds_to_final'] for c in cases], ' s')}"
             f" (bound {cases[0].get('bound_seconds')} s), start {starts}, gateway posts per challenge {posts}"
             + (f", held {fmt(held, ' s')} each" if held else "")
             + f", /readyz {phase['readyz']['status']} sms {phase['readyz']['providers'].get('sms:webhook')}")
rec = s.get("recovery") or {}
done = sum(1 for c in rec.get("challenges", []) if c["final"] == "approved" and not c["problems"])
line += f"; recovered: {done}/{len(rec.get('challenges', []))} delivered and answered, /readyz {rec.get('readyz')} {rec.get('providers')}"
line += f"; delivery timeout {s.get('delivery_timeout')} s, warm-up {(s.get('warmup') or {}).get('seconds')} s"
print(line)
PY
)
  rel_verdict "$figures" "$total"
}

# ---------------------------------------------------------------------------------------------

scenario_challenge_race() {
  local admin_url=$1
  rel_require_tools
  rel_require_cryptography
  command -v psql >/dev/null || rel_skip "psql is missing (apt-get install postgresql-client-15)"
  local rounds=${RELIABILITY_CHALLENGE_RACE_ROUNDS:-40}
  [[ $rounds =~ ^[1-9][0-9]*$ ]] || rel_fail "RELIABILITY_CHALLENGE_RACE_ROUNDS must be a positive whole number, not \"$rounds\""
  local started
  started=$(now)
  SERVE_DIR=$(mktemp -d /tmp/twofold-rel.XXXXXX)
  local dir=$SERVE_DIR
  rel_webhook_setup
  rel_two_nodes "$admin_url" "${REL_WEBHOOK_ENV[@]}"
  local n
  for n in 1 2; do
    [ "${REL_NODE_URLS[n]}" != "http://127.0.0.1:$REL_GATEWAY_PORT" ] || rel_fail "node $n and the gateway were given the same port"
  done

  local race_status=0
  timeout -k 10 400 python3 "$HERE/race_challenges.py" --node "${REL_NODE_URLS[1]}" --node "${REL_NODE_URLS[2]}" \
    --key-file "$REL_KEY_FILE" --gateway-port "$REL_GATEWAY_PORT" --config-file "$REL_WEBHOOK_CONFIG" \
    --rounds "$rounds" --racers 50 --summary "$dir/race.json" --user-prefix "rel-$SCENARIO" || race_status=$?
  [ -s "$dir/race.json" ] || rel_fail "the race wrote no summary (exit $race_status)"

  local problems=()
  if [ "$race_status" -ne 0 ]; then
    problems+=("$(rel_driver_problems "$dir/race.json" "the race failed")")
  fi
  rel_two_nodes_finish "the race"
  local total
  total=$(elapsed "$started" "$(now)")
  local figures
  figures=$(python3 - "$dir/race.json" <<'PY'
import json, sys
race = json.load(open(sys.argv[1]))
if "push" not in race:
    print("no figures: the race stopped before its rounds")
    sys.exit(0)
def mixes(tally):
    return ", ".join(f"{shape} in {count}" for shape, count in sorted(tally["round_mixes"].items(), key=lambda i: -i[1]))
def counts(d):
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "none"
push, chal, user, after = race["push"], race["sms_via_challenge"], race["sms_via_user"], race["after"]
print(f"{push['rounds']} push rounds of one device's approval x {race['racers']} (each signed afresh) over {race['nodes']} nodes: "
      f"approved per round {push['allows_per_round']}, answers {mixes(push)}, approved by node 1/2 "
      f"{push['allowed_by_node'][0]}/{push['allowed_by_node'][1]}; losers told {counts(push['loser_messages'])}; "
      f"read by the application {counts(after['push_read_by_app'])}, a code sent to it {counts(after['push_code_sent'])}, "
      f"one more answer {counts(after['push_answer_again'])}, device list after {counts(after['push_device_list_after'])}; "
      f"{chal['rounds']} SMS rounds via the challenge: allows per round {chal['allows_per_round']}, answers {mixes(chal)}; "
      f"losers told {counts(chal['loser_messages'])}; code again {counts(after['sms_code_again'])}; "
      f"{user['rounds']} SMS rounds via the user: allows per round {user['allows_per_round']}, answers {mixes(user)}; "
      f"exports {counts(after['sms_export'])}; round median push {push['round_ms_median']} ms, SMS "
      f"{chal['round_ms_median']}/{user['round_ms_median']} ms (max {max(push['round_ms_max'], chal['round_ms_max'], user['round_ms_max'])}), "
      f"sends spread median {push['send_spread_ms_median']}/{chal['send_spread_ms_median']}/{user['send_spread_ms_median']} ms; "
      f"racing {race['race_seconds']} s, enrolling {race['enroll_seconds']} s, waiting for the SMS budget {race['budget_wait_seconds']} s")
PY
)
  rel_verdict "$figures; one API key" "$total"
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
