#!/usr/bin/env python3
"""Enrolls N users in an HOTP factor over Twofold's HTTP API, activates each, and writes the
codes the load will verify.

    enroll.py URL KEY USERS CODES_PER_USER CODES_FILE STATE_FILE [PREFIX]

For every user `PREFIX-NNNNNN` (PREFIX `load` unless given) it posts `{"type": "hotp"}`,
activates the factor with the code of counter 0, then computes the codes of counters 1 … CODES_PER_USER from the returned
`otpauth_uri` (RFC 4226 §5.3 with the URI's algorithm and digits; the first one is checked
against pyotp). CODES_FILE gets one line per user: the user id, a space, and the codes run
together (each exactly `digits` long), so that verify.lua can slice the next one out without
splitting. STATE_FILE gets one line per user, the index of the next unused code (all 0 here);
verify.lua rewrites it after each wrk run.

Enrollment runs on a few keep-alive connections at once. Exits non-zero on the first answer that
is not the expected status.
"""

import hashlib
import hmac
import http.client
import json
import struct
import sys
import threading
import time
import urllib.parse
from base64 import b32decode

import pyotp

DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
WORKERS = 8


def hotp_codes(secret, algorithm, digits, first, count):
    """Codes of counters first … first+count-1 (RFC 4226 §5.3: dynamic truncation)."""
    key = b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = DIGESTS[algorithm]
    modulus = 10**digits
    codes = []
    for counter in range(first, first + count):
        mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
        offset = mac[-1] & 0x0F
        value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
        codes.append(str(value % modulus).zfill(digits))
    return codes


def main():
    url, key, users, per_user, codes_path, state_path = sys.argv[1:7]
    prefix = sys.argv[7] if len(sys.argv) > 7 else "load"
    users, per_user = int(users), int(per_user)
    target = urllib.parse.urlsplit(url)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    lines = [None] * users
    failures = []
    next_index = iter(range(users))
    lock = threading.Lock()

    def post(connection, path, body, expected):
        connection.request("POST", path, body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        payload = response.read()
        if response.status != expected:
            raise RuntimeError(f"POST {path}: HTTP {response.status} {payload[:300]!r}")
        return json.loads(payload)

    def worker():
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            while not failures:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                user = f"{prefix}-{index:06d}"
                enrolled = post(connection, f"/v1/users/{user}/factors", {"type": "hotp"}, 201)
                parsed = pyotp.parse_uri(enrolled["otpauth_uri"])
                algorithm = urllib.parse.parse_qs(urllib.parse.urlsplit(enrolled["otpauth_uri"]).query).get("algorithm", ["SHA1"])[0].upper()
                digits = parsed.digits
                if digits != 6:
                    raise RuntimeError(f"{user}: a {digits}-digit factor; verify.lua expects 6 digits")
                secret = enrolled["secret"]
                codes = hotp_codes(secret, algorithm, digits, 0, per_user + 1)
                if codes[1] != parsed.at(1):
                    raise RuntimeError(f"{user}: our HOTP code for counter 1 differs from pyotp's")
                factor = enrolled["factor"]["id"]
                activated = post(connection, f"/v1/users/{user}/factors/{factor}/activate", {"code": codes[0]}, 200)
                if activated["factor"]["status"] != "active":
                    raise RuntimeError(f"{user}: the factor is {activated['factor']['status']} after activation")
                lines[index] = f"{user} {''.join(codes[1:])}\n"
        except Exception as error:  # reported once, below, and the run fails
            failures.append(error)
        finally:
            connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit(f"enroll: {failures[0]}")
    with open(codes_path, "w") as codes_file:
        codes_file.writelines(lines)
    with open(state_path, "w") as state_file:
        state_file.write("0\n" * users)
    print(f"enroll: {users} users enrolled and activated, {per_user} codes each, "
          f"in {time.monotonic() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
