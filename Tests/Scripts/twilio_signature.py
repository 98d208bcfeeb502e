#!/usr/bin/env python3
"""Interop oracle for Twofold's Twilio callback tests: Twilio's own RequestValidator.

Reads one JSON document on standard input:
  {"token": "...",
   "compute": [{"url", "params": {name: value}}],
   "validate": [{"url", "signature", "params": {name: value}} | {"url", "signature", "body": "raw JSON"}]}
and writes {"signatures": [...], "valid": [true|false, ...]} on standard output. A "body" is
validated as Twilio's library validates JSON callbacks: through the URL's bodySHA256.
"""
import json
import sys

from twilio.request_validator import RequestValidator

request = json.load(sys.stdin)
validator = RequestValidator(request["token"])
json.dump({
    "signatures": [validator.compute_signature(c["url"], c.get("params", {})) for c in request.get("compute", [])],
    "valid": [
        validator.validate(c["url"], c["body"] if "body" in c else c.get("params", {}), c["signature"])
        for c in request.get("validate", [])
    ],
}, sys.stdout)
