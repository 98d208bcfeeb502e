#!/usr/bin/env bash
# The soak: the real `twofold serve` (release build) verifying at a steady rate for many minutes,
# to show that nothing degrades with time: every answer allow, no growth of memory after the
# warm-up, a p99 that stays where it started. See Benchmarks/load/README.md.
#
#   Benchmarks/load/soak.sh [sqlite|postgres|all]      (default: all)
#
# For each store (started as run.sh starts it: SQLite with its durable defaults, or a fresh
# database on a throwaway PostgreSQL with fsync on):
#   1. enroll LOAD_USERS users and measure the maximum: wrk flat out for LOAD_WARMUP + LOAD_DURATION
#      seconds (the rate of the last LOAD_DURATION seconds is the maximum);
#   2. the soak's rate is half of it (SOAK_RATE overrides); enroll LOAD_USERS more users with codes
#      for the whole soak;
#   3. one minute at that rate as warm-up, then SOAK_MINUTES minutes, in one-minute wrk runs back
#      to back (the users' next codes carry over from one to the next); after each minute, the
#      server's RSS, its CPU time and the minute's latency percentiles are taken.
# The table has one row per minute. The run fails (exit 1) when an answer was not allow or a
# request failed, when the RSS at the end is 10% or more above the RSS after the warm-up, or when a
# minute's p99 is more than twice the median of the minutes' p99.
#
# Environment (defaults in brackets): TWOFOLD_BIN [<repo>/.build/release/twofold], SOAK_MINUTES
# [10], SOAK_RATE [half the measured maximum], LOAD_USERS [2000], LOAD_THREADS [2],
# LOAD_CONNECTIONS [64], LOAD_WARMUP [5], LOAD_DURATION [20], LOAD_MAX_RPS [30000: the maximum's
# codes are precomputed for this rate], LOAD_LOG_FORMAT [text], LOAD_PG_PORT [54500], LOAD_PG_DIR
# [/tmp/twofold-load-pg], LOAD_KEEP (keep the work folder).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
which=${1:-all}
case $which in sqlite | postgres | all) ;; *) echo "usage: $0 [sqlite|postgres|all]" >&2; exit 2 ;; esac

export TWOFOLD_BIN=${TWOFOLD_BIN:-$root/.build/release/twofold}
minutes=${SOAK_MINUTES:-10}
users=${LOAD_USERS:-2000}
threads=${LOAD_THREADS:-2}
connections=${LOAD_CONNECTIONS:-64}
duration=${LOAD_DURATION:-20}
warmup=${LOAD_WARMUP:-5}
max_rps=${LOAD_MAX_RPS:-30000}
pg_port=${LOAD_PG_PORT:-54500}
pg_dir=${LOAD_PG_DIR:-/tmp/twofold-load-pg}
export SERVE_LOG_FORMAT=${LOAD_LOG_FORMAT:-text}

# shellcheck source=Benchmarks/load/common.sh
source "$here/common.sh"
require_load_tools wrk
(( users >= 4 * connections )) || fail "LOAD_USERS ($users) must be at least 4 × LOAD_CONNECTIONS ($connections)"
(( connections % threads == 0 )) || fail "LOAD_CONNECTIONS ($connections) must be a multiple of LOAD_THREADS ($threads)"
(( minutes >= 1 )) || fail "SOAK_MINUTES must be at least 1"

work=$(mktemp -d /tmp/twofold-soak.XXXXXX)
cleanup() {
  if [ "$which" != sqlite ]; then "$root/provisioning/postgres/stop-throwaway.sh" "$pg_dir" > /dev/null 2>&1 || true; fi
  if [ -z "${LOAD_KEEP:-}" ]; then rm -rf "$work"; else log "kept $work"; fi
}
trap cleanup EXIT

