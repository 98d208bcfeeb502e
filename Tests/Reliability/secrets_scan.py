"""Secrets at rest, in the logs and in the answers: the driver and the search of
Tests/Reliability/secrets.sh, which starts and stops the server and documents the scenario.
(Not named secrets.py: a file of that name here would shadow Python's `secrets` module for every
script run from this folder, load.py through pyotp included.)

    python3 secrets_scan.py drive WORK    with `twofold serve` running as WORK/settings.json
                                          says: use every feature, write down every sensitive
                                          value used (WORK/values.json), every answer
                                          (WORK/responses.jsonl) and the CLI's standard error
                                          (WORK/cli.log)
    python3 secrets_scan.py search WORK   after the server stopped: search the store's snapshots
                                          (WORK/snap), the data folder, the logs and the answers
                                          for every value; write WORK/figures.txt; exit 1 on a
                                          value out of its place

Nothing here prints a value: progress, failures and findings name kinds, users, answers, files,
offsets and lines only. WORK is mode 0700 and deleted by secrets.sh.

Where a value may be -- the only occurrences allowed (Values.add(..., allowed=...) below; each is
also checked to be found there, which proves that the search's forms match the value):
  - a TOTP/HOTP factor secret: the enrollment answer (POST /v1/users/{u}/factors), fields `secret`
    and `otpauth_uri` (not `qr_svg`, not the factor); the output of `twofold enroll`;
  - a recovery code: the answer of POST /v1/users/{u}/recovery-codes, field `codes`; the output of
    `twofold recovery-codes`;
  - an API key: the data folder's `initial-api-key` for the first start's key; the output of the
    `twofold apikey create` that made it;
  - a phone number: the user's own export (GET /v1/users/{u}/export, `twofold users export`), as
    the README says; everywhere else only masked (`+1•••••4567`, which is not searched for);
  - a push activation token: the enrollment answer, fields `activation.token` and `activation.uri`;
  - a WebAuthn challenge: the answer that issued it, field `public_key.challenge`.
Every other value -- codes sent or typed (right or wrong), hardware token seeds, PSKC keys and
password, the webhook secret, the master key, the VAPID key, device and security key private keys,
the security key's public key (sealed at rest, per the README), the relay's push token, the Web
Push auth secret and endpoint, the PostgreSQL password -- may be in none of the places searched.
The places searched: the SQLite file, WAL and SHM (raw bytes) or pg_dump (plain and custom), every
other file of the data folder, the server's log and the CLI's standard error (every line; JSON
lines also decoded), every HTTP answer (headers, body, body decoded) and every CLI output. The
files made to hold a value (the master key, VAPID and webhook secret files, device files, token
files, the configuration) are not searched.

Forms searched. Byte strings (secrets, keys, tokens, challenges): the raw bytes; hex (lower,
upper, and spaced as NIO dumps bytes); Base32 (upper, lower, padded or not); Base64 and Base64url
(padded or not); the same Base64 and Base32 from every byte alignment within a longer encoded blob
(the characters that depend only on the value: "cores"); the bytes as decimal lists. Texts (API
keys and their secret part, recovery codes as shown, without hyphens, in capitals, spaced;
passwords; push tokens): as they are. Every textual form also JSON-escaped, with `\/`, and
percent-encoded. Codes (6 to 8 digits): as whole tokens only -- a maximal run of digits not
touching a letter or digit (after a `%XX` escape counts as a boundary), and not the fraction or
the integer part of a decimal number (`12.345678`, a time's microseconds), which are counted
apart -- plus the spoken forms `4, 4, 9, …` and `4 4 9 …`. A hit on a code can be chance: an
unrelated number that happens to equal it. The chance is estimated from the distinct code-shaped
tokens seen, by length (a table OID repeated in thousands of PostgreSQL trace lines is one chance),
and printed; it is about 0.001 with PostgreSQL's trace lines, far less on SQLite. Binary runs of
random bytes (ciphertext, hashes) rarely form ASCII digit tokens, and hex or Base64 text touches
letters, so neither counts. Phone numbers: the E.164 digits and the national number as whole runs
of digits (so `+1…`, `%2B1…` and `tel:1…` all match).

Controls: values the store keeps in clear by design (a security key's credential id, a token's
serial) must be found in the store's copies, which proves that they hold the rows the run wrote.
Logins: when the PostgreSQL password is known, the log is also read for postgres-nio's trace
lines of the SCRAM-SHA-256 login; a complete exchange, with which the real password reproduces the
logged client proof, fails the run like a value in clear: anyone reading the log could test
password guesses offline. (The store caps the driver's logs at debug for this reason.)
"""

import base64
import bisect
import collections
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from providers_gateway import read_request_body

ORIGIN = "https://login.example.com"


# --- small helpers ---------------------------------------------------------------------------

class Failure(Exception):
    pass


def log(text):
    print(f"secrets: {text}", file=sys.stderr, flush=True)


def check(condition, what):
    if not condition:
        raise Failure(what)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unb32(text: str) -> bytes:
    text = text.upper().replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def write_private(path, data, mode="w"):
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, mode) as handle:
        handle.write(data)


def p256_scalar(private_key) -> bytes:
    return private_key.private_numbers().private_value.to_bytes(32, "big")


# --- what is written down --------------------------------------------------------------------

class Values:
    """Every sensitive value used, with where it may legitimately be."""

    def __init__(self):
        self.items = []

    def add(self, kind, label, *, raw=None, texts=(), code=None, phone=None, calling=None, allowed=(), control=False):
        item = {"id": f"v{len(self.items) + 1}", "kind": kind, "label": label, "allowed": []}
        if control:
            # Not a secret: a value the store keeps in clear by design, which the search must find
            # there (proof that the copies searched hold the rows the run wrote).
            item["control"] = True
        if raw is not None:
            item["raw"] = bytes(raw).hex()
        if texts:
            item["texts"] = [t for t in dict.fromkeys(texts) if t]
        if code is not None:
            check(re.fullmatch(r"[0-9]{6,8}", code) is not None, f"{label}: a code of 6 to 8 digits")
            item["code"] = code
        if phone is not None:
            item["phone"] = phone
            item["calling"] = calling
        self.items.append(item)
        for where, path in allowed:
            self.allow(item, where, path)
        return item

    @staticmethod
    def allow(item, where, path):
        """`where`: a recorded answer's id (rN), or file:<path under WORK>; `path`: the JSON field
        (dotted) that carries the value, or * for the whole answer or file."""
        item["allowed"].append({"where": where, "path": path})

    def save(self, path):
        write_private(path, json.dumps(self.items, indent=1))


class Recorder:
    """Every answer: HTTP (the API, the callbacks) and CLI standard output."""

    def __init__(self, work):
        self.lock = threading.Lock()
        self.count = 0
        self.file = open(os.path.join(work, "responses.jsonl"), "a")
        self.cli_log = open(os.path.join(work, "cli.log"), "ab")

    def add(self, source, what, status, headers, body: bytes) -> str:
        with self.lock:
            self.count += 1
            rid = f"r{self.count}"
            self.file.write(json.dumps({"id": rid, "source": source, "what": what, "status": status, "headers": headers,
                                        "body": base64.b64encode(body).decode("ascii")}) + "\n")
            self.file.flush()
            return rid

    def cli_stderr(self, rid, what, data: bytes):
        with self.lock:
            self.cli_log.write(f"### {rid} {what}\n".encode() + data + (b"" if data.endswith(b"\n") or not data else b"\n"))
            self.cli_log.flush()


class Reply:
    def __init__(self, rid, status, body: bytes):
        self.rid = rid
        self.status = status
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def error_code(self):
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"].get("code")
        return None


class API:
    def __init__(self, url, key, recorder):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.key = key
        self.recorder = recorder
        self.counter = 0

    def call(self, method, path, body=None, *, key=None, expect=None, what=None, timeout=30, raw_body=None, headers=None):
        self.counter += 1
        sent = {"X-Request-Id": f"secrets-{self.counter}"}
        if key is not False:
            sent["Authorization"] = "Bearer " + (key or self.key)
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            payload = response.read()
            header_text = "\n".join(f"{k}: {v}" for k, v in response.getheaders())
            status = response.status
        finally:
            connection.close()
        label = what or f"{method} {path.split('?')[0]}"
        rid = self.recorder.add("http", label, status, header_text, payload)
        reply = Reply(rid, status, payload)
        if expect is not None and status != expect:
            raise Failure(f"{label}: status {status}, expected {expect} (error {reply.error_code()}; answer {rid})")
        return reply


class CLI:
    def __init__(self, settings, recorder, work):
        self.bin = settings["bin"]
        self.config = settings["config"]
        self.recorder = recorder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
        self.work = work

    def run(self, what, args, *, stdin=None, expect=0, device_file=None):
        env = dict(self.env)
        if device_file:
            env["TWOFOLD_DEVICE_FILE"] = device_file
        else:
            env["TWOFOLD_CONFIG"] = self.config
        proc = subprocess.run([self.bin] + args, input=(stdin or "").encode(), capture_output=True, env=env, timeout=60,
                              cwd=self.work)
        rid = self.recorder.add("cli", f"twofold {what}", proc.returncode, "", proc.stdout)
        self.recorder.cli_stderr(rid, f"twofold {what}", proc.stderr)
        if expect is not None and proc.returncode != expect:
            raise Failure(f"twofold {what}: exit status {proc.returncode}, expected {expect} (output {rid}; its standard error in cli.log)")
        return rid, proc.stdout.decode("utf-8", "replace")


# --- the SQLite files while serving ----------------------------------------------------------

