#!/usr/bin/env python3
"""Makes the WebAuthn ceremonies TwofoldWebAuthnTests verifies, from independent software.

    python3 make_fixtures.py OUTDIR [--corpus DIR]

Writes one JSON file per credential to OUTDIR: its registration, assertions made with it, and
refused variants of both, each with the challenge, the relying party and what Twofold must
answer. With --corpus, also writes seed inputs for the `webauthn` fuzz target to DIR.

Credentials come from two implementations that are not Twofold's:
- soft-webauthn's SoftWebauthnDevice, which answers create() and get() as a browser would
  (attestation "none", ES256);
- software authenticators built here on python-fido2's data classes (AuthenticatorData,
  AttestedCredentialData, AttestationObject, CollectedClientData, the COSE key classes) and
  `cryptography` keys: packed self attestation with ES256, EdDSA and RS256, packed with an
  attestation certificate chain, and fido-u2f.

Every ceremony meant to pass is verified with python-fido2's own verifiers (its attestation
formats and COSE keys) before it is written, and every attestation refusal that python-fido2
also makes is checked to be refused by it, so the fixtures do not just agree with Twofold.

Needs: pip install fido2 soft-webauthn (soft-webauthn 0.1.4 declares fido2<2 but runs on 2.x;
install it with --no-deps next to fido2 2.2 when other packages need cryptography>=46).
"""

import argparse
import datetime
import hashlib
import json
import os
import struct
import sys
from base64 import urlsafe_b64encode

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID
from fido2 import cbor
from fido2.attestation import FidoU2FAttestation, NoneAttestation, PackedAttestation
from fido2.attestation.base import InvalidAttestation
from fido2.cose import ES256, RS256, CoseKey, EdDSA
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData, CollectedClientData
from soft_webauthn import SoftWebauthnDevice

RP_ID = "example.com"
ORIGIN = "https://login.example.com"
OTHER_ORIGIN = "https://login.example.net"
OTHER_RP_ID = "example.net"

UP, UV, BE, BS, AT, ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80
AAGUID_OID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


def b64(data: bytes) -> str:
    return urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def challenge() -> bytes:
    """A fresh 32-byte challenge; random, as a server's would be."""
    return os.urandom(32)


def registration_json(credential_id, client_data, attestation_object, transports):
    response = {"clientDataJSON": b64(client_data), "attestationObject": b64(attestation_object)}
    if transports is not None:
        response["transports"] = transports
    return {
        "id": b64(credential_id),
        "rawId": b64(credential_id),
        "type": "public-key",
        "response": response,
        "authenticatorAttachment": "cross-platform",
        "clientExtensionResults": {},
    }


def assertion_json(credential_id, client_data, auth_data, signature, user_handle):
    response = {"clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data), "signature": b64(signature)}
    if user_handle is not None:
        response["userHandle"] = b64(user_handle)
    return {
        "id": b64(credential_id),
        "rawId": b64(credential_id),
        "type": "public-key",
        "response": response,
        "authenticatorAttachment": "cross-platform",
        "clientExtensionResults": {},
    }


def new_key(alg):
    if alg == -7:
        return ec.generate_private_key(ec.SECP256R1())
    if alg == -8:
        return ed25519.Ed25519PrivateKey.generate()
    if alg == -257:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(alg)


def sign(key, data):
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def cose_key(key):
    public = key.public_key()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return ES256.from_cryptography_key(public)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return EdDSA.from_cryptography_key(public)
    return RS256.from_cryptography_key(public)


def name(country="US", organization="Twofold Test Vendor", unit="Authenticator Attestation", common="Twofold Test Key"):
    attributes = []
    if country is not None:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    if organization is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if unit is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    if common is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common))
    return x509.Name(attributes)


