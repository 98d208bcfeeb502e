#!/usr/bin/env bash
# The disk under the SQLite file fills up while `twofold serve` runs, then space comes back.
#
#   Tests/Reliability/disk_full.sh
#
# The data folder is a tmpfs of 24 MiB (mount needs root). With the server serving, a file fills
# every free block; then new users are enrolled until the store answers 503 (its WAL can no longer
# grow), and verifications with fresh codes are sent meanwhile. Checks: every failure is a 503
# with a JSON `unavailable` error, the server stays up (/healthz 200), whatever was answered
# allow is durable (each such code is refused as `replayed` after space returns); with the file
# removed, the server enrolls and allows again within 10 s, without a restart; SIGTERM ends it
# with status 0, `twofold audit verify` passes and SQLite's integrity check says ok.
#
# Prints `reliability disk-full: PASS (figures)`, `... FAIL: why` or `... SKIP (why)`. Without
# root, or where the machine refuses the mount, it skips with the reason; with CI set it fails
# instead, as CI must run every scenario. Exit status 1 on failure, 77 on skip. No code or key is
# printed. TWOFOLD_BIN is the binary (default .build/debug/twofold).
set -euo pipefail
cd "$(dirname "$0")/../.."
TWOFOLD_BIN=${TWOFOLD_BIN:-.build/debug/twofold}
NAME=disk-full

say() { printf 'reliability %s: %s\n' "$NAME" "$*" >&2; }
result() { printf 'reliability %s: %s\n' "$NAME" "$*"; }

skip() {
  case ${CI:-} in '' | 0 | false | FALSE | False) ;; *) result "FAIL: $*; CI must run every scenario"; exit 1 ;; esac
  result "SKIP ($*)"
  exit 77
}

DIR=$(mktemp -d /tmp/twofold-diskfull.XXXXXX)
chmod 700 "$DIR"
DATA=$DIR/data
PID=""
MOUNTED=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [ -n "$MOUNTED" ]; then umount "$DATA" 2>/dev/null || umount -l "$DATA" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

fail() {
  result "FAIL: $*"
  if [ -s "$DIR/server.log" ]; then say "last lines of the server log:"; tail -n 20 "$DIR/server.log" >&2; fi
  exit 1
}

[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
mkdir -p "$DATA"
mount -t tmpfs -o size=24m,mode=0700 tmpfs "$DATA" 2>"$DIR/mount.err" || skip "the machine refuses to mount a tmpfs: $(cat "$DIR/mount.err")"
MOUNTED=1
python3 -c 'import pyotp' 2>/dev/null || fail "pyotp is missing (pip install -r Tests/Scripts/requirements.txt)"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL=http://127.0.0.1:$PORT
start_server() {
  env -u TWOFOLD_CONFIG -u TWOFOLD_MASTER_KEY_FILE -u TWOFOLD_ENV -u TWOFOLD_STORE \
    TWOFOLD_DATA_DIR="$DATA" TWOFOLD_LISTEN="127.0.0.1:$PORT" TWOFOLD_LOG_FORMAT=json TWOFOLD_LOG_LEVEL=info \
    TWOFOLD_TOTP_WINDOW=10 \
    "$TWOFOLD_BIN" serve >> "$DIR/server.log" 2>&1 &
  PID=$!
  local waited=0
  until curl -fsS -o /dev/null "$URL/readyz" 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || fail "the server exited before it was ready"
    [ "$waited" -lt 600 ] || fail "the server was not ready within 60 s"
    sleep 0.1
    waited=$((waited + 1))
  done
}
start_server
KEY_FILE=$DATA/initial-api-key
[ -s "$KEY_FILE" ] || fail "no initial API key in $KEY_FILE"

# The HTTP side: enrollments, verifications with fresh codes (a 2 s period, so a new code comes
# every 2 s; the server's window of 10 steps keeps each code acceptable for 20 s, so that the
# replays at the end meet `replayed`, not a code out of the window), the fill, and the checks, in
# one Python process; it prints only counts and times.
python3 - "$URL" "$KEY_FILE" "$DATA" "$DIR" <<'PY' || fail "$(tail -n 1 "$DIR/driver.out" 2>/dev/null || echo 'the driver failed')"
import http.client, json, os, sys, time, urllib.parse
import pyotp

url, key_file, data, work = sys.argv[1:5]
host = urllib.parse.urlparse(url)
key = open(key_file).read().strip()
out = open(os.path.join(work, "driver.out"), "w")

def log(text):
    print(text, file=sys.stderr, flush=True)
    out.write(text + "\n"); out.flush()

def fail(text):
    log(text)
    sys.exit(1)

def call(method, path, body=None, timeout=30):
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=timeout)
    headers = {"Authorization": "Bearer " + key}
    if body is not None:
        headers["Content-Type"] = "application/json"
    started = time.monotonic()
    connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    try:
        parsed = json.loads(text) if text else {}
    except ValueError:
        parsed = {"unparsed": text[:200]}
    return response.status, parsed, time.monotonic() - started

def enroll(user):
    status, body, _ = call("POST", f"/v1/users/{user}/factors", {"type": "totp", "period": 2})
    if status != 201:
        return status, body, None
    totp = pyotp.parse_uri(body["otpauth_uri"])
    factor = body["factor"]["id"]
    status, body, _ = call("POST", f"/v1/users/{user}/factors/{factor}/activate", {"code": totp.now()})
    return status, body, totp

