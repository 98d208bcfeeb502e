#!/usr/bin/env bash
# The push benchmark: the latency of a push round trip on loopback (challenge created → device
# notified through Web Push → device approves → long poll returns), p50 and p99 with its parts,
# and signed device answers (and device list requests) per second, against GET /healthz
# requests/s measured in the same run. See Benchmarks/push/README.md.
#
#   Benchmarks/push/run.sh
#
# The release binary on a free loopback port with a fresh data folder (SQLite, its durable
# default), in development (http:// push endpoints on loopback allowed), with
# TWOFOLD_PUSH_PROVIDERS=webpush, a fresh VAPID key and TWOFOLD_VAPID_SUBJECT. bench.py enrolls
# PUSH_USERS users over the API, each with a device of its own (a P-256 signing key, and a Web
# Push subscription with real p256dh/auth keys whose endpoint is bench.py's push service on a
# second loopback port), then measures:
#   1. GET /healthz requests/s, PUSH_RUNS runs of PUSH_DURATION s (the reference);
#   2. round trip: PUSH_RT_SAMPLES pushes, PUSH_RT_THREADS at a time, each thread pausing
#      0–2 × PUSH_RT_PAUSE s between its round trips (a lightly loaded server), after 2 a thread
#      that are not counted (cold connections); then as many again back to back (no pause).
#      The push service checks the VAPID header and decrypts the aes128gcm message, the device
#      fetches the challenge and approves it with the number (signed requests) while a long
#      poll waits for the answer;
#   3. PUSH_RUNS times: PUSH_ANSWER_SET pushes created and delivered, then signed
#      GET /v1/devices/{d}/challenges flat out for PUSH_DURATION s, then every push approved
#      with a signed POST flat out.
# Server CPU (utime + stime from /proc/PID/stat) per operation is reported beside each rate, with
# the client's CPU (every bench.py process: push service and drivers) and the machine's.
#
# Exits 1 when any operation failed (an unexpected status or answer, a push that did not reach
# the push service within PUSH_TIMEOUT s or failed its checks), when the server failed to start,
# or when it did not stop cleanly on SIGTERM.
#
# Environment (defaults in brackets):
#   TWOFOLD_BIN       [<repo>/.build/release/twofold] swift build -c release --product twofold
#   PUSH_USERS        [2 × PUSH_RT_SAMPLES + 2 × PUSH_ANSWER_SET] users, a push device each; a user
#                     is pushed at most 4 times (5 an hour is the budget), at least 31 s apart:
#                     the third run's pushes go to the first run's users, by then 31 s later
#   PUSH_RUNS         [3] runs of each rate
#   PUSH_DURATION     [5] seconds of each /healthz and device list run
#   PUSH_THREADS      [16] client threads of the rate runs (each with its own keep-alive
#                     connection), split over PUSH_PROCS processes
#   PUSH_PROCS        [2] driver processes (Python's GIL: one process saturates first)
#   PUSH_ANSWER_SET   [5000] pushes created, then answered, per run (each open 2 minutes)
#   PUSH_RT_SAMPLES   [300] round trips measured
#   PUSH_RT_THREADS   [4] round trips at a time
#   PUSH_RT_PAUSE     [0.05] mean seconds between a thread's paced round trips
#   PUSH_TIMEOUT      [20] seconds a push may take to reach the push service
#   PUSH_KEEP         set to keep the work folder (server log, JSON results)
#   TWOFOLD_LOG_LEVEL passed to the server [info: one line per request]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

export TWOFOLD_BIN=${TWOFOLD_BIN:-$root/.build/release/twofold}
runs=${PUSH_RUNS:-3}
duration=${PUSH_DURATION:-5}
threads=${PUSH_THREADS:-16}
procs=${PUSH_PROCS:-2}
answer_set=${PUSH_ANSWER_SET:-5000}
rt_samples=${PUSH_RT_SAMPLES:-300}
users=${PUSH_USERS:-$((2 * rt_samples + 2 * answer_set))}
rt_threads=${PUSH_RT_THREADS:-4}
rt_pause=${PUSH_RT_PAUSE:-0.05}
push_timeout=${PUSH_TIMEOUT:-20}
subject=mailto:bench@example.com

