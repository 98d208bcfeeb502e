# Shared by run.sh and soak.sh: tool checks, a free port, CPU counters, and the fields of a
# "key=value …" result line written by report.lua.

log() { printf 'load: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

require_load_tools() {
  local tool
  for tool in "$@" python3 curl /usr/bin/time; do
    command -v "$tool" > /dev/null || fail "$tool is missing (apt-get install -y wrk nginx-light python3-pyotp curl time)"
  done
  python3 -c 'import pyotp' 2> /dev/null || fail "python3 cannot import pyotp (pip install pyotp, or apt-get install python3-pyotp)"
  [ -x "$TWOFOLD_BIN" ] || fail "no executable at $TWOFOLD_BIN: build it with 'swift build -c release', or set TWOFOLD_BIN"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# CPU seconds (user + system) a process and its threads have used so far.
cpu_seconds() {
  local total=0 pid ticks
  for pid in "$@"; do
    ticks=$(sed 's/.*) //' "/proc/$pid/stat" 2> /dev/null | awk '{ print $12 + $13 }')
    total=$((total + ${ticks:-0}))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# Busy CPU seconds of the whole machine so far (everything but idle and iowait).
machine_busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}

# A field of a "key=value …" result line.
field() { tr ' ' '\n' <<< "$1" | sed -n "s/^$2=//p"; }

# A /proc/PID/status size (VmRSS, VmHWM, RssAnon…) in kB.
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# Context switches (voluntary and not) of a process's threads so far: each hand-off of a request
# from one thread to another costs one or two.
context_switches() {
  cat /proc/"$1"/task/*/status 2> /dev/null | awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
