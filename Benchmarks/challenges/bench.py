#!/usr/bin/env python3
"""The challenge benchmark's driver: webhook gateways, enrollment and the measurements, against
one `twofold serve` (or two on one PostgreSQL). Started by Benchmarks/challenges/run.sh, which
starts the servers; see Benchmarks/challenges/README.md for the method.

    bench.py single --url URL --pids PID --sms-port P --voice-port Q --out FILE [options]
    bench.py nodes  --url URL_A --url-b URL_B --pids PID_A,PID_B --sms-port P --voice-port Q --out FILE [options]
    bench.py report FILE…

`single`: the SMS gateway (`--sms-port`) checks each webhook's `Twofold-Signature`, reads the
code out of the message and hands it to the driver process that owns the number; the voice
gateway (`--voice-port`) answers the same way until it is switched to hanging, after which it
accepts every connection, reads the request and never answers (Twofold's delivery timeout ends
it). Then:

  1. HOTP verify requests/s (valid codes), `--runs` runs of `--duration` s: the reference;
  2. challenges/s: each operation is POST …/challenges {"type": "sms"}, wait for the code at the
     gateway, POST /v1/challenges/{id}/verify {"code"} expecting allow; same runs;
  3. long-poll delay: GET /v1/challenges/{id}?wait=30 on one connection, the code verified on
     another; time from the verify's answer to the poll's answer (negative: the poll's answer
     arrived first), `--lp-samples` samples, `--lp-threads` at a time;
  4. 2 and 3 again while a background thread creates `--voice-rate` voice challenges a second
     against the hanging voice gateway.

`nodes`: the same gateways, users enrolled through node A, then the long-poll delay with the
poll on node A and the code verified on node B (`--url-b`).

`report`: prints the summary of the JSON files `single` and `nodes` wrote, with the targets,
and exits 1 when any operation failed.

Every process of the client (the gateways' process, `--procs` driver processes, this one)
counts as the client's CPU; `--pids` are the servers, whose CPU (utime + stime from
/proc/PID/stat) is divided by the operations of each run. Exits 1 when any operation failed (a
deny, an unexpected status, a code that did not arrive within `--code-timeout` s).
"""

import argparse
import collections
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import queue
import random
import re
import select
import statistics
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from base64 import b32decode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyotp

CLK_TCK = os.sysconf("SC_CLK_TCK")
# North American area codes, N11 service codes left out: the pumping guard's prefix is
# "+1" and the area code, so users spread over 792 prefixes.
AREAS = [area for area in range(201, 1000) if area % 100 != 11]
# The seven local digits start with these three, by kind of user.
EXCHANGE = {"sms": 555, "voice": 556, "nodes": 557}
MAX_FAILURES_KEPT = 20


def log(message):
    print(f"challenges: {message}", file=sys.stderr, flush=True)


def number_of(kind, index):
    return f"+1{AREAS[index % len(AREAS)]}{EXCHANGE[kind]}{index // len(AREAS):04d}"


def owner(number, procs):
    """The driver process that receives a number's codes."""
    return zlib.crc32(number.encode()) % procs


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


