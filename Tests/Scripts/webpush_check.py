#!/usr/bin/env python3
"""Interop oracle for Twofold's Web Push tests: http_ece (Mozilla's reference implementation of
RFC 8188/8291) decrypts and encrypts push messages, py-vapid verifies VAPID headers (RFC 8292).

Reads one JSON document on standard input (byte strings in unpadded Base64URL):
  {"decrypt": [{"body", "private_key" (the 32-byte P-256 scalar), "auth"}],
   "encrypt": [{"plaintext", "p256dh", "auth"}],
   "vapid":   ["vapid t=<JWT>, k=<key>", ...],
   "keys":    <how many VAPID keys py-vapid should generate>}
and writes on standard output:
  {"decrypted": [{"plaintext"} | {"error"}],
   "encrypted": [body, ...],
   "vapid": [{"valid": true, "header": {JOSE header}, "claims": {...}} | {"valid": false, "error"}],
   "keys": [{"pkcs8": PEM, "sec1": PEM, "public_key"}]}
"""
import json
import sys

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from py_vapid import Vapid
from py_vapid import jwt as vapid_jwt
from py_vapid.utils import b64urldecode, b64urlencode


def b64(text):
    return b64urldecode(text.encode("ascii"))


def decrypted(case):
    key = ec.derive_private_key(int.from_bytes(b64(case["private_key"]), "big"), ec.SECP256R1())
    try:
        plaintext = http_ece.decrypt(b64(case["body"]), private_key=key, auth_secret=b64(case["auth"]), version="aes128gcm")
    except Exception as error:  # http_ece raises ECEException and, for bad points, ValueError
        return {"error": "%s: %s" % (type(error).__name__, error)}
    return {"plaintext": b64urlencode(plaintext)}


def encrypted(case):
    sender = ec.generate_private_key(ec.SECP256R1())
    body = http_ece.encrypt(b64(case["plaintext"]), private_key=sender, dh=b64(case["p256dh"]),
                            auth_secret=b64(case["auth"]), version="aes128gcm")
    # http_ece writes the sender's public key as the key id, as RFC 8291 requires.
    assert body[21:86] == sender.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64urlencode(body)


def verified(header):
    """RFC 8292 §3: `vapid` then auth-params t and k, separated by a comma and optional spaces
    (RFC 9110 §11.2). Vapid02.verify splits on the last space and so misreads the RFC's own
    "t=…, k=…" form; parse the parameters here and let py-vapid check the signature."""
    try:
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError("scheme is %r, not vapid" % scheme)
        params = {}
        for part in rest.split(","):
            name, _, value = part.strip().partition("=")
            params[name.strip().lower()] = value.strip()
        token, key = params["t"], params["k"]
        claims = vapid_jwt.decode(token, key)  # raises InvalidSignature
        if not Vapid.verify("vapid t=%s,k=%s" % (token, key)):
            raise ValueError("Vapid.verify refused the token")
        jose = json.loads(b64urldecode(token.split(".")[0].encode("ascii")))
        return {"valid": True, "header": jose, "claims": claims}
    except Exception as error:
        return {"valid": False, "error": "%s: %s" % (type(error).__name__, error)}


def generated_key():
    """A key as `vapid --gen` makes it (PKCS#8), and the same key as OpenSSL's SEC1."""
    vapid = Vapid()
    vapid.generate_keys()
    return {
        "pkcs8": vapid.private_pem().decode("ascii"),
        "sec1": vapid.private_key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption()).decode("ascii"),
        "public_key": b64urlencode(vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)),
    }


request = json.load(sys.stdin)
json.dump({
    "decrypted": [decrypted(case) for case in request.get("decrypt", [])],
    "encrypted": [encrypted(case) for case in request.get("encrypt", [])],
    "vapid": [verified(header) for header in request.get("vapid", [])],
    "keys": [generated_key() for _ in range(request.get("keys", 0))],
}, sys.stdout)
