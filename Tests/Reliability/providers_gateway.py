"""A webhook gateway on loopback for the reliability scenarios `providers` and `challenge-race`
(Tests/Reliability/run.sh), and a push device that signs its requests as a phone would.

The gateway speaks Twofold's webhook wire format (README, "SMS and voice" and "Push approval"):
one HTTP listener with the paths /sms, /voice and /push (TWOFOLD_SMS_WEBHOOK_URL,
TWOFOLD_VOICE_WEBHOOK_URL and TWOFOLD_PUSH_WEBHOOK_URL point at them), each post checked for
`Twofold-Signature` (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under
TWOFOLD_WEBHOOK_SECRET, within 300 s) and an `Idempotency-Key` equal to the challenge id. It keeps,
per challenge, every post it received (the code read out of an SMS body or a spoken code, the
number it was sent to, the callback URLs, the push token), so that a driver can wait for a
challenge's delivery and answer it. Nothing it keeps is printed: the numbers and codes stay in
memory.

Its behaviour is switchable (`set_mode`):
  healthy  answers 200 {"id"} to a validly signed post (401 to any other);
  hang     reads the post and never answers, holding the connection until Twofold closes it (its
           delivery timeout) or the mode changes;
  refuse   no listener at all, and every connection it had is closed: a connection to its port is
           refused (the listener comes back, on the same port, when the mode changes again);
  error    answers 500 {"error": "internal"} to every post.
Whatever the mode, every post that reached it is recorded (refuse: none can), with its
signature checked, so that a driver can count Twofold's attempts.
"""

import hashlib
import hmac
import http.client
import json
import re
import select
import socket
import threading
import time
import urllib.parse
from base64 import b64encode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("healthy", "hang", "refuse", "error")
SMS_CODE = re.compile(r"code is (\d{6})\b")
SPOKEN_CODE = re.compile(r"code is: ((?:\d, ){5}\d)\.")
# North American area codes, the N11 service codes left out: each user's number gets an area
# code of its own where it can, so that the pumping guard (per "+1" and area code) never meets
# the scenarios' traffic.
AREAS = [area for area in range(201, 1000) if area % 100 != 11]


def phone_number(exchange, index):
    """`+1<area code><exchange><4 digits>`: the index-th number of an exchange (555, 556, …)."""
    return f"+1{AREAS[index % len(AREAS)]}{exchange}{index // len(AREAS):04d}"


def read_secret(path):
    """TWOFOLD_WEBHOOK_SECRET from the scenario's configuration file (TWOFOLD_*=value lines)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            name, _, value = line.strip().partition("=")
            if name == "TWOFOLD_WEBHOOK_SECRET" and value:
                return value.encode()
    raise SystemExit(f"no TWOFOLD_WEBHOOK_SECRET line in {path}")


def signature_header(secret, raw, at=None):
    """The `Twofold-Signature` value for `raw` signed now (or at `at`)."""
    stamp = str(int(at if at is not None else time.time()))
    mac = hmac.new(secret, stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def signature_valid(secret, header, raw):
    try:
        fields = dict(part.strip().split("=", 1) for part in (header or "").split(","))
        stamp = fields["t"]
        expected = hmac.new(secret, stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        return abs(time.time() - int(stamp)) <= 300 and hmac.compare_digest(expected, fields["v1"])
    except (KeyError, ValueError):
        return False



def read_request_body(handler):
    """The body of the request `handler` (a BaseHTTPRequestHandler) is reading: chunked, as
    async-http-client sends a streamed body, or of its Content-Length."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0], 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))

