#!/usr/bin/env bash
# The security key benchmark, side by side in one run: Twofold verifying an ES256 sign-in
# (ordo-one/benchmark, release build), beside Twofold's TOTP verification of the same run and
# python-fido2 checking the same assertion. Needs fido2 (pip install -r Tests/Scripts/requirements.txt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

swift package --package-path "$here" benchmark --target WebAuthnBenchmarks --no-progress > "$work/swift.txt"

# p50 of a row of a benchmark's table (ns per operation: 1,000 operations an iteration).
p50() {
  awk -v name="$1" -v row="$2" '
    $0 == name { inside = 1; next }
    inside && index($0, row) { split($0, cell, "│"); gsub(/ /, "", cell[5]); print cell[5]; exit }
  ' "$work/swift.txt"
}

parse=$(p50 "WebAuthn ES256 assertion: parse and verify" "Time (wall clock)")
verify=$(p50 "WebAuthn ES256 assertion: verify (parsed once)" "Time (wall clock)")
totp=$(p50 "TOTP SHA-1 verify, window ±1" "Time (wall clock)")
cpu=$(p50 "WebAuthn ES256 assertion: parse and verify" "Time (total CPU)")
fido2=$(python3 "$here/Reference/fido2_bench.py" | awk '{printf "%.0f", $2 * 1000}')

cat "$work/swift.txt"
echo
printf '%-52s %10s %s\n' "measurement (median)" "ns" "ratio"
printf '%-52s %10s %s\n' "Twofold: parse the JSON and verify an ES256 sign-in" "$parse" \
  "$(awk -v a="$parse" 'BEGIN { printf "= %.0f sign-ins/s on one core", 1e9 / a }')"
printf '%-52s %10s %s\n' "  CPU per sign-in" "$cpu" ""
printf '%-52s %10s %s\n' "Twofold: verify only (parsed once)" "$verify" ""
printf '%-52s %10s %s\n' "Twofold: TOTP SHA-1 verify, window ±1" "$totp" \
  "$(awk -v a="$parse" -v b="$totp" 'BEGIN { printf "a sign-in = %.0f TOTP verifications", a / b }')"
printf '%-52s %10s %s\n' "python-fido2: the same checks" "$fido2" \
  "$(awk -v a="$parse" -v b="$fido2" 'BEGIN { printf "Twofold %.1fx faster", b / a }')"
