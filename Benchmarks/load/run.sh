#!/usr/bin/env bash
# The HTTP load benchmark: verify requests per second, latency and memory of the real
# `twofold serve`, against the same server's `GET /healthz` (its floor: the HTTP stack, the
# middleware and the log line, nothing of a verification) and nginx serving a static 5-byte file,
# with the same wrk settings in the same run. See Benchmarks/load/README.md.
#
#   Benchmarks/load/run.sh [sqlite|postgres|all]      (default: all)
#
# For each store: start the release binary on a free loopback port with a fresh data folder
# (SQLite with its default durable settings, or a fresh database on a throwaway PostgreSQL with
# fsync on), enroll LOAD_USERS users in an HOTP factor over the API (enroll.py), then
#   1. nginx, flat out:   wrk -t THREADS -c CONNECTIONS -d DURATION --latency
#   1b. twofold /healthz, flat out: the same settings (the reference the targets are ratios to)
#   2. twofold warm-up:   the same, for LOAD_WARMUP seconds (not reported)
#   3. twofold, paced:    LOAD_RATE requests/s over the same connections for LOAD_RATE_DURATION
#                         (the latency target is this steady rate's)
#   4. twofold, flat out: the same as 1, every request a verify with a valid, unused code
#   5. twofold, paced again, right after the flat-out run: what the same rate meets while the
#      store still works off the flat-out run (PostgreSQL's checkpoint of it, for one); reported
#      beside, not checked against the target
# and read the server's peak RSS (VmHWM). A run where more than 1% of the verify answers were
# not "allow" (or a thread ran out of codes) is a failed run: the script exits 1.
#
# Environment (defaults in brackets):
#   TWOFOLD_BIN          [<repo>/.build/release/twofold] build it with swift build -c release
#   LOAD_USERS           [2000] users enrolled; at least 4 × LOAD_CONNECTIONS
#   LOAD_THREADS         [2] wrk threads
#   LOAD_CONNECTIONS     [64] wrk connections
#   LOAD_DURATION        [20] seconds of each flat-out run
#   LOAD_WARMUP          [5] seconds of warm-up before twofold's flat-out run
#   LOAD_RATE            [2000] requests/s of the paced run
#   LOAD_RATE_DURATION   [20] seconds of the paced run
#   LOAD_MAX_RPS         [30000] the fastest rate codes are precomputed for; a thread that runs
#                        out of codes stops and fails the run
#   LOAD_LOG_FORMAT      [text] the server's TWOFOLD_LOG_FORMAT (text is its default; json is what
#                        log collectors read); TWOFOLD_LOG_LEVEL passes through (default info: one
#                        line per request)
#   LOAD_PG_PORT         [54500] port of the throwaway PostgreSQL
#   LOAD_PG_DIR          [/tmp/twofold-load-pg] its folder (deleted at the end)
#   LOAD_KEEP            set to keep the work folder (codes, wrk output, server logs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
which=${1:-all}
case $which in sqlite | postgres | all) ;; *) echo "usage: $0 [sqlite|postgres|all]" >&2; exit 2 ;; esac

export TWOFOLD_BIN=${TWOFOLD_BIN:-$root/.build/release/twofold}
users=${LOAD_USERS:-2000}
threads=${LOAD_THREADS:-2}
connections=${LOAD_CONNECTIONS:-64}
duration=${LOAD_DURATION:-20}
warmup=${LOAD_WARMUP:-5}
rate=${LOAD_RATE:-2000}
rate_duration=${LOAD_RATE_DURATION:-20}
max_rps=${LOAD_MAX_RPS:-30000}
pg_port=${LOAD_PG_PORT:-54500}
pg_dir=${LOAD_PG_DIR:-/tmp/twofold-load-pg}
export SERVE_LOG_FORMAT=${LOAD_LOG_FORMAT:-text}

# shellcheck source=Benchmarks/load/common.sh
source "$here/common.sh"
require_load_tools wrk nginx
(( users >= 4 * connections )) || fail "LOAD_USERS ($users) must be at least 4 × LOAD_CONNECTIONS ($connections), so that a user's codes arrive in order"
(( connections % threads == 0 )) || fail "LOAD_CONNECTIONS ($connections) must be a multiple of LOAD_THREADS ($threads)"

