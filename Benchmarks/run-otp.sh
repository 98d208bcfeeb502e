#!/usr/bin/env bash
# The OTP benchmark, side by side in one run: Twofold (ordo-one/benchmark, release build),
# a C program using OpenSSL with precomputed HMAC states, oathtool and pyotp.
# Needs: gcc, libssl-dev, oathtool (apt-get install oathtool), pyotp (pip install pyotp).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gcc -O2 -o "$work/hotp_openssl" "$here/Reference/hotp_openssl.c" -lcrypto

swift package --package-path "$here" benchmark --target OTPBenchmarks --no-progress > "$work/swift.txt"

# p50 of the wall-clock row (ns per operation: the benchmarks run 1,000 operations an iteration).
p50() {
  awk -v name="$1" '
    $0 == name { inside = 1; next }
    inside && /Time \(wall clock\)/ { split($0, cell, "│"); gsub(/ /, "", cell[5]); print cell[5]; exit }
  ' "$work/swift.txt"
}

twofold_code=$(p50 "HOTP SHA-1 code")
twofold_verify=$(p50 "TOTP SHA-1 verify, window ±1")
c_ref=$("$work/hotp_openssl" | awk '{print $2}')
oath=$("$here/Reference/oathtool_bench.sh" | awk '{print $2}')
py=$(python3 "$here/Reference/pyotp_bench.py" | awk '{print $2}')

cat "$work/swift.txt"
echo
printf '%-48s %10s %s\n' "measurement (median)" "ns" "ratio"
printf '%-48s %10s %s\n' "Twofold HOTP SHA-1 code" "$twofold_code" ""
printf '%-48s %10s %s\n' "C + OpenSSL, precomputed HMAC states" "$c_ref" \
  "$(awk -v a="$twofold_code" -v b="$c_ref" 'BEGIN { printf "Twofold = %.2fx of C (target <= 1.5x)", a / b }')"
printf '%-48s %10s %s\n' "oathtool, one process" "$oath" \
  "$(awk -v a="$twofold_code" -v b="$oath" 'BEGIN { printf "Twofold %.1fx faster (target >= 2x)", b / a }')"
printf '%-48s %10s %s\n' "pyotp HOTP.at" "$py" \
  "$(awk -v a="$twofold_code" -v b="$py" 'BEGIN { printf "Twofold %.0fx faster (target >= 30x)", b / a }')"
printf '%-48s %10s %s\n' "Twofold TOTP SHA-1 verify, window ±1" "$twofold_verify" \
  "$(awk -v a="$twofold_verify" -v b="$twofold_code" 'BEGIN { printf "= %.1f codes", a / b }')"