log() { printf 'push: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

for tool in python3 curl; do
  command -v "$tool" > /dev/null || fail "$tool is missing (apt-get install -y python3 curl)"
done
python3 -c 'import cryptography, http_ece' 2> /dev/null \
  || fail "python3 cannot import cryptography and http_ece (pip install -r Tests/Scripts/requirements.txt)"
[ -x "$TWOFOLD_BIN" ] || fail "no executable at $TWOFOLD_BIN: build it with 'swift build -c release --product twofold', or set TWOFOLD_BIN"

work=$(mktemp -d /tmp/twofold-push.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2> /dev/null; then
    kill -KILL "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
  fi
  if [ -z "${PUSH_KEEP:-}" ]; then rm -rf "$work"; else log "kept $work"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# `env` arguments that drop every TWOFOLD_* setting of the caller's environment: the server gets
# only the settings given here (TWOFOLD_ENV among them: development, the default).
clean_env=()
while IFS='=' read -r name _; do
  case $name in TWOFOLD_*) clean_env+=(-u "$name") ;; esac
done < <(env)

# The VAPID key: PKCS#8 PEM, readable by its owner only.
(umask 077 && python3 -c '
import sys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
sys.stdout.buffer.write(ec.generate_private_key(ec.SECP256R1()).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
' > "$work/vapid.pem")

push_port=$(free_port)
port=$(free_port)
url=http://127.0.0.1:$port
mkdir -p "$work/data"
env "${clean_env[@]}" \
  TWOFOLD_DATA_DIR="$work/data" \
  TWOFOLD_LISTEN="127.0.0.1:$port" \
  TWOFOLD_STORE="sqlite:$work/data/twofold.sqlite" \
  TWOFOLD_LOG_FORMAT=text \
  TWOFOLD_LOG_LEVEL="${TWOFOLD_LOG_LEVEL:-info}" \
  TWOFOLD_PUBLIC_URL="$url" \
  TWOFOLD_PUSH_PROVIDERS=webpush \
  TWOFOLD_VAPID_KEY_FILE="$work/vapid.pem" \
  TWOFOLD_VAPID_SUBJECT="$subject" \
  "$TWOFOLD_BIN" serve > "$work/server.log" 2>&1 &
server_pid=$!
waited=0
until curl -fsS -o /dev/null "$url/readyz" 2> /dev/null; do
  kill -0 "$server_pid" 2> /dev/null || { tail -n 20 "$work/server.log" >&2; fail "the server exited before it was ready"; }
  (( waited < 600 )) || { tail -n 20 "$work/server.log" >&2; fail "the server was not ready within 60 s"; }
  sleep 0.1
  waited=$((waited + 1))
done
log "serving at $url (pid $server_pid); push service on 127.0.0.1:$push_port"
log "$(nproc) cores, load average $(cut -d ' ' -f 1-3 /proc/loadavg); binary $TWOFOLD_BIN; $threads client threads in $procs processes"
TWOFOLD_BENCH_API_KEY=$(tr -d '\n' < "$work/data/initial-api-key"); export TWOFOLD_BENCH_API_KEY

status=0
python3 "$here/bench.py" run --url "$url" --pids "$server_pid" --push-port "$push_port" --vapid-subject "$subject" \
  --out "$work/push.json" --users "$users" --runs "$runs" --duration "$duration" --threads "$threads" --procs "$procs" \
  --answer-set "$answer_set" --rt-samples "$rt_samples" --rt-threads "$rt_threads" --rt-pause "$rt_pause" --push-timeout "$push_timeout" \
  || status=1
log "server peak RSS $(awk '/^VmHWM:/ { printf "%.1f MB", $2 * 1024 / 1e6 }' "/proc/$server_pid/status")"
errors=$(grep -c -E ' (error|critical) ' "$work/server.log" || true)
[ "$errors" -eq 0 ] || { log "the server logged $errors error lines, first:"; grep -m 5 -E ' (error|critical) ' "$work/server.log" >&2; status=1; }

# SIGTERM, then a clean exit within 60 s (wake-ups in flight are drained).
started=$SECONDS
kill -TERM "$server_pid"
waited=0
while kill -0 "$server_pid" 2> /dev/null; do
  (( waited < 600 )) || fail "the server did not stop within 60 s of SIGTERM"
  sleep 0.1
  waited=$((waited + 1))
done
exit_status=0
wait "$server_pid" || exit_status=$?
server_pid=""
[ "$exit_status" -eq 0 ] || fail "the server exited with status $exit_status after SIGTERM"
log "server stopped cleanly in $((SECONDS - started)) s"

[ -s "$work/push.json" ] || fail "no results"
python3 "$here/bench.py" report "$work/push.json" || status=1
exit $status
