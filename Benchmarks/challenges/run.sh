#!/usr/bin/env bash
# The challenge benchmark: SMS challenges created and completed per second through the webhook
# provider on loopback, against HOTP verifications per second measured in the same run; the delay
# between a challenge's answer and its long poll's return, on one node and across two nodes; and
# both again while a voice provider hangs. See Benchmarks/challenges/README.md.
#
#   Benchmarks/challenges/run.sh [single|nodes|all]      (default: all)
#
# single: the release binary on a free loopback port with a fresh data folder (SQLite, its durable
#   default), its SMS webhook pointing at bench.py's gateway and its voice webhook at a second
#   gateway that answers while the voice users enroll and then hangs (accepts, never answers).
#   bench.py enrolls CHALLENGE_HOTP_USERS users in HOTP, CHALLENGE_USERS in SMS (each its own
#   number, spread over 792 "+1" area codes: the pumping guard's prefixes) and
#   CHALLENGE_VOICE_USERS in voice, over the API, then measures, CHALLENGE_RUNS runs of
#   CHALLENGE_DURATION s each:
#     1. HOTP verify requests/s with valid codes (the reference);
#     2. challenges/s: POST …/challenges {"type":"sms"} → the code at the gateway →
#        POST /v1/challenges/{id}/verify, expecting allow;
#     3. long-poll delay: GET /v1/challenges/{id}?wait=30 on one connection, the code verified on
#        another; from the verify's answer to the poll's (CHALLENGE_LP_SAMPLES samples);
#     4. 2 and 3 again while CHALLENGE_VOICE_RATE voice challenges a second hang on the provider.
# nodes: a throwaway PostgreSQL 15 (fsync on), two `twofold serve` nodes on one database sharing a
#   master key, the same gateways; CHALLENGE_NODE_USERS users enrolled through node A; the
#   long-poll delay with poll and answer on node A, then the poll on A and the answer on B.
# Server CPU (utime + stime from /proc/PID/stat) per operation is reported beside each rate, with
# the client's CPU (every bench.py process: gateways and drivers) and the machine's.
#
# Exits 1 when any operation failed (a deny, an unexpected status, a code that did not reach the
# gateway within CHALLENGE_CODE_TIMEOUT s), when a server failed to start, or when a server did
# not stop cleanly on SIGTERM.
#
# Environment (defaults in brackets):
#   TWOFOLD_BIN              [<repo>/.build/release/twofold] swift build -c release --product twofold
#   CHALLENGE_USERS          [20000] SMS users; each sends at most 4 challenges (5 an hour, the
#                            enrollment took one) at least 31 s apart, so a run of R ops/s for D s
#                            needs about R × D users, and the whole benchmark 2 × RUNS × R × D / 4
#   CHALLENGE_HOTP_USERS     [2000] HOTP users for the verify reference
#   CHALLENGE_VOICE_USERS    [400] voice users; each gets one voice challenge during step 4
#   CHALLENGE_VOICE_RATE     [4] voice challenges a second during step 4
#   CHALLENGE_HANG_WARMUP    [20] seconds of voice load before step 4 measures
#   CHALLENGE_RUNS           [3] runs of each rate
#   CHALLENGE_DURATION       [10] seconds of each run
#   CHALLENGE_THREADS        [32] client threads (each with its own keep-alive connection), split
#                            over CHALLENGE_PROCS processes
#   CHALLENGE_PROCS          [2] driver processes (Python's GIL: one process saturates first)
#   CHALLENGE_LP_SAMPLES     [300] long polls measured per step
#   CHALLENGE_LP_THREADS     [8] long polls at a time
#   CHALLENGE_CODE_TIMEOUT   [20] seconds a code may take to reach the gateway
#   CHALLENGE_NODE_USERS     [1200] users of the two-node part
#   CHALLENGE_PG_PORT        [54510] port of the throwaway PostgreSQL
#   CHALLENGE_PG_DIR         [/tmp/twofold-challenges-pg] its folder (deleted at the end)
#   CHALLENGE_KEEP           set to keep the work folder (server logs, JSON results)
#   TWOFOLD_LOG_LEVEL        passed to the servers [info: one line per request]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
which=${1:-all}
case $which in single | nodes | all) ;; *) echo "usage: $0 [single|nodes|all]" >&2; exit 2 ;; esac