soak_store() {
  local store=$1 dir=$work/$1
  mkdir -p "$dir"
  # shellcheck disable=SC2034 # read by serve_helpers.sh
  SERVE_NAME=soak
  # shellcheck source=Tests/Scripts/serve_helpers.sh
  source "$root/Tests/Scripts/serve_helpers.sh"
  if [ "$store" = postgres ]; then
    serve_start "$(TWOFOLD_PG_DIR=$pg_dir TWOFOLD_PG_DURABLE=1 "$root/provisioning/postgres/start-throwaway.sh" "$pg_port" | tail -n 1)"
  else
    serve_start sqlite
  fi
  export LOAD_KEY=$SERVE_KEY LOAD_HOST=127.0.0.1:$SERVE_PORT LOAD_THREADS=$threads LOAD_SCRIPTS=$here
  local url=$SERVE_URL/

  # 1. The maximum, on users of its own.
  python3 "$here/enroll.py" "$SERVE_URL" "$SERVE_KEY" "$users" $(( max_rps * (warmup + duration) / users + 20 )) \
    "$dir/max.codes" "$dir/max.state" max
  LOAD_CODES=$dir/max.codes LOAD_STATE=$dir/max.state LOAD_PACE=0 LOAD_RESULT=$dir/max-warmup.result \
    wrk -t "$threads" -c "$connections" -d "${warmup}s" --timeout 5s -s "$here/verify.lua" "$url" > /dev/null
  LOAD_CODES=$dir/max.codes LOAD_STATE=$dir/max.state LOAD_PACE=0 LOAD_RESULT=$dir/max.result \
    wrk -t "$threads" -c "$connections" -d "${duration}s" --timeout 5s -s "$here/verify.lua" "$url" > /dev/null
  local max_line maximum rate
  max_line=$(tail -n 1 "$dir/max.result")
  (( $(field "$max_line" exhausted) == 0 )) || fail "$store: the maximum's run ran out of codes; raise LOAD_MAX_RPS"
  maximum=$(field "$max_line" rps)
  rate=${SOAK_RATE:-$(awk -v m="$maximum" 'BEGIN { printf "%d", int(m / 200) * 100 }')}
  log "$store: maximum $(printf '%.0f' "$maximum") verifications/s; the soak runs at $rate/s for $minutes minutes after one of warm-up"

  # 2. The soak's users, with codes for every minute at that rate (and a tenth more).
  python3 "$here/enroll.py" "$SERVE_URL" "$SERVE_KEY" "$users" $(( rate * 60 * (minutes + 1) * 11 / 10 / users + 20 )) \
    "$dir/soak.codes" "$dir/soak.state" soak
  export LOAD_CODES=$dir/soak.codes LOAD_STATE=$dir/soak.state LOAD_PACE=$rate

  # 3. Minute 0 is the warm-up; minutes 1 … N are the soak.
  local minute db_pids=()
  printf 'store=%s maximum=%s rate=%s\n' "$store" "$maximum" "$rate" > "$dir/summary"
  for minute in $(seq 0 "$minutes"); do
    if [ "$store" = postgres ]; then read -r -a db_pids <<< "$(pgrep -u postgres | tr '\n' ' ')"; fi
    local cpu_before db_before cpu_after db_after line
    cpu_before=$(cpu_seconds "$SERVE_PID")
    db_before=$(cpu_seconds "${db_pids[@]}")
    LOAD_RESULT=$dir/minute-$minute.result wrk -t "$threads" -c "$connections" -d 60s --timeout 5s --latency \
      -s "$here/verify.lua" "$url" > "$dir/minute-$minute.wrk" 2>&1 || { cat "$dir/minute-$minute.wrk" >&2; fail "wrk failed ($store, minute $minute)"; }
    cpu_after=$(cpu_seconds "$SERVE_PID")
    db_after=$(cpu_seconds "${db_pids[@]}")
    line="minute=$minute $(tail -n 1 "$dir/minute-$minute.result") rss_kb=$(status_kb "$SERVE_PID" VmRSS) hwm_kb=$(status_kb "$SERVE_PID" VmHWM)"
    line+=" server_cpu_s=$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%.2f", b - a }')"
    line+=" postgres_cpu_s=$(awk -v a="$db_before" -v b="$db_after" 'BEGIN { printf "%.2f", b - a }')"
    printf '%s\n' "$line" >> "$dir/summary"
    log "$store minute $minute: rps=$(field "$line" rps) p99=$(field "$line" p99_ms) ms allow=$(field "$line" allow)/$(field "$line" answered) RSS $(( $(field "$line" rss_kb) / 1024 )) MB"
  done
  serve_stop
  if [ "$store" = postgres ]; then "$root/provisioning/postgres/stop-throwaway.sh" "$pg_dir" > /dev/null 2>&1 || true; fi
}

