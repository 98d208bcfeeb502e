#!/usr/bin/env bash
# Builds Twofold's libFuzzer targets (Tests/Fuzz) with -sanitize=fuzzer,address and runs them.
#
#   Tests/Fuzz/run.sh TARGET SECONDS   one target
#   Tests/Fuzz/run.sh all SECONDS      every target, FUZZ_JOBS (default: the cores) at a time
#   Tests/Fuzz/run.sh list             the targets' names
#
# Each target starts from its committed corpus, Tests/Fuzz/Corpus/TARGET, and writes what it
# learns to a fresh folder under /tmp, so the committed corpus never changes by itself. A crash
# (a trap, a property a target checks, an ASan report, a leak, a run past 10 s or memory past
# 2 GiB) prints the input's path and Base64 and makes the script exit non-zero: add the input to
# the corpus and to a regression test in the module's test target.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
scratch="$here/.build"
targets=(otpauth-uri base32 qr request-json configuration callbacks device-signature webpush webauthn pskc)

usage() {
  echo "usage: $0 TARGET SECONDS | all SECONDS | list" >&2
  echo "targets: ${targets[*]}" >&2
  exit 2
}

swift_build() {
  swift build --package-path "$here" --scratch-path "$scratch" -c debug \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library "$@"
}

# Builds the named products, one by one: a plain `swift build` here can also take in the root
# package's `twofold` executable (seen in a checkout whose folder is called main, not in others),
# which does not link with libFuzzer. Prints the time taken, and fails on an error or on a warning
# in Twofold's own sources.
build() {
  local log="$scratch/fuzz-build.log" start=$SECONDS
  mkdir -p "$scratch"
  : > "$log"
  for product in "$@"; do
    if ! swift_build --product "$product" >> "$log" 2>&1; then
      tail -n 60 "$log" >&2
      echo "fuzz build of $product failed; the whole log is $log" >&2
      return 1
    fi
  done
  if grep -E "^$root/(Sources|Tests)/.*warning:" "$log" >&2; then
    echo "the fuzz build has warnings; Twofold builds with none" >&2
    return 1
  fi
  echo "fuzz build: $((SECONDS - start)) s"
  bin=$(swift_build --show-bin-path)
}

max_len() {
  case "$1" in
    request-json) echo 16384 ;;  # the server reads bodies of up to 16 KiB
    *) echo 8192 ;;
  esac
}

# Runs one target in $work/TARGET; its summary line goes to stdout when it ends, and its exit
# status to $work/TARGET/status.
run_target() {
  local target=$1 seconds=$2 dir="$work/$1"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local status=0 start=$SECONDS
  # Swift's own backtracer is turned off: libFuzzer prints the stack of a crash itself. Files a
  # target writes (the configuration target's) go to its folder. Foundation's own leaks are
  # suppressed (lsan-suppressions.txt).
  (cd "$dir" && TMPDIR="$dir" SWIFT_BACKTRACE=enable=no LSAN_OPTIONS="suppressions=$here/lsan-suppressions.txt" "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len "$target")" -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "$dir/corpus" "$here/Corpus/$target" < /dev/null > "$dir/log" 2>&1) || status=$?
  echo "$status" > "$dir/status"
  local runs speed cov elapsed=$((SECONDS - start))
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$dir/log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$dir/log" | tail -n 1 | cut -d' ' -f2 || true)
  runs=${runs:-0}
  speed=$((runs / (elapsed > 0 ? elapsed : 1)))
  if [ "$status" -eq 0 ] && [ -z "$(ls -A "$dir/artifacts")" ]; then
    echo "fuzz $target: $elapsed s, $runs runs ($speed/s), coverage ${cov:-?}, no crash"
  else
    echo "fuzz $target: FAILED after $elapsed s (exit $status)"
  fi
}

# Prints what a failed target left: the end of its log, and each crashing input.
report_failure() {
  local target=$1 dir="$work/$1"
  [ "$(cat "$dir/status")" -eq 0 ] && [ -z "$(ls -A "$dir/artifacts")" ] && return 0
  echo
  echo "---- fuzz $target failed; from its log ($dir/log):"
  grep -E -m 5 "Fatal error|ERROR: |SUMMARY: " "$dir/log" || true
  echo "…"
  tail -n 30 "$dir/log"
  for input in "$dir"/artifacts/*; do
    [ -e "$input" ] || continue
    echo "---- crashing input: $input"
    echo "base64: $(base64 -w 0 "$input")"
    echo "replay: $bin/$target $input"
  done
  return 1
}

[ $# -ge 1 ] || usage
case "$1" in
  list)
    printf '%s\n' "${targets[@]}"
    exit 0
    ;;
  all)
    [ $# -eq 2 ] || usage
    selected=("${targets[@]}")
    ;;
  *)
    [ $# -eq 2 ] || usage
    [[ " ${targets[*]} " == *" $1 "* ]] || usage
    selected=("$1")
    ;;
esac
seconds=$2
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || usage  # libFuzzer reads 0 as "no limit"

build "${selected[@]}"
work=$(mktemp -d /tmp/twofold-fuzz.XXXXXX)
jobs=${FUZZ_JOBS:-$(nproc)}
[ "$jobs" -le "${#selected[@]}" ] || jobs=${#selected[@]}
echo "fuzzing ${#selected[@]} target(s) for $seconds s each, $jobs at a time; working corpora in $work"
for target in "${selected[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_target "$target" "$seconds" &
done
wait

failed=0
for target in "${selected[@]}"; do
  report_failure "$target" || failed=1
done
if [ "$failed" -eq 0 ]; then
  rm -rf "$work"
else
  echo "fuzzing failed; logs and inputs are in $work" >&2
fi
exit "$failed"