def hotp(key, counter):
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return str((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000).zfill(6)


# --- the gateways ---------------------------------------------------------------------------------

SMS_CODE = re.compile(r"code is (\d{6})\b")
SPOKEN_CODE = re.compile(r"code is: ((?:\d, ){5}\d)\.")


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


class GatewayHandler(BaseHTTPRequestHandler):
    """A webhook gateway: checks the signature, hands the code on, answers 200 {"id"}; or, on
    the voice gateway in hanging mode, reads the request and holds the connection unanswered
    until Twofold gives up on it."""

    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes: without TCP_NODELAY the second waits for the
    # first's ACK, which Twofold's side delays (40 ms), and every delivery would take that long.
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

    def answer(self, status, body):
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        gateway = self.server.gateway
        raw = self.read_body()
        if self.server.hanging:
            gateway.hold(self)
            return
        signature = self.headers.get("Twofold-Signature", "")
        try:
            fields = dict(part.split("=", 1) for part in signature.split(","))
            stamp = fields["t"]
            expected = hmac.new(gateway.secret, stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
            valid = abs(time.time() - int(stamp)) <= 300 and hmac.compare_digest(expected, fields["v1"])
        except (KeyError, ValueError):
            valid = False
        if not valid:
            gateway.count("bad_signature", f"{self.server.channel}: a webhook without a valid Twofold-Signature")
            self.answer(401, {"error": "bad signature"})
            return
        body = json.loads(raw)
        if body.get("type") == "sms":
            found = SMS_CODE.search(body.get("body", ""))
            code = found.group(1) if found else None
        else:
            found = SPOKEN_CODE.search(body.get("speech", ""))
            code = found.group(1).replace(", ", "") if found else None
        if code is None:
            gateway.count("no_code", f"{self.server.channel}: a webhook without a code ({body.get('type')}, mode {body.get('mode')})")
            self.answer(200, {"id": "no-code"})
            return
        gateway.deliver(body["to"], code)
        self.answer(200, {"id": f"gw-{body['challenge_id']}"})


class Gateways:
    """Both gateways, in a process of their own; codes go to the driver owning the number."""

    def __init__(self, sms_port, voice_port, secret, pipes):
        self.secret = secret
        self.pipes = pipes
        self.pipe_locks = [threading.Lock() for _ in pipes]
        self.lock = threading.Lock()
        self.stats = collections.Counter()
        self.problems = []
        self.holding = 0
        self.max_holding = 0
        self.hold_seconds = []
        self.stop = threading.Event()
        self.sms = GatewayServer(("127.0.0.1", sms_port), GatewayHandler)
        self.voice = GatewayServer(("127.0.0.1", voice_port), GatewayHandler)
        for server, channel in ((self.sms, "sms"), (self.voice, "voice")):
            server.gateway = self
            server.channel = channel
            server.hanging = False

    def count(self, what, problem=None):
        with self.lock:
            self.stats[what] += 1
            if problem and len(self.problems) < MAX_FAILURES_KEPT:
                self.problems.append(problem)

    def deliver(self, number, code):
        self.count("codes")
        target = owner(number, len(self.pipes))
        with self.pipe_locks[target]:
            self.pipes[target].send((number, code))

    def hold(self, handler):
        started = time.monotonic()
        with self.lock:
            self.stats["held"] += 1
            self.holding += 1
            self.max_holding = max(self.max_holding, self.holding)
        connection = handler.connection
        try:
            while not self.stop.is_set():
                readable, _, _ = select.select([connection], [], [], 1.0)
                if readable and not connection.recv(65536):
                    break  # Twofold closed it: its timeout
        except OSError:
            pass
        finally:
            with self.lock:
                self.holding -= 1
                self.hold_seconds.append(time.monotonic() - started)
            handler.close_connection = True

    def snapshot(self):
        with self.lock:
            held = sorted(self.hold_seconds)
            return {"stats": dict(self.stats), "problems": list(self.problems), "holding": self.holding,
                    "max_holding": self.max_holding,
                    "hold_p50_s": percentile(held, 0.5) if held else None,
                    "hold_max_s": held[-1] if held else None}


def gateway_main(sms_port, voice_port, secret, pipes, control):
    gateways = Gateways(sms_port, voice_port, secret, pipes)
    for server in (gateways.sms, gateways.voice):
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    control.send("ready")
    while True:
        command = control.recv()
        if command[0] == "hang":
            gateways.voice.hanging = command[1]
            if not command[1]:
                gateways.stop.set()
            control.send("ok")
        elif command[0] == "stats":
            control.send(gateways.snapshot())
        elif command[0] == "stop":
            gateways.stop.set()
            control.send("ok")
            return


# --- the drivers ----------------------------------------------------------------------------------

class Waiter:
    __slots__ = ("event", "code", "at")

    def __init__(self):
        self.event = threading.Event()
        self.code = None
        self.at = None


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
    """One keep-alive connection to one server."""

    def __init__(self, url, key):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.connection = None

    def call(self, method, path, body=None):
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.connection.request(method, path, body=None if body is None else json.dumps(body), headers=self.headers)
                response = self.connection.getresponse()
                payload = response.read()
                return response.status, payload
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                # A keep-alive connection the server closed while idle: once more on a new one.
                self.close()
                if attempt == 2:
                    raise error
        raise AssertionError("unreachable")

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Driver:
    """A driver process: a share of the users, the codes the gateway routes to it, and the
    threads of each measurement."""

    def __init__(self, index, options, codes):
        self.index = index
        self.options = options
        self.lock = threading.Lock()
        self.waiters = {}
        self.unexpected = 0
        self.sms_pool = collections.deque()       # [user, number, ready_at, uses_left]
        self.hotp_pool = collections.deque()      # [user, key, next_counter]
        threading.Thread(target=self.receive, args=(codes,), daemon=True).start()

    def receive(self, codes):
        while True:
            try:
                number, code = codes.recv()
            except EOFError:
                return
            arrived = time.monotonic()
            with self.lock:
                waiter = self.waiters.pop(number, None)
                if waiter is None:
                    self.unexpected += 1
                    continue
            waiter.code, waiter.at = code, arrived
            waiter.event.set()

    def expect(self, number):
        """Registers for the number's next code; call before the request that sends it."""
        waiter = Waiter()
        with self.lock:
            self.waiters[number] = waiter
        return waiter

    def forget(self, number):
        with self.lock:
            self.waiters.pop(number, None)

    def code(self, waiter, number, failures, what):
        if waiter.event.wait(self.options["code_timeout"]):
            return waiter.code
        self.forget(number)
        failures.add(f"{what}: no code reached the gateway within {self.options['code_timeout']} s")
        return None

    # --- enrollment

    def enroll(self, kind, items, threads, url, key):
        failures = Failures()
        work = queue.SimpleQueue()
        for item in items:
            work.put(item)
        done = []

        def worker():
            client = Client(url, key)
            try:
                while failures.count == 0:
                    try:
                        item = work.get_nowait()
                    except queue.Empty:
                        return
                    if kind == "hotp":
                        self.enroll_hotp(client, item, failures)
                    else:
                        self.enroll_phone(client, kind, item, failures)
                    done.append(1)
            except Exception as error:
                failures.add(f"enroll {kind}: {error!r}")
            finally:
                client.close()

        started = time.monotonic()
        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        return {"enrolled": len(done), "seconds": time.monotonic() - started, "failures": failures.count, "failed": failures.kept}

    def enroll_hotp(self, client, user, failures):
        status, payload = client.call("POST", f"/v1/users/{user}/factors", {"type": "hotp"})
        if status != 201:
            failures.add(f"enroll {user}: HTTP {status} {payload[:200]!r}")
            return
        enrolled = json.loads(payload)
        secret = enrolled["secret"]
        key = b32decode(secret.upper() + "=" * (-len(secret) % 8))
        if hotp(key, 1) != pyotp.HOTP(secret).at(1):
            failures.add(f"enroll {user}: our HOTP code differs from pyotp's")
            return
        status, payload = client.call("POST", f"/v1/users/{user}/factors/{enrolled['factor']['id']}/activate", {"code": hotp(key, 0)})
        if status != 200:
            failures.add(f"activate {user}: HTTP {status} {payload[:200]!r}")
            return
        with self.lock:
            self.hotp_pool.append([user, key, 1])

    def enroll_phone(self, client, kind, item, failures):
        user, number = item
        waiter = self.expect(number)
        status, payload = client.call("POST", f"/v1/users/{user}/factors", {"type": "sms" if kind == "sms" else "voice", "phone": number})
        if status != 201:
            self.forget(number)
            failures.add(f"enroll {user} ({kind}): HTTP {status} {payload[:200]!r}")
            return
        factor = json.loads(payload)["factor"]["id"]
        code = self.code(waiter, number, failures, f"enroll {user} ({kind})")
        if code is None:
            return
        status, payload = client.call("POST", f"/v1/users/{user}/factors/{factor}/activate", {"code": code})
        if status != 200 or json.loads(payload)["factor"]["status"] != "active":
            failures.add(f"activate {user} ({kind}): HTTP {status} {payload[:200]!r}")
            return
        if kind == "sms":
            # The confirmation spent one send of the user's five an hour, and the next may
            # follow 30 s after it.
            with self.lock:
                self.sms_pool.append([user, number, time.monotonic() + 31, 4])

    # --- measurements

    def take(self, pool, deadline, stats):
        """The user whose turn it is, once the short send limit allows; None past the deadline."""
        with self.lock:
            if not pool:
                stats["pool_empty"] += 1
                return None
            entry = pool.popleft()
        if len(entry) == 4:
            wait = entry[2] - time.monotonic()
            if wait > 0:
                if time.monotonic() + wait >= deadline:
                    # Every user left is still within the 30 s limit: the run would end early.
                    with self.lock:
                        pool.appendleft(entry)
                    stats["not_ready"] += 1
                    return None
                stats["user_wait_s"] += wait
                time.sleep(wait)
        return entry

    def give_back(self, pool, entry):
        if len(entry) == 4 and entry[3] <= 0:
            return
        with self.lock:
            pool.append(entry)

    def run(self, what, start_at, duration, threads, url, key):
        """`verify` or `challenges` flat out from start_at (time.time()) for `duration` s."""
        failures = Failures()
        latencies = []
        code_waits = []
        stats = collections.Counter()
        counts = {"in_window": 0, "total": 0}
        count_lock = threading.Lock()
        begin = start_at - time.time() + time.monotonic()
        deadline = begin + duration

        def verify_once(client, entry):
            user, key_bytes, counter = entry
            status, payload = client.call("POST", f"/v1/users/{user}/verify", {"code": hotp(key_bytes, counter)})
            entry[2] += 1
            if status != 200 or json.loads(payload).get("result") != "allow":
                failures.add(f"verify {user}: HTTP {status} {payload[:200]!r}")
                return False
            return True

        def challenge_once(client, entry):
            user, number = entry[0], entry[1]
            waiter = self.expect(number)
            sent = time.monotonic()
            entry[2] = sent + 31
            entry[3] -= 1
            status, payload = client.call("POST", f"/v1/users/{user}/challenges", {"type": "sms"})
            if status != 202:
                self.forget(number)
                failures.add(f"challenge {user}: HTTP {status} {payload[:200]!r}")
                return False
            challenge = json.loads(payload)["challenge_id"]
            code = self.code(waiter, number, failures, f"challenge {user} {challenge}")
            if code is None:
                return False
            code_waits.append(waiter.at - sent)
            status, payload = client.call("POST", f"/v1/challenges/{challenge}/verify", {"code": code})
            if status != 200 or json.loads(payload).get("result") != "allow":
                failures.add(f"challenge verify {user} {challenge}: HTTP {status} {payload[:200]!r}")
                return False
            return True

        once, pool = (verify_once, self.hotp_pool) if what == "verify" else (challenge_once, self.sms_pool)

        def worker():
            client = Client(url, key)
            mine = []
            try:
                delay = begin - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                while time.monotonic() < deadline:
                    entry = self.take(pool, deadline, stats)
                    if entry is None:
                        break
                    started = time.monotonic()
                    try:
                        ok = once(client, entry)
                    finally:
                        self.give_back(pool, entry)
                    finished = time.monotonic()
                    with count_lock:
                        counts["total"] += 1
                        if ok and finished <= deadline:
                            counts["in_window"] += 1
                    mine.append(finished - started)
            except Exception as error:
                failures.add(f"{what}: {error!r}")
            finally:
                client.close()
                latencies.extend(mine)

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        return {"in_window": counts["in_window"], "total": counts["total"], "latencies": latencies, "code_waits": code_waits,
                "failures": failures.count, "failed": failures.kept, "user_wait_s": stats["user_wait_s"],
                "pool_empty": stats["pool_empty"], "not_ready": stats["not_ready"], "pool_left": len(pool)}

    def longpoll(self, samples, threads, create_url, poll_url, answer_url, key, lead):
        """`samples` operations: create on create_url, poll on poll_url, answer on answer_url."""
        failures = Failures()
        delays = []
        remaining = [samples]
        remaining_lock = threading.Lock()
        stats = collections.Counter()

        def poller(jobs, client):
            while True:
                job = jobs.get()
                if job is None:
                    return
                try:
                    client.connection = client.connection or http.client.HTTPConnection(client.host, client.port, timeout=60)
                    client.connection.request("GET", job["path"], headers=client.headers)
                    job["sent"].set()
                    response = client.connection.getresponse()
                    job["payload"] = response.read()
                    job["at"] = time.monotonic()
                    job["status"] = response.status
                except Exception as error:
                    job["error"] = repr(error)
                    client.close()
                    job["sent"].set()
                job["done"].set()

        def worker():
            creator, answerer, polling = Client(create_url, key), Client(answer_url, key), Client(poll_url, key)
            jobs = queue.SimpleQueue()
            helper = threading.Thread(target=poller, args=(jobs, polling))
            helper.start()
            try:
                while True:
                    with remaining_lock:
                        if remaining[0] <= 0:
                            return
                        remaining[0] -= 1
                    entry = self.take(self.sms_pool, float("inf"), stats)
                    if entry is None:
                        failures.add("long poll: no user left to challenge (raise CHALLENGE_USERS)")
                        return
                    user, number = entry[0], entry[1]
                    try:
                        waiter = self.expect(number)
                        entry[2] = time.monotonic() + 31
                        entry[3] -= 1
                        status, payload = creator.call("POST", f"/v1/users/{user}/challenges", {"type": "sms"})
                        if status != 202:
                            self.forget(number)
                            failures.add(f"long poll: challenge {user}: HTTP {status} {payload[:200]!r}")
                            continue
                        challenge = json.loads(payload)["challenge_id"]
                        code = self.code(waiter, number, failures, f"long poll {user} {challenge}")
                        if code is None:
                            continue
                        job = {"path": f"/v1/challenges/{challenge}?wait=30", "sent": threading.Event(), "done": threading.Event()}
                        jobs.put(job)
                        job["sent"].wait()
                        # The poll is waiting at the server by then; a random phase against the
                        # poll's half-second re-read, so that the delay across nodes is sampled
                        # over the whole period rather than at one point of it.
                        time.sleep(lead + random.random() * 0.5)
                        status, payload = answerer.call("POST", f"/v1/challenges/{challenge}/verify", {"code": code})
                        answered = time.monotonic()
                        if status != 200 or json.loads(payload).get("result") != "allow":
                            failures.add(f"long poll: verify {user} {challenge}: HTTP {status} {payload[:200]!r}")
                        if not job["done"].wait(40):
                            failures.add(f"long poll {challenge}: no answer to the poll within 40 s")
                            continue
                        if "error" in job:
                            failures.add(f"long poll {challenge}: {job['error']}")
                            continue
                        shown = json.loads(job["payload"]).get("status") if job["status"] == 200 else None
                        if shown != "approved":
                            failures.add(f"long poll {challenge}: the poll answered HTTP {job['status']} status {shown}, not approved")
                            continue
                        delays.append(job["at"] - answered)
                    finally:
                        self.give_back(self.sms_pool, entry)
            except Exception as error:
                failures.add(f"long poll: {error!r}")
            finally:
                jobs.put(None)
                helper.join()
                for client in (creator, answerer, polling):
                    client.close()

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        return {"delays": delays, "failures": failures.count, "failed": failures.kept}


def driver_main(index, options, codes, control):
    driver = Driver(index, options, codes)
    control.send("ready")
    while True:
        command, arguments = control.recv()
        if command == "stop":
            control.send({"unexpected_codes": driver.unexpected})
            return
        control.send(getattr(driver, command)(**arguments))


# --- the orchestration ----------------------------------------------------------------------------

class Bench:
    def __init__(self, options):
        self.options = options
        self.procs = options.procs
        self.server_pids = [int(p) for p in options.pids.split(",")]
        self.secret = options.secret.encode()  # the key is the setting's bytes, as Twofold uses it
        context = multiprocessing.get_context("fork")
        code_pipes = [context.Pipe(duplex=False) for _ in range(self.procs)]
        gateway_control, gateway_side = context.Pipe()
        self.gateway = context.Process(target=gateway_main, daemon=True, args=(
            options.sms_port, options.voice_port, self.secret, [send for _, send in code_pipes], gateway_side))
        self.gateway.start()
        self.gateway_control = gateway_control
        self.drivers = []
        driver_options = {"code_timeout": options.code_timeout}
        for index in range(self.procs):
            control, driver_side = context.Pipe()
            process = context.Process(target=driver_main, daemon=True, args=(index, driver_options, code_pipes[index][0], driver_side))
            process.start()
            self.drivers.append((process, control))
        assert gateway_control.recv() == "ready"
        for _, control in self.drivers:
            assert control.recv() == "ready"
        self.client_pids = [os.getpid(), self.gateway.pid] + [process.pid for process, _ in self.drivers]
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

    def gateway_call(self, *command):
        self.gateway_control.send(command)
        return self.gateway_control.recv()

    def cpu(self):
        busy, softirq = machine_busy_seconds()
        return (sum(cpu_seconds(pid) for pid in self.server_pids), sum(cpu_seconds(pid) for pid in self.client_pids),
                busy, time.monotonic(), softirq)

    def enroll(self, kind, users, url):
        """Enrolls `users` (ids, or (id, number) pairs) through url, each in its owner's driver."""
        shares = [[] for _ in range(self.procs)]
        for position, item in enumerate(users):
            shares[owner(item[1], self.procs) if kind != "hotp" else position % self.procs].append(item)
        threads = max(1, self.options.enroll_threads // self.procs)
        started = time.monotonic()
        results = self.all_drivers("enroll", lambda i: {"kind": kind, "items": shares[i], "threads": threads, "url": url, "key": self.options.key})
        enrolled = sum(r["enrolled"] for r in results)
        self.note_failures(f"enroll {kind}", sum(r["failures"] for r in results), [m for r in results for m in r["failed"]])
        seconds = time.monotonic() - started
        log(f"enrolled {enrolled} {kind} users in {seconds:.1f} s ({enrolled / seconds:.0f}/s)")
        if enrolled != len(users):
            raise SystemExit(f"challenges: FAIL: only {enrolled} of {len(users)} {kind} users enrolled")
        return {"users": enrolled, "seconds": seconds}

    def measure(self, what, label, url):
        """One flat-out run of `verify` or `challenges` by every driver."""
        duration, threads = self.options.duration, max(1, self.options.threads // self.procs)
        start_at = time.time() + 0.3
        for _, control in self.drivers:
            control.send(("run", {"what": what, "start_at": start_at, "duration": duration, "threads": threads,
                                  "url": url, "key": self.options.key}))
        time.sleep(max(0, start_at - time.time()))
        before = self.cpu()
        results = [control.recv() for _, control in self.drivers]
        after = self.cpu()
        in_window = sum(r["in_window"] for r in results)
        total = sum(r["total"] for r in results)
        latencies = [x for r in results for x in r["latencies"]]
        code_waits = [x for r in results for x in r["code_waits"]]
        self.note_failures(label, sum(r["failures"] for r in results), [m for r in results for m in r["failed"]])
        elapsed = after[3] - before[3]
        row = {
            "what": what, "label": label, "rate": in_window / duration, "ops": total,
            "server_cpu_us_per_op": 1e6 * (after[0] - before[0]) / max(total, 1),
            "server_cores": (after[0] - before[0]) / elapsed, "client_cores": (after[1] - before[1]) / elapsed,
            "machine_cores": (after[2] - before[2]) / elapsed,
            "p50_ms": 1e3 * percentile(latencies, 0.5), "p99_ms": 1e3 * percentile(latencies, 0.99),
            "code_wait_p50_ms": 1e3 * percentile(code_waits, 0.5) if code_waits else None,
            "code_wait_p99_ms": 1e3 * percentile(code_waits, 0.99) if code_waits else None,
            "user_wait_s": sum(r["user_wait_s"] for r in results), "pool_empty": sum(r["pool_empty"] for r in results),
            "pool_left": sum(r["pool_left"] for r in results), "not_ready": sum(r["not_ready"] for r in results),
            "softirq_cores": (after[4] - before[4]) / elapsed,
        }
        log(f"{label}: {row['rate']:.0f}/s ({total} ops), p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
            f"server {row['server_cpu_us_per_op']:.0f} µs/op, cores: server {row['server_cores']:.2f}, client {row['client_cores']:.2f}, "
            f"machine {row['machine_cores']:.2f} (interrupts {row['softirq_cores']:.2f})"
            + (f", code at the gateway p50 {row['code_wait_p50_ms']:.1f} ms p99 {row['code_wait_p99_ms']:.1f} ms" if code_waits else "")
            + (f"; WAITED {row['user_wait_s']:.1f} s for users' send limits" if row["user_wait_s"] > 0 else "")
            + (f"; RAN OUT of users {row['pool_empty']} times" if row["pool_empty"] else ""))
        if row["pool_empty"] or row["not_ready"]:
            self.note_failures(label, 1, [f"ran out of users ({row['pool_empty']} threads found none left, {row['not_ready']} none "
                                          f"past its 30 s send limit): the rate is not valid; raise CHALLENGE_USERS"])
        return row

    def longpoll(self, label, create_url, poll_url, answer_url):
        samples, threads = self.options.lp_samples, self.options.lp_threads
        per = [samples // self.procs + (1 if i < samples % self.procs else 0) for i in range(self.procs)]
        per_threads = [max(1, threads // self.procs) for _ in range(self.procs)]
        before = self.cpu()
        results = self.all_drivers("longpoll", lambda i: {"samples": per[i], "threads": per_threads[i], "create_url": create_url,
                                                          "poll_url": poll_url, "answer_url": answer_url, "key": self.options.key,
                                                          "lead": self.options.lp_lead})
        after = self.cpu()
        delays = [x for r in results for x in r["delays"]]
        self.note_failures(label, sum(r["failures"] for r in results), [m for r in results for m in r["failed"]])
        row = {"label": label, "samples": len(delays), "p50_ms": 1e3 * percentile(delays, 0.5),
               "p99_ms": 1e3 * percentile(delays, 0.99), "max_ms": 1e3 * max(delays) if delays else float("nan"),
               "min_ms": 1e3 * min(delays) if delays else float("nan"),
               "machine_cores": (after[2] - before[2]) / (after[3] - before[3])}
        log(f"{label}: {row['samples']} samples, delay p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
            f"max {row['max_ms']:.1f} ms, min {row['min_ms']:.1f} ms")
        return row

    def stop(self):
        unexpected = 0
        for process, control in self.drivers:
            control.send(("stop", {}))
            unexpected += control.recv()["unexpected_codes"]
            process.join(5)
        stats = self.gateway_call("stats")
        self.gateway_call("stop")
        self.gateway.join(5)
        return unexpected, stats


class VoiceLoad(threading.Thread):
    """Creates voice challenges at a steady rate (each voice user once) and watches how many of
    their deliveries are still in flight (created, no provider answer counted in /metrics)."""

    def __init__(self, url, key, users, rate, gateway_stats):
        super().__init__(daemon=True)
        self.client = Client(url, key)
        self.metrics = Client(url, key)
        self.metrics_lock = threading.Lock()
        self.users = collections.deque(users)
        self.rate = rate
        self.gateway_stats = gateway_stats
        self.stop = threading.Event()
        self.created = 0
        self.failures = Failures()
        self.samples = []  # (seconds since start, deliveries in flight)
        self.sends_at_start = self.voice_sends()

    def voice_sends(self):
        with self.metrics_lock:
            status, payload = self.metrics.call("GET", "/metrics")
        total = 0.0
        for line in payload.decode().splitlines():
            if line.startswith("twofold_challenge_sends_total{") and 'channel="voice"' in line:
                total += float(line.rsplit(" ", 1)[1])
        return total

    def in_flight(self):
        return self.created - (self.voice_sends() - self.sends_at_start)

    def run(self):
        started = time.monotonic()
        next_at = started
        next_sample = started
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_sample:
                self.samples.append((now - started, self.in_flight()))
                next_sample += 1.0
            if now < next_at:
                self.stop.wait(min(next_at, next_sample) - now)
                continue
            next_at += 1 / self.rate
            if not self.users:
                self.failures.add("voice load: no voice user left (raise CHALLENGE_VOICE_USERS)")
                self.stop.wait()
                break
            user = self.users.popleft()
            try:
                status, payload = self.client.call("POST", f"/v1/users/{user}/challenges", {"type": "voice"})
            except Exception as error:
                self.failures.add(f"voice challenge {user}: {error!r}")
                continue
            if status == 202:
                self.created += 1
            else:
                self.failures.add(f"voice challenge {user}: HTTP {status} {payload[:200]!r}")


def summary(rows):
    rates = [row["rate"] for row in rows]
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates),
            "server_cpu_us_per_op": statistics.median(r["server_cpu_us_per_op"] for r in rows),
            "server_cores": statistics.median(r["server_cores"] for r in rows),
            "client_cores": statistics.median(r["client_cores"] for r in rows),
            "machine_cores": statistics.median(r["machine_cores"] for r in rows),
            "p50_ms": statistics.median(r["p50_ms"] for r in rows), "p99_ms": statistics.median(r["p99_ms"] for r in rows)}


def run_single(options):
    bench = Bench(options)
    result = {"mode": "single", "options": vars(options) | {"secret": "…", "key": "…"}}
    try:
        hotp_users = [f"hotp-{i:06d}" for i in range(options.hotp_users)]
        sms_users = [(f"sms-{i:06d}", number_of("sms", i)) for i in range(options.users)]
        voice_users = [(f"voice-{i:06d}", number_of("voice", i)) for i in range(options.voice_users)]
        result["enroll_hotp"] = bench.enroll("hotp", hotp_users, options.url)
        result["enroll_sms"] = bench.enroll("sms", sms_users, options.url)
        sms_enrolled_at = time.monotonic()
        result["enroll_voice"] = bench.enroll("voice", voice_users, options.url)
        if bench.failures:
            return result, bench

        verify = [bench.measure("verify", f"verify run {n}", options.url) for n in range(1, options.runs + 1)]
        wait = sms_enrolled_at + 31 - time.monotonic()
        if wait > 0:
            log(f"waiting {wait:.0f} s more: the users' short send limit (1 per 30 s) since their enrollment")
            time.sleep(wait)
        challenges = [bench.measure("challenges", f"challenges run {n}", options.url) for n in range(1, options.runs + 1)]
        poll = bench.longpoll("long poll, one node", options.url, options.url, options.url)

        log(f"switching the voice gateway to hanging; {options.voice_rate} voice challenges/s from now on")
        bench.gateway_call("hang", True)
        voice = VoiceLoad(options.url, options.key, [user for user, _ in voice_users], options.voice_rate, None)
        voice.start()
        time.sleep(options.hang_warmup)
        log(f"voice deliveries in flight after {options.hang_warmup} s: {voice.in_flight():.0f}; "
            f"held at the gateway now: {bench.gateway_call('stats')['holding']}")
        hung_challenges = [bench.measure("challenges", f"challenges run {n}, voice provider hanging", options.url)
                           for n in range(1, options.runs + 1)]
        hung_poll = bench.longpoll("long poll, one node, voice provider hanging", options.url, options.url, options.url)
        voice.stop.set()
        voice.join()
        bench.note_failures("voice load", voice.failures.count, voice.failures.kept)
        readiness = Client(options.url, options.key).call("GET", "/readyz")
        result.update({
            "verify": verify, "challenges": challenges, "long_poll": poll,
            "hung_challenges": hung_challenges, "hung_long_poll": hung_poll,
            "verify_summary": summary(verify), "challenges_summary": summary(challenges),
            "hung_challenges_summary": summary(hung_challenges),
            "voice": {"created": voice.created, "rate": options.voice_rate, "in_flight": voice.samples,
                      "readyz": readiness[1].decode(errors="replace")[:500]},
        })
    finally:
        unexpected, gateway = bench.stop()
        result["gateway"] = gateway
        result["unexpected_codes"] = unexpected
        if gateway["stats"].get("bad_signature") or gateway["stats"].get("no_code"):
            bench.note_failures("gateway", gateway["stats"].get("bad_signature", 0) + gateway["stats"].get("no_code", 0), gateway["problems"])
        result["failures"] = bench.failures
        result["failed"] = bench.failed
    return result, bench


def run_nodes(options):
    bench = Bench(options)
    result = {"mode": "nodes", "options": vars(options) | {"secret": "…", "key": "…"}}
    try:
        users = [(f"node-{i:06d}", number_of("nodes", i)) for i in range(options.users)]
        result["enroll_sms"] = bench.enroll("sms", users, options.url)
        enrolled_at = time.monotonic()
        wait = enrolled_at + 31 - time.monotonic()
        log(f"waiting {wait:.0f} s: the users' short send limit (1 per 30 s) since their enrollment")
        time.sleep(wait)
        result["same_node"] = bench.longpoll("long poll, poll and answer on node A", options.url, options.url, options.url)
        result["across_nodes"] = bench.longpoll("long poll on node A, answer on node B", options.url, options.url, options.url_b)
    finally:
        unexpected, gateway = bench.stop()
        result["gateway"] = gateway
        result["unexpected_codes"] = unexpected
        if gateway["stats"].get("bad_signature") or gateway["stats"].get("no_code"):
            bench.note_failures("gateway", gateway["stats"].get("bad_signature", 0) + gateway["stats"].get("no_code", 0), gateway["problems"])
        result["failures"] = bench.failures
        result["failed"] = bench.failed
    return result, bench


def verdict(ok):
    return "met" if ok else "MISSED"


def report(paths):
    failed = 0
    for path in paths:
        with open(path) as file:
            result = json.load(file)
        failed += result["failures"]
        if result["mode"] == "single":
            print("\nOne node (SQLite, durable default), webhook providers on loopback")
            print(f"{'measure':<44} {'median/s':>9} {'min–max':>13} {'server µs/op':>13} {'cores: server':>14} {'client':>7} {'machine':>8} {'p50 ms':>7} {'p99 ms':>7}")
            for key, name in (("verify_summary", "HOTP verify (reference)"), ("challenges_summary", "SMS challenge + verify"),
                              ("hung_challenges_summary", "SMS challenge + verify, voice hanging")):
                s = result.get(key)
                if not s:
                    continue
                print(f"{name:<44} {s['median']:>9.0f} {s['min']:>6.0f}–{s['max']:<6.0f} {s['server_cpu_us_per_op']:>13.0f} "
                      f"{s['server_cores']:>14.2f} {s['client_cores']:>7.2f} {s['machine_cores']:>8.2f} {s['p50_ms']:>7.1f} {s['p99_ms']:>7.1f}")
            for key in ("verify", "challenges", "hung_challenges"):
                if key in result:
                    print(f"  {key} runs: " + ", ".join(f"{r['rate']:.0f}/s ({r['server_cpu_us_per_op']:.0f} µs/op)" for r in result[key]))
            if "challenges_summary" in result:
                ratio = result["challenges_summary"]["median"] / result["verify_summary"]["median"]
                hung_change = result["hung_challenges_summary"]["median"] / result["challenges_summary"]["median"] - 1
                print(f"\nchallenges / verify: {ratio:.2f} (runs: " + ", ".join(
                    f"{c['rate'] / v['rate']:.2f}" for c, v in zip(result["challenges"], result["verify"])) + f") — target ≥ 0.33: {verdict(ratio >= 1 / 3)}")
                print(f"challenges with the voice provider hanging: {100 * hung_change:+.1f} % (median against median)")
                for key, name in (("long_poll", "long-poll delay, one node"), ("hung_long_poll", "long-poll delay, one node, voice hanging")):
                    p = result[key]
                    print(f"{name}: {p['samples']} samples, p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms, max {p['max_ms']:.1f} ms "
                          f"— target p99 < 50 ms: {verdict(p['p99_ms'] < 50)}")
                voice = result["voice"]
                flights = [n for _, n in voice["in_flight"]]
                print(f"voice load: {voice['created']} voice challenges at {voice['rate']}/s; deliveries in flight: median "
                      f"{statistics.median(flights) if flights else 0:.0f}, max {max(flights) if flights else 0:.0f}; "
                      f"connections held open at the hanging gateway: max {result['gateway']['max_holding']}, "
                      f"{result['gateway']['stats'].get('held', 0)} requests held (p50 {result['gateway']['hold_p50_s'] or 0:.1f} s each)")
        else:
            print("\nTwo nodes on one PostgreSQL 15 (fsync on)")
            for key in ("same_node", "across_nodes"):
                p = result.get(key)
                if p:
                    target = 50 if key == "same_node" else 1100
                    print(f"{p['label']}: {p['samples']} samples, p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms, max {p['max_ms']:.1f} ms "
                          f"— target p99 < {target} ms: {verdict(p['p99_ms'] < target)}")
        if result["unexpected_codes"]:
            print(f"  note: {result['unexpected_codes']} codes reached the gateway that no operation waited for (retries or late deliveries)")
        for message in result["failed"]:
            print(f"  FAILED: {message}")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["single", "nodes", "report"])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--url")
    parser.add_argument("--url-b")
    # Secrets come from the environment, never the command line (the process list shows it).
    parser.add_argument("--key", default=os.environ.get("TWOFOLD_BENCH_API_KEY"))
    parser.add_argument("--pids")
    parser.add_argument("--sms-port", type=int)
    parser.add_argument("--voice-port", type=int)
    parser.add_argument("--secret", default=os.environ.get("TWOFOLD_BENCH_WEBHOOK_SECRET"))
    parser.add_argument("--out")
    parser.add_argument("--users", type=int, default=20000, help="SMS users")
    parser.add_argument("--hotp-users", type=int, default=2000)
    parser.add_argument("--voice-users", type=int, default=400)
    parser.add_argument("--voice-rate", type=float, default=4.0)
    parser.add_argument("--hang-warmup", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=32, help="client threads in all, split over --procs")
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--enroll-threads", type=int, default=32)
    parser.add_argument("--lp-samples", type=int, default=300)
    parser.add_argument("--lp-threads", type=int, default=8)
    parser.add_argument("--lp-lead", type=float, default=0.05, help="least seconds between sending the poll and the verify (plus 0–0.5 s at random)")
    parser.add_argument("--code-timeout", type=float, default=20.0)
    options = parser.parse_args()
    if options.mode == "report":
        sys.exit(report(options.files))
    result, bench = (run_single if options.mode == "single" else run_nodes)(options)
    with open(options.out, "w") as file:
        json.dump(result, file)
    sys.exit(1 if bench.failures else 0)


if __name__ == "__main__":
    main()
