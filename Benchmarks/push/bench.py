#!/usr/bin/env python3
"""The push benchmark's driver: a Web Push service on loopback, devices with keys of their own,
enrollment and the measurements, against one `twofold serve`. Started by
Benchmarks/push/run.sh, which starts the server; see Benchmarks/push/README.md for the method.

    bench.py run --url URL --pids PID --push-port P --out FILE [options]
    bench.py report FILE…

`run`: every user gets a push factor and a device: a P-256 signing key, and a Web Push
subscription (a P-256 key pair and a 16-byte auth secret of its own) whose endpoint is
`http://127.0.0.1:<push port>/push/<user>`, the push service this script runs. The push service
answers each POST 201, checks its VAPID authorization (RFC 8292: the JWT's ES256 signature, its
`aud` and `exp`, the key Twofold announced) and headers, decrypts the aes128gcm body (RFC 8291)
with the subscription's private key and auth secret through Mozilla's `http_ece`, and hands the
challenge id to the driver process that owns the device. Then:

  1. /healthz requests/s, `--runs` runs of `--duration` s: the reference;
  2. round trip, `--rt-samples` samples, `--rt-threads` at a time, each thread pausing 0 to
     2 × `--rt-pause` s between its samples, after 2 a thread that are not counted (cold
     connections); then as many back to back: POST …/challenges
     {"type": "push"} (t0: sent) → the push at the push service (t1) → the device, woken, GETs
     the challenge and POSTs its signed approval with the number from the 202 (t2: its 200
     received) while a long poll GET /v1/challenges/{id}?wait=30, sent once the 202 arrived,
     waits on a third connection (t3: its answer received);
  3. `--runs` times: `--answer-set` pushes created (each to a user of its own), every push
     received; then signed GET /v1/devices/{d}/challenges flat out for `--duration` s (each
     answer checked to list the device's push); then every push approved, flat out, by
     `--threads` threads in `--procs` processes.

`report`: prints the summary of the JSON file `run` wrote, and exits 1 when any operation failed.

Every process of the client (the push service's, the `--procs` drivers, this one) counts as the
client's CPU; `--pids` is the server, whose CPU (utime + stime from /proc/PID/stat) is divided by
the operations of each run. A user is pushed at most 4 times, at least 31 s apart (Twofold's
budget: 1 push per 30 s and 5 an hour per user). Exits 1 when any operation failed (an
unexpected status or answer, a push that did not arrive within `--push-timeout` s, a push that
failed the service's checks).
"""

import argparse
import base64
import collections
import hashlib
import http.client
import itertools
import json
import multiprocessing
import os
import queue
import random
import statistics
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CLK_TCK = os.sysconf("SC_CLK_TCK")
MAX_FAILURES_KEPT = 20
# Twofold's budget is 1 push per 30 s and 5 an hour per user: a user is pushed at most this
# often, at least this far apart.
USES_PER_USER = 4
USER_GAP_S = 31
PUSH_TTL_MAX = 120  # TWOFOLD_PUSH_ANSWER_WINDOW's default


def log(message):
    print(f"push: {message}", file=sys.stderr, flush=True)


def owner(user, procs):
    """The driver process that holds a user's device."""
    return zlib.crc32(user.encode()) % procs


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds():
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: everything but idle and iowait; and the
    # interrupts' share alone (loopback TCP is processed there, charged to no process)
    return ((values[0] + values[1] + values[2] + values[5] + values[6] + values[7]) / CLK_TCK,
            (values[5] + values[6]) / CLK_TCK)


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Device:
    """A user's phone: the key its requests are signed with, and its Web Push subscription."""
    __slots__ = ("user", "signing_key", "public_key_der", "push_key", "p256dh", "auth", "device_id")

    def __init__(self, user):
        self.user = user
        self.signing_key = ec.generate_private_key(ec.SECP256R1())
        self.public_key_der = self.signing_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        self.push_key = ec.generate_private_key(ec.SECP256R1())
        self.p256dh = self.push_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.auth = os.urandom(16)
        self.device_id = None

    def signed(self, method, path, body=b""):
        """DeviceRequestSignature: Base64 DER ECDSA-SHA256 over "METHOD\\npath\\ntimestamp\\nhex sha256(body)"."""
        stamp = str(int(time.time()))
        message = f"{method}\n{path}\n{stamp}\n{hashlib.sha256(body).hexdigest()}".encode()
        signature = self.signing_key.sign(message, ec.ECDSA(hashes.SHA256()))
        return {"Twofold-Timestamp": stamp, "Twofold-Signature": base64.b64encode(signature).decode("ascii")}


# Made before the processes fork, so that the push service and the drivers share them.
DEVICES = {}


# --- the push service -----------------------------------------------------------------------------

class PushServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