work=$(mktemp -d /tmp/twofold-load.XXXXXX)
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2> /dev/null; then
    kill -QUIT "$nginx_pid" 2> /dev/null || true
    wait "$nginx_pid" 2> /dev/null || true
  fi
  if [ "$which" != sqlite ]; then "$root/provisioning/postgres/stop-throwaway.sh" "$pg_dir" > /dev/null 2>&1 || true; fi
  if [ -z "${LOAD_KEEP:-}" ]; then rm -rf "$work"; else log "kept $work"; fi
}
trap cleanup EXIT

# --- nginx, the reference: a 5-byte file, keep-alive, no access log ---------------------------
nginx_port=$(free_port)
mkdir -p "$work/nginx/www" "$work/nginx/tmp"
printf 'hello' > "$work/nginx/www/hello"
chmod -R a+rX "$work"
cat > "$work/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  # One access-log line per request into a file, nginx's default (Debian's nginx.conf logs
  # every request the same way): Twofold writes one log line per request too.
  access_log $work/nginx/access.log;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  default_type text/plain;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/nginx/www;
  }
}
EOF
nginx -e "$work/nginx/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2> "$work/nginx/stderr.log" &
nginx_pid=$!
for _ in $(seq 1 50); do
  [ "$(curl -fsS "http://127.0.0.1:$nginx_port/hello" 2> /dev/null)" = hello ] && break
  sleep 0.1
done
[ "$(curl -fsS "http://127.0.0.1:$nginx_port/hello")" = hello ] || fail "nginx does not serve the file (see $work/nginx/error.log)"
log "nginx (reference) at http://127.0.0.1:$nginx_port/hello"

# --- one store ----------------------------------------------------------------------------------
codes_per_user=$(( (max_rps * (warmup + duration) + 2 * rate * rate_duration * 11 / 10) / users + 20 ))

run_store() {
  local store=$1 dir=$work/$1
  mkdir -p "$dir"
  # shellcheck disable=SC2034 # read by serve_helpers.sh
  SERVE_NAME=load
  # shellcheck source=Tests/Scripts/serve_helpers.sh
  source "$root/Tests/Scripts/serve_helpers.sh"
  if [ "$store" = postgres ]; then
    local url
    url=$(TWOFOLD_PG_DIR=$pg_dir TWOFOLD_PG_DURABLE=1 "$root/provisioning/postgres/start-throwaway.sh" "$pg_port" | tail -n 1)
    serve_start "$url"
  else
    serve_start sqlite
  fi
  python3 "$here/enroll.py" "$SERVE_URL" "$SERVE_KEY" "$users" "$codes_per_user" "$dir/codes" "$dir/state"

  export LOAD_CODES=$dir/codes LOAD_STATE=$dir/state LOAD_KEY=$SERVE_KEY LOAD_HOST=127.0.0.1:$SERVE_PORT LOAD_THREADS=$threads LOAD_SCRIPTS=$here
  local nginx_workers
  nginx_workers=$(pgrep -P "$nginx_pid" | tr '\n' ' ')

  # wrk_run NAME PIDS… -- WRK ARGS: runs wrk, appends "name=… server_cpu_s=… machine_cpu_s=…"
  # and wrk's result line to $dir/NAME.
  wrk_run() {
    local name=$1; shift
    local pids=()
    while [ "$1" != -- ]; do pids+=("$1"); shift; done
    shift
    # PostgreSQL's processes (the server and its backends), when it runs: their CPU is the store's.
    local db_pids=()
    if [ "$store" = postgres ]; then read -r -a db_pids <<< "$(pgrep -u postgres | tr '\n' ' ')"; fi
    local cpu_before busy_before db_before switches_before
    cpu_before=$(cpu_seconds "${pids[@]}")
    switches_before=$(context_switches "${pids[0]}")
    db_before=$(cpu_seconds "${db_pids[@]}")
    busy_before=$(machine_busy_seconds)
    LOAD_RESULT=$dir/$name.result /usr/bin/time -o "$dir/$name.time" -f '%U %S' wrk "$@" > "$dir/$name.wrk" 2>&1 \
      || { cat "$dir/$name.wrk" >&2; fail "wrk failed ($name)"; }
    local cpu_after busy_after db_after switches_after
    cpu_after=$(cpu_seconds "${pids[@]}")
    switches_after=$(context_switches "${pids[0]}")
    db_after=$(cpu_seconds "${db_pids[@]}")
    busy_after=$(machine_busy_seconds)
    [ -s "$dir/$name.result" ] || { cat "$dir/$name.wrk" >&2; fail "wrk reported nothing ($name)"; }
    printf '%s wrk_cpu_s=%s server_cpu_s=%s postgres_cpu_s=%s machine_cpu_s=%s context_switches=%s\n' "$(tail -n 1 "$dir/$name.result")" \
      "$(awk '{ printf "%.2f", $1 + $2 }' "$dir/$name.time")" \
      "$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%.2f", b - a }')" \
      "$(awk -v a="$db_before" -v b="$db_after" 'BEGIN { printf "%.2f", b - a }')" \
      "$(awk -v a="$busy_before" -v b="$busy_after" 'BEGIN { printf "%.2f", b - a }')" \
      "$((switches_after - switches_before))" > "$dir/$name.line"
    log "$store $name: $(cat "$dir/$name.line")"
  }
  local flat_out=(-t "$threads" -c "$connections" -d "${duration}s" --timeout 5s --latency)
  local url=$SERVE_URL/
  # shellcheck disable=SC2086
  wrk_run nginx $nginx_workers -- "${flat_out[@]}" -s "$here/report.lua" "http://127.0.0.1:$nginx_port/hello"
  wrk_run healthz "$SERVE_PID" -- "${flat_out[@]}" -s "$here/report.lua" "$SERVE_URL/healthz"
  LOAD_PACE=0 wrk_run warmup "$SERVE_PID" -- -t "$threads" -c "$connections" -d "${warmup}s" --timeout 5s -s "$here/verify.lua" "$url"
  local paced=(-t "$threads" -c "$connections" -d "${rate_duration}s" --timeout 5s --latency -s "$here/verify.lua" "$url")
  LOAD_PACE=$rate wrk_run paced "$SERVE_PID" -- "${paced[@]}"
  LOAD_PACE=0 wrk_run flat "$SERVE_PID" -- "${flat_out[@]}" -s "$here/verify.lua" "$url"
  LOAD_PACE=$rate wrk_run after_flat "$SERVE_PID" -- "${paced[@]}"

  local peak_kb
  peak_kb=$(status_kb "$SERVE_PID" VmHWM)
  printf 'peak_rss_kb=%s\n' "$peak_kb" > "$dir/rss.line"
  log "$store: peak RSS $(awk -v k="$peak_kb" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }') MB; at the end: $(grep -E '^(VmRSS|RssAnon|RssFile|Threads)' "/proc/$SERVE_PID/status" | tr -s ' \t' ' ' | paste -sd ',' -)"
  serve_stop
  if [ "$store" = postgres ]; then "$root/provisioning/postgres/stop-throwaway.sh" "$pg_dir" > /dev/null 2>&1 || true; fi
}

stores=()
case $which in all) stores=(sqlite postgres) ;; *) stores=("$which") ;; esac
log "$(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d ' ' -f 1-3 /proc/loadavg); $users users, wrk -t $threads -c $connections, ${duration} s flat out, ${rate} req/s for ${rate_duration} s; server log ${TWOFOLD_LOG_LEVEL:-info}, $SERVE_LOG_FORMAT"
for store in "${stores[@]}"; do
  ( run_store "$store" ) || fail "the $store run failed"