def fresh_code(totp, used):
    """A code of a step not used yet (waiting for the next step when needed)."""
    while True:
        step = int(time.time()) // 2
        if step not in used:
            used.add(step)
            return totp.at(step * 2)
        time.sleep(0.2)

status, body, alice = enroll("alice")
if status != 200 or alice is None:
    fail(f"enrolling alice answered {status} {body}")
used = {int(time.time()) // 2}
allowed = []  # (user, code) answered allow, to replay at the end

def verify(user, totp, steps):
    code = fresh_code(totp, steps)
    status, body, took = call("POST", f"/v1/users/{user}/verify", {"code": code})
    if status == 200 and body.get("result") == "allow":
        allowed.append((user, code))
    return status, body, took

status, body, _ = verify("alice", alice, used)
if body.get("result") != "allow":
    fail(f"a first verification answered {status} {body}")

# Fill every free block of the data folder.
filler = os.path.join(data, "filler")
with open(filler, "wb") as handle:
    block = b"\0" * 65536
    try:
        while True:
            handle.write(block)
            handle.flush()
    except OSError:
        pass
log(f"filled the data folder: {os.path.getsize(filler) // 1024} KiB of filler")

# Enroll new users until the store refuses (its WAL cannot grow), verifying alice between.
failures = []
answers = {"enrolled": 0, "allow": 0, "503": 0}
started = time.monotonic()
index = 0
while time.monotonic() - started < 60 and answers["503"] < 4:
    index += 1
    status, body, took = call("POST", f"/v1/users/filler-{index}/factors", {"type": "totp"})
    if status == 201:
        answers["enrolled"] += 1
    elif status == 503:
        answers["503"] += 1
        failures.append((status, body, took))
    else:
        fail(f"enrolling while the disk is full answered {status} {body}")
    if index % 10 == 0 or answers["503"]:
        status, body, took = verify("alice", alice, used)
        if status == 200 and body.get("result") == "allow":
            answers["allow"] += 1
        elif status == 503:
            answers["503"] += 1
            failures.append((status, body, took))
        else:
            fail(f"a verification while the disk is full answered {status} {body}")
if not failures:
    fail(f"the store never refused a write in 60 s with the disk full ({answers})")
for status, body, took in failures:
    error = body.get("error", {})
    if error.get("code") != "unavailable" or not error.get("message"):
        fail(f"a refusal was {status} {body}, not a JSON unavailable error")
    if took > 15:
        fail(f"a refusal took {took:.1f} s")
message = failures[0][1]["error"]["message"]
status, _, _ = call("GET", "/healthz")
if status != 200:
    fail(f"/healthz answered {status} while the disk was full")
log(f"while full: {answers['enrolled']} enrolled, {answers['allow']} allowed, {answers['503']} refused with 503 "
    f"(slowest {max(t for _, _, t in failures):.2f} s): {message}")

# Space comes back: enrollments and verifications work again, without a restart.
os.remove(filler)
freed = time.monotonic()
recovered = None
while time.monotonic() - freed < 10:
    status, body, _ = verify("alice", alice, used)
    if body.get("result") == "allow":
        recovered = time.monotonic() - freed
        break
    if status != 503:
        fail(f"after space returned a verification answered {status} {body}")
if recovered is None:
    fail("no verification was allowed within 10 s of space returning")
status, body, bob = enroll("bob")
if status != 200:
    fail(f"enrolling after space returned answered {status} {body}")

# Nothing answered allow was lost: each code is now a replay.
replayed = 0
for user, code in allowed:
    call("POST", f"/v1/users/{user}/unlock")
    status, body, _ = call("POST", f"/v1/users/{user}/verify", {"code": code})
    if body.get("reason") != "replayed":
        fail(f"a code answered allow before was not refused as replayed: {status} {body}")
    replayed += 1
log(f"recovered {recovered:.2f} s after space returned; {replayed}/{len(allowed)} allowed codes refused as replayed")
figures = (f"{answers['503']} writes refused with 503 while full (slowest {max(t for _, _, t in failures):.2f} s; "
           f"{answers['allow']} allowed and {answers['enrolled']} enrolled before that), "
           f"allowed again {recovered:.2f} s after space returned (a fresh code comes every 2 s), no restart; "
           f"{replayed}/{len(allowed)} allowed codes refused as replayed after; the client's error: {message}")
open(os.path.join(work, "figures.txt"), "w").write(figures)
PY

grep -q "database or disk is full" "$DIR/server.log" || fail "the server log does not say that the disk is full"
kill -TERM "$PID"
status=0
wait "$PID" || status=$?
PID=""
[ "$status" -eq 0 ] || fail "SIGTERM ended the server with status $status"
env -u TWOFOLD_CONFIG -u TWOFOLD_MASTER_KEY_FILE -u TWOFOLD_ENV -u TWOFOLD_STORE TWOFOLD_DATA_DIR="$DATA" \
  "$TWOFOLD_BIN" audit verify > "$DIR/verify.out" 2>&1 || fail "twofold audit verify: $(cat "$DIR/verify.out")"
integrity=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$DATA/twofold.sqlite")
[ "$integrity" = "ok" ] || fail "integrity_check: $integrity"
figures=$(cat "$DIR/figures.txt")
result "PASS ($figures; audit verify and integrity_check ok)"