stores=()
case $which in all) stores=(sqlite postgres) ;; *) stores=("$which") ;; esac
log "$(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d ' ' -f 1-3 /proc/loadavg); $users users a phase, wrk -t $threads -c $connections, $minutes minutes; server log ${TWOFOLD_LOG_LEVEL:-info}, $SERVE_LOG_FORMAT"
for store in "${stores[@]}"; do
  ( soak_store "$store" ) || fail "the $store soak failed"
done

# --- summary: a row a minute, then the verdicts ----------------------------------------------------
failed=0
for store in "${stores[@]}"; do
  summary=$work/$store/summary
  head_line=$(head -n 1 "$summary")
  printf '\n%s: maximum %.0f verifications/s, soak at %s/s\n' "$store" "$(field "$head_line" maximum)" "$(field "$head_line" rate)"
  printf '%6s %9s %8s %8s %8s %9s %9s %13s %13s %9s\n' minute "req/s" p50 p99 max "not allow" errors "CPU/verify" "PG CPU/verify" RSS
  while read -r line; do
    errors=$(( $(field "$line" errors_connect) + $(field "$line" errors_read) + $(field "$line" errors_write) + $(field "$line" errors_timeout) ))
    printf '%6s %9.0f %6.2fms %6.2fms %6.1fms %9d %9d %11.0fµs %11.0fµs %6.1f MB\n' "$(field "$line" minute)" "$(field "$line" rps)" \
      "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" "$(field "$line" max_ms)" "$(( $(field "$line" answered) - $(field "$line" allow) ))" "$errors" \
      "$(awk -v c="$(field "$line" server_cpu_s)" -v r="$(field "$line" requests)" 'BEGIN { print 1e6 * c / r }')" \
      "$(awk -v c="$(field "$line" postgres_cpu_s)" -v r="$(field "$line" requests)" 'BEGIN { print 1e6 * c / r }')" \
      "$(awk -v k="$(field "$line" rss_kb)" 'BEGIN { print k * 1024 / 1e6 }')"
  done < <(tail -n +2 "$summary")

  soak_lines=$(tail -n +3 "$summary")  # minute 1 on
  warm_rss=$(field "$(sed -n 2p "$summary")" rss_kb)
  end_rss=$(field "$(tail -n 1 "$summary")" rss_kb)
  bad=$(while read -r line; do
    echo $(( $(field "$line" answered) - $(field "$line" allow) + $(field "$line" errors_connect) + $(field "$line" errors_read) + $(field "$line" errors_write) + $(field "$line" errors_timeout) + $(field "$line" exhausted) ))
  done <<< "$soak_lines" | awk '{ s += $1 } END { print s + 0 }')
  p99s=$(while read -r line; do field "$line" p99_ms; done <<< "$soak_lines" | sort -g)
  median_p99=$(awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }' <<< "$p99s")
  worst_p99=$(tail -n 1 <<< "$p99s")
  growth=$(awk -v a="$warm_rss" -v b="$end_rss" 'BEGIN { printf "%.1f", 100 * (b - a) / a }')
  # check CONDITION TEXT: prints TEXT with met or MISSED; a miss fails the run.
  check() {
    local result=met
    awk "BEGIN { exit !($1) }" || { result=MISSED; failed=1; }
    printf '  %s: %s\n' "$2" "$result"
  }
  check "$bad == 0" "every answer allow, no failed request ($bad not)"
  check "$growth < 10" "RSS growth after the warm-up under 10% ($(awk -v a="$warm_rss" -v b="$end_rss" 'BEGIN { printf "%.1f → %.1f MB", a * 1024 / 1e6, b * 1024 / 1e6 }'), $growth%)"
  check "$worst_p99 <= 2 * $median_p99" "p99 stable, every minute within 2 × the median minute (median $median_p99 ms, worst $worst_p99 ms)"
done
exit $failed
