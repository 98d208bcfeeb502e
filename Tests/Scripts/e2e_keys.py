"""Security keys and hardware tokens end to end, against a running `twofold serve`.

    python3 e2e_keys.py URL API_KEY LOG_FILE

The authenticators are independent of Twofold: `soft-webauthn`'s SoftWebauthnDevice (built on
python-fido2) answers the registration and sign-in ceremonies; the hardware tokens' codes come
from pyotp and oathtool. Prints each step; exits non-zero on the first failure.
"""

import base64
import copy
import json
import subprocess
import sys
import urllib.error
import urllib.request

import pyotp
from soft_webauthn import SoftWebauthnDevice

URL, KEY, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
ORIGIN = "https://login.example.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def call(method, path, body=None, expect=200):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(URL + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    answer = json.loads(payload) if payload else None
    if status != expect:
        sys.exit(f"FAIL: {method} {path}: status {status}, expected {expect}: {payload[:500]!r}")
    return answer


def check(condition, what):
    if not condition:
        sys.exit("FAIL: " + what)
    print("ok:", what)


def creation_options(public_key):
    """Twofold's JSON options as soft-webauthn takes them (what the browser's parse… does)."""
    options = copy.deepcopy(public_key)
    options["challenge"] = unb64url(options["challenge"])
    options["user"]["id"] = unb64url(options["user"]["id"])
    # The software key makes `none` attestation only, as a browser may when the user declines.
    options["attestation"] = "none"
    return {"publicKey": options}


def request_options(public_key):
    options = copy.deepcopy(public_key)
    options["challenge"] = unb64url(options["challenge"])
    return {"publicKey": options}


def browser_json(credential):
    """PublicKeyCredential.toJSON(): every binary member base64url."""
    response = {name: b64url(value) for name, value in credential["response"].items() if value is not None}
    return {"id": b64url(credential["rawId"]), "rawId": b64url(credential["rawId"]), "type": "public-key",
            "response": response, "clientExtensionResults": {}}


# --- Security keys -----------------------------------------------------------------------------

app = call("PATCH", "/v1/application", {"rp_id": "example.com", "origins": [ORIGIN]})
check(app["rp_id"] == "example.com" and app["origins"] == [ORIGIN], "the application's relying party is set")

device = SoftWebauthnDevice()
enrolled = call("POST", "/v1/users/alice/factors", {"type": "webauthn", "label": "soft key"}, expect=201)
factor_id = enrolled["factor"]["id"]
check(enrolled["factor"]["status"] == "pending", "a security key enrolls pending")
registration = browser_json(device.create(creation_options(enrolled["public_key"]), ORIGIN))
activated = call("POST", f"/v1/users/alice/factors/{factor_id}/activate", {"credential": registration})
check(activated["factor"]["status"] == "active" and activated["factor"]["security_key"]["attestation_format"] == "none",
      "soft-webauthn's registration activates it")


def sign_in(authenticator, origin=ORIGIN):
    created = call("POST", "/v1/users/alice/challenges", {"type": "webauthn"}, expect=202)
    assertion = browser_json(authenticator.get(request_options(created["public_key"]), origin))
    return created["challenge_id"], assertion, call("POST", f"/v1/challenges/{created['challenge_id']}/verify",
                                                    {"credential": assertion})


challenge_id, assertion, verdict = sign_in(device)
check(verdict == {"result": "allow", "factor_id": factor_id, "factor_type": "webauthn"}, "soft-webauthn signs in")
again = call("POST", f"/v1/challenges/{challenge_id}/verify", {"credential": assertion})
check(again["result"] == "deny" and again["reason"] == "replayed", "the same answer again is a replay")
_, _, phished = sign_in(device, origin="https://login.example.com.evil.test")
check(phished["result"] == "deny" and phished["reason"] == "invalid_code", "an answer made for another origin is refused")

clone = copy.deepcopy(device)
_, _, verdict = sign_in(device)
check(verdict["result"] == "allow", "the key signs in with counter 3")
_, _, cloned = sign_in(clone)
check(cloned["result"] == "deny", "a copy of the key presenting counter 3 again is refused")
factors = call("GET", "/v1/users/alice/factors")["factors"]
check(factors[0]["security_key"]["flagged_at"] is not None, "the key is flagged as possibly cloned")
call("POST", "/v1/users/alice/challenges", {"type": "webauthn"}, expect=404)
print("ok: a flagged key is offered no more")

# --- Hardware tokens ---------------------------------------------------------------------------

SECRET_HEX = "3132333435363738393031323334353637383930"
csv = "serial, secret, type, digits, period-or-counter\n" \
      f"E2E-HOTP, hex:{SECRET_HEX}, hotp, 6, 5\n" \
      f"E2E-TOTP, hex:{SECRET_HEX}, totp, 8, 30\n"
imported = call("POST", "/v1/tokens", {"format": "csv", "file": csv}, expect=201)["tokens"]
check([t["serial"] for t in imported] == ["E2E-HOTP", "E2E-TOTP"], "the CSV's two tokens are imported")
call("POST", "/v1/tokens", {"format": "csv", "file": csv + "BROKEN, hex:zz, hotp, 6, 0\n"}, expect=400)
check(len(call("GET", "/v1/tokens")["tokens"]) == 2, "a file with a bad line imports nothing")

assigned = call("POST", "/v1/tokens/E2E-HOTP/assign", {"user_id": "bob"})
check(assigned["token"]["user_id"] == "bob" and assigned["factor"]["type"] == "hotp", "the HOTP token is bob's factor")
hotp = pyotp.HOTP(base64.b32encode(bytes.fromhex(SECRET_HEX)).decode())
verdict = call("POST", "/v1/users/bob/verify", {"code": hotp.at(5)})
check(verdict["result"] == "allow", "pyotp's code for counter 5 verifies")
oathtool = subprocess.run(["oathtool", "--hotp", "--counter=6", SECRET_HEX], capture_output=True, text=True, check=True)
verdict = call("POST", "/v1/users/bob/verify", {"code": oathtool.stdout.strip()})
check(verdict["result"] == "allow", "oathtool's code for counter 6 verifies")

call("POST", "/v1/tokens/E2E-TOTP/assign", {"user_id": "carol"})
totp = pyotp.TOTP(base64.b32encode(bytes.fromhex(SECRET_HEX)).decode(), digits=8)
verdict = call("POST", "/v1/users/carol/verify", {"code": totp.now()})
check(verdict["result"] == "allow", "pyotp's TOTP code verifies for carol")

exported = call("GET", "/v1/users/bob/export")
check(exported["hardware_tokens"] == ["E2E-HOTP"], "bob's export lists his token by serial")
check(SECRET_HEX not in json.dumps(exported) and base64.b32encode(bytes.fromhex(SECRET_HEX)).decode() not in json.dumps(exported),
      "and never its seed")
call("DELETE", "/v1/users/bob", expect=204)
token = [t for t in call("GET", "/v1/tokens")["tokens"] if t["serial"] == "E2E-HOTP"][0]
check(token["user_id"] is None and token["counter"] == 7, "erasing bob hands the token back at counter 7")

log = open(LOG).read()
for value in [KEY, SECRET_HEX, base64.b32encode(bytes.fromhex(SECRET_HEX)).decode(), hotp.at(5), oathtool.stdout.strip()]:
    check(value not in log, "the server log holds no key, seed or code")
print("PASS")
