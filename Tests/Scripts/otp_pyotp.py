#!/usr/bin/env python3
"""Interop oracle for Twofold's OTP tests: pyotp computes codes, parses and builds URIs.

Reads one JSON document on standard input:
  {"codes": [{"secret", "algorithm", "digits", "period", "time"} | {..., "counter"}],
   "parse": ["otpauth://...", ...],
   "build": [{"secret", "account", "issuer", "algorithm", "digits", "period", "counter"}]}
and writes {"codes": [...], "parsed": [...], "built": [...]} on standard output.
"""
import hashlib
import json
import sys

import pyotp

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def code(case):
    digest = DIGESTS[case["algorithm"]]
    if case.get("counter") is not None:
        return pyotp.HOTP(case["secret"], digits=case["digits"], digest=digest).at(case["counter"])
    totp = pyotp.TOTP(case["secret"], digits=case["digits"], digest=digest, interval=case["period"])
    return totp.at(case["time"])


def parsed(uri):
    otp = pyotp.parse_uri(uri)
    result = {
        "issuer": otp.issuer,
        "account": otp.name,
        "secret": otp.secret,
        "algorithm": otp.digest().name,
        "digits": otp.digits,
    }
    if isinstance(otp, pyotp.HOTP):
        result["type"] = "hotp"
        result["counter"] = otp.initial_count
    else:
        result["type"] = "totp"
        result["period"] = otp.interval
    return result


def built(case):
    digest = DIGESTS[case["algorithm"]]
    if case.get("counter") is not None:
        otp = pyotp.HOTP(case["secret"], digits=case["digits"], digest=digest)
        return otp.provisioning_uri(name=case["account"], issuer_name=case.get("issuer"),
                                    initial_count=case["counter"])
    otp = pyotp.TOTP(case["secret"], digits=case["digits"], digest=digest, interval=case["period"])
    return otp.provisioning_uri(name=case["account"], issuer_name=case.get("issuer"))


request = json.load(sys.stdin)
json.dump({
    "codes": [code(c) for c in request.get("codes", [])],
    "parsed": [parsed(u) for u in request.get("parse", [])],
    "built": [built(c) for c in request.get("build", [])],
}, sys.stdout)
