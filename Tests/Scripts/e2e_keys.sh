#!/usr/bin/env bash
# End to end for security keys and hardware tokens: the real `twofold serve` binary, driven by
# Tests/Scripts/e2e_keys.py with soft-webauthn as the user's security key, and pyotp and oathtool
# computing the hardware tokens' codes.
#
#   Tests/Scripts/e2e_keys.sh [STORE]
#
# STORE as for e2e_serve.sh (default sqlite: a fresh file). Prints "e2e_keys (<store>): PASS" or
# "...: FAIL" last; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

STORE=${1:-sqlite}
SERVE_NAME="e2e_keys (${STORE%%:*})"
# shellcheck source=Tests/Scripts/serve_helpers.sh
. Tests/Scripts/serve_helpers.sh

command -v oathtool >/dev/null || serve_fail "oathtool is missing (apt-get install oathtool)"
python3 -c 'import soft_webauthn, pyotp' 2>/dev/null || serve_fail "python3 needs soft-webauthn and pyotp (pip install -r Tests/Scripts/requirements.txt)"

serve_start "$STORE"
python3 Tests/Scripts/e2e_keys.py "$SERVE_URL" "$SERVE_KEY" "$SERVE_LOG" || serve_fail "the security key and hardware token scenario failed"
serve_stop
printf '%s: PASS\n' "$SERVE_NAME"