def certificate(subject, key, issuer_name, issuer_key, ca, aaguid=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if aaguid is not None:
        # The extension's value is an OCTET STRING holding the 16 bytes (§8.2.1).
        builder = builder.add_extension(x509.UnrecognizedExtension(AAGUID_OID, b"\x04\x10" + aaguid), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


class AttestationCA:
    """A test attestation root, as a vendor would hold one."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = name(unit="Twofold Test Attestation CA", common="Twofold Test Root")
        self.der = certificate(self.name, self.key, self.name, self.key, ca=True)

    def leaf(self, key, subject=None, ca=False, aaguid=None):
        return certificate(subject or name(), key, self.name, self.key, ca=ca, aaguid=aaguid)


class SoftAuthenticator:
    """A software authenticator on python-fido2's data classes: one credential, any algorithm."""

    def __init__(self, alg, aaguid, counter=0, counts=True, flags=0):
        self.key = new_key(alg)
        self.alg = alg
        self.aaguid = aaguid
        self.credential_id = os.urandom(48)
        self.counter = counter
        self.counts = counts
        self.flags = flags  # UV, BE, BS as this authenticator reports them
        self.user_handle = os.urandom(16)

    @property
    def public_key(self) -> CoseKey:
        return cose_key(self.key)

    def attested(self, public_key=None):
        return AttestedCredentialData.create(self.aaguid, self.credential_id, public_key or self.public_key)

    def auth_data(self, rp_id=RP_ID, flags=None, counter=None, attested=None, extensions=None):
        flags = (UP | self.flags) if flags is None else flags
        if attested is not None:
            flags |= AT
        if extensions is not None:
            flags |= ED
        return AuthenticatorData.create(
            sha256(rp_id.encode()), flags, self.counter if counter is None else counter, attested or b"", extensions
        )

    def next_counter(self):
        if self.counts:
            self.counter += 1
        return self.counter

    def assertion(self, client_data, **overrides):
        data = self.auth_data(counter=overrides.pop("counter", self.next_counter()), **overrides)
        signature = sign(self.key, data + sha256(client_data))
        return data, signature


def client_data(type_, challenge_bytes, origin=ORIGIN, **extra):
    return bytes(CollectedClientData.create(type_, challenge_bytes, origin, **extra))


def check_fido2_accepts_registration(attestation_object, client_data_bytes):
    obj = AttestationObject(attestation_object)
    verifier = {"none": NoneAttestation, "packed": PackedAttestation, "fido-u2f": FidoU2FAttestation}[obj.fmt]()
    verifier.verify(obj.att_stmt, obj.auth_data, sha256(client_data_bytes))


def check_fido2_refuses_registration(attestation_object, client_data_bytes):
    try:
        check_fido2_accepts_registration(attestation_object, client_data_bytes)
    except (InvalidAttestation, ValueError, KeyError):
        return
    raise AssertionError("python-fido2 accepts an attestation meant to be refused")


def check_fido2_accepts_assertion(public_key_bytes, auth_data, client_data_bytes, signature):
    CoseKey.parse(cbor.decode(public_key_bytes)).verify(bytes(auth_data) + sha256(client_data_bytes), signature)


class Fixture:
    def __init__(self, name, description, generator, rp_id=RP_ID, origins=(ORIGIN,)):
        self.data = {
            "name": name,
            "description": description,
            "generator": generator,
            "rp_id": rp_id,
            "origins": list(origins),
            "registration": None,
            "assertions": [],
            "refusals": [],
        }

    def registration(self, challenge_bytes, credential, expected, require_uv=False):
        self.data["registration"] = {
            "challenge": b64(challenge_bytes),
            "require_user_verification": require_uv,
            "credential": credential,
            "expected": expected,
        }

    def assertion(self, name, challenge_bytes, credential, stored, expected, require_uv=False):
        self.data["assertions"].append({
            "name": name,
            "challenge": b64(challenge_bytes),
            "stored_sign_count": stored,
            "require_user_verification": require_uv,
            "credential": credential,
            "expected": expected,
        })

    def refusal(self, name, ceremony, challenge_bytes, credential, error, stored=0, require_uv=False):
        self.data["refusals"].append({
            "name": name,
            "ceremony": ceremony,
            "challenge": b64(challenge_bytes),
            "stored_sign_count": stored,
            "require_user_verification": require_uv,
            "credential": credential,
            "error": error,
        })

    @property
    def public_key(self):
        return self.data["registration"]["expected"]["publicKey"]


def expected_registration(auth, fmt, attestation_type, transports, flags):
    return {
        "credentialID": b64(auth.credential_id),
        "publicKey": b64(cbor.encode(auth.public_key)),
        "algorithm": auth.alg,
        "signCount": auth.counter,
        "aaguid": b64(auth.aaguid),
        "attestationFormat": fmt,
        "attestationType": attestation_type,
        "transports": transports,
        "userVerified": bool(flags & UV),
        "backupEligible": bool(flags & BE),
        "backedUp": bool(flags & BS),
    }


def register(auth, fixture, fmt, statement_for, transports=("usb",), extensions=None, attestation_type="self"):
    """Registers `auth`'s credential; `statement_for(auth_data, client_data_hash)` makes attStmt."""
    issued = challenge()
    cd = client_data("webauthn.create", issued)
    data = auth.auth_data(attested=auth.attested(), extensions=extensions)
    obj = bytes(AttestationObject.create(fmt, data, statement_for(data, sha256(cd))))
    check_fido2_accepts_registration(obj, cd)
    credential = registration_json(auth.credential_id, cd, obj, list(transports))
    fixture.registration(issued, credential, expected_registration(
        auth, fmt, attestation_type, list(transports), data[32]))
    return issued


def packed_self(auth):
    return lambda data, cdh: {"alg": auth.alg, "sig": sign(auth.key, data + cdh)}


def add_assertions(auth, fixture, user_handle=True):
    """Two assertions in sequence, then the counter refusals and the re-signed mutations."""
    handle = auth.user_handle if user_handle else None
    results = []
    for index in (1, 2):
        issued = challenge()
        # Browsers may add members to client data (§5.8.1.2); the second assertion has one.
        extra = {"other_keys_can_be_added_here": "do not compare clientDataJSON against a template"} if index == 2 else {}
        cd = client_data("webauthn.get", issued, **extra)
        stored = auth.counter
        data, signature = auth.assertion(cd)
        check_fido2_accepts_assertion(cbor.encode(auth.public_key), data, cd, signature)
        credential = assertion_json(auth.credential_id, cd, data, signature, handle)
        fixture.assertion(f"assertion {index}", issued, credential, stored,
                          {"signCount": auth.counter, "userVerified": bool(data[32] & UV)})
        results.append((issued, credential, auth.counter))

    issued, credential, count = results[-1]
    if count != 0:
        fixture.refusal("the counter equal to the stored one", "assertion", issued, credential,
                        "sign_count_not_increased", stored=count)
        fixture.refusal("the counter below the stored one", "assertion", issued, credential,
                        "sign_count_not_increased", stored=count + 1000)

    def mutated(name, error, type_="webauthn.get", origin=ORIGIN, extra=None, require_uv=False, **overrides):
        issued = challenge()
        cd = client_data(type_, issued, origin, **(extra or {}))
        data, signature = auth.assertion(cd, **overrides)
        fixture.refusal(name, "assertion", issued, assertion_json(auth.credential_id, cd, data, signature, handle),
                        error, stored=0, require_uv=require_uv)

    mutated("client data type webauthn.create", "type_mismatch", type_="webauthn.create")
    mutated("an origin of another site", "origin_mismatch", origin=OTHER_ORIGIN)
    mutated("crossOrigin true", "origin_mismatch", extra={"cross_origin": True})
    mutated("signed for another RP ID", "rp_id_mismatch", rp_id=OTHER_RP_ID)
    mutated("the UP flag cleared", "user_not_present", flags=auth.flags & ~UP & 0xFF)
    if not auth.flags & UV:
        mutated("user verification required but not done", "user_not_verified", require_uv=True)


def add_registration_refusals(auth, fixture, fmt, statement_for):
    """Registrations with one field changed and everything signed again."""

    def mutated(name, error, type_="webauthn.create", origin=ORIGIN, extra=None, flags=None, rp_id=RP_ID,
                require_uv=False, statement=None, fmt_=fmt, fido2_refuses=False):
        issued = challenge()
        cd = client_data(type_, issued, origin, **(extra or {}))
        data = auth.auth_data(rp_id=rp_id, flags=flags, attested=auth.attested())
        obj = bytes(AttestationObject.create(fmt_, data, (statement or statement_for)(data, sha256(cd))))
        if fido2_refuses:
            check_fido2_refuses_registration(obj, cd)
        fixture.refusal(name, "registration", issued, registration_json(auth.credential_id, cd, obj, ["usb"]), error,
                        require_uv=require_uv)

    mutated("client data type webauthn.get", "type_mismatch", type_="webauthn.get")
    mutated("an origin of another site", "origin_mismatch", origin=OTHER_ORIGIN)
    mutated("crossOrigin true", "origin_mismatch", extra={"cross_origin": True})
    mutated("signed for another RP ID", "rp_id_mismatch", rp_id=OTHER_RP_ID)
    mutated("the UP flag cleared", "user_not_present", flags=auth.flags & ~UP & 0xFF)
    if not auth.flags & UV:
        mutated("user verification required but not done", "user_not_verified", require_uv=True)
    return mutated


def soft_webauthn_none():
    """soft-webauthn's device: attestation none, ES256, a counter from 1, no user handle kept."""
    fixture = Fixture("none-es256-soft-webauthn", "soft-webauthn SoftWebauthnDevice, attestation none", "soft-webauthn")
    device = SoftWebauthnDevice()
    issued = challenge()
    options = {"publicKey": {
        "rp": {"id": RP_ID, "name": "Example"},
        "user": {"id": os.urandom(16), "name": "alice", "displayName": "Alice"},
        "challenge": issued,
        "pubKeyCredParams": [{"alg": -7, "type": "public-key"}],
        "attestation": "none",
    }}
    created = device.create(options, ORIGIN)
    response = created["response"]
    check_fido2_accepts_registration(response["attestationObject"], response["clientDataJSON"])
    credential = registration_json(created["rawId"], response["clientDataJSON"], response["attestationObject"],
                                   ["usb", "nfc", "usb", "carrier-pigeon"])
    fixture.registration(issued, credential, {
        "credentialID": b64(created["rawId"]),
        "publicKey": b64(cbor.encode(ES256.from_cryptography_key(device.private_key.public_key()))),
        "algorithm": -7,
        "signCount": 0,
        "aaguid": b64(bytes(16)),
        "attestationFormat": "none",
        "attestationType": "none",
        "transports": ["usb", "nfc"],
        "userVerified": False,
        "backupEligible": False,
        "backedUp": False,
    })
    for index in (1, 2):
        issued = challenge()
        stored = device.sign_count
        got = device.get({"publicKey": {"rpId": RP_ID, "challenge": issued}}, ORIGIN)
        r = got["response"]
        check_fido2_accepts_assertion(cbor.encode(ES256.from_cryptography_key(device.private_key.public_key())),
                                      r["authenticatorData"], r["clientDataJSON"], r["signature"])
        credential = assertion_json(got["rawId"], r["clientDataJSON"], r["authenticatorData"], r["signature"],
                                    r["userHandle"])
        fixture.assertion(f"assertion {index}", issued, credential, stored,
                          {"signCount": device.sign_count, "userVerified": False})
    fixture.refusal("the counter equal to the stored one", "assertion", issued, credential,
                    "sign_count_not_increased", stored=device.sign_count)
    fixture.refusal("user verification required but not done", "assertion", issued, credential,
                    "user_not_verified", stored=0, require_uv=True)
    return fixture


def packed_self_es256():
    """ES256 without a counter (always 0: the 0/0 rule), user present only."""
    auth = SoftAuthenticator(-7, bytes.fromhex("0123456789abcdef0123456789abcdef"), counts=False)
    fixture = Fixture("packed-self-es256", "packed self attestation, ES256, no signature counter", "python-fido2")
    register(auth, fixture, "packed", packed_self(auth), transports=["usb", "internal"])
    add_assertions(auth, fixture)
    mutated = add_registration_refusals(auth, fixture, "packed", packed_self(auth))
    other = new_key(-7)
    mutated("self attestation signed by another key", "bad_attestation",
            statement=lambda data, cdh: {"alg": -7, "sig": sign(other, data + cdh)}, fido2_refuses=True)
    mutated("self attestation naming RS256 for an ES256 key", "bad_attestation",
            statement=lambda data, cdh: {"alg": -257, "sig": sign(auth.key, data + cdh)}, fido2_refuses=True)
    mutated("attestation none with a statement", "bad_attestation", fmt_="none",
            statement=lambda data, cdh: {"alg": -7, "sig": sign(auth.key, data + cdh)}, fido2_refuses=True)
    mutated("attestation format tpm", "unsupported", fmt_="tpm")
    return fixture


def packed_self_eddsa():
    """EdDSA with user verification, a counter from 10 and an extension output (ED flag)."""
    auth = SoftAuthenticator(-8, bytes.fromhex("f8a011f38c0a4d15800617111f9edc7d"), counter=10, flags=UV)
    fixture = Fixture("packed-self-eddsa", "packed self attestation, EdDSA, user verified, credProtect extension",
                      "python-fido2")
    register(auth, fixture, "packed", packed_self(auth), transports=["nfc"], extensions={"credProtect": 2})
    fixture.data["registration"]["require_user_verification"] = True
    add_assertions(auth, fixture)
    add_registration_refusals(auth, fixture, "packed", packed_self(auth))
    return fixture


def packed_self_rs256():
    """RS256 (as Windows Hello's keys), a backed-up credential, a counter from 100."""
    auth = SoftAuthenticator(-257, bytes.fromhex("08987058cadc4b81b6e130de50dcbe96"), counter=100, flags=BE | BS)
    fixture = Fixture("packed-self-rs256", "packed self attestation, RS256, backup eligible and backed up",
                      "python-fido2")
    register(auth, fixture, "packed", packed_self(auth), transports=["internal", "hybrid"])
    add_assertions(auth, fixture, user_handle=False)
    add_registration_refusals(auth, fixture, "packed", packed_self(auth))
    return fixture


def packed_x5c():
    """Packed basic attestation: a leaf from a test attestation CA, with the AAGUID extension."""
    aaguid = bytes.fromhex("cb69481e8ff7403993ec0a2729a154a8")
    auth = SoftAuthenticator(-7, aaguid, counter=5)
    ca = AttestationCA()
    attestation_key = ec.generate_private_key(ec.SECP256R1())
    leaf = ca.leaf(attestation_key, aaguid=aaguid)

    def statement(leaf_der, alg=-7, key=attestation_key):
        return lambda data, cdh: {"alg": alg, "sig": sign(key, data + cdh), "x5c": [leaf_der, ca.der]}

    fixture = Fixture("packed-x5c-es256", "packed basic attestation with a certificate chain from a test CA",
                      "python-fido2 and cryptography")
    register(auth, fixture, "packed", statement(leaf), transports=["usb"], attestation_type="basic")
    add_assertions(auth, fixture)
    mutated = add_registration_refusals(auth, fixture, "packed", statement(leaf))
    mutated("the certificate's OU is not Authenticator Attestation", "bad_attestation",
            statement=statement(ca.leaf(attestation_key, subject=name(unit="Security Keys"), aaguid=aaguid)),
            fido2_refuses=True)
    mutated("the certificate is a CA", "bad_attestation",
            statement=statement(ca.leaf(attestation_key, ca=True, aaguid=aaguid)), fido2_refuses=True)
    mutated("the certificate has no basic constraints", "bad_attestation",
            statement=statement(ca.leaf(attestation_key, ca=None, aaguid=aaguid)), fido2_refuses=True)
    mutated("the certificate's AAGUID extension names another model", "bad_attestation",
            statement=statement(ca.leaf(attestation_key, aaguid=bytes(16))), fido2_refuses=True)
    mutated("the certificate has no CN", "bad_attestation",
            statement=statement(ca.leaf(attestation_key, subject=name(common=None), aaguid=aaguid)),
            fido2_refuses=True)
    mutated("signed by a key that is not the certificate's", "bad_attestation",
            statement=statement(leaf, key=ec.generate_private_key(ec.SECP256R1())), fido2_refuses=True)
    mutated("the statement names EdDSA for a P-256 certificate", "bad_attestation", statement=statement(leaf, alg=-8))
    return fixture


def packed_x5c_without_aaguid_extension():
    """Packed basic attestation whose certificate has no AAGUID extension (it is optional)."""
    auth = SoftAuthenticator(-7, bytes.fromhex("2fc0579f811347eab116bb5a8db9202a"), counter=1)
    ca = AttestationCA()
    attestation_key = ec.generate_private_key(ec.SECP256R1())
    leaf = ca.leaf(attestation_key, subject=name(country="SE", organization="Yubico-like AB", common="Test Batch 7"))
    fixture = Fixture("packed-x5c-no-aaguid", "packed basic attestation, no AAGUID extension", "python-fido2 and cryptography")
    register(auth, fixture, "packed",
             lambda data, cdh: {"alg": -7, "sig": sign(attestation_key, data + cdh), "x5c": [leaf]},
             transports=[], attestation_type="basic")
    return fixture


def fido_u2f():
    """A U2F key registered through WebAuthn: fido-u2f attestation, zero AAGUID, ES256."""
    auth = SoftAuthenticator(-7, bytes(16), counter=0)
    attestation_key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Twofold Test U2F EE Serial 42")]),
                       attestation_key, name(common="Twofold Test U2F CA"), attestation_key, ca=None)

    def u2f_statement(key=attestation_key, certs=None, credential=None):
        def make(data, cdh):
            cose = (credential or auth).public_key
            public = b"\x04" + cose[-2] + cose[-3] if cose[1] == 2 else cose[-2]
            signed = b"\x00" + sha256(RP_ID.encode()) + cdh + auth.credential_id + public
            return {"sig": sign(key, signed), "x5c": certs or [cert]}
        return make

    fixture = Fixture("fido-u2f", "fido-u2f attestation from a U2F key", "python-fido2 and cryptography")
    register(auth, fixture, "fido-u2f", u2f_statement(), transports=["usb", "nfc"], attestation_type="basic")
    add_assertions(auth, fixture, user_handle=False)
    mutated = add_registration_refusals(auth, fixture, "fido-u2f", u2f_statement())
    mutated("signed by a key that is not the certificate's", "bad_attestation",
            statement=u2f_statement(key=ec.generate_private_key(ec.SECP256R1())), fido2_refuses=True)
    mutated("x5c with two certificates", "bad_attestation", statement=u2f_statement(certs=[cert, cert]))

    # An EdDSA credential cannot come from a U2F key.
    eddsa = SoftAuthenticator(-8, bytes(16))
    eddsa.credential_id = auth.credential_id
    issued = challenge()
    cd = client_data("webauthn.create", issued)
    data = eddsa.auth_data(attested=eddsa.attested())
    signed = b"\x00" + sha256(RP_ID.encode()) + sha256(cd) + eddsa.credential_id + eddsa.public_key[-2]
    obj = bytes(AttestationObject.create("fido-u2f", data, {"sig": sign(attestation_key, signed), "x5c": [cert]}))
    check_fido2_refuses_registration(obj, cd)
    fixture.refusal("fido-u2f with an EdDSA credential", "registration", issued,
                    registration_json(eddsa.credential_id, cd, obj, ["usb"]), "bad_attestation")
    return fixture


def corpus(fixtures, directory):
    """Seed inputs for Tests/Fuzz/Sources/webauthn: a mode byte, then what the mode reads."""
    os.makedirs(directory, exist_ok=True)

    def write(name, mode, data):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(bytes([mode]) + data)

    for fixture in fixtures:
        name = fixture.data["name"]
        registration = fixture.data["registration"]["credential"]
        response = registration["response"]
        attestation = urlsafe_b64decode(response["attestationObject"])
        if name.startswith("packed-self"):
            write(f"{name}-cbor", 0, attestation)
        write(f"{name}-attestation", 1, attestation)
        write(f"{name}-registration", 3, json.dumps(registration).encode())
        if fixture.data["assertions"]:
            assertion = fixture.data["assertions"][0]["credential"]
            write(f"{name}-authdata", 2, urlsafe_b64decode(assertion["response"]["authenticatorData"]))
            key = urlsafe_b64decode(fixture.public_key)
            write(f"{name}-authentication", 4, struct.pack(">H", len(key)) + key + json.dumps(assertion).encode())
            write(f"{name}-cose-key", 5, key + b"\x00" + b"\x30\x06\x02\x01\x01\x02\x01\x01\x00signed")


def urlsafe_b64decode(text):
    from base64 import urlsafe_b64decode as decode
    return decode(text + "=" * (-len(text) % 4))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--corpus")
    arguments = parser.parse_args()
    fixtures = [soft_webauthn_none(), packed_self_es256(), packed_self_eddsa(), packed_self_rs256(), packed_x5c(),
                packed_x5c_without_aaguid_extension(), fido_u2f()]
    os.makedirs(arguments.outdir, exist_ok=True)
    for fixture in fixtures:
        with open(os.path.join(arguments.outdir, fixture.data["name"] + ".json"), "w") as f:
            json.dump(fixture.data, f, indent=1, sort_keys=True)
            f.write("\n")
    if arguments.corpus:
        corpus(fixtures, arguments.corpus)
    print(f"{len(fixtures)} credentials, "
          f"{sum(len(f.data['assertions']) for f in fixtures)} assertions, "
          f"{sum(len(f.data['refusals']) for f in fixtures)} refusals", file=sys.stderr)


if __name__ == "__main__":
    main()
