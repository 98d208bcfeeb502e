"""python-fido2 checking the same kind of sign-in as WebAuthnBenchmarks: parse the client data
and authenticator data, verify the ES256 signature. Prints "fido2_assertion <microseconds>".

    python3 fido2_bench.py [ITERATIONS]
"""

import hashlib
import json
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_encode
from fido2.webauthn import AuthenticatorData, CollectedClientData

iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
key = ec.generate_private_key(ec.SECP256R1())
public = ES256.from_cryptography_key(key.public_key())
client_data = json.dumps({"type": "webauthn.get", "challenge": websafe_encode(b"\x07" * 32),
                          "origin": "https://login.example.com"}).encode()
auth_data = hashlib.sha256(b"example.com").digest() + b"\x05" + b"\x00\x00\x00\x00"
signature = key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
rp_hash = hashlib.sha256(b"example.com").digest()

start = time.perf_counter()
for _ in range(iterations):
    collected = CollectedClientData(client_data)
    data = AuthenticatorData(auth_data)
    assert collected.type == "webauthn.get" and data.rp_id_hash == rp_hash and data.is_user_present()
    public.verify(bytes(data) + collected.hash, signature)
elapsed = time.perf_counter() - start
print(f"fido2_assertion {elapsed / iterations * 1e6:.1f}")