done

# --- summary --------------------------------------------------------------------------------------
# per_request LINE FIELD SCALE: FIELD of a result line per request it served, times SCALE.
per_request() { awk -v c="$(field "$1" "$2")" -v r="$(field "$1" requests)" -v k="$3" 'BEGIN { printf "%.1f", r ? k * c / r : 0 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
failed=0
rows=()
printf '\n%-9s %10s %8s %8s %12s %10s %9s %13s %13s %12s %9s %8s\n' store "req/s" p50 p99 "/healthz r/s" "× healthz" "× nginx" "p99 @ $rate/s" "(achieved/s)" "(after flat)" "peak RSS" "% allow"
for store in "${stores[@]}"; do
  dir=$work/$store
  flat_line=$(cat "$dir/flat.line") paced_line=$(cat "$dir/paced.line") nginx_line=$(cat "$dir/nginx.line")
  after_line=$(cat "$dir/after_flat.line") healthz_line=$(cat "$dir/healthz.line")
  rps=$(field "$flat_line" rps) nginx_rps=$(field "$nginx_line" rps) healthz_rps=$(field "$healthz_line" rps)
  peak_kb=$(sed -n 's/^peak_rss_kb=//p' "$dir/rss.line")
  allow=$(( $(field "$flat_line" allow) + $(field "$paced_line" allow) + $(field "$after_line" allow) ))
  answered=$(( $(field "$flat_line" answered) + $(field "$paced_line" answered) + $(field "$after_line" answered) ))
  lost=$(( $(field "$flat_line" errors_timeout) + $(field "$paced_line" errors_timeout) + $(field "$after_line" errors_timeout) ))
  exhausted=$(( $(field "$flat_line" exhausted) + $(field "$paced_line" exhausted) + $(field "$after_line" exhausted) ))
  allow_pct=$(awk -v a="$allow" -v n="$((answered + lost))" 'BEGIN { printf "%.2f", n ? 100 * a / n : 0 }')
  printf '%-9s %10.0f %6.2fms %6.2fms %12.0f %10.2f %9.2f %11.2fms %13.0f %10.2fms %7.1f MB %8s\n' "$store" "$rps" \
    "$(field "$flat_line" p50_ms)" "$(field "$flat_line" p99_ms)" "$healthz_rps" "$(ratio "$rps" "$healthz_rps")" \
    "$(ratio "$rps" "$nginx_rps")" \
    "$(field "$paced_line" p99_ms)" "$(field "$paced_line" rps)" "$(field "$after_line" p99_ms)" \
    "$(awk -v k="$peak_kb" 'BEGIN { print k * 1024 / 1e6 }')" "$allow_pct"
  if awk -v p="$allow_pct" 'BEGIN { exit !(p < 99) }'; then
    log "FAIL: $store: only $allow_pct% of the verify answers were allow (not allow, flat out: $(field "$flat_line" reasons); paced: $(field "$paced_line" reasons); after: $(field "$after_line" reasons))"
    failed=1
  fi
  if (( exhausted > 0 )); then
    log "FAIL: $store: wrk threads ran out of precomputed codes and stopped early; raise LOAD_MAX_RPS"
    failed=1
  fi
  rows+=("$store")
done

printf '\nTargets (issue 21), each a ratio to /healthz of the same server in the same run:\n'
for store in "${rows[@]}"; do
  dir=$work/$store
  flat_line=$(cat "$dir/flat.line") paced_line=$(cat "$dir/paced.line") healthz_line=$(cat "$dir/healthz.line")
  peak_kb=$(sed -n 's/^peak_rss_kb=//p' "$dir/rss.line")
  rps=$(field "$flat_line" rps) healthz_rps=$(field "$healthz_line" rps) paced_p99=$(field "$paced_line" p99_ms)
  cpu_verify=$(per_request "$flat_line" server_cpu_s 1e6) cpu_healthz=$(per_request "$healthz_line" server_cpu_s 1e6)
  verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }
  minimum=0.4
  if [ "$store" = postgres ]; then minimum=0.3; fi
  printf '  %-9s verify ≥ %s × /healthz: %s (%s)   CPU per verify ≤ 2.5 × per /healthz: %s (%s µs / %s µs = %s)\n' "$store" \
    "$minimum" "$(verdict "$rps >= $minimum * $healthz_rps")" "$(ratio "$rps" "$healthz_rps")" \
    "$(verdict "$cpu_verify <= 2.5 * $cpu_healthz")" "$cpu_verify" "$cpu_healthz" "$(ratio "$cpu_verify" "$cpu_healthz")"
  printf '  %-9s p99 < 10 ms at %s/s: %s (%.2f ms)   peak RSS < 64 MB: %s (%.1f MB)\n' "" \
    "$rate" "$(verdict "$paced_p99 < 10")" "$paced_p99" "$(verdict "$peak_kb * 1024 < 64000000")" "$(awk -v k="$peak_kb" 'BEGIN { print k * 1024 / 1e6 }')"
  printf '  %-9s flat out: CPU per verify %s µs in twofold, %s µs in PostgreSQL; context switches per request: /healthz %s, verify %s, paced %s\n' "" \
    "$cpu_verify" "$(per_request "$flat_line" postgres_cpu_s 1e6)" \
    "$(per_request "$healthz_line" context_switches 1)" "$(per_request "$flat_line" context_switches 1)" "$(per_request "$paced_line" context_switches 1)"
  printf '  %-9s cores busy flat out: twofold %.2f, PostgreSQL %.2f, wrk %.2f, whole machine %.2f of %s\n' "" \
    "$(awk -v c="$(field "$flat_line" server_cpu_s)" -v d="$duration" 'BEGIN { print c / d }')" \
    "$(awk -v c="$(field "$flat_line" postgres_cpu_s)" -v d="$duration" 'BEGIN { print c / d }')" \
    "$(awk -v c="$(field "$flat_line" wrk_cpu_s)" -v d="$duration" 'BEGIN { print c / d }')" \
    "$(awk -v c="$(field "$flat_line" machine_cpu_s)" -v d="$duration" 'BEGIN { print c / d }')" "$(nproc)"
done
exit $failed