class Post:
    """One post the gateway received (never printed: it holds the number and the code)."""

    __slots__ = ("channel", "challenge_id", "arrived", "mode", "signed", "idempotent", "body", "code", "problems",
                 "answered", "held_seconds", "closed_by_peer")

    def __init__(self, channel, raw, headers, mode, secret):
        self.channel, self.mode, self.arrived = channel, mode, time.time()
        self.signed = signature_valid(secret, headers.get("Twofold-Signature"), raw)
        self.problems = []
        self.code = None
        self.answered = None
        self.held_seconds = None
        self.closed_by_peer = None
        try:
            self.body = json.loads(raw)
            if not isinstance(self.body, dict):
                raise ValueError("not an object")
        except ValueError:
            self.body = {}
            self.problems.append(f"{channel}: a post whose body is not a JSON object")
        self.challenge_id = self.body.get("challenge_id")
        self.idempotent = headers.get("Idempotency-Key") == self.challenge_id and self.challenge_id is not None
        if not self.signed:
            self.problems.append(f"{channel}: a post without a valid Twofold-Signature")
        if not self.idempotent:
            self.problems.append(f"{channel}: a post whose Idempotency-Key is not its challenge id")
        if self.body.get("type") != channel:
            self.problems.append(f"{channel}: a post of type {self.body.get('type')!r} on the {channel} path")
        if channel == "sms":
            found = SMS_CODE.search(self.body.get("body") or "")
            self.code = found.group(1) if found else None
        elif channel == "voice" and self.body.get("mode") == "say":
            found = SPOKEN_CODE.search(self.body.get("speech") or "")
            self.code = found.group(1).replace(", ", "") if found else None


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY the second waits for an ACK.
    disable_nagle_algorithm = True
    timeout = 60  # an idle keep-alive connection is closed after this

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.server.gateway.opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.gateway.closed(self.connection)

    def read_body(self):
        return read_request_body(self)

    def answer(self, status, body):
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        gateway = self.server.gateway
        channel = urllib.parse.urlsplit(self.path).path.strip("/")
        raw = self.read_body()
        if channel not in ("sms", "voice", "push"):
            gateway.problem(f"a post to the unknown path {self.path!r}")
            self.answer(404, {"error": "not found"})
            return
        post, mode, release = gateway.record(channel, raw, self.headers)
        if mode == "hang":
            gateway.hold(self, post, release)
            return
        if mode == "refuse":
            # Reached only in the moment the listener is being closed: no answer, the connection closed.
            self.close_connection = True
            return
        if mode == "error":
            post.answered = 500
            self.answer(500, {"error": "internal"})
            return
        if not post.signed:
            post.answered = 401
            self.answer(401, {"error": "bad signature"})
            return
        post.answered = 200
        self.answer(200, {"id": f"gw-{post.challenge_id}"})