class SQLiteWatcher(threading.Thread):
    """Copies the WAL (and the database file) every time it changes while the driver runs: the
    WAL's contents are transient (every admin command that closes the store folds it back and
    truncates it), so a copy at the end alone would see an empty WAL. Also copies all three files
    at the end of each phase (`snapshot`). Identical copies are kept once."""

    NAMES = ("twofold.sqlite", "twofold.sqlite-wal", "twofold.sqlite-shm")

    def __init__(self, data_dir, snap_dir, limit_bytes=200_000_000):
        super().__init__(daemon=True)
        self.data_dir, self.snap_dir = data_dir, snap_dir
        self.stop = threading.Event()
        self.seen = {}
        self.digests = set()
        self.copies = 0
        self.bytes = 0
        self.limit = limit_bytes
        self.lock = threading.Lock()

    def copy(self, name, folder, force=False):
        path = os.path.join(self.data_dir, name)
        try:
            status = os.stat(path)
            if status.st_size == 0:
                return
            stamp = (status.st_size, status.st_mtime_ns)
            with self.lock:
                if not force and self.seen.get(name) == stamp:
                    return
                self.seen[name] = stamp
            data = open(path, "rb").read()
        except FileNotFoundError:
            return
        digest = hashlib.sha256(data).digest()
        with self.lock:
            if digest in self.digests or self.bytes + len(data) > self.limit:
                return
            self.digests.add(digest)
            self.copies += 1
            self.bytes += len(data)
            number = self.copies
        os.makedirs(os.path.join(self.snap_dir, folder), mode=0o700, exist_ok=True)
        write_private(os.path.join(self.snap_dir, folder, f"{number:04d}-{name}"), data, "wb")

    def run(self):
        while not self.stop.wait(0.02):
            self.copy("twofold.sqlite-wal", "while-serving")
            self.copy("twofold.sqlite", "while-serving")

    def snapshot(self, label):
        for name in self.NAMES:
            self.copy(name, f"after-{label}", force=True)

    def finish(self):
        self.stop.set()
        self.join()
        wal = [n for n in os.listdir(os.path.join(self.snap_dir, "while-serving"))] if os.path.isdir(
            os.path.join(self.snap_dir, "while-serving")) else []
        check(any(n.endswith("-wal") for n in wal), "no copy of a non-empty WAL was made while serving")


# --- the gateway: SMS, voice, push relay, Web Push -------------------------------------------

SMS_CODE = re.compile(r"code is ([0-9]{6,8})\b")
SPOKEN_CODE = re.compile(r"code is: ((?:[0-9], )+[0-9])\.")


class Gateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, secret: bytes, recorder):
        super().__init__(("127.0.0.1", port), GatewayHandler)
        self.secret = secret
        self.recorder = recorder
        self.cond = threading.Condition()
        self.messages = {}     # challenge id -> what the SMS or voice gateway got
        self.pushes = {}       # challenge id -> the relay's body
        self.webpush = []      # (path, headers) of Web Push posts
        self.problems = []
        self.callbacks = []    # (challenge id, kind, status)

    def verified(self, header, raw):
        try:
            fields = dict(part.split("=", 1) for part in header.split(","))
            stamp = fields["t"]
            expected = hmac.new(self.secret, stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
            return abs(time.time() - int(stamp)) <= 300 and hmac.compare_digest(expected, fields["v1"])
        except (KeyError, ValueError):
            return False

    def sign(self, raw):
        stamp = str(int(time.time()))
        return f"t={stamp},v1=" + hmac.new(self.secret, stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()

    def callback(self, url, challenge_id, body, kind):
        """Posts a signed report to Twofold, as the gateway would; Twofold's answer is recorded."""
        raw = json.dumps(body).encode()
        parts = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        try:
            connection.request("POST", parts.path, body=raw,
                               headers={"Content-Type": "application/json", "Twofold-Signature": self.sign(raw)})
            response = connection.getresponse()
            payload = response.read()
            self.recorder.add("callback", f"POST /v1/callbacks/webhook/{{challenge}}/{kind}", response.status,
                              "\n".join(f"{k}: {v}" for k, v in response.getheaders()), payload)
            with self.cond:
                self.callbacks.append((challenge_id, kind, response.status))
                self.cond.notify_all()
        except OSError as error:
            self.problem(f"a {kind} callback failed: {type(error).__name__}")
        finally:
            connection.close()

    def problem(self, text):
        with self.cond:
            self.problems.append(text)
            self.cond.notify_all()

    def wait(self, what, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = predicate()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"the gateway got no {what} within {timeout} s (problems: {self.problems})")
                self.cond.wait(left)

    def code_for(self, challenge_id):
        message = self.wait(f"code for {challenge_id}", lambda: self.messages.get(challenge_id))
        check(message.get("code"), f"the message of {challenge_id} carries no code (mode {message.get('mode')})")
        return message


class GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def read_body(self):
        return read_request_body(self)

    def answer(self, status, body=None):
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        gateway = self.server
        raw = self.read_body()
        if self.path.startswith("/wp/"):
            with gateway.cond:
                gateway.webpush.append((self.path, {"encoding": self.headers.get("Content-Encoding"),
                                                    "vapid": self.headers.get("Authorization", "").startswith("vapid "),
                                                    "length": len(raw)}))
                gateway.cond.notify_all()
            self.answer(201)
            return
        if not gateway.verified(self.headers.get("Twofold-Signature", ""), raw):
            gateway.problem(f"{self.path}: a post without a valid Twofold-Signature")
            self.answer(401, {"error": "bad signature"})
            return
        body = json.loads(raw)
        challenge_id = body.get("challenge_id")
        if self.path == "/push":
            with gateway.cond:
                gateway.pushes[challenge_id] = body
                gateway.cond.notify_all()
            self.answer(200, {"id": f"relay-{challenge_id}"})
            return
        message = {"type": body.get("type"), "to": body.get("to"), "mode": body.get("mode")}
        later = None
        if self.path == "/sms":
            found = SMS_CODE.search(body.get("body", ""))
            message["code"] = found.group(1) if found else None
            message["origin_bound"] = bool(found) and ("#" + found.group(1)) in body.get("body", "")
            later = (body.get("callback_url"), {"challenge_id": challenge_id, "status": "delivered"}, "status")
        elif body.get("mode") == "say":
            found = SPOKEN_CODE.search(body.get("speech", ""))
            message["code"] = found.group(1).replace(", ", "") if found else None
        elif body.get("mode") == "press_key":
            later = (body.get("digits_callback_url"), {"challenge_id": challenge_id, "status": "completed", "digits": "1"}, "digits")
        with gateway.cond:
            gateway.messages[challenge_id] = message
            gateway.cond.notify_all()
        self.answer(200, {"id": f"gw-{challenge_id}"})
        if later and later[0]:
            # After the answer, as a real gateway reports: a moment later, on its own connection.
            threading.Timer(0.3, gateway.callback, args=(later[0], challenge_id, later[1], later[2])).start()


# --- hardware token files --------------------------------------------------------------------

PSKC = "urn:ietf:params:xml:ns:keyprov:pskc"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
PKCS5 = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#"
HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
HMAC_SHA256_URI = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
AES128 = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"


def cbc(key, plaintext):
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext) + padder.finalize()
    vector = os.urandom(16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(vector)).encryptor()
    return vector + encryptor.update(data) + encryptor.finalize()


def pskc_file(encryption_key_xml, key, mac_key, tokens):
    """A PSKC container whose secrets are AES-128-CBC under `key`, MACed (HMAC-SHA1) under
    `mac_key`, itself encrypted under `key`. tokens: (serial, "hotp"|"totp", secret, digits,
    counter or period, suite or None)."""
    b64 = lambda data: base64.b64encode(data).decode()
    packages = []
    for serial, kind, secret, digits, moving, suite in tokens:
        value = cbc(key, secret)
        value_mac = hmac.new(mac_key, value, hashlib.sha1).digest()
        moving_xml = (f"<pskc:Counter><pskc:PlainValue>{moving}</pskc:PlainValue></pskc:Counter>" if kind == "hotp"
                      else f"<pskc:TimeInterval><pskc:PlainValue>{moving}</pskc:PlainValue></pskc:TimeInterval>")
        suite_xml = f"<pskc:Suite>{suite}</pskc:Suite>" if suite else ""
        packages.append(f"""  <pskc:KeyPackage>
    <pskc:DeviceInfo><pskc:Manufacturer>Secrets Test</pskc:Manufacturer><pskc:SerialNo>{serial}</pskc:SerialNo></pskc:DeviceInfo>
    <pskc:Key Id="{serial}" Algorithm="{PSKC}:{kind}">
      <pskc:AlgorithmParameters>{suite_xml}<pskc:ResponseFormat Length="{digits}" Encoding="DECIMAL"/></pskc:AlgorithmParameters>
      <pskc:Data>
        <pskc:Secret>
          <pskc:EncryptedValue>
            <xenc:EncryptionMethod Algorithm="{AES128}"/>
            <xenc:CipherData><xenc:CipherValue>{b64(value)}</xenc:CipherValue></xenc:CipherData>
          </pskc:EncryptedValue>
          <pskc:ValueMAC>{b64(value_mac)}</pskc:ValueMAC>
        </pskc:Secret>
        {moving_xml}
      </pskc:Data>
    </pskc:Key>
  </pskc:KeyPackage>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<pskc:KeyContainer Version="1.0" xmlns:pskc="{PSKC}" xmlns:xenc="{XENC}" xmlns:xenc11="{XENC11}" xmlns:ds="{DSIG}" xmlns:pkcs5="{PKCS5}">
  <pskc:EncryptionKey>{encryption_key_xml}</pskc:EncryptionKey>
  <pskc:MACMethod Algorithm="{HMAC_SHA1}">
    <pskc:MACKey>
      <xenc:EncryptionMethod Algorithm="{AES128}"/>
      <xenc:CipherData><xenc:CipherValue>{b64(cbc(key, mac_key))}</xenc:CipherValue></xenc:CipherData>
    </pskc:MACKey>
  </pskc:MACMethod>
{chr(10).join(packages)}
</pskc:KeyContainer>
"""


def pbkdf2_key_xml(salt, iterations):
    return f"""
    <xenc11:DerivedKey>
      <xenc11:KeyDerivationMethod Algorithm="{PKCS5}pbkdf2">
        <pkcs5:PBKDF2-params>
          <pkcs5:Salt><pkcs5:Specified>{base64.b64encode(salt).decode()}</pkcs5:Specified></pkcs5:Salt>
          <pkcs5:IterationCount>{iterations}</pkcs5:IterationCount>
          <pkcs5:KeyLength>16</pkcs5:KeyLength>
          <pkcs5:PRF Algorithm="{HMAC_SHA256_URI}"/>
        </pkcs5:PBKDF2-params>
      </xenc11:KeyDerivationMethod>
      <xenc11:MasterKeyName>Secrets test password</xenc11:MasterKeyName>
    </xenc11:DerivedKey>
  """


# --- the driver ------------------------------------------------------------------------------

def drive(work):
    import pyotp
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
    from cryptography.hazmat.primitives import hashes
    from soft_webauthn import SoftWebauthnDevice

    settings = json.load(open(os.path.join(work, "settings.json")))
    keys_dir, data_dir = settings["keys_dir"], settings["data_dir"]
    recorder = Recorder(work)
    values = Values()
    initial_key = open(os.path.join(data_dir, "initial-api-key")).read().strip()
    api = API(settings["url"], initial_key, recorder)
    cli = CLI(settings, recorder, work)
    webhook_secret = open(os.path.join(keys_dir, "webhook-secret")).read().strip()
    gateway = Gateway(settings["gateway_port"], webhook_secret.encode(), recorder)
    threading.Thread(target=gateway.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    os.makedirs(os.path.join(work, "device"), mode=0o700, exist_ok=True)
    os.makedirs(os.path.join(work, "tokens"), mode=0o700, exist_ok=True)
    watcher = None
    if settings["store"] == "sqlite":
        watcher = SQLiteWatcher(data_dir, os.path.join(work, "snap"))
        watcher.start()

    def phase_done(label):
        if watcher is not None:
            watcher.snapshot(label)

    def code(value, label, kind="OTP code"):
        return values.add(kind, label, code=value)

    def wrong_code_for(right, label):
        wrong = right
        while wrong == right:
            wrong = "".join(secrets.choice("0123456789") for _ in right)
        return code(wrong, label, kind="wrong code")

    def api_key_item(token, label, allowed):
        return values.add("API key", label, texts=[token, token.rsplit("_", 1)[1]], allowed=allowed)

    # The configuration's secrets.
    api_key_item(initial_key, "the first start's API key", [("file:data/initial-api-key", "*")])
    values.add("webhook secret", "TWOFOLD_WEBHOOK_SECRET", texts=[webhook_secret])
    master = open(os.path.join(keys_dir, "master.key")).read().split()
    check(len(master) == 2 and master[0] == "twofold-master-key-v1", "the master key file has its one line")
    values.add("master key", "the master key (twofold keys generate)", raw=base64.b64decode(master[1]))
    vapid = serialization.load_pem_private_key(open(os.path.join(keys_dir, "vapid.pem"), "rb").read(), None)
    values.add("VAPID private key", "TWOFOLD_VAPID_KEY_FILE", raw=p256_scalar(vapid))
    pg_password_file = os.path.join(keys_dir, "pg-password")
    if os.path.exists(pg_password_file):
        password = open(pg_password_file).read().strip()
        if len(password) >= 8:
            values.add("PostgreSQL password", "the password in TWOFOLD_STORE", texts=[password])
        else:
            log("the PostgreSQL URL has no password of 8 characters or more: not searched for")

    app = api.call("PATCH", "/v1/application", {"rp_id": "example.com", "origins": [ORIGIN], "domain": "login.example.com"},
                   expect=200).json
    check(app["rp_id"] == "example.com", "the application's relying party is set")

    # --- A. Phones: enrolled first, as a user is sent one code per channel per 30 s ----------
    def phone_number(calling, national_first, length):
        national = secrets.choice(national_first) + "".join(secrets.choice("0123456789") for _ in range(length - 1))
        return "+" + calling + national, calling

    phones = {}

    def enroll_phone(user, channel, calling, first, length, wrong_first=False):
        number, calling = phone_number(calling, first, length)
        item = values.add("phone number", f"{channel} number of {user}", phone=number, calling=calling)
        enrolled = api.call("POST", f"/v1/users/{user}/factors", {"type": channel, "phone": number}, expect=201)
        factor = enrolled.json["factor"]
        check(factor["phone"] == f"+{calling}•••••{number[-4:]}", f"the {channel} factor of {user} shows the number masked")
        message = gateway.code_for(enrolled.json["challenge"]["challenge_id"])
        check(message["to"] == number, f"the gateway is given {user}'s whole number")
        sent = code(message["code"], f"{channel} confirmation code of {user}", kind="SMS/voice code")
        path = f"/v1/users/{user}/factors/{factor['id']}/activate"
        if wrong_first:
            wrong = wrong_code_for(sent["code"], f"wrong confirmation code typed by {user}")
            check(api.call("POST", path, {"code": wrong["code"]}, expect=422).error_code() == "invalid_code",
                  "a wrong confirmation code is invalid_code")
        check(api.call("POST", path, {"code": sent["code"]}, expect=200).json["factor"]["status"] == "active",
              f"{user}'s {channel} factor is active")
        phones[user] = item
        return item

    enroll_phone("sam", "sms", "1", "23456789", 10, wrong_first=True)
    enroll_phone("vic", "voice", "44", "7", 10)
    enroll_phone("val", "voice", "33", "67", 9)
    phones_sent = time.monotonic()
    log("A: SMS, voice and press-a-key factors enrolled and activated through the webhook gateway")
    phase_done("A")

    # --- B. Authenticator apps --------------------------------------------------------------
    def enroll_otp(user, body, label):
        enrolled = api.call("POST", f"/v1/users/{user}/factors", body, expect=201)
        secret_bytes = unb32(enrolled.json["secret"])
        values.add("OTP factor secret", label, raw=secret_bytes, allowed=[(enrolled.rid, "secret"), (enrolled.rid, "otpauth_uri")])
        return enrolled.json["factor"]["id"], pyotp.parse_uri(enrolled.json["otpauth_uri"])

    def verify(user, presented, expect_result, reason=None, key=None, what=None):
        answer = api.call("POST", f"/v1/users/{user}/verify", {"code": presented}, expect=200, key=key).json
        check(answer["result"] == expect_result and (reason is None or answer.get("reason") == reason),
              f"{what or 'verify'} for {user}: {answer.get('result')} {answer.get('reason')}, expected {expect_result} {reason or ''}")
        return answer

    factor, tom = enroll_otp("tom", {"type": "totp", "issuer": "Secrets"}, "TOTP secret of tom (SHA-1, 6 digits)")
    api.call("GET", f"/v1/users/tom/factors/{factor}/qr", expect=200)
    now = time.time()
    first = code(tom.at(now), "TOTP code of tom (activation)")["code"]
    following = code(tom.at(now + 30), "TOTP code of tom (next step)")["code"]
    api.call("POST", f"/v1/users/tom/factors/{factor}/activate", {"code": first}, expect=200)
    verify("tom", following, "allow")
    verify("tom", following, "deny", "replayed", what="replay")
    verify("tom", wrong_code_for(following, "wrong TOTP code typed by tom")["code"], "deny", "invalid_code", what="a wrong code")

    factor, tess = enroll_otp("tess", {"type": "totp", "algorithm": "SHA-512", "digits": 8, "period": 60},
                              "TOTP secret of tess (SHA-512, 8 digits, 60 s)")
    now = time.time()
    api.call("POST", f"/v1/users/tess/factors/{factor}/activate", {"code": code(tess.at(now), "TOTP code of tess (activation)")["code"]},
             expect=200)
    verify("tess", code(tess.at(now + 60), "TOTP code of tess (next step)")["code"], "allow")

    factor, hal = enroll_otp("hal", {"type": "hotp", "algorithm": "sha256"}, "HOTP secret of hal (SHA-256)")
    api.call("POST", f"/v1/users/hal/factors/{factor}/activate", {"code": code(hal.at(0), "HOTP code of hal (counter 0)")["code"]},
             expect=200)
    verify("hal", code(hal.at(1), "HOTP code of hal (counter 1)")["code"], "allow")
    verify("hal", wrong_code_for(hal.at(2), "wrong HOTP code typed by hal")["code"], "deny", "invalid_code", what="a wrong code")
    api.call("POST", f"/v1/users/hal/factors/{factor}/resync",
             {"codes": [code(hal.at(40), "HOTP code of hal (resync, counter 40)")["code"],
                        code(hal.at(41), "HOTP code of hal (resync, counter 41)")["code"]]}, expect=200)

    # `twofold enroll`: the URI on the terminal, activated over the API.
    rid, out = cli.run("enroll uma --type totp --no-activate", ["enroll", "uma", "--type", "totp", "--no-activate"])
    found = re.search(r"otpauth://\S+", out)
    check(found is not None, "twofold enroll printed an otpauth URI")
    uma = pyotp.parse_uri(found.group(0))
    values.add("OTP factor secret", "TOTP secret of uma (twofold enroll)", raw=unb32(uma.secret), allowed=[(rid, "*")])
    listed = api.call("GET", "/v1/users/uma/factors", expect=200).json["factors"]
    api.call("POST", f"/v1/users/uma/factors/{listed[0]['id']}/activate", {"code": code(uma.now(), "TOTP code of uma (activation)")["code"]},
             expect=200)
    log("B: TOTP, HOTP (resync, wrong codes, a replay) and a CLI enrollment")

    # Recovery codes: over the API for tom, with the CLI for hal.
    issued = api.call("POST", "/v1/users/tom/recovery-codes", expect=201)
    tom_codes = issued.json["codes"]
    check(len(tom_codes) == 10, "ten recovery codes")

    def recovery_item(text, label, allowed):
        plain = text.replace("-", "")
        return values.add("recovery code", label, texts=[text, plain, text.upper(), plain.upper(), text.replace("-", " ")],
                          allowed=allowed)

    for index, text in enumerate(tom_codes):
        recovery_item(text, f"recovery code {index + 1} of tom (API)", [(issued.rid, "codes")])
    answer = verify("tom", tom_codes[0], "allow", what="a recovery code")
    check(answer.get("remaining_recovery_codes") == 9, "nine recovery codes left")
    verify("tom", tom_codes[0], "deny", "invalid_code", what="a used recovery code")
    verify("tom", tom_codes[1].replace("-", "").upper(), "allow", what="a recovery code in capitals without hyphens")
    rid, out = cli.run("recovery-codes hal", ["recovery-codes", "hal", "--yes"])
    hal_codes = re.findall(r"\b[2-9a-z]{4}-[2-9a-z]{4}-[2-9a-z]{4}\b", out)
    check(len(hal_codes) == 10, f"twofold recovery-codes printed ten codes ({len(hal_codes)})")
    for index, text in enumerate(hal_codes):
        recovery_item(text, f"recovery code {index + 1} of hal (CLI)", [(rid, "*")])
    verify("hal", hal_codes[3], "allow", what="a recovery code from the CLI")
    log("B: recovery codes from the API and the CLI, used")

    # --- Push ------------------------------------------------------------------------------
    def enroll_push(user, label):
        enrolled = api.call("POST", f"/v1/users/{user}/factors", {"type": "push", "label": label}, expect=201)
        activation = enrolled.json["activation"]
        try:
            token_bytes = unb64url(activation["token"])
            check(b64url(token_bytes) == activation["token"], "the activation token is base64url")
            values.add("push activation token", f"activation token of {user}'s push factor", raw=token_bytes,
                       allowed=[(enrolled.rid, "activation.token"), (enrolled.rid, "activation.uri")])
        except (ValueError, Failure):
            values.add("push activation token", f"activation token of {user}'s push factor", texts=[activation["token"]],
                       allowed=[(enrolled.rid, "activation.token"), (enrolled.rid, "activation.uri")])
        return enrolled.json, activation

    def push(user):
        created = api.call("POST", f"/v1/users/{user}/challenges",
                           {"type": "push", "context": {"ip": "203.0.113.7", "location": "Berlin, DE", "user_agent": "secrets"}},
                           expect=202).json
        return created["challenge_id"], created.get("number")

    # pam: `twofold device`, polling, approves with the number.
    _, activation = enroll_push("pam", "terminal")
    pam_file = os.path.join(work, "device", "pam.json")
    cli.run("device activate", ["device", "activate", "--uri-file", "-"], stdin=activation["uri"], device_file=pam_file)
    device = json.load(open(pam_file))
    pam_key = serialization.load_pem_private_key(device["private_key"].encode(), None)
    # The scalar alone: a line of the PEM may encode the public point too, which is no secret.
    values.add("push device private key", "pam's device key (twofold device)", raw=p256_scalar(pam_key))
    challenge, number = push("pam")
    cli.run("device pending", ["device", "pending"], device_file=pam_file)
    args = ["device", "approve", challenge] + (["--number", str(number)] if number is not None else [])
    cli.run("device approve", args, device_file=pam_file)
    shown = api.call("GET", f"/v1/challenges/{challenge}?wait=5", expect=200).json
    check(shown["status"] == "approved", f"pam's push is approved ({shown['status']})")

    def device_key(user, label):
        key = ec.generate_private_key(ec.SECP256R1())
        values.add("push device private key", label, raw=p256_scalar(key))
        spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(spki).decode()

    # pia: a device woken by the webhook relay, with a push token.
    _, activation = enroll_push("pia", "relay phone")
    push_token = secrets.token_urlsafe(32)
    values.add("push token", "pia's push token (webhook relay)", texts=[push_token])
    api.call("POST", "/v1/devices/activate", {"token": activation["token"], "public_key": device_key("pia", "pia's device key"),
                                               "push_token": push_token}, key=False, expect=201)
    challenge, _ = push("pia")
    relayed = gateway.wait(f"push relay post for {challenge}", lambda: gateway.pushes.get(challenge))
    check(relayed.get("push_token") == push_token, "the relay is given pia's push token")

    # pat: a Web Push subscription.
    _, activation = enroll_push("pat", "browser")
    subscription_key = ec.generate_private_key(ec.SECP256R1())
    p256dh = subscription_key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    auth = os.urandom(16)
    endpoint_token = secrets.token_urlsafe(24)
    values.add("Web Push auth secret", "pat's subscription auth secret", raw=auth)
    values.add("Web Push subscription private key", "pat's subscription key (never sent)", raw=p256_scalar(subscription_key))
    values.add("Web Push endpoint", "the capability part of pat's endpoint URL", texts=[endpoint_token])
    api.call("POST", "/v1/devices/activate",
             {"token": activation["token"], "public_key": device_key("pat", "pat's device key"),
              "transport": {"type": "webpush", "endpoint": f"http://127.0.0.1:{settings['gateway_port']}/wp/{endpoint_token}",
                            "keys": {"p256dh": b64url(p256dh), "auth": b64url(auth)}}}, key=False, expect=201)
    challenge, _ = push("pat")
    posted = gateway.wait("Web Push post", lambda: [p for p in gateway.webpush if p[0] == f"/wp/{endpoint_token}"])
    check(posted[0][1]["encoding"] == "aes128gcm" and posted[0][1]["vapid"], "the Web Push post is encrypted and VAPID-signed")
    log("B: push devices (twofold device approving, a webhook relay, Web Push)")

    # --- Security key ------------------------------------------------------------------------
    def browser_json(credential):
        response = {name: b64url(value) for name, value in credential["response"].items() if value is not None}
        return {"id": b64url(credential["rawId"]), "rawId": b64url(credential["rawId"]), "type": "public-key",
                "response": response, "clientExtensionResults": {}}

    key_device = SoftWebauthnDevice()
    enrolled = api.call("POST", "/v1/users/wes/factors", {"type": "webauthn", "label": "soft key"}, expect=201)
    options = json.loads(json.dumps(enrolled.json["public_key"]))
    values.add("WebAuthn challenge", "wes's registration challenge", raw=unb64url(options["challenge"]),
               allowed=[(enrolled.rid, "public_key.challenge")])
    options["challenge"] = unb64url(options["challenge"])
    options["user"]["id"] = unb64url(options["user"]["id"])
    options["attestation"] = "none"
    registration = browser_json(key_device.create({"publicKey": options}, ORIGIN))
    key_factor = enrolled.json["factor"]["id"]
    api.call("POST", f"/v1/users/wes/factors/{key_factor}/activate", {"credential": registration}, expect=200)
    values.add("control", "wes's credential id (kept in clear, per the README)", raw=key_device.credential_id, control=True)
    values.add("security key private key", "wes's soft-webauthn key", raw=p256_scalar(key_device.private_key))
    numbers = key_device.private_key.public_key().public_numbers()
    values.add("security key public key (sealed at rest)", "x of wes's key", raw=numbers.x.to_bytes(32, "big"))
    values.add("security key public key (sealed at rest)", "y of wes's key", raw=numbers.y.to_bytes(32, "big"))
    created = api.call("POST", "/v1/users/wes/challenges", {"type": "webauthn"}, expect=202)
    options = json.loads(json.dumps(created.json["public_key"]))
    values.add("WebAuthn challenge", "wes's sign-in challenge", raw=unb64url(options["challenge"]),
               allowed=[(created.rid, "public_key.challenge")])
    options["challenge"] = unb64url(options["challenge"])
    assertion = browser_json(key_device.get({"publicKey": options}, ORIGIN))
    verdict = api.call("POST", f"/v1/challenges/{created.json['challenge_id']}/verify", {"credential": assertion}, expect=200).json
    check(verdict["result"] == "allow", "the security key signs in")
    again = api.call("POST", f"/v1/challenges/{created.json['challenge_id']}/verify", {"credential": assertion}, expect=200).json
    check(again["result"] == "deny", "its answer again is refused")
    log("B: a security key registered and signed in (soft-webauthn)")

    # --- Hardware tokens -----------------------------------------------------------------------
    tag = secrets.token_hex(3).upper()
    psk, mac_key = os.urandom(16), os.urandom(20)
    hotp_secret, totp_secret = os.urandom(20), os.urandom(32)
    counter = 7 + secrets.randbelow(50)
    serial_h, serial_t, serial_p = f"SEC-H-{tag}", f"SEC-T-{tag}", f"SEC-P-{tag}"
    values.add("PSKC pre-shared key", "the vendor's pre-shared key", raw=psk)
    values.add("PSKC MAC key", "the MAC key of the pre-shared key file", raw=mac_key)
    values.add("control", f"the serial {serial_h} (kept in clear)", texts=[serial_h], control=True)
    values.add("hardware token secret", f"seed of {serial_h} (HOTP)", raw=hotp_secret)
    values.add("hardware token secret", f"seed of {serial_t} (TOTP SHA-256, 8 digits)", raw=totp_secret)
    psk_path = os.path.join(work, "tokens", "fobs.pskcxml")
    write_private(psk_path, pskc_file("<ds:KeyName>Secrets test PSK</ds:KeyName>", psk, mac_key,
                                      [(serial_h, "hotp", hotp_secret, 6, counter, None),
                                       (serial_t, "totp", totp_secret, 8, 30, "HMAC-SHA256")]))
    write_private(os.path.join(work, "tokens", "vendor.key"), psk.hex() + "\n")
    cli.run("tokens import --psk-file", ["tokens", "import", psk_path, "--psk-file", os.path.join(work, "tokens", "vendor.key")])

    password = secrets.token_urlsafe(18)
    salt, pbkdf2_secret, mac_key_2 = os.urandom(16), os.urandom(20), os.urandom(20)
    derived = PBKDF2HMAC(hashes.SHA256(), 16, salt, 2000).derive(password.encode())
    values.add("PSKC password", "the password of the password-based file", texts=[password])
    values.add("PSKC pre-shared key", "the key derived from the PSKC password", raw=derived)
    values.add("PSKC MAC key", "the MAC key of the password-based file", raw=mac_key_2)
    values.add("hardware token secret", f"seed of {serial_p} (TOTP)", raw=pbkdf2_secret)
    pskc_text = pskc_file(pbkdf2_key_xml(salt, 2000), derived, mac_key_2, [(serial_p, "totp", pbkdf2_secret, 6, 30, None)])
    imported = api.call("POST", "/v1/tokens", {"format": "pskc", "file": pskc_text, "password": password}, expect=201).json
    check([t["serial"] for t in imported["tokens"]] == [serial_p], "the password-based file's token is imported")

    cli.run("tokens assign (HOTP)", ["tokens", "assign", serial_h, "hank"])
    fob = pyotp.HOTP(base64.b32encode(hotp_secret).decode())
    verify("hank", code(fob.at(counter), f"code of {serial_h} (counter {counter})")["code"], "allow")
    verify("hank", code(fob.at(counter + 1), f"code of {serial_h} (counter {counter + 1})")["code"], "allow")
    api.call("POST", f"/v1/tokens/{serial_t}/assign", {"user_id": "tina"}, expect=200)
    card = pyotp.TOTP(base64.b32encode(totp_secret).decode(), digits=8, digest=hashlib.sha256)
    verify("tina", code(card.now(), f"code of {serial_t}")["code"], "allow")
    api.call("POST", f"/v1/tokens/{serial_p}/assign", {"user_id": "tara"}, expect=200)
    verify("tara", code(pyotp.TOTP(base64.b32encode(pbkdf2_secret).decode()).now(), f"code of {serial_p}")["code"], "allow")
    cli.run("tokens list", ["tokens", "list"])
    api.call("GET", "/v1/tokens", expect=200)
    log("B: hardware tokens from a pre-shared-key PSKC (CLI) and a password PSKC (API), assigned and verified")

    # --- API keys --------------------------------------------------------------------------------
    rid, out = cli.run("apikey create --scopes verify", ["apikey", "create", "--app", "default", "--scopes", "verify"])
    found = re.search(r"key \(shown once, store it now\): (tf_key_\S+)", out)
    check(found is not None, "twofold apikey create printed the key")
    verify_key = found.group(1)
    api_key_item(verify_key, "a verify key from twofold apikey create", [(rid, "*")])
    verify("hal", code(hal.at(42), "HOTP code of hal (counter 42, after the resync)")["code"], "allow", key=verify_key,
           what="verify with the new key, after the resync")
    rid, out = cli.run("apikey create --scopes enroll --json", ["apikey", "create", "--scopes", "enroll", "--json"])
    found = re.search(r"tf_key_[A-Za-z0-9_]+", out)
    check(found is not None, "twofold apikey create --json printed the key")
    doomed = found.group(0)
    api_key_item(doomed, "an enroll key from apikey create --json, then revoked by the whole key", [(rid, "*")])
    cli.run("apikey revoke (the whole key)", ["apikey", "revoke", doomed, "--yes"])
    api.call("GET", "/v1/users/tom/factors", key=doomed, expect=401)
    cli.run("apikey list", ["apikey", "list"])
    log("B: API keys created (text and JSON), used, revoked by the whole key")
    phase_done("B")

    # --- C. Challenges, 30 s after the phones' confirmation codes --------------------------------
    left = phones_sent + 31 - time.monotonic()
    if left > 0:
        log(f"C: waiting {left:.0f} s for the per-user send limit (1 per 30 s)")
        time.sleep(left)
    context = {"ip": "203.0.113.9", "user_agent": "secrets browser", "app_name": "Secrets"}
    created = api.call("POST", "/v1/users/sam/challenges", {"type": "sms", "context": context}, expect=202).json
    message = gateway.code_for(created["challenge_id"])
    check(message["origin_bound"], "the SMS ends with the origin-bound line")
    sent = code(message["code"], "SMS code of sam (sign-in)", kind="SMS/voice code")["code"]
    gateway.wait("delivery report", lambda: [c for c in gateway.callbacks if c[0] == created["challenge_id"]])
    wrong = wrong_code_for(sent, "wrong SMS code typed by sam")["code"]
    answer = api.call("POST", f"/v1/challenges/{created['challenge_id']}/verify", {"code": wrong}, expect=200).json
    check(answer["result"] == "deny", "a wrong SMS code is refused")
    answer = api.call("POST", f"/v1/challenges/{created['challenge_id']}/verify", {"code": sent}, expect=200).json
    check(answer["result"] == "allow" and answer["factor_type"] == "sms", "the SMS code is allowed")
    shown = api.call("GET", f"/v1/challenges/{created['challenge_id']}", expect=200).json
    check((shown.get("delivery") or {}).get("provider") == "webhook", "the challenge shows its delivery")

    created = api.call("POST", "/v1/users/vic/challenges", {"type": "voice"}, expect=202).json
    sent = code(gateway.code_for(created["challenge_id"])["code"], "voice code of vic (sign-in)", kind="SMS/voice code")["code"]
    answer = verify("vic", sent, "allow", what="the voice code")
    check(answer["factor_type"] == "voice", "the voice code is the voice factor's")

    created = api.call("POST", "/v1/users/val/challenges", {"type": "voice", "mode": "approve", "context": context}, expect=202).json
    shown = api.call("GET", f"/v1/challenges/{created['challenge_id']}?wait=15", expect=200).json
    if shown["status"] == "pending":
        shown = api.call("GET", f"/v1/challenges/{created['challenge_id']}?wait=15", expect=200).json
    check(shown["status"] == "approved", f"val's press-a-key call is approved ({shown['status']})")
    cli.run("challenges list sam", ["challenges", "list", "sam"])
    log("C: SMS and voice challenges delivered, callbacks signed, codes verified, a key pressed")
    phase_done("C")

    # --- E. Refusals: secrets in requests that are refused must not come back or be logged --------
    unknown_key = "tf_key_" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(16)) + "_" + \
        "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(52))
    api_key_item(unknown_key, "an unknown key, well formed", [])
    api.call("GET", "/v1/users/tom/factors", key=unknown_key, expect=401)
    truncated = unknown_key[:40]
    values.add("API key", "a malformed bearer token", texts=[truncated])
    api.call("GET", "/v1/users/tom/factors", key=truncated, expect=401)
    cli.run("apikey revoke (an unknown key)", ["apikey", "revoke", unknown_key, "--yes"], expect=None)
    late = next(c for c in (tom.at(time.time() + 90 + 30 * k) for k in range(20)) if not c.startswith("0"))
    code(late, "a TOTP code of tom sent as a JSON number")
    api.call("POST", "/v1/users/tom/verify", raw_body=b'{"code": ' + late.encode() + b"}")
    later = code(tom.at(time.time() + 120), "a TOTP code of tom in a misspelt field")["code"]
    api.call("POST", "/v1/users/tom/verify", {"codee": later})
    seven = code(tom.at(time.time() + 150) + "7", "a TOTP code of tom with a digit too many", kind="wrong code")["code"]
    api.call("POST", "/v1/users/tess/verify", {"code": seven})
    bad_phone = "+0" + "".join(secrets.choice("0123456789") for _ in range(10))
    values.add("phone number", "a number refused as not E.164", phone=bad_phone, calling="")
    api.call("POST", "/v1/users/ned/factors", {"type": "sms", "phone": bad_phone})
    wrong_password = secrets.token_urlsafe(18)
    values.add("PSKC password", "a wrong password for the password-based file", texts=[wrong_password])
    api.call("POST", "/v1/tokens", {"format": "pskc", "file": pskc_text, "password": wrong_password})
    wrong_psk = os.urandom(16)
    values.add("PSKC pre-shared key", "a wrong pre-shared key", raw=wrong_psk)
    write_private(os.path.join(work, "tokens", "wrong.key"), wrong_psk.hex() + "\n")
    cli.run("tokens import --psk-file (a wrong key)", ["tokens", "import", psk_path, "--psk-file", os.path.join(work, "tokens", "wrong.key")],
            expect=None)
    _, activation = enroll_push("pip", "refused device")
    api.call("POST", "/v1/devices/activate", {"token": activation["token"], "public_key": base64.b64encode(os.urandom(91)).decode()},
             key=False)
    bogus = b64url(os.urandom(32))
    values.add("push activation token", "an unknown activation token", raw=unb64url(bogus))
    api.call("POST", "/v1/devices/activate", {"token": bogus, "public_key": device_key("pip", "a device key sent with an unknown token")},
             key=False)
    log("E: refusals with secrets in the request: unknown and malformed keys, malformed codes, a bad number, "
        "wrong PSKC password and key, bad device activations")
    phase_done("E")

    # The CLI as a sender: `twofold enroll --type sms` and `twofold providers test`.
    number, _ = phone_number("1", "23456789", 10)
    phones["cid"] = values.add("phone number", "sms number of cid (twofold enroll)", phone=number, calling="1")
    before = set(gateway.messages)
    rid, _ = cli.run("enroll cid --type sms --no-activate", ["enroll", "cid", "--type", "sms", "--phone", number, "--no-activate"])
    message = gateway.wait("the CLI's confirmation code", lambda: [m for c, m in gateway.messages.items() if c not in before])
    sent = code(message[0]["code"], "sms confirmation code of cid (sent by the CLI)", kind="SMS/voice code")["code"]
    listed = api.call("GET", "/v1/users/cid/factors", expect=200).json["factors"]
    api.call("POST", f"/v1/users/cid/factors/{listed[0]['id']}/activate", {"code": sent}, expect=200)
    number, _ = phone_number("44", "7", 10)
    values.add("phone number", "the number of twofold providers test", phone=number, calling="44")
    # Its output names the provider and its answer, not the number: allowed nowhere.
    cli.run("providers test --channel sms", ["providers", "test", "--channel", "sms", "--to", number])
    log("E: an SMS factor enrolled with twofold enroll, a provider test")

    # --- D. Export, erasure, audit -------------------------------------------------------------
    exported = api.call("GET", "/v1/users/sam/export", expect=200)
    Values.allow(phones["sam"], exported.rid, "*")
    api.call("GET", "/v1/users/hank/export", expect=200)
    api.call("GET", "/v1/users/tom/export", expect=200)
    rid, _ = cli.run("users export sam", ["users", "export", "sam"])
    Values.allow(phones["sam"], rid, "*")
    cli.run("users export wes", ["users", "export", "wes"])
    api.call("DELETE", "/v1/users/vic", expect=204)
    api.call("GET", "/v1/users/vic/export")
    cli.run("users erase uma", ["users", "erase", "uma", "--yes"])
    for user in ("sam", "tom", "hal", "pam", "wes", "hank"):
        api.call("GET", f"/v1/users/{user}/factors", expect=200)
    api.call("GET", "/v1/audit?limit=500", expect=200)
    api.call("GET", "/v1/application", expect=200)
    api.call("GET", "/metrics", key=False, expect=200)
    api.call("GET", "/readyz", key=False, expect=200)
    cli.run("audit tail --json", ["audit", "tail", "--limit", "2000", "--json"])
    cli.run("audit tail", ["audit", "tail", "--limit", "60"])
    cli.run("audit verify", ["audit", "verify"])
    for what, args in (("users list", ["users", "list"]), ("users show sam", ["users", "show", "sam"]),
                       ("factors list hal", ["factors", "list", "hal"]), ("keys status", ["keys", "status"]),
                       ("challenges list val", ["challenges", "list", "val"])):
        cli.run(what, args)
    log("D: exports (API, CLI), an erasure (API) and one with the CLI, the audit (API, tail, verify)")
    phase_done("D")

    with gateway.cond:
        problems = list(gateway.problems)
    check(not problems, f"the gateway: {problems}")
    gateway.shutdown()
    if watcher is not None:
        watcher.finish()
        log(f"{watcher.copies} copies of the SQLite files made while serving ({watcher.bytes / 1e6:.1f} MB, duplicates dropped)")
    values.save(os.path.join(work, "values.json"))
    log(f"driver done: {len(values.items)} values written down, {recorder.count} answers recorded")


# --- the search ------------------------------------------------------------------------------

MIN_FORM = 10


def shifted_cores(data, encode, bits, shifts):
    """The characters of `data`'s encoding that depend on `data` alone, for every alignment of it
    inside a longer encoded blob."""
    cores = []
    for k in range(shifts):
        text = encode(b"\0" * k + data)
        first = -(-8 * k // bits)
        last = (8 * (k + len(data))) // bits
        cores.append(text[first:last])
    return cores


def forms_of(item):
    """(name, bytes) for every literal form; codes and numbers are matched as digit tokens."""
    literal = []
    if "raw" in item:
        data = bytes.fromhex(item["raw"])
        b32 = base64.b32encode(data).decode()
        b64 = base64.b64encode(data).decode()
        b64u = base64.urlsafe_b64encode(data).decode()
        literal += [("hex", data.hex()), ("HEX", data.hex().upper()), ("spaced hex", data.hex(" ")),
                    ("spaced HEX", data.hex(" ").upper()),
                    ("Base32", b32), ("base32", b32.lower()), ("Base32, no padding", b32.rstrip("=")),
                    ("base32, no padding", b32.rstrip("=").lower()),
                    ("Base64", b64), ("Base64, no padding", b64.rstrip("=")), ("Base64url", b64u),
                    ("Base64url, no padding", b64u.rstrip("=")),
                    ("decimal list", "[" + ", ".join(map(str, data)) + "]"), ("decimal list", "[" + ",".join(map(str, data)) + "]")]
        for index, core in enumerate(shifted_cores(data, lambda b: base64.b64encode(b).decode(), 6, 3)):
            literal += [(f"Base64 at alignment {index}", core), (f"Base64url at alignment {index}", core.replace("+", "-").replace("/", "_"))]
        for index, core in enumerate(shifted_cores(data, lambda b: base64.b32encode(b).decode(), 5, 5)):
            literal += [(f"Base32 at alignment {index}", core), (f"base32 at alignment {index}", core.lower())]
    for index, text in enumerate(item.get("texts", [])):
        literal.append(("text" if index == 0 else f"text variant {index}", text))
    if "code" in item:
        digits = item["code"]
        literal += [("spoken", ", ".join(digits)), ("spaced", " ".join(digits))]
    forms = {}
    for name, text in literal:
        for variant_name, variant in ((name, text), (name + ", JSON-escaped", json.dumps(text)[1:-1]),
                                      (name + ", with \\/", text.replace("/", "\\/")),
                                      (name + ", percent-encoded", urllib.parse.quote(text, safe=""))):
            if len(variant) >= MIN_FORM and variant.encode() not in forms:
                forms[variant.encode()] = variant_name
    result = [(name, form) for form, name in forms.items()]
    if "raw" in item:
        result.append(("raw bytes", bytes.fromhex(item["raw"])))
    return result


class Needles:
    def __init__(self, items, work):
        self.items = {item["id"]: item for item in items}
        self.text = {}          # form bytes -> [(vid, form name)]
        self.raw = []           # (bytes, vid)
        self.codes = collections.defaultdict(list)   # digits -> [vid]
        self.phones = collections.defaultdict(list)  # digits -> [(vid, form name)]
        self.by_vid = collections.defaultdict(list)  # vid -> every literal form
        for item in items:
            for name, form in forms_of(item):
                self.by_vid[item["id"]].append(form)
                if name == "raw bytes":
                    self.raw.append((form, item["id"]))
                else:
                    self.text.setdefault(form, []).append((item["id"], name))
            if "code" in item:
                self.codes[item["code"].encode()].append(item["id"])
            if "phone" in item:
                digits = item["phone"].lstrip("+")
                self.phones[digits.encode()].append((item["id"], "E.164 digits"))
                self.phones[digits[len(item["calling"]):].encode()].append((item["id"], "national number"))
        self.patterns = os.path.join(work, "patterns.txt")
        write_private(self.patterns, b"\n".join(sorted(self.text)) + b"\n", "wb")
        self.code_lengths = collections.Counter(len(c) for c in self.codes)

    def count_forms(self):
        return len(self.text) + len(self.raw) + len(self.codes) + len(self.phones)


class Scan:
    """Findings, figures and chance estimates, accumulated over every haystack."""

    def __init__(self):
        self.tokens = collections.defaultdict(set)   # distinct code-shaped tokens by length
        self.decimal_skipped = 0


def grep(path, patterns):
    """(line, offset, matched bytes) of every literal pattern in the file (GNU grep -F: many
    strings at once)."""
    proc = subprocess.run(["grep", "-F", "-a", "-o", "-b", "-n", "-f", patterns, path], capture_output=True,
                          env=dict(os.environ, LC_ALL="C"))
    if proc.returncode not in (0, 1):
        raise Failure(f"grep failed on {os.path.basename(path)}: {proc.stderr.decode(errors='replace')[:200]}")
    for line in proc.stdout.split(b"\n"):
        if line:
            number, offset, match = line.split(b":", 2)
            yield int(number), int(offset), match


DIGITS = re.compile(rb"[0-9]+")
ALNUM = set(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
HEXDIGITS = set(b"0123456789ABCDEFabcdef")


def digit_hits(data: bytes, needles: Needles, scan: Scan = None):
    """(offset, vid, form) for codes as whole tokens and phone numbers as whole digit runs."""
    hits = []
    size = len(data)
    for match in DIGITS.finditer(data):
        start, end = match.span()
        run = match.group()
        if run in needles.phones:
            hits += [(start, vid, form) for vid, form in needles.phones[run]]
        length = end - start
        if not 6 <= length <= 8:
            continue
        before = data[start - 1] if start > 0 else None
        after = data[end] if end < size else None
        escaped = start >= 3 and data[start - 3] == 0x25 and data[start - 2] in HEXDIGITS and data[start - 1] in HEXDIGITS
        if (before is not None and before in ALNUM and not escaped) or (after is not None and after in ALNUM):
            continue
        decimal = (before == 0x2E and start >= 2 and 0x30 <= data[start - 2] <= 0x39) or \
                  (after == 0x2E and end + 1 < size and 0x30 <= data[end + 1] <= 0x39)
        if decimal:
            if scan is not None and run in needles.codes:
                scan.decimal_skipped += 1
            continue
        if scan is not None:
            scan.tokens[length].add(run)
        if run in needles.codes:
            hits += [(start, vid, "whole token") for vid in needles.codes[run]]
    return hits


def literal_hits(data: bytes, needles: Needles):
    """(offset, vid, form) of every literal form, in memory (for small texts)."""
    hits = []
    for form, owners in needles.text.items():
        start = data.find(form)
        while start >= 0:
            hits += [(start, vid, name) for vid, name in owners]
            start = data.find(form, start + 1)
    for form, vid in needles.raw:
        start = data.find(form)
        while start >= 0:
            hits.append((start, vid, "raw bytes"))
            start = data.find(form, start + 1)
    return hits


def file_hits(path, needles: Needles, scan: Scan):
    """(line, offset, vid, form) in a file: grep for the literal forms, Python for raw bytes and
    digit tokens."""
    data = open(path, "rb").read()
    newlines = [m.start() for m in re.finditer(b"\n", data)]
    line_of = lambda offset: bisect.bisect_right(newlines, offset - 1) + 1
    hits = []
    for number, offset, match in grep(path, needles.patterns):
        hits += [(number, offset, vid, name) for vid, name in needles.text.get(match, [])]
    for form, vid in needles.raw:
        start = data.find(form)
        while start >= 0:
            hits.append((line_of(start), start, vid, "raw bytes"))
            start = data.find(form, start + 1)
    hits += [(line_of(offset), offset, vid, form) for offset, vid, form in digit_hits(data, needles, scan)]
    return hits, len(data)


def json_strings(node, out):
    if isinstance(node, dict):
        for key, value in node.items():
            out.append(str(key))
            json_strings(value, out)
    elif isinstance(node, list):
        for value in node:
            json_strings(value, out)
    elif isinstance(node, str):
        out.append(node)
    elif node is not None:
        out.append(json.dumps(node))
    return out


def decoded_view(log_path, view_path):
    """One line per log line: its JSON strings decoded, tab-separated (empty when not JSON), so
    that a value written with \\u escapes is found too."""
    count = 0
    with open(log_path, "rb") as source, open(view_path, "wb") as view:
        for line in source:
            text = b""
            if line.startswith(b"{"):
                try:
                    text = "\t".join(json_strings(json.loads(line), [])).replace("\n", " ").encode("utf-8", "replace")
                    count += 1
                except ValueError:
                    pass
            view.write(text + b"\n")
    return count


def log_line_context(path, numbers):
    """For each line number: level, label and the JSON field names (never the text)."""
    wanted = set(numbers)
    context = {}
    command = None
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.startswith(b"### r"):
                # cli.log: the command whose standard error follows.
                command = line[4:].decode("utf-8", "replace").strip()
            if number not in wanted:
                continue
            if command is not None:
                context[number] = ("stderr of", command, None)
                continue
            try:
                parsed = json.loads(line)
                context[number] = (parsed.get("level", "?"), parsed.get("label", "?"), parsed)
            except ValueError:
                parts = line.decode("utf-8", "replace").split(" ", 3)
                context[number] = (parts[1] if len(parts) > 1 else "?", parts[2].rstrip(":") if len(parts) > 2 else "?", None)
    return context


def field_of(parsed, item, needles):
    """The top-level field of a JSON log line that holds the value (its name only)."""
    if not isinstance(parsed, dict):
        return None
    for key, value in parsed.items():
        if value_in(item, value.encode("utf-8") if isinstance(value, str) else rendering(value), needles):
            return key
    return None


def node_at(document, path):
    node = document
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def pruned(document, paths):
    document = json.loads(json.dumps(document))
    for path in paths:
        parts = path.split(".")
        node = document
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(parts[-1], None)
    return document


def rendering(document):
    """A JSON document as searched: serialized, and its strings decoded."""
    return (json.dumps(document, ensure_ascii=False) + "\t" + "\t".join(json_strings(document, []))).encode("utf-8")


def value_in(item, data: bytes, needles: Needles):
    vid = item["id"]
    if any(form in data for form in needles.by_vid[vid]):
        return True
    return ("code" in item or "phone" in item) and any(v == vid for _, v, _ in digit_hits(data, needles))


def evaluate_response(record, needles: Needles, allowances, scan: Scan = None):
    """Findings in one answer: ([(vid, form, where-detail)] out of place, Counter of allowed
    occurrences by kind, [(vid, path)] expected but not found)."""
    body = base64.b64decode(record["body"])
    head = (record.get("headers") or "").encode()
    try:
        document = json.loads(body) if body.strip() else None
    except ValueError:
        document = None
    views = [("headers", head), ("body", body)]
    if document is not None:
        views.append(("body, decoded", "\t".join(json_strings(document, [])).encode("utf-8")))
    found = collections.defaultdict(set)
    for view, data in views:
        hits = literal_hits(data, needles) + digit_hits(data, needles, scan if view != "body, decoded" else None)
        for _, vid, form in hits:
            found[vid].add((form, view))
    mine = allowances.get(record["id"], {})
    out_of_place, allowed, missing = [], collections.Counter(), []
    for vid, forms in found.items():
        item = needles.items[vid]
        if item.get("control"):
            continue
        paths = mine.get(vid)
        if paths and "*" in paths:
            allowed[item["kind"]] += 1
            continue
        if paths and document is not None:
            rest = pruned(document, paths)
            if not value_in(item, rendering(rest), needles) and not value_in(item, head, needles):
                allowed[item["kind"]] += 1
                continue
            form, view = sorted(forms)[0]
            out_of_place.append((vid, form, f"{view}, outside its field{'s' if len(paths) > 1 else ''} {', '.join(paths)}"))
            continue
        form, view = sorted(forms)[0]
        where = view
        if document is not None and isinstance(document, dict):
            for key, value in document.items():
                if value_in(item, rendering(value) if not isinstance(value, str) else value.encode("utf-8"), needles):
                    where = f"{view}, field {key}"
                    break
        out_of_place.append((vid, form, where))
    for vid, paths in mine.items():
        item = needles.items[vid]
        for path in paths:
            if path == "*":
                ok = vid in found
            else:
                node = node_at(document, path) if document is not None else None
                ok = node is not None and value_in(item, node.encode("utf-8") if isinstance(node, str) else rendering(node), needles)
            if not ok:
                missing.append((vid, path))
    return out_of_place, allowed, missing


SCRAM_FIRST = re.compile(r"sendSaslInitialResponse\(name: \\?\"SCRAM-SHA-256\\?\", initialResponse: \[([0-9, ]+)\]")
SCRAM_SERVER = re.compile(r"saslContinue\(salt: \[([0-9a-f]+)(?:\.\.\.([0-9a-f]+))?\]\((\d+) bytes\)")
SCRAM_FINAL = re.compile(r"sendSaslResponse\(\[([0-9, ]+)\]")
CONNECTION = re.compile(r"psql_connection_id\"?[=:]\"?([0-9]+)")


def scram_exchanges(log_path, password):
    """PostgreSQL logins whose SCRAM-SHA-256 messages the log holds in full enough to check a
    password guess offline (postgres-nio logs them at trace): (complete, checked with the real
    password). Never prints any of it."""
    state = {}
    complete = verified = 0
    for line in open(log_path, encoding="utf-8", errors="replace"):
        if "Sasl" not in line and "sasl" not in line:
            continue
        connection = CONNECTION.search(line)
        key = connection.group(1) if connection else "?"
        if (found := SCRAM_FIRST.search(line)):
            state[key] = {"first": bytes(int(x) for x in found.group(1).split(", ")).decode("ascii", "replace")}
        elif (found := SCRAM_SERVER.search(line)) and key in state:
            state[key]["server"] = (found.group(1), found.group(2) or "", int(found.group(3)))
        elif (found := SCRAM_FINAL.search(line)) and key in state and "server" in state[key]:
            exchange = state.pop(key)
            final = bytes(int(x) for x in found.group(1).split(", ")).decode("ascii", "replace")
            try:
                fields = dict(part.split("=", 1) for part in final.split(","))
                head, tail, total = exchange["server"]
                tail_text = bytes.fromhex(tail or head).decode("ascii")
                before, iterations = tail_text.rsplit(",i=", 1)
                if ",s=" in before:
                    salt = before.split(",s=", 1)[1]
                elif before.startswith("s="):
                    salt = before[2:]
                elif before.startswith("="):
                    salt = before[1:]
                else:
                    continue
                server_first = f"r={fields['r']},s={salt},i={iterations}"
                if len(server_first) != total:
                    continue
                complete += 1
                if password is None:
                    continue
                auth = f"{exchange['first'][3:]},{server_first},{final[:final.index(',p=')]}".encode()
                salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
                client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
                signature = hmac.new(hashlib.sha256(client_key).digest(), auth, hashlib.sha256).digest()
                proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
                verified += proof == fields["p"]
            except (ValueError, KeyError, IndexError):
                continue
    return complete, verified


def search(work):
    settings = json.load(open(os.path.join(work, "settings.json")))
    items = json.load(open(os.path.join(work, "values.json")))
    needles = Needles(items, work)
    scan = Scan()
    problems = []   # lines to print: never a value
    leaks = []
    allowed_total = collections.Counter()
    sizes = collections.Counter()
    kinds = collections.Counter(item["kind"] for item in items)

    def describe(vid, form):
        item = needles.items[vid]
        return f"{item['kind']} ({item['label']}; form {form})"

    # Where each value may be: answers by id, files by path.
    allowances = collections.defaultdict(lambda: collections.defaultdict(list))
    for item in items:
        for allowance in item["allowed"]:
            allowances[allowance["where"]][item["id"]].append(allowance["path"])

    controls = {item["id"] for item in items if item.get("control")}
    controls_found = set()

    # 1. The store: SQLite snapshots or pg_dump output; then every other file of the data folder.
    snap = os.path.join(work, "snap")
    binary = []
    for root, _, files in sorted(os.walk(snap)):
        for name in sorted(files):
            binary.append(os.path.join(root, name))
    data_dir = settings["data_dir"]
    for name in sorted(os.listdir(data_dir)):
        path = os.path.join(data_dir, name)
        if os.path.isfile(path) and not name.startswith("twofold.sqlite"):
            binary.append(path)
    for path in binary:
        relative = os.path.relpath(path, work)
        hits, size = file_hits(path, needles, scan)
        category = "store" if relative.startswith("snap") else "data folder"
        sizes[category] += size
        mine = allowances.get("file:" + relative, {})
        seen = set()
        for _, offset, vid, form in hits:
            if needles.items[vid].get("control"):
                if category == "store":
                    controls_found.add(vid)
                continue
            if "*" in mine.get(vid, []):
                if vid not in seen:
                    allowed_total[needles.items[vid]["kind"]] += 1
                    seen.add(vid)
                continue
            leaks.append(f"{describe(vid, form)} in {relative} at offset {offset}")
        for vid in mine:
            if vid not in {h[2] for h in hits}:
                problems.append(f"self-check: {describe(vid, 'any')} is not found in {relative}, where it must be: the forms do not match it")

    # 2. The logs: the server's, and the CLI's standard error; JSON lines also decoded.
    log_lines = 0
    for name in ("server.log", "cli.log"):
        path = os.path.join(work, name)
        if not os.path.exists(path):
            continue
        hits, size = file_hits(path, needles, scan)
        sizes["logs"] += size
        log_lines += sum(1 for _ in open(path, "rb"))
        view = os.path.join(work, name + ".decoded")
        if decoded_view(path, view):
            decoded, _ = file_hits(view, needles, None)
            hits += [(line, None, vid, form + ", decoded") for line, _, vid, form in decoded]
        reported = set()
        context = log_line_context(path, [h[0] for h in hits])
        for line, offset, vid, form in sorted(hits, key=lambda h: (h[0], h[2])):
            if (line, vid) in reported or vid in controls:
                continue
            reported.add((line, vid))
            level, label, parsed = context.get(line, ("?", "?", None))
            field = field_of(parsed, needles.items[vid], needles) if parsed is not None else None
            where = f"{name} line {line} ({level} {label}{', field ' + field if field else ''})"
            leaks.append(f"{describe(vid, form)} in {where}")

    # Not a value in clear, but as bad: a login's SCRAM exchange in the log lets whoever reads
    # the log test guesses of the PostgreSQL password offline.
    password = next((i["texts"][0] for i in items if i["kind"] == "PostgreSQL password"), None)
    complete, verified = scram_exchanges(os.path.join(work, "server.log"), password)
    if complete:
        leaks.append(f"server.log holds {complete} complete SCRAM-SHA-256 exchanges of the PostgreSQL login "
                     f"(postgres-nio's trace lines: the client's first and final messages, the server's salt and nonce); "
                     f"{verified} of them reproduce with the real password: anyone who reads the log can test password guesses "
                     f"offline. The password itself is not in the log.")

    # 3. Every answer: HTTP bodies and headers, callbacks, CLI output.
    records = [json.loads(line) for line in open(os.path.join(work, "responses.jsonl"))]
    for record in records:
        sizes["answers"] += len(base64.b64decode(record["body"])) + len(record.get("headers") or "")
        out_of_place, allowed, missing = evaluate_response(record, needles, allowances, scan)
        allowed_total.update(allowed)
        what = f"answer {record['id']} to {record['what']} (status {record['status']})"
        for vid, form, where in out_of_place:
            leaks.append(f"{describe(vid, form)} in {what}: {where}")
        for vid, path in missing:
            problems.append(f"self-check: {describe(vid, 'any')} is not in {what} at {path}, where it must be: the forms do not match it")
    for where in allowances:
        if where.startswith("r") and where not in {r["id"] for r in records}:
            problems.append(f"self-check: no recorded answer {where}")

    for vid in sorted(controls - controls_found):
        problems.append(f"self-check: {describe(vid, 'any')} is not in any copy of the store, which keeps it in clear: "
                        f"the copies searched do not hold what the run wrote")

    # 4. Self-check: values planted in copies must be found, by the same code paths.
    planted, found = 0, 0
    by_kind = collections.defaultdict(list)
    for item in items:
        by_kind[item["kind"]].append(item)
    secret_item = by_kind["OTP factor secret"][0]
    code_item = by_kind["SMS/voice code"][0]
    phone_item = by_kind["phone number"][0]
    master_item = by_kind["master key"][0]
    recovery_item = next(i for i in by_kind["recovery code"] if any(a["path"] == "codes" for a in i["allowed"]))
    # a. a log line, in the server's format, holding a factor secret (Base32), a code, a number.
    lines = open(os.path.join(work, "server.log"), "rb").read().split(b"\n")
    at = max(1, len(lines) // 2)
    b32 = base64.b32encode(bytes.fromhex(secret_item["raw"])).decode()
    if settings["log_format"] == "json":
        line = json.dumps({"label": "secrets.selfcheck", "level": "trace", "message": "planted", "secret": b32,
                           "sms": f"your code is {code_item['code']}.", "to": phone_item["phone"], "time": "2000-01-01T00:00:00.000Z"})
    else:
        line = f"2000-01-01T00:00:00.000Z trace secrets.selfcheck: planted secret={b32} sms=\"your code is {code_item['code']}.\" to={phone_item['phone']}"
    lines.insert(at, line.encode())
    copy = os.path.join(work, "selfcheck.log")
    write_private(copy, b"\n".join(lines), "wb")
    hits, _ = file_hits(copy, needles, None)
    for item in (secret_item, code_item, phone_item):
        planted += 1
        found += any(h[0] == at + 1 and h[2] == item["id"] for h in hits)
    # b. the store's largest file with the master key's raw bytes and a recovery code written in.
    largest = max((p for p in binary if os.path.relpath(p, work).startswith("snap")), key=os.path.getsize)
    data = bytearray(open(largest, "rb").read())
    key_at, code_at = len(data) // 2, len(data) // 3
    master_raw = bytes.fromhex(master_item["raw"])
    data[key_at:key_at + len(master_raw)] = master_raw
    typed = recovery_item["texts"][0].encode()
    data[code_at:code_at + len(typed)] = typed
    copy = os.path.join(work, "selfcheck.store")
    write_private(copy, bytes(data), "wb")
    hits, _ = file_hits(copy, needles, None)
    planted += 2
    found += any(h[1] == key_at and h[2] == master_item["id"] and h[3] == "raw bytes" for h in hits)
    found += any(h[1] == code_at and h[2] == recovery_item["id"] for h in hits)
    # c. the answer that issued the recovery codes, with one of them in another field too.
    issuing = next(a["where"] for a in recovery_item["allowed"] if a["path"] == "codes")
    record = next(r for r in records if r["id"] == issuing)
    clean, _, _ = evaluate_response(record, needles, allowances)
    document = json.loads(base64.b64decode(record["body"]))
    document["note"] = "your code: " + recovery_item["texts"][0]
    spoiled = dict(record, body=base64.b64encode(json.dumps(document).encode()).decode())
    out_of_place, _, _ = evaluate_response(spoiled, needles, allowances)
    planted += 1
    found += (not any(v == recovery_item["id"] for v, _, _ in clean)) and any(v == recovery_item["id"] for v, _, _ in out_of_place)
    if found != planted:
        problems.append(f"self-check: {found} of {planted} planted values found: the search cannot be trusted")

    # The verdict.
    # A number that recurs (a table's OID in every trace line) is one chance, not one per line.
    chance = sum(len(scan.tokens[length]) * needles.code_lengths[length] / 10 ** length for length in scan.tokens)
    code_count = sum(1 for i in items if "code" in i)
    mb = lambda n: f"{n / 1e6:.1f} MB"
    snap_files = [os.path.relpath(p, snap) for p in binary if os.path.relpath(p, work).startswith("snap")]
    wal_copies = sum(1 for p in snap_files if p.endswith("-wal") and os.path.getsize(os.path.join(snap, p)) > 0)
    store_part = (f"SQLite file, WAL and SHM in {len(snap_files)} copies ({wal_copies} of a non-empty WAL; at every change "
                  f"while serving, after each phase, at the end, after SIGTERM, after a TRUNCATE checkpoint)"
                  if settings["store"] == "sqlite" else "pg_dump plain and custom (uncompressed)")
    kinds.pop("control", None)
    figures = (f"{len(items) - len(controls)} values of {len(kinds)} kinds ({code_count} codes typed or sent, "
               f"{kinds['recovery code']} recovery codes, {kinds['API key']} API keys, {kinds['phone number']} phone numbers) "
               f"in {needles.count_forms()} forms searched over {mb(sum(sizes.values()))}: {store_part} {mb(sizes['store'])}, "
               f"data folder {mb(sizes['data folder'])}, logs {log_lines} lines {mb(sizes['logs'])} ({settings['log_format']}, trace), "
               f"{len(records)} answers and CLI outputs {mb(sizes['answers'])}; "
               f"{sum(allowed_total.values())} occurrences where allowed "
               f"({', '.join(f'{k} {n}' for k, n in sorted(allowed_total.items()))}); "
               f"{sum(len(t) for t in scan.tokens.values())} distinct code-shaped tokens (chance of one equal to a code: {chance:.4f}), "
               f"{scan.decimal_skipped} code matches inside decimal numbers ignored; "
               f"self-check {found}/{planted} planted values found, {len(controls_found)}/{len(controls)} values "
               f"kept in clear by design found in the store")
    write_private(os.path.join(work, "figures.txt"), figures)
    for line in problems:
        print(f"secrets: {line}", file=sys.stderr)
    if leaks:
        shown = leaks[:60]
        for line in shown:
            print(f"secrets: LEAK {line}", file=sys.stderr)
        if len(leaks) > len(shown):
            print(f"secrets: … and {len(leaks) - len(shown)} more", file=sys.stderr)
        leaked = collections.Counter(re.match(r"([^(]+) \(", l).group(1) for l in leaks)
        summary = (f"{len(leaks)} occurrences out of place ({', '.join(f'{k} {n}' for k, n in sorted(leaked.items()))}); "
                   f"first: {leaks[0]}")
        write_private(os.path.join(work, "search.fail"), summary + "\n")
        print(f"secrets: figures: {figures}", file=sys.stderr)
        return 1
    if problems:
        write_private(os.path.join(work, "search.fail"), problems[0] + "\n")
        return 1
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("drive", "search"):
        sys.exit(__doc__)
    work = sys.argv[2]
    try:
        if sys.argv[1] == "drive":
            drive(work)
            return 0
        return search(work)
    except Failure as failure:
        print(f"secrets: FAIL: {failure}", file=sys.stderr)
        write_private(os.path.join(work, "driver.fail" if sys.argv[1] == "drive" else "search.fail"), f"{failure}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