class PushHandler(BaseHTTPRequestHandler):
    """A push service's endpoint (RFC 8030 §5): takes the message, answers 201 with a Location."""

    protocol_version = "HTTP/1.1"
    # Headers and body in one go: without TCP_NODELAY the body would wait for Twofold's delayed
    # ACK (40 ms; see Benchmarks/challenges/README.md, "Nagle").
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def reply(self, status, location=None):
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        service = self.server.service
        raw = self.read_body()
        received = time.monotonic()
        user = self.path[len("/push/"):] if self.path.startswith("/push/") else None
        device = DEVICES.get(user) if user else None
        if device is None:
            service.count("unknown_endpoint", f"a push to {self.path!r}, which is no subscription's endpoint")
            self.reply(404)
            return
        problem = service.check_headers(self.headers)
        if problem:
            service.count("bad_request", f"push to {user}: {problem}")
            self.reply(400)
            return
        try:
            message = json.loads(http_ece.decrypt(raw, private_key=device.push_key, auth_secret=device.auth, version="aes128gcm"))
            challenge = message["challenge_id"]
            if message.get("type") != "twofold.push":
                raise ValueError(f"type {message.get('type')!r}")
        except Exception as error:
            service.count("undecryptable", f"push to {user}: {type(error).__name__}: {error}")
            self.reply(400)
            return
        # The device is woken first, as a push service forwards without waiting for its answer.
        service.deliver(user, challenge, received)
        self.reply(201, f"/message/{challenge}")


class PushService:
    """The push service, in a process of its own; challenge ids go to the driver owning the device."""

    def __init__(self, port, subject, pipes):
        self.audience = f"http://127.0.0.1:{port}"
        self.subject = subject
        self.pipes = pipes
        self.pipe_locks = [threading.Lock() for _ in pipes]
        self.lock = threading.Lock()
        self.stats = collections.Counter()
        self.problems = []
        self.server_key = None   # the application server key Twofold announced, base64url
        self.verified = {}       # JWT → expiry: a token is checked once, as Twofold reuses it
        self.server = PushServer(("127.0.0.1", port), PushHandler)
        self.server.service = self

    def count(self, what, problem=None):
        with self.lock:
            self.stats[what] += 1
            if problem and len(self.problems) < MAX_FAILURES_KEPT:
                self.problems.append(problem)

    def check_headers(self, headers):
        """What is wrong with a push's headers (RFC 8030 §5, RFC 8291 §4, RFC 8292 §3), or None."""
        if headers.get("Content-Encoding") != "aes128gcm":
            return f"Content-Encoding {headers.get('Content-Encoding')!r}"
        try:
            ttl = int(headers.get("TTL", ""))
        except ValueError:
            return f"TTL {headers.get('TTL')!r}"
        if not 0 < ttl <= PUSH_TTL_MAX:
            return f"TTL {ttl}"
        if headers.get("Urgency") != "high":
            return f"Urgency {headers.get('Urgency')!r}"
        if not headers.get("Topic"):
            return "no Topic"
        return self.check_vapid(headers.get("Authorization", ""))

    def check_vapid(self, header):
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "vapid":
            return f"Authorization scheme {scheme!r}"
        params = {}
        for part in rest.split(","):
            name, _, value = part.strip().partition("=")
            params[name.strip().lower()] = value.strip()
        token, key = params.get("t"), params.get("k")
        if not token or not key:
            return "Authorization without t and k"
        if self.server_key is not None and key != self.server_key:
            return "a VAPID key other than the one Twofold announced"
        now = time.time()
        with self.lock:
            known = self.verified.get((token, key))
        if known is not None and known > now:
            return None
        try:
            head, claims_text, signature = token.split(".")
            raw = unb64url(signature)
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
            public.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                          f"{head}.{claims_text}".encode(), ec.ECDSA(hashes.SHA256()))
            if json.loads(unb64url(head)).get("alg") != "ES256":
                return "VAPID JWT alg is not ES256"
            claims = json.loads(unb64url(claims_text))
        except (ValueError, InvalidSignature) as error:
            return f"VAPID JWT does not verify ({type(error).__name__})"
        if claims.get("aud") != self.audience:
            return f"VAPID aud {claims.get('aud')!r}, not {self.audience}"
        if not now < claims.get("exp", 0) <= now + 86400:
            return f"VAPID exp {claims.get('exp')} is not within 24 h"
        if claims.get("sub") != self.subject:
            return f"VAPID sub {claims.get('sub')!r}"
        with self.lock:
            self.stats["vapid_tokens"] += 1
            self.verified[(token, key)] = claims["exp"]
        return None

    def deliver(self, user, challenge, received):
        self.count("pushes")
        target = owner(user, len(self.pipes))
        with self.pipe_locks[target]:
            self.pipes[target].send((user, challenge, received))

    def snapshot(self):
        with self.lock:
            return {"stats": dict(self.stats), "problems": list(self.problems)}