class Gateway:
    """The gateway: a listener on 127.0.0.1:`port` (fixed: Twofold's settings name it)."""

    def __init__(self, port, secret):
        self.port, self.secret = port, secret
        self.lock = threading.Condition()
        self.mode = "healthy"
        self.release = threading.Event()  # set when held posts must be let go
        self.server = None
        self.thread = None
        self.connections = set()
        self.posts = {}  # challenge id -> [Post]
        self.all_posts = []
        self.problems = {}
        self.listens = 0

    # --- listener

    def start(self):
        self._listen()
        return self

    def _listen(self):
        deadline = time.time() + 5.0
        while True:
            try:
                server = GatewayServer(("127.0.0.1", self.port), GatewayHandler)
                break
            except OSError as error:
                if time.time() > deadline:
                    raise RuntimeError(f"the gateway cannot listen on 127.0.0.1:{self.port}: {error}") from error
                time.sleep(0.1)
        server.gateway = self
        self.server = server
        self.listens += 1
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def _unlisten(self):
        server, self.server = self.server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self.thread.join(timeout=5)

    def _drop_connections(self):
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def listening(self):
        """Whether a connection to the port is accepted now (a client's view)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                return True
        except OSError:
            return False

    def set_mode(self, mode):
        if mode not in MODES:
            raise ValueError(f"unknown gateway mode {mode!r}")
        with self.lock:
            old = self.mode
            if old == mode:
                return
            self.mode = mode
            release, self.release = self.release, threading.Event()
        release.set()  # held posts of a hang phase are let go: their connections close
        if mode == "refuse":
            self._unlisten()
            self._drop_connections()
        elif old == "refuse":
            self._listen()

    def close(self):
        with self.lock:
            self.mode = "closed"
            self.release.set()
        self._unlisten()
        self._drop_connections()

    # --- bookkeeping, from the handlers' threads

    def opened(self, connection):
        with self.lock:
            self.connections.add(connection)

    def closed(self, connection):
        with self.lock:
            self.connections.discard(connection)

    def problem(self, text):
        with self.lock:
            self.problems[text] = self.problems.get(text, 0) + 1

    def record(self, channel, raw, headers):
        with self.lock:
            post = Post(channel, raw, headers, self.mode, self.secret)
            for text in post.problems:
                self.problems[text] = self.problems.get(text, 0) + 1
            self.all_posts.append(post)
            if post.challenge_id:
                self.posts.setdefault(post.challenge_id, []).append(post)
            self.lock.notify_all()
            return post, self.mode, self.release

    def hold(self, handler, post, release):
        """Never answers: waits until Twofold closes the connection (its timeout) or the mode
        changes, then closes it."""
        started = time.monotonic()
        connection = handler.connection
        closed_by_peer = False
        try:
            while not release.is_set():
                readable, _, _ = select.select([connection], [], [], 0.05)
                if readable:
                    if not connection.recv(65536):
                        closed_by_peer = True
                        break
        except OSError:
            closed_by_peer = True
        with self.lock:
            post.held_seconds = time.monotonic() - started
            post.closed_by_peer = closed_by_peer
        handler.close_connection = True

    # --- what drivers ask

    def wait_post(self, challenge_id, timeout, predicate=lambda post: True):
        """The first post for the challenge that satisfies `predicate`, or None after `timeout` s."""
        deadline = time.time() + timeout
        with self.lock:
            while True:
                for post in self.posts.get(challenge_id, []):
                    if predicate(post):
                        return post
                remaining = deadline - time.time()
                if remaining <= 0:
                    return None
                self.lock.wait(min(remaining, 0.5))

    def posts_for(self, challenge_id):
        with self.lock:
            return list(self.posts.get(challenge_id, []))

    def snapshot_problems(self):
        with self.lock:
            return dict(self.problems)


def post_callback(url, secret, body, timeout=10.0):
    """A signed callback to Twofold (a key press, a status): (status, raw answer)."""
    parts = urllib.parse.urlsplit(url)
    raw = json.dumps(body).encode()
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("POST", parts.path, body=raw, headers={
            "Content-Type": "application/json", "Twofold-Signature": signature_header(secret, raw)})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- a push device ----------------------------------------------------------------------------


class PushDevice:
    """A phone's side of a push factor: its own P-256 key (the `cryptography` package), activated
    with the enrollment's token, every later request signed as README "Device requests" says:
    ECDSA P-256 SHA-256 over `<METHOD>\\n<path>\\n<unix seconds>\\n<hex SHA-256 of the body>`,
    DER in Base64. Each signature is made afresh (ECDSA's random nonce), so no two requests carry
    the same one."""

    def __init__(self):
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        self._hashes, self._ec = hashes, ec
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        self.public_key = b64encode(der).decode()
        self.device_id = None

    def activate(self, client, token, push_token=None):
        """POST /v1/devices/activate (no API key): the device id, or RuntimeError."""
        body = {"token": token, "public_key": self.public_key}
        if push_token is not None:
            body["push_token"] = push_token
        status, answer, raw, _ = client.request("POST", "/v1/devices/activate", body, auth=False)
        if status != 201 or not isinstance(answer, dict) or not answer.get("device_id"):
            raise RuntimeError(f"activating a device: status {status}, body {raw[:200]!r}")
        self.device_id = answer["device_id"]
        return self.device_id

    def signed(self, method, path, raw=b""):
        """The headers of a request signed now."""
        stamp = str(int(time.time()))
        message = f"{method}\n{path}\n{stamp}\n{hashlib.sha256(raw).hexdigest()}".encode()
        signature = self.key.sign(message, self._ec.ECDSA(self._hashes.SHA256()))
        return {"Twofold-Timestamp": stamp, "Twofold-Signature": b64encode(signature).decode()}

    def path(self, challenge_id=None):
        base = f"/v1/devices/{self.device_id}/challenges"
        return base if challenge_id is None else f"{base}/{challenge_id}"

    def get(self, client, challenge_id=None):
        path = self.path(challenge_id)
        return client.request("GET", path, auth=False, headers=self.signed("GET", path))

    def answer_request(self, challenge_id, decision="approve", number=None):
        """(path, raw body, headers) of a signed answer, to send as it is."""
        body = {"decision": decision}
        if number is not None:
            body["number"] = number
        raw = json.dumps(body).encode()
        path = self.path(challenge_id)
        return path, raw, self.signed("POST", path, raw)

    def answer(self, client, challenge_id, decision="approve", number=None):
        path, raw, headers = self.answer_request(challenge_id, decision, number)
        return client.request("POST", path, auth=False, headers=headers, raw=raw)