export TWOFOLD_BIN=${TWOFOLD_BIN:-$root/.build/release/twofold}
users=${CHALLENGE_USERS:-20000}
hotp_users=${CHALLENGE_HOTP_USERS:-2000}
voice_users=${CHALLENGE_VOICE_USERS:-400}
voice_rate=${CHALLENGE_VOICE_RATE:-4}
hang_warmup=${CHALLENGE_HANG_WARMUP:-20}
runs=${CHALLENGE_RUNS:-3}
duration=${CHALLENGE_DURATION:-10}
threads=${CHALLENGE_THREADS:-32}
procs=${CHALLENGE_PROCS:-2}
lp_samples=${CHALLENGE_LP_SAMPLES:-300}
lp_threads=${CHALLENGE_LP_THREADS:-8}
code_timeout=${CHALLENGE_CODE_TIMEOUT:-20}
node_users=${CHALLENGE_NODE_USERS:-1200}
pg_port=${CHALLENGE_PG_PORT:-54510}
pg_dir=${CHALLENGE_PG_DIR:-/tmp/twofold-challenges-pg}

log() { printf 'challenges: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

for tool in python3 curl; do
  command -v "$tool" > /dev/null || fail "$tool is missing (apt-get install -y python3 python3-pyotp curl)"
done
python3 -c 'import pyotp' 2> /dev/null || fail "python3 cannot import pyotp (pip install pyotp, or apt-get install python3-pyotp)"
[ -x "$TWOFOLD_BIN" ] || fail "no executable at $TWOFOLD_BIN: build it with 'swift build -c release --product twofold', or set TWOFOLD_BIN"

work=$(mktemp -d /tmp/twofold-challenges.XXXXXX)
node_pids=()
pg_started=""
cleanup() {
  local pid
  for pid in "${node_pids[@]}"; do
    if kill -0 "$pid" 2> /dev/null; then
      kill -KILL "$pid" 2> /dev/null || true
      wait "$pid" 2> /dev/null || true
    fi
  done
  if [ -n "$pg_started" ]; then "$root/provisioning/postgres/stop-throwaway.sh" "$pg_dir" > /dev/null 2>&1 || true; fi
  if [ -z "${CHALLENGE_KEEP:-}" ]; then rm -rf "$work"; else log "kept $work"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# `env` arguments that drop every TWOFOLD_* setting of the caller's environment: the servers get
# only the settings given here.
clean_env=()
while IFS='=' read -r name _; do
  case $name in TWOFOLD_*) clean_env+=(-u "$name") ;; esac
done < <(env)

sms_port=$(free_port)
voice_port=$(free_port)
secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
# Handed to bench.py in its environment, never on its command line.
export TWOFOLD_BENCH_WEBHOOK_SECRET=$secret

# start_node NAME STORE [MASTER_KEY_FILE]: starts `twofold serve` with a fresh data folder on a free
# loopback port and waits until it is ready; sets NODE_PID, NODE_URL, NODE_DIR.
start_node() {
  local name=$1 store=$2 key_file=${3:-}
  NODE_DIR=$work/$name
  mkdir -p "$NODE_DIR/data"
  local port
  port=$(free_port)
  NODE_URL=http://127.0.0.1:$port
  local extra=()
  if [ -n "$key_file" ]; then extra+=("TWOFOLD_MASTER_KEY_FILE=$key_file"); fi
  env "${clean_env[@]}" \
    TWOFOLD_DATA_DIR="$NODE_DIR/data" \
    TWOFOLD_LISTEN="127.0.0.1:$port" \
    TWOFOLD_STORE="$store" \
    TWOFOLD_LOG_FORMAT=text \
    TWOFOLD_LOG_LEVEL="${TWOFOLD_LOG_LEVEL:-info}" \
    TWOFOLD_PUBLIC_URL="$NODE_URL" \
    TWOFOLD_SMS_PROVIDERS=webhook \
    TWOFOLD_SMS_WEBHOOK_URL="http://127.0.0.1:$sms_port/sms" \
    TWOFOLD_VOICE_PROVIDERS=webhook \
    TWOFOLD_VOICE_WEBHOOK_URL="http://127.0.0.1:$voice_port/voice" \
    TWOFOLD_WEBHOOK_SECRET="$secret" \
    TWOFOLD_SMS_DAILY_LIMIT=10000000 \
    "${extra[@]}" \
    "$TWOFOLD_BIN" serve > "$NODE_DIR/server.log" 2>&1 &
  NODE_PID=$!
  node_pids+=("$NODE_PID")
  local waited=0
  until curl -fsS -o /dev/null "$NODE_URL/readyz" 2> /dev/null; do
    kill -0 "$NODE_PID" 2> /dev/null || { tail -n 20 "$NODE_DIR/server.log" >&2; fail "$name exited before it was ready"; }
    (( waited < 600 )) || { tail -n 20 "$NODE_DIR/server.log" >&2; fail "$name was not ready within 60 s"; }
    sleep 0.1
    waited=$((waited + 1))
  done
  log "$name serving at $NODE_URL (pid $NODE_PID, store ${store%%:*})"
}

# stop_node PID NAME: SIGTERM, then a clean exit within 60 s (deliveries in flight are drained).
stop_node() {
  local pid=$1 name=$2 waited=0 status=0 started=$SECONDS
  kill -TERM "$pid"
  while kill -0 "$pid" 2> /dev/null; do
    (( waited < 600 )) || fail "$name did not stop within 60 s of SIGTERM"
    sleep 0.1
    waited=$((waited + 1))
  done
  wait "$pid" || status=$?
  [ "$status" -eq 0 ] || fail "$name exited with status $status after SIGTERM"
  log "$name stopped cleanly in $((SECONDS - started)) s"
}

bench_args=(--sms-port "$sms_port" --voice-port "$voice_port" --threads "$threads" --procs "$procs"
  --runs "$runs" --duration "$duration" --lp-samples "$lp_samples" --lp-threads "$lp_threads" --code-timeout "$code_timeout")
log "$(nproc) cores, load average $(cut -d ' ' -f 1-3 /proc/loadavg); binary $TWOFOLD_BIN; $threads client threads in $procs processes; runs of ${duration} s"
status=0
results=()

if [ "$which" != nodes ]; then
  start_node single "sqlite:$work/single/data/twofold.sqlite"
  TWOFOLD_BENCH_API_KEY=$(tr -d '\n' < "$NODE_DIR/data/initial-api-key"); export TWOFOLD_BENCH_API_KEY
  python3 "$here/bench.py" single --url "$NODE_URL" --pids "$NODE_PID" --out "$work/single.json" "${bench_args[@]}" \
    --users "$users" --hotp-users "$hotp_users" --voice-users "$voice_users" --voice-rate "$voice_rate" --hang-warmup "$hang_warmup" \
    || status=1
  log "single: server peak RSS $(awk '/^VmHWM:/ { printf "%.1f MB", $2 * 1024 / 1e6 }' "/proc/$NODE_PID/status")"
  stop_node "$NODE_PID" single
  [ -s "$work/single.json" ] && results+=("$work/single.json")
fi

if [ "$which" != single ]; then
  url=$(TWOFOLD_PG_DIR=$pg_dir TWOFOLD_PG_DURABLE=1 "$root/provisioning/postgres/start-throwaway.sh" "$pg_port" | tail -n 1)
  pg_started=1
  mkdir -p "$work/keys"
  env "${clean_env[@]}" "$TWOFOLD_BIN" keys generate "$work/keys/master.key" > /dev/null || fail "twofold keys generate failed"
  start_node node-a "$url" "$work/keys/master.key"
  pid_a=$NODE_PID url_a=$NODE_URL
  TWOFOLD_BENCH_API_KEY=$(tr -d '\n' < "$NODE_DIR/data/initial-api-key"); export TWOFOLD_BENCH_API_KEY
  start_node node-b "$url" "$work/keys/master.key"
  pid_b=$NODE_PID url_b=$NODE_URL
  python3 "$here/bench.py" nodes --url "$url_a" --url-b "$url_b" --pids "$pid_a,$pid_b" --out "$work/nodes.json" \
    "${bench_args[@]}" --users "$node_users" || status=1
  stop_node "$pid_a" node-a
  stop_node "$pid_b" node-b
  "$root/provisioning/postgres/stop-throwaway.sh" "$pg_dir" > /dev/null 2>&1 || true
  pg_started=""
  [ -s "$work/nodes.json" ] && results+=("$work/nodes.json")
fi

(( ${#results[@]} > 0 )) || fail "no results"
python3 "$here/bench.py" report "${results[@]}" || status=1
exit $status