def push_service_main(port, subject, pipes, control):
    service = PushService(port, subject, pipes)
    threading.Thread(target=service.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    control.send("ready")
    while True:
        command = control.recv()
        if command[0] == "server_key":
            service.server_key = command[1]
            control.send("ok")
        elif command[0] == "stats":
            control.send(service.snapshot())
        elif command[0] == "stop":
            control.send("ok")
            return


# --- the drivers ----------------------------------------------------------------------------------

class Waiter:
    __slots__ = ("event", "challenge", "received", "delivered")

    def __init__(self):
        self.event = threading.Event()
        self.challenge = None
        self.received = None    # at the push service (t1)
        self.delivered = None   # at the device's process


class Failures:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.kept = []

    def add(self, message):
        with self.lock:
            self.count += 1
            if len(self.kept) < MAX_FAILURES_KEPT:
                self.kept.append(message)


class Client:
    """One keep-alive connection to the server; API calls carry the API key, device calls their
    own signature."""

    def __init__(self, url, key):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.api_headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.connection = None

    def send(self, method, path, body, headers):
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                # A keep-alive connection the server closed while idle: once more on a new one.
                self.close()
                if attempt == 2:
                    raise error
        raise AssertionError("unreachable")

    def call(self, method, path, body=None):
        return self.send(method, path, None if body is None else json.dumps(body), self.api_headers)

    def device_call(self, device, method, path, body=None):
        raw = b"" if body is None else json.dumps(body).encode()
        headers = device.signed(method, path, raw)
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.send(method, path, raw if body is not None else None, headers)

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Driver:
    """A driver process: its share of the devices, the pushes routed to it, and the threads of
    each measurement."""

    def __init__(self, index, options, pushes):
        self.index = index
        self.options = options
        self.lock = threading.Lock()
        self.waiters = {}
        self.unexpected = 0
        self.pool = collections.deque()   # [user, ready_at, uses_left]
        self.pending = []                 # (user, challenge, number): pushes created, not answered yet
        threading.Thread(target=self.receive, args=(pushes,), daemon=True).start()

    def receive(self, pushes):
        while True:
            try:
                user, challenge, received = pushes.recv()
            except EOFError:
                return
            delivered = time.monotonic()
            with self.lock:
                waiter = self.waiters.pop(user, None)
                if waiter is None:
                    self.unexpected += 1
                    continue
            waiter.challenge, waiter.received, waiter.delivered = challenge, received, delivered
            waiter.event.set()

    def expect(self, user):
        """Registers for the user's next push; call before the request that sends it."""
        waiter = Waiter()
        with self.lock:
            self.waiters[user] = waiter
        return waiter

    def forget(self, user):
        with self.lock:
            self.waiters.pop(user, None)

    def take(self, stats):
        """The next user whose push budget allows one now (waiting for it if need be); None when
        every user has had its pushes."""
        with self.lock:
            if not self.pool:
                stats["pool_empty"] += 1
                return None
            entry = self.pool.popleft()
        wait = entry[1] - time.monotonic()
        if wait > 0:
            stats["user_wait_s"] += wait
            time.sleep(wait)
        return entry

    def pushed(self, entry):
        entry[1] = time.monotonic() + USER_GAP_S
        entry[2] -= 1

    def give_back(self, entry):
        if entry[2] > 0:
            with self.lock:
                self.pool.append(entry)

    def parallel(self, threads, work):
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()

    # --- enrollment

    def enroll(self, users, threads, url, key):
        """A push factor for each user, activated by its device with a Web Push subscription."""
        failures = Failures()
        work = queue.SimpleQueue()
        for user in users:
            work.put(user)
        done = []
        server_keys = set()
        endpoint = f"http://127.0.0.1:{self.options['push_port']}/push/"

        def worker():
            client = Client(url, key)
            try:
                while failures.count == 0:
                    try:
                        user = work.get_nowait()
                    except queue.Empty:
                        return
                    device = DEVICES[user]
                    status, payload = client.call("POST", f"/v1/users/{user}/factors", {"type": "push", "label": "bench phone"})
                    if status != 201:
                        failures.add(f"enroll {user}: HTTP {status} {payload[:200]!r}")
                        continue
                    activation = json.loads(payload)["activation"]
                    server_keys.add(activation["application_server_key"])
                    status, payload = client.send("POST", "/v1/devices/activate", json.dumps({
                        "token": activation["token"],
                        "public_key": base64.b64encode(device.public_key_der).decode("ascii"),
                        "transport": {"type": "webpush", "endpoint": endpoint + user, "expirationTime": None,
                                      "keys": {"p256dh": b64url(device.p256dh), "auth": b64url(device.auth)}},
                    }), {"Content-Type": "application/json"})
                    if status != 201:
                        failures.add(f"activate {user}: HTTP {status} {payload[:200]!r}")
                        continue
                    device.device_id = json.loads(payload)["device_id"]
                    with self.lock:
                        self.pool.append([user, 0.0, USES_PER_USER])
                    done.append(1)
            except Exception as error:
                failures.add(f"enroll: {error!r}")
            finally:
                client.close()

        started = time.monotonic()
        self.parallel(threads, worker)
        return {"enrolled": len(done), "seconds": time.monotonic() - started, "server_keys": sorted(k for k in server_keys if k),
                "failures": failures.count, "failed": failures.kept}

    # --- measurements

    def run(self, what, start_at, duration, threads, url, key):
        """`healthz` or `list` flat out from start_at (time.time()) for `duration` s; `answer`
        flat out until every pending push is answered."""
        failures = Failures()
        latencies = []
        counts = {"in_window": 0, "total": 0}
        count_lock = threading.Lock()
        begin = start_at - time.time() + time.monotonic()
        deadline = begin + duration if what != "answer" else float("inf")
        last = [begin]
        pending = list(self.pending)
        turn = itertools.count()
        answers = collections.deque(pending)
        if what == "answer":
            self.pending = []

        def healthz_once(client):
            status, payload = client.send("GET", "/healthz", None, client.api_headers)
            if status != 200:
                failures.add(f"healthz: HTTP {status} {payload[:200]!r}")
                return False
            return True

        def list_once(client):
            user, challenge, _ = pending[next(turn) % len(pending)]
            device = DEVICES[user]
            status, payload = client.device_call(device, "GET", f"/v1/devices/{device.device_id}/challenges")
            if status != 200 or challenge not in [c["challenge_id"] for c in json.loads(payload)["challenges"]]:
                failures.add(f"list {user}: HTTP {status}, not listing {challenge}: {payload[:200]!r}")
                return False
            return True

        def answer_once(client):
            try:
                user, challenge, number = answers.popleft()
            except IndexError:
                return None
            device = DEVICES[user]
            body = {"decision": "approve"} | ({"number": number} if number is not None else {})
            status, payload = client.device_call(device, "POST", f"/v1/devices/{device.device_id}/challenges/{challenge}", body)
            if status != 200 or json.loads(payload).get("status") != "approved":
                failures.add(f"answer {user} {challenge}: HTTP {status} {payload[:200]!r}")
                return False
            return True

        once = {"healthz": healthz_once, "list": list_once, "answer": answer_once}[what]
        if what == "list" and not pending:
            failures.add("list: no pending push to list")
            return self.run_result(counts, latencies, failures, last[0] - begin)

        def worker():
            client = Client(url, key)
            mine = []
            try:
                delay = begin - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    ok = once(client)
                    if ok is None:
                        break
                    finished = time.monotonic()
                    with count_lock:
                        counts["total"] += 1
                        if ok and finished <= deadline:
                            counts["in_window"] += 1
                        last[0] = max(last[0], finished)
                    mine.append(finished - started)
            except Exception as error:
                failures.add(f"{what}: {error!r}")
            finally:
                client.close()
                latencies.extend(mine)

        self.parallel(threads, worker)
        return self.run_result(counts, latencies, failures, last[0] - begin)

    @staticmethod
    def run_result(counts, latencies, failures, elapsed):
        return {"in_window": counts["in_window"], "total": counts["total"], "latencies": latencies,
                "elapsed": elapsed, "failures": failures.count, "failed": failures.kept}

    def create(self, count, threads, url, key, timeout):
        """`count` pushes, each to a user of its own, kept as pending; returns once every push
        reached the push service."""
        failures = Failures()
        stats = collections.Counter()
        remaining = [count]
        remaining_lock = threading.Lock()
        created = []
        waiters = []

        def worker():
            client = Client(url, key)
            try:
                while True:
                    with remaining_lock:
                        if remaining[0] <= 0:
                            return
                        remaining[0] -= 1
                    entry = self.take(stats)
                    if entry is None:
                        failures.add("create: no user left to push (raise PUSH_USERS)")
                        return
                    user = entry[0]
                    try:
                        waiter = self.expect(user)
                        self.pushed(entry)
                        status, payload = client.call("POST", f"/v1/users/{user}/challenges", {"type": "push"})
                        if status != 202:
                            self.forget(user)
                            failures.add(f"create {user}: HTTP {status} {payload[:200]!r}")
                            continue
                        answer = json.loads(payload)
                        created.append((user, answer["challenge_id"], answer.get("number")))
                        waiters.append((user, answer["challenge_id"], waiter))
                    finally:
                        self.give_back(entry)
            except Exception as error:
                failures.add(f"create: {error!r}")
            finally:
                client.close()

        started = time.monotonic()
        self.parallel(threads, worker)
        created_s = time.monotonic() - started
        give_up = time.monotonic() + timeout
        for user, challenge, waiter in waiters:
            if not waiter.event.wait(max(0, give_up - time.monotonic())):
                self.forget(user)
                failures.add(f"create {user}: the push for {challenge} did not reach the push service within {timeout} s")
            elif waiter.challenge != challenge:
                failures.add(f"create {user}: the push carried {waiter.challenge}, not {challenge}")
        self.pending = created
        return {"created": len(created), "seconds": created_s, "all_pushed_s": time.monotonic() - started,
                "user_wait_s": stats["user_wait_s"], "failures": failures.count, "failed": failures.kept}

    def roundtrip(self, samples, threads, url, key, timeout, pause, warmup):
        """`samples` round trips, `threads` at a time: create, push, device fetch and approval,
        long poll; each thread pauses 0 to 2 × `pause` s (at random) between its round trips,
        and first makes `warmup` round trips that are not counted."""
        failures = Failures()
        rows = []   # (t0, 202 received, t1, device woken, t2, t3)
        remaining = [samples]
        remaining_lock = threading.Lock()
        stats = collections.Counter()

        def helper(jobs, act):
            while True:
                job = jobs.get()
                if job is None:
                    return
                try:
                    act(job)
                except Exception as error:
                    job["error"] = repr(error)
                job["done"].set()

        def poll(client, job):
            try:
                status, payload = client.call("GET", f"/v1/challenges/{job['challenge']}?wait=30")
            finally:
                job["t3"] = time.monotonic()
            shown = json.loads(payload).get("status") if status == 200 else None
            if shown != "approved":
                job["error"] = f"the long poll answered HTTP {status} status {shown}, not approved"

        def device_side(client, job):
            user, challenge, waiter = job["user"], job["challenge"], job["waiter"]
            if not waiter.event.wait(timeout):
                self.forget(user)
                job["error"] = f"no push within {timeout} s"
                return
            job["woken"] = time.monotonic()
            if waiter.challenge != challenge:
                job["error"] = f"the push carried {waiter.challenge}, not {challenge}"
                return
            device = DEVICES[user]
            path = f"/v1/devices/{device.device_id}/challenges/{challenge}"
            status, payload = client.device_call(device, "GET", path)
            shown = json.loads(payload) if status == 200 else {}
            if shown.get("status") != "pending" or shown.get("number_required") != (job["number"] is not None):
                job["error"] = f"GET {path}: HTTP {status} {payload[:200]!r}"
                return
            body = {"decision": "approve"} | ({"number": job["number"]} if job["number"] is not None else {})
            status, payload = client.device_call(device, "POST", path, body)
            job["t2"] = time.monotonic()
            if status != 200 or json.loads(payload).get("status") != "approved":
                job["error"] = f"POST {path}: HTTP {status} {payload[:200]!r}"

        def worker():
            creator, poller, phone = Client(url, key), Client(url, key), Client(url, key)
            poll_jobs, device_jobs = queue.SimpleQueue(), queue.SimpleQueue()
            helpers = [threading.Thread(target=helper, args=(poll_jobs, lambda job: poll(poller, job))),
                       threading.Thread(target=helper, args=(device_jobs, lambda job: device_side(phone, job)))]
            for thread in helpers:
                thread.start()
            warming = [warmup]
            try:
                while True:
                    counted = warming[0] <= 0
                    if counted:
                        with remaining_lock:
                            if remaining[0] <= 0:
                                return
                            remaining[0] -= 1
                    else:
                        warming[0] -= 1
                    entry = self.take(stats)
                    if entry is None:
                        failures.add("round trip: no user left to push (raise PUSH_USERS)")
                        return
                    user = entry[0]
                    try:
                        waiter = self.expect(user)
                        self.pushed(entry)
                        t0 = time.monotonic()
                        status, payload = creator.call("POST", f"/v1/users/{user}/challenges", {"type": "push"})
                        accepted = time.monotonic()
                        if status != 202:
                            self.forget(user)
                            failures.add(f"round trip: create {user}: HTTP {status} {payload[:200]!r}")
                            continue
                        created = json.loads(payload)
                        challenge = created["challenge_id"]
                        # The sign-in page polls once it has the 202; the user reads the number off it.
                        polling = {"challenge": challenge, "done": threading.Event()}
                        poll_jobs.put(polling)
                        answering = {"user": user, "challenge": challenge, "number": created.get("number"), "waiter": waiter,
                                     "done": threading.Event()}
                        device_jobs.put(answering)
                        if not answering["done"].wait(timeout + 30) or not polling["done"].wait(40):
                            failures.add(f"round trip {challenge}: the device or the poll did not finish")
                            continue
                        problem = answering.get("error") or polling.get("error")
                        if problem:
                            failures.add(f"round trip {user} {challenge}: {problem}")
                            continue
                        if counted:
                            rows.append((t0, accepted, waiter.received, answering["woken"], answering["t2"], polling["t3"]))
                    finally:
                        self.give_back(entry)
                    if pause:
                        time.sleep(random.uniform(0, 2 * pause))
            except Exception as error:
                failures.add(f"round trip: {error!r}")
            finally:
                for jobs in (poll_jobs, device_jobs):
                    jobs.put(None)
                for thread in helpers:
                    thread.join()
                for client in (creator, poller, phone):
                    client.close()

        self.parallel(threads, worker)
        return {"rows": rows, "user_wait_s": stats["user_wait_s"], "failures": failures.count, "failed": failures.kept}


def driver_main(index, options, pushes, control):
    driver = Driver(index, options, pushes)
    control.send("ready")
    while True:
        command, arguments = control.recv()
        if command == "stop":
            control.send({"unexpected_pushes": driver.unexpected})
            return
        control.send(getattr(driver, command)(**arguments))


# --- the orchestration ----------------------------------------------------------------------------

class Bench:
    def __init__(self, options, users):
        self.options = options
        self.procs = options.procs
        self.server_pids = [int(p) for p in options.pids.split(",")]
        started = time.monotonic()
        for user in users:
            DEVICES[user] = Device(user)
        log(f"made {len(users)} devices' keys in {time.monotonic() - started:.1f} s")
        context = multiprocessing.get_context("fork")
        push_pipes = [context.Pipe(duplex=False) for _ in range(self.procs)]
        service_control, service_side = context.Pipe()
        self.service = context.Process(target=push_service_main, daemon=True, args=(
            options.push_port, options.vapid_subject, [send for _, send in push_pipes], service_side))
        self.service.start()
        self.service_control = service_control
        self.drivers = []
        driver_options = {"push_port": options.push_port}
        for index in range(self.procs):
            control, driver_side = context.Pipe()
            process = context.Process(target=driver_main, daemon=True, args=(index, driver_options, push_pipes[index][0], driver_side))
            process.start()
            self.drivers.append((process, control))
        assert service_control.recv() == "ready"
        for _, control in self.drivers:
            assert control.recv() == "ready"
        self.client_pids = [os.getpid(), self.service.pid] + [process.pid for process, _ in self.drivers]
        self.failures = 0
        self.failed = []

    def note_failures(self, what, count, kept):
        if count:
            self.failures += count
            self.failed.extend(f"{what}: {message}" for message in kept[:MAX_FAILURES_KEPT])
            log(f"FAIL: {what}: {count} operation(s) failed, first: {kept[0] if kept else '?'}")

    def all_drivers(self, command, per_driver):
        for index, (_, control) in enumerate(self.drivers):
            control.send((command, per_driver(index)))
        return [control.recv() for _, control in self.drivers]

    def service_call(self, *command):
        self.service_control.send(command)
        return self.service_control.recv()

    def cpu(self):
        busy, softirq = machine_busy_seconds()
        return (sum(cpu_seconds(pid) for pid in self.server_pids), sum(cpu_seconds(pid) for pid in self.client_pids),
                busy, time.monotonic(), softirq)

    def split(self, count, minimum=0):
        return [max(minimum, count // self.procs + (1 if i < count % self.procs else 0)) for i in range(self.procs)]

    def enroll(self, users):
        shares = [[] for _ in range(self.procs)]
        for user in users:
            shares[owner(user, self.procs)].append(user)
        threads = max(1, self.options.enroll_threads // self.procs)
        started = time.monotonic()
        results = self.all_drivers("enroll", lambda i: {"users": shares[i], "threads": threads, "url": self.options.url,
                                                        "key": self.options.key})
        enrolled = sum(r["enrolled"] for r in results)
        self.note_failures("enroll", sum(r["failures"] for r in results), [m for r in results for m in r["failed"]])
        seconds = time.monotonic() - started
        keys = sorted({k for r in results for k in r["server_keys"]})
        log(f"enrolled {enrolled} push devices in {seconds:.1f} s ({enrolled / seconds:.0f}/s)")
        if enrolled != len(users):
            raise SystemExit(f"push: FAIL: only {enrolled} of {len(users)} devices activated")
        if len(keys) != 1:
            raise SystemExit(f"push: FAIL: the enrollments announced {len(keys)} application server keys, not one")
        self.service_call("server_key", keys[0])
        return {"users": enrolled, "seconds": seconds}

    def measure(self, what, label):
        """One flat-out run of `healthz`, `list` or `answer` by every driver."""
        duration, threads = self.options.duration, max(1, self.options.threads // self.procs)
        start_at = time.time() + 0.3
        for _, control in self.drivers:
            control.send(("run", {"what": what, "start_at": start_at, "duration": duration, "threads": threads,
                                  "url": self.options.url, "key": self.options.key}))
        time.sleep(max(0, start_at - time.time()))
        before = self.cpu()
        results = [control.recv() for _, control in self.drivers]
        after = self.cpu()
        in_window = sum(r["in_window"] for r in results)
        total = sum(r["total"] for r in results)
        latencies = [x for r in results for x in r["latencies"]]
        self.note_failures(label, sum(r["failures"] for r in results), [m for r in results for m in r["failed"]])
        elapsed = after[3] - before[3]
        window = duration if what != "answer" else max(r["elapsed"] for r in results)
        row = {
            "what": what, "label": label, "rate": in_window / window if window > 0 else 0.0, "ops": total, "seconds": window,
            "window": [before[3], after[3]],
            "server_cpu_us_per_op": 1e6 * (after[0] - before[0]) / max(total, 1),
            "client_cpu_us_per_op": 1e6 * (after[1] - before[1]) / max(total, 1),
            "server_cores": (after[0] - before[0]) / elapsed, "client_cores": (after[1] - before[1]) / elapsed,
            "machine_cores": (after[2] - before[2]) / elapsed, "softirq_cores": (after[4] - before[4]) / elapsed,
            "other_cores": (after[2] - before[2] - (after[0] - before[0]) - (after[1] - before[1])) / elapsed,
            "p50_ms": 1e3 * percentile(latencies, 0.5), "p99_ms": 1e3 * percentile(latencies, 0.99),
        }
        log(f"{label}: {row['rate']:.0f}/s ({total} ops in {window:.1f} s), p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
            f"server {row['server_cpu_us_per_op']:.0f} µs/op, client {row['client_cpu_us_per_op']:.0f} µs/op, "
            f"cores: server {row['server_cores']:.2f}, client {row['client_cores']:.2f}, machine {row['machine_cores']:.2f} "
            f"(interrupts {row['softirq_cores']:.2f}, other processes {row['other_cores']:.2f})")
        return row

    def create(self, count, label):
        threads = max(1, self.options.create_threads // self.procs)
        before = self.cpu()
        results = self.all_drivers("create", lambda i: {"count": self.split(count)[i], "threads": threads, "url": self.options.url,
                                                        "key": self.options.key, "timeout": self.options.push_timeout})
        after = self.cpu()
        self.note_failures(label, sum(r["failures"] for r in results), [m for r in results for m in r["failed"]])
        created = sum(r["created"] for r in results)
        seconds = max(r["seconds"] for r in results)
        row = {"created": created, "seconds": seconds, "all_pushed_s": max(r["all_pushed_s"] for r in results), "window": [before[3], after[3]],
               "rate": created / seconds if seconds else 0.0, "user_wait_s": sum(r["user_wait_s"] for r in results),
               "server_cpu_us_per_op": 1e6 * (after[0] - before[0]) / max(created, 1),
               "client_cpu_us_per_op": 1e6 * (after[1] - before[1]) / max(created, 1),
               "server_cores": (after[0] - before[0]) / (after[3] - before[3]),
               "client_cores": (after[1] - before[1]) / (after[3] - before[3]),
               "machine_cores": (after[2] - before[2]) / (after[3] - before[3]),
               "other_cores": (after[2] - before[2] - (after[0] - before[0]) - (after[1] - before[1])) / (after[3] - before[3])}
        log(f"{label}: {created} pushes created in {seconds:.1f} s ({row['rate']:.0f}/s), all at the push service after "
            f"{row['all_pushed_s']:.1f} s; server {row['server_cpu_us_per_op']:.0f} µs and client {row['client_cpu_us_per_op']:.0f} µs "
            f"per push (decryption included)"
            + (f"; waited {row['user_wait_s']:.1f} s for users' push budgets" if row["user_wait_s"] else ""))
        return row

    def roundtrip(self, label, pause, warmup):
        samples, threads = self.options.rt_samples, self.options.rt_threads
        before = self.cpu()
        results = self.all_drivers("roundtrip", lambda i: {"samples": self.split(samples)[i], "threads": self.split(threads, 1)[i],
                                                           "url": self.options.url, "key": self.options.key,
                                                           "timeout": self.options.push_timeout, "pause": pause, "warmup": warmup})
        after = self.cpu()
        rows = [row for r in results for row in r["rows"]]
        self.note_failures(label, sum(r["failures"] for r in results), [m for r in results for m in r["failed"]])
        parts = {
            "total": [t3 - t0 for t0, _, _, _, _, t3 in rows],
            "create_202": [a - t0 for t0, a, _, _, _, _ in rows],
            "to_push": [t1 - t0 for t0, _, t1, _, _, _ in rows],
            "push_to_answer": [t2 - t1 for _, _, t1, _, t2, _ in rows],
            "push_to_woken": [w - t1 for _, _, t1, w, _, _ in rows],
            "answer_to_poll": [t3 - t2 for _, _, _, _, t2, t3 in rows],
            # The whole round trip less the push service's checks, decryption and hand-off to the
            # device's thread: the part a faster client would not change.
            "total_less_wake": [(t3 - t0) - (w - t1) for t0, _, t1, w, _, t3 in rows],
        }
        elapsed = after[3] - before[3]
        summary_ = {"label": label, "samples": len(rows), "seconds": elapsed, "pause_s": pause, "window": [before[3], after[3]],
                    "rate": len(rows) / elapsed, "server_cores": (after[0] - before[0]) / elapsed,
                    "server_cpu_us_per_op": 1e6 * (after[0] - before[0]) / max(len(rows), 1),
                    "client_cpu_us_per_op": 1e6 * (after[1] - before[1]) / max(len(rows), 1),
                    "machine_cores": (after[2] - before[2]) / elapsed,
                    "other_cores": (after[2] - before[2] - (after[0] - before[0]) - (after[1] - before[1])) / elapsed,
                    "user_wait_s": sum(r["user_wait_s"] for r in results),
                    # Each round trip's times in ms from its t0: 202 received, t1, device woken, t2, t3.
                    "rows": [[round(1e3 * (t - row[0]), 3) for t in row[1:]] for row in rows]}
        for name, values in parts.items():
            summary_[name] = {"p50_ms": 1e3 * percentile(values, 0.5), "p99_ms": 1e3 * percentile(values, 0.99),
                              "max_ms": 1e3 * max(values) if values else float("nan"),
                              "min_ms": 1e3 * min(values) if values else float("nan")}
        t = summary_["total"]
        log(f"{label}: {len(rows)} samples in {elapsed:.1f} s (cores: server {summary_['server_cores']:.2f}, machine "
            f"{summary_['machine_cores']:.2f}, other processes {summary_['other_cores']:.2f}), t3−t0 p50 {t['p50_ms']:.1f} ms, p99 {t['p99_ms']:.1f} ms, "
            f"max {t['max_ms']:.1f} ms; t1−t0 p50 {summary_['to_push']['p50_ms']:.1f}, t2−t1 p50 {summary_['push_to_answer']['p50_ms']:.1f}, "
            f"t3−t2 p50 {summary_['answer_to_poll']['p50_ms']:.1f} ms; server {summary_['server_cpu_us_per_op']:.0f} µs per round trip")
        return summary_

    def stop(self):
        unexpected = 0
        for process, control in self.drivers:
            control.send(("stop", {}))
            unexpected += control.recv()["unexpected_pushes"]
            process.join(5)
        stats = self.service_call("stats")
        self.service_call("stop")
        self.service.join(5)
        return unexpected, stats


def summary(rows):
    rates = [row["rate"] for row in rows]
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates),
            **{key: statistics.median(r[key] for r in rows)
               for key in ("server_cpu_us_per_op", "client_cpu_us_per_op", "server_cores", "client_cores", "machine_cores", "other_cores",
                           "p50_ms", "p99_ms")}}


def run(options):
    users = [f"push-{i:06d}" for i in range(options.users)]
    bench = Bench(options, users)
    result = {"options": vars(options) | {"key": "…"}}
    try:
        result["enroll"] = bench.enroll(users)
        result["healthz"] = [bench.measure("healthz", f"healthz run {n}") for n in range(1, options.runs + 1)]
        # The first round trips open Twofold's connections to the push service and the client's
        # to Twofold, and take code paths for the first time: 2 a thread are not counted.
        result["roundtrip"] = bench.roundtrip("round trip, paced", options.rt_pause, 2)
        result["roundtrip_busy"] = bench.roundtrip("round trip, back to back", 0, 0)
        result["create"], result["list"], result["answer"] = [], [], []
        for n in range(1, options.runs + 1):
            created = bench.create(options.answer_set, f"pushes for run {n}")
            result["create"].append(created)
            result["list"].append(bench.measure("list", f"device list run {n}"))
            answered = bench.measure("answer", f"device answers run {n}")
            result["answer"].append(answered)
            if answered["ops"] != created["created"]:
                bench.note_failures(f"device answers run {n}", 1, [f"{answered['ops']} answers for {created['created']} pushes"])
        for key in ("healthz", "list", "answer"):
            result[f"{key}_summary"] = summary(result[key])
    finally:
        unexpected, service = bench.stop()
        result["push_service"] = service
        result["unexpected_pushes"] = unexpected
        problems = sum(service["stats"].get(k, 0) for k in ("unknown_endpoint", "bad_request", "undecryptable"))
        if problems:
            bench.note_failures("push service", problems, service["problems"])
        if unexpected:
            bench.note_failures("push service", unexpected, [f"{unexpected} pushes arrived that no device waited for"])
        result["failures"] = bench.failures
        result["failed"] = bench.failed
    return result, bench


def report(paths):
    failed = 0
    for path in paths:
        with open(path) as file:
            result = json.load(file)
        failed += result["failures"]
        print("\nOne node (SQLite, durable default), Web Push to a push service on loopback")
        print(f"{'measure':<32} {'median/s':>9} {'min–max':>13} {'server µs/op':>13} {'client µs/op':>13} "
              f"{'cores: server':>14} {'client':>7} {'machine':>8} {'other':>6} {'p50 ms':>7} {'p99 ms':>7}")
        names = (("healthz", "GET /healthz (reference)"), ("list", "signed device list"), ("answer", "signed device answer"))
        for key, name in names:
            s = result.get(f"{key}_summary")
            if not s:
                continue
            print(f"{name:<32} {s['median']:>9.0f} {s['min']:>6.0f}–{s['max']:<6.0f} {s['server_cpu_us_per_op']:>13.0f} "
                  f"{s['client_cpu_us_per_op']:>13.0f} {s['server_cores']:>14.2f} {s['client_cores']:>7.2f} {s['machine_cores']:>8.2f} {s['other_cores']:>6.2f} "
                  f"{s['p50_ms']:>7.1f} {s['p99_ms']:>7.1f}")
        for key, _ in names:
            if key in result:
                print(f"  {key} runs: " + ", ".join(f"{r['rate']:.0f}/s ({r['server_cpu_us_per_op']:.0f} µs/op)" for r in result[key]))
        if "answer_summary" in result:
            h = result["healthz_summary"]
            for key in ("list", "answer"):
                s = result[f"{key}_summary"]
                print(f"{key} / healthz: {s['median'] / h['median']:.3f} (runs: "
                      + ", ".join(f"{a['rate'] / b['rate']:.3f}" for a, b in zip(result[key], result["healthz"]))
                      + f"); server CPU per op {s['server_cpu_us_per_op'] / h['server_cpu_us_per_op']:.1f}× healthz's")
            creates = result["create"]
            print("push creation (before each answer run): " + ", ".join(
                f"{c['created']} at {c['rate']:.0f}/s ({c['server_cpu_us_per_op']:.0f} µs/push server)" for c in creates))
        for rt in (result.get("roundtrip"), result.get("roundtrip_busy")):
            if not rt:
                continue
            print(f"\n{rt['label'].capitalize()}: {rt['samples']} samples, {result['options']['rt_threads']} at a time"
                  + (f", pausing 0–{2e3 * rt['pause_s']:.0f} ms between" if rt["pause_s"] else "")
                  + f": {rt['rate']:.0f} round trips/s; server CPU {rt['server_cpu_us_per_op']:.0f} µs per round trip "
                  f"({rt['server_cores']:.2f} cores), client {rt['client_cpu_us_per_op']:.0f} µs; machine {rt['machine_cores']:.2f} cores, "
                  f"other processes {rt['other_cores']:.2f}")
            print(f"  {'part':<46} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'min ms':>7}")
            for key, name in (("total", "t3−t0 whole round trip"), ("total_less_wake", "  less the push service's decrypt and hand-off"),
                              ("create_202", "  202 received − t0"),
                              ("to_push", "t1−t0 POST sent → push at the service"),
                              ("push_to_answer", "t2−t1 push → the answer's 200"), ("push_to_woken", "  of which: checks, decrypt, device woken"),
                              ("answer_to_poll", "t3−t2 answer's 200 → long poll's answer")):
                p = rt[key]
                print(f"  {name:<46} {p['p50_ms']:>7.1f} {p['p99_ms']:>7.1f} {p['max_ms']:>7.1f} {p['min_ms']:>7.1f}")
        service = result.get("push_service", {}).get("stats", {})
        print(f"push service: {service.get('pushes', 0)} pushes decrypted, {service.get('vapid_tokens', 0)} VAPID tokens verified")
        if result["unexpected_pushes"]:
            print(f"  note: {result['unexpected_pushes']} pushes arrived that no device waited for")
        for message in result["failed"]:
            print(f"  FAILED: {message}")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["run", "report"])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--url")
    # The API key comes from the environment, never the command line (the process list shows it).
    parser.add_argument("--key", default=os.environ.get("TWOFOLD_BENCH_API_KEY"))
    parser.add_argument("--pids")
    parser.add_argument("--push-port", type=int)
    parser.add_argument("--vapid-subject", default="mailto:bench@example.com")
    parser.add_argument("--out")
    parser.add_argument("--users", type=int, default=10600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=16, help="client threads in all, split over --procs")
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--enroll-threads", type=int, default=16)
    parser.add_argument("--create-threads", type=int, default=16)
    parser.add_argument("--answer-set", type=int, default=5000, help="pushes created, then answered, per run")
    parser.add_argument("--rt-samples", type=int, default=300)
    parser.add_argument("--rt-threads", type=int, default=4)
    parser.add_argument("--rt-pause", type=float, default=0.05, help="mean seconds a round-trip thread pauses between samples")
    parser.add_argument("--push-timeout", type=float, default=20.0)
    options = parser.parse_args()
    if options.mode == "report":
        sys.exit(report(options.files))
    result, bench = run(options)
    with open(options.out, "w") as file:
        json.dump(result, file)
    sys.exit(1 if bench.failures else 0)


if __name__ == "__main__":
    main()
