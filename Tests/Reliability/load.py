#!/usr/bin/env python3
"""Load and fault driver of the reliability scenarios (Tests/Reliability/run.sh).

Talks to a running `twofold serve` over HTTP (http.client, one connection per thread) and
computes TOTP codes with pyotp. Nothing secret is ever printed: the API key is read from a
file, factor secrets stay in memory or in a state file of mode 0600, and the codes that were
allowed are kept only in a file of mode 0600 in the scenario's own temporary folder. What it
prints (standard error) and the summaries it writes (JSON, --summary) hold counts and times.

Modes (each exits 0 when everything it saw was as expected, 1 otherwise, 2 on bad usage):

  load     enroll and activate --users TOTP users (POST …/factors {"type": "totp", "period"},
           then …/activate with the current code), then send verifications for --duration
           seconds from --threads threads: each user's code of each new step (a fraction of
           them twice at once, which must give one allow), plus --filler-rate verifications a
           second of users with nothing stored (no_factors: audited writes). Every allow is
           appended to --codes (user, step, code, time; mode 0600). With --kill-pid it sends
           SIGKILL to that process --kill-after seconds in, at a moment when a verification
           that should be allowed is in flight, and writes the time to --kill-file; requests
           then fail until the scenario writes the restarted server's ready time to
           --restarted-file, and the load goes on against it.
  replay   post every code of --codes again (oldest first, unlocking each user before and
           after every few refusals, as refusals count towards the lock); every one must be
           refused with reason `replayed`.
  enroll   enroll and activate the users --user names, keeping their otpauth URIs and
           activation steps in --state (mode 0600).
  outage   from --state: verifications with correct, never used codes while the store is
           stopped, one thread per user: the --before users until --stopped-file exists, the
           --during users from then on. Every request sent after the stop must answer 503 with a JSON error
           within --max-503-seconds and none may be allowed; /readyz is polled and must be 503.
           It ends --after-stop seconds after the stop.
  recover  poll /readyz until 200, then verify --user with a fresh correct code (retrying a
           503) until it is allowed, all within --deadline seconds.
"""

import argparse
import http.client
import json
import os
import queue
import random
import signal
import statistics
import sys
import threading
import time
import urllib.parse

try:
    import pyotp
except ImportError:  # pragma: no cover - run.sh checks first
    print("load.py: pyotp is missing (python3 -m pip install -r Tests/Scripts/requirements.txt)", file=sys.stderr)
    sys.exit(2)

CONNECTION_ERRORS = (ConnectionError, http.client.HTTPException, OSError)


def log(message):
    print(f"load.py: {message}", file=sys.stderr, flush=True)


def private_file(path):
    """A new file only its owner can read (0600); never an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8")


def write_json(path, value):
    if path:
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=1, sort_keys=True)
        os.replace(tmp, path)


def read_time(path):
    """The first number in a file written by the scenario (a time in seconds), or None."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read().strip()
    except FileNotFoundError:
        return None
    if not text:
        return None
    try:
        return float(json.loads(text)["time"]) if text.startswith("{") else float(text.split()[0])
    except (ValueError, KeyError):
        return None


def percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Client:
    """One keep-alive HTTP connection (one per thread)."""

    def __init__(self, url, key, timeout):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise SystemExit(f"load.py: --url must be http://HOST:PORT, not {url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.key, self.timeout = key, timeout
        self.conn = None
        self.counter = 0

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, auth=True):
        """(status, parsed JSON body or None, raw body, fresh): fresh says whether the
        connection was opened for this request. Raises the connection's errors, after
        closing it."""
        fresh = self.conn is None or self.conn.sock is None
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.counter += 1
        headers = {"X-Request-Id": f"rel-{threading.get_ident() % 100000}-{self.counter}"}
        data = None
        if auth:
            headers["Authorization"] = f"Bearer {self.key}"
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except BaseException:
            self.close()
            raise
        parsed = None
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, parsed, raw, fresh


def user_path(user_id, *rest):
    return "/v1/users/" + urllib.parse.quote(user_id, safe="") + "".join("/" + part for part in rest)


class Factor:
    """An enrolled, activated TOTP factor; the secret stays in `totp`."""

    def __init__(self, user_id, factor_id, uri, activation_step):
        self.user_id, self.factor_id, self.uri = user_id, factor_id, uri
        self.totp = pyotp.parse_uri(uri)
        self.period = int(self.totp.interval)
        self.activation_step = activation_step
        self.last_queued = activation_step

    def step_now(self):
        return int(time.time()) // self.period

    def code(self, step):
        return self.totp.generate_otp(step)


def enroll(client, user_id, period, issuer="Twofold reliability"):
    body = {"type": "totp", "issuer": issuer}
    if period:
        body["period"] = period
    status, answer, raw, _ = client.request("POST", user_path(user_id, "factors"), body)
    if status != 201 or not isinstance(answer, dict) or "otpauth_uri" not in answer:
        raise RuntimeError(f"enrolling {user_id}: status {status}, body {raw[:200]!r}")
    uri, factor_id = answer["otpauth_uri"], answer["factor"]["id"]
    totp = pyotp.parse_uri(uri)
    # The code of the current step activates (retried once, should a step end in between).
    for _ in range(2):
        step = int(time.time()) // int(totp.interval)
        status, answer, raw, _ = client.request("POST", user_path(user_id, "factors", factor_id, "activate"),
                                                {"code": totp.generate_otp(step)})
        if status == 200:
            if answer.get("factor", {}).get("status") != "active":
                raise RuntimeError(f"activating {user_id}: the factor is not active")
            return Factor(user_id, factor_id, uri, step)
    raise RuntimeError(f"activating {user_id}: status {status}, body {raw[:200]!r}")


def read_key(path):
    with open(path, encoding="utf-8") as handle:
        key = handle.read().strip()
    if not key:
        raise SystemExit(f"load.py: the key file {path} is empty")
    return key


# MARK: load


class Job:
    __slots__ = ("factor", "step", "dup")

    def __init__(self, factor, step, dup):
        self.factor, self.step, self.dup = factor, step, dup


class LoadRun:
    def __init__(self, args, key, factors):
        self.args, self.key, self.factors = args, key, factors
        self.jobs = queue.Queue()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.codes = private_file(args.codes)
        self.kill_time = None
        self.kill_info = {}
        self.in_flight = {}  # worker index -> (kind, time sent)
        self.records = []  # every request: dict without codes
        self.allows = {}  # (user, step) -> count
        self.allows_before_kill = 0
        self.allows_after_kill = 0
        self.next_filler = time.monotonic()
        self.ghosts = [f"{args.user_prefix}-ghost-{i}@example.com" for i in range(40)]

    def record_allow(self, factor, step, sent, answered):
        with self.lock:
            key = (factor.user_id, step)
            self.allows[key] = self.allows.get(key, 0) + 1
            before = self.kill_time is None or answered < self.kill_time
            if before:
                self.allows_before_kill += 1
            else:
                self.allows_after_kill += 1
            self.codes.write(json.dumps({"user": factor.user_id, "step": step, "code": factor.code(step),
                                         "period": factor.period, "sent": sent, "answered": answered,
                                         "before_kill": before}) + "\n")
            self.codes.flush()

    def producer(self, deadline):
        queued = 0
        while not self.stop.is_set() and time.time() < deadline:
            for factor in self.factors:
                step = factor.step_now()
                if step > factor.last_queued:
                    factor.last_queued = step
                    queued += 1
                    twice = self.args.dup_every > 0 and queued % self.args.dup_every == 0
                    job = Job(factor, step, twice)
                    self.jobs.put(job)
                    if twice:
                        self.jobs.put(job)
            time.sleep(0.01)

    def take_filler(self):
        if self.args.filler_rate <= 0:
            return False
        with self.lock:
            now = time.monotonic()
            if now < self.next_filler:
                return False
            self.next_filler = max(self.next_filler + 1.0 / self.args.filler_rate, now - 1.0)
            return True

    def send(self, client, index, kind, path, body):
        """One request, with its outcome recorded. A request that failed on a kept-alive
        connection after the kill (one to the dead server, which the new one never saw) is sent
        again once on a new connection."""
        for attempt in range(2):
            sent = time.time()
            reused = client.conn is not None and client.conn.sock is not None
            with self.lock:
                self.in_flight[index] = (kind, sent)
            try:
                status, answer, raw, _ = client.request("POST", path, body)
                error = None
            except TimeoutError:
                status, answer, error = None, None, "timeout"
            except CONNECTION_ERRORS as exc:
                status, answer, error = None, None, type(exc).__name__
            answered = time.time()
            with self.lock:
                self.in_flight.pop(index, None)
                killed = self.kill_time
            if error and error != "timeout" and attempt == 0 and reused and killed is not None and sent > killed:
                continue
            break
        error_body = answer.get("error") if isinstance(answer, dict) else None
        entry = {"kind": kind, "sent": sent, "answered": answered, "status": status, "error": error,
                 "result": answer.get("result") if isinstance(answer, dict) else None,
                 "reason": answer.get("reason") if isinstance(answer, dict) else None,
                 "error_code": error_body.get("code") if isinstance(error_body, dict) else None}
        with self.lock:
            self.records.append(entry)
        return entry, sent, answered

    def worker(self, index):
        client = Client(self.args.url, self.key, self.args.timeout)
        try:
            while not self.stop.is_set():
                try:
                    job = self.jobs.get(timeout=0.005)
                except queue.Empty:
                    if self.take_filler():
                        ghost = random.choice(self.ghosts)
                        entry, _, _ = self.send(client, index, "filler", user_path(ghost, "verify"), {"code": "000000"})
                    continue
                entry, sent, answered = self.send(client, index, "dup" if job.dup else "code",
                                                  user_path(job.factor.user_id, "verify"), {"code": job.factor.code(job.step)})
                entry["user"], entry["step"] = job.factor.user_id, job.step
                if entry["status"] == 200 and entry["result"] == "allow":
                    self.record_allow(job.factor, job.step, sent, answered)
        finally:
            client.close()

    def killer(self, start):
        args = self.args
        time.sleep(max(0.0, start + args.kill_after - time.time()))
        # Wait (up to 4 s) for a verification that should be allowed to be on the wire.
        give_up = time.time() + 4.0
        while time.time() < give_up and not self.stop.is_set():
            with self.lock:
                if any(kind in ("code", "dup") for kind, _ in self.in_flight.values()):
                    break
            time.sleep(0.0005)
        with self.lock:
            flying = list(self.in_flight.values())
            self.kill_time = time.time()
        try:
            os.kill(args.kill_pid, signal.SIGKILL)
        except ProcessLookupError:
            log(f"the process {args.kill_pid} to kill was already gone")
            self.kill_info["already_gone"] = True
        self.kill_info.update({"time": self.kill_time, "in_flight": len(flying),
                               "codes_in_flight": sum(1 for kind, _ in flying if kind in ("code", "dup"))})
        write_json(args.kill_file, self.kill_info)

    def run(self):
        args = self.args
        start = time.time()
        deadline = start + args.duration
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(args.threads)]
        for thread in threads:
            thread.start()
        killer = None
        if args.kill_pid:
            killer = threading.Thread(target=self.killer, args=(start,), daemon=True)
            killer.start()
        self.producer(deadline)
        # Let the queued jobs go out, then stop.
        drain_until = time.time() + 2.0
        while not self.jobs.empty() and time.time() < drain_until:
            time.sleep(0.01)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=args.timeout + 5)
        if killer is not None:
            killer.join(timeout=5)
        self.codes.close()
        return start, time.time()


def classify_load(run, start, end):
    """Which outcomes were expected, given the kill and the restart."""
    args = run.args
    kill = run.kill_time
    restarted = read_time(args.restarted_file) if args.restarted_file else None
    unexpected = {}
    expected_down = 0
    lost_at_kill = 0
    replayed_dup = 0
    hangs = 0

    def flag(kind, entry):
        item = unexpected.setdefault(kind, {"count": 0, "first_at": round(entry["sent"] - start, 3)})
        item["count"] += 1

    for entry in run.records:
        ok = entry["status"] == 200
        if entry["error"] == "timeout":
            hangs += 1
            flag("no answer within the timeout (hang)", entry)
            continue
        if kill is not None and entry["sent"] < kill <= entry["answered"] and not ok:
            lost_at_kill += 1  # in flight when the server died
            continue
        down = kill is not None and entry["sent"] >= kill and (restarted is None or entry["sent"] < restarted)
        if down and (entry["error"] or entry["status"] == 503):
            expected_down += 1
            continue
        if entry["error"]:
            flag(f"connection error {entry['error']}", entry)
            continue
        if not ok:
            flag(f"status {entry['status']} ({entry['error_code']})", entry)
            continue
        if entry["kind"] == "filler":
            if not (entry["result"] == "deny" and entry["reason"] == "no_factors"):
                flag(f"filler answered {entry['result']}/{entry['reason']}", entry)
            continue
        if entry["result"] == "allow":
            continue
        if entry["reason"] == "replayed" and entry["kind"] == "dup":
            replayed_dup += 1
            continue
        flag(f"{entry['kind']} answered {entry['result']}/{entry['reason']}", entry)

    doubles = sum(1 for count in run.allows.values() if count > 1)
    if doubles:
        unexpected["a step allowed twice"] = {"count": doubles}
    dup_pairs = sum(1 for entry in run.records if entry["kind"] == "dup") // 2
    latencies = [entry["answered"] - entry["sent"] for entry in run.records if entry["status"] == 200]
    return {
        "users": len(run.factors),
        "period": run.factors[0].period if run.factors else None,
        "duration": round(end - start, 2),
        "requests": len(run.records),
        "requests_answered_200": len(latencies),
        "verifications_per_second": round(len(latencies) / max(0.001, end - start), 1),
        "latency_p50_ms": round(1000 * percentile(latencies, 0.5), 1),
        "latency_p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "latency_max_ms": round(1000 * max(latencies, default=0.0), 1),
        "allows": sum(run.allows.values()),
        "allows_before_kill": run.allows_before_kill,
        "allows_after_kill": run.allows_after_kill,
        "dup_pairs": dup_pairs,
        "dup_replayed": replayed_dup,
        "double_allows": doubles,
        "kill": run.kill_info or None,
        "kill_at": round(kill - start, 3) if kill else None,
        "restarted_at": round(restarted - start, 3) if restarted else None,
        "failed_while_down": expected_down,
        "lost_at_kill": lost_at_kill,
        "hangs": hangs,
        "unexpected": unexpected,
    }


def mode_load(args):
    key = read_key(args.key_file)
    client = Client(args.url, key, args.timeout)
    factors = []
    began = time.time()
    for i in range(args.users):
        factors.append(enroll(client, f"{args.user_prefix}-{i}@example.com", args.period))
    client.close()
    log(f"enrolled and activated {len(factors)} users in {time.time() - began:.1f} s")
    run = LoadRun(args, key, factors)
    start, end = run.run()
    summary = classify_load(run, start, end)
    summary["enroll_seconds"] = round(start - began, 2)
    write_json(args.summary, summary)
    log(f"{summary['requests']} requests in {summary['duration']} s, {summary['allows']} allows "
        f"({summary['allows_before_kill']} before the kill), {summary['dup_pairs']} concurrent pairs, "
        f"{summary['double_allows']} double allows, unexpected: {summary['unexpected'] or 'none'}")
    return 0 if not summary["unexpected"] else 1


# MARK: replay


def mode_replay(args):
    key = read_key(args.key_file)
    with open(args.codes, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    by_user = {}
    for record in records:
        by_user.setdefault(record["user"], []).append(record)
    users = sorted(by_user, key=lambda user: min(r["answered"] for r in by_user[user]))
    for user in users:
        by_user[user].sort(key=lambda r: r["answered"])
    work = queue.Queue()
    for user in users:
        work.put(user)
    lock = threading.Lock()
    counts = {"before_kill": {}, "after_kill": {}}
    problems = []
    oldest_age = [0.0]

    def bump(record, outcome):
        group = counts["before_kill" if record["before_kill"] else "after_kill"]
        with lock:
            group[outcome] = group.get(outcome, 0) + 1

    def unlock(client, user):
        status, _, raw, _ = client.request("POST", user_path(user, "unlock"))
        if status != 204:
            with lock:
                problems.append(f"unlock answered {status}")

    def worker():
        client = Client(args.url, key, args.timeout)
        try:
            while True:
                try:
                    user = work.get_nowait()
                except queue.Empty:
                    return
                unlock(client, user)
                refusals = 0
                for record in by_user[user]:
                    if refusals >= args.free_failures:
                        unlock(client, user)
                        refusals = 0
                    for attempt in range(2):
                        try:
                            status, answer, raw, _ = client.request("POST", user_path(user, "verify"), {"code": record["code"]})
                            answer = answer if isinstance(answer, dict) else {}
                        except TimeoutError:
                            status, answer = None, {"result": "no answer within the timeout"}
                        except CONNECTION_ERRORS as exc:
                            status, answer = None, {"result": f"connection error {type(exc).__name__}"}
                        with lock:
                            oldest_age[0] = max(oldest_age[0], time.time() - record["answered"])
                        if status == 200 and answer.get("reason") == "locked" and attempt == 0:
                            unlock(client, user)
                            refusals = 0
                            continue
                        break
                    if status == 200 and answer.get("result") == "allow":
                        outcome = "allowed"
                    elif status == 200 and answer.get("result") == "deny":
                        outcome = answer.get("reason") or "deny"
                        refusals += 1
                    else:
                        outcome = f"status {status}: {answer.get('result') if isinstance(answer, dict) else ''}"
                    bump(record, outcome)
        finally:
            client.close()

    began = time.time()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    summary = {
        "codes": len(records),
        "users": len(users),
        "seconds": round(time.time() - began, 2),
        "oldest_code_age_seconds": round(oldest_age[0], 1),
        "before_kill": counts["before_kill"],
        "after_kill": counts["after_kill"],
        "allowed": counts["before_kill"].get("allowed", 0) + counts["after_kill"].get("allowed", 0),
        "refused_replayed": counts["before_kill"].get("replayed", 0) + counts["after_kill"].get("replayed", 0),
        "problems": sorted(set(problems)),
    }
    write_json(args.summary, summary)
    log(f"replayed {len(records)} allowed codes of {len(users)} users in {summary['seconds']} s: "
        f"before the kill {counts['before_kill']}, after {counts['after_kill']}")
    good = summary["allowed"] == 0 and summary["refused_replayed"] == len(records) and not problems
    return 0 if good else 1


# MARK: enroll, outage, recover


def load_state(path):
    with open(path, encoding="utf-8") as handle:
        state = json.load(handle)
    return {user: Factor(user, item["factor_id"], item["uri"], item["activation_step"]) for user, item in state.items()}


def mode_enroll(args):
    key = read_key(args.key_file)
    client = Client(args.url, key, args.timeout)
    state = {}
    for user in args.user:
        factor = enroll(client, user, args.period)
        state[user] = {"factor_id": factor.factor_id, "uri": factor.uri, "activation_step": factor.activation_step}
    client.close()
    with private_file(args.state) as handle:
        json.dump(state, handle)
    log(f"enrolled and activated {len(state)} users")
    return 0


def fresh_step(factor):
    """A step whose code was never accepted and is valid now (window ±1 or more)."""
    return max(factor.activation_step + 1, factor.step_now())


def mode_outage(args):
    key = read_key(args.key_file)
    factors = load_state(args.state)
    before = [factors[user] for user in args.before]
    during = [factors[user] for user in args.during]
    lock = threading.Lock()
    records = []
    stop = threading.Event()
    stopped = [None]

    def stop_time():
        if stopped[0] is None:
            stopped[0] = read_time(args.stopped_file)
        return stopped[0]

    def sender(factor, after_stop):
        """Verifies one user again and again: a --before user until the stop, a --during user
        from the stop on (so concurrent requests are always for different users)."""
        client = Client(args.url, key, args.timeout)
        try:
            if after_stop:
                while stop_time() is None and not stop.is_set():
                    time.sleep(0.005)
            while not stop.is_set() and (after_stop or stop_time() is None):
                path = user_path(factor.user_id, "verify")
                sent = time.time()
                try:
                    status, answer, raw, _ = client.request("POST", path, {"code": factor.code(fresh_step(factor))})
                    error = None
                except TimeoutError:
                    status, answer, raw, error = None, None, b"", "timeout"
                except CONNECTION_ERRORS as exc:
                    status, answer, raw, error = None, None, b"", type(exc).__name__
                entry = {"kind": "verify", "user": factor.user_id, "sent": sent, "answered": time.time(),
                         "status": status, "error": error,
                         "result": answer.get("result") if isinstance(answer, dict) else None,
                         "error_code": answer["error"].get("code") if isinstance(answer, dict) and isinstance(answer.get("error"), dict) else None}
                with lock:
                    records.append(entry)
                stop.wait(args.interval)
        finally:
            client.close()

    def ready_poller():
        client = Client(args.url, key, args.timeout)
        try:
            while not stop.is_set():
                sent = time.time()
                try:
                    status, answer, raw, _ = client.request("GET", "/readyz", auth=False)
                    error = None
                except TimeoutError:
                    status, answer, error = None, None, "timeout"
                except CONNECTION_ERRORS as exc:
                    status, answer, error = None, None, type(exc).__name__
                entry = {"kind": "readyz", "sent": sent, "answered": time.time(), "status": status, "error": error,
                         "error_code": answer["error"].get("code") if isinstance(answer, dict) and isinstance(answer.get("error"), dict) else None}
                with lock:
                    records.append(entry)
                stop.wait(0.25)
        finally:
            client.close()

    threads = [threading.Thread(target=sender, args=(factor, False), daemon=True) for factor in before]
    threads += [threading.Thread(target=sender, args=(factor, True), daemon=True) for factor in during]
    threads.append(threading.Thread(target=ready_poller, daemon=True))
    began = time.time()
    for thread in threads:
        thread.start()
    while stop_time() is None and time.time() < began + args.wait_for_stop:
        time.sleep(0.02)
    if stop_time() is None:
        stop.set()
        log("the store was never stopped (no --stopped-file)")
        return 1
    while time.time() < stop_time() + args.after_stop:
        time.sleep(0.05)
    # No new requests; those in flight must still answer.
    stop.set()
    for thread in threads:
        thread.join(timeout=args.timeout + 5)
    stuck = sum(1 for thread in threads if thread.is_alive())

    stopped_at = stop_time()
    problems = {}

    def flag(kind):
        problems[kind] = problems.get(kind, 0) + 1

    during_stop = [e for e in records if e["sent"] >= stopped_at]
    straddling = [e for e in records if e["sent"] < stopped_at <= e["answered"]]
    verifies = [e for e in during_stop if e["kind"] == "verify"]
    readies = [e for e in during_stop if e["kind"] == "readyz"]
    for entry in records:
        if entry["error"] == "timeout":
            flag(f"{entry['kind']}: no answer within {args.timeout} s (hang)")
        elif entry["kind"] == "verify" and entry["result"] == "allow" and entry["sent"] >= stopped_at:
            flag("verify: allowed while the store was stopped")
        elif entry["kind"] == "verify" and entry["result"] == "allow" and entry["user"] in args.during:
            flag("verify: a --during user was allowed")
    for entry in during_stop:
        if entry["error"] == "timeout":
            continue
        if entry["status"] != 503:
            flag(f"{entry['kind']}: answered {entry['status'] or entry['error']} instead of 503")
        elif entry["error_code"] != "unavailable":
            flag(f"{entry['kind']}: 503 without a JSON error body of code unavailable")
        elif entry["answered"] - entry["sent"] > args.max_503_seconds:
            flag(f"{entry['kind']}: 503 after more than {args.max_503_seconds} s")
    for entry in straddling:
        if entry["error"] and entry["error"] != "timeout":
            flag(f"{entry['kind']}: connection error {entry['error']} during the stop")
        elif entry["status"] not in (200, 503):
            flag(f"{entry['kind']}: answered {entry['status']} during the stop")
        elif entry["status"] == 503 and entry["answered"] - entry["sent"] > args.max_503_seconds:
            flag(f"{entry['kind']}: 503 after more than {args.max_503_seconds} s")
    if stuck:
        flag("threads still waiting for an answer")
    if not verifies:
        flag("no verification was sent while the store was stopped")
    if not readies:
        flag("/readyz was not polled while the store was stopped")
    verify_latencies = [e["answered"] - e["sent"] for e in verifies + straddling if e["kind"] == "verify" and e["status"] == 503]
    ready_latencies = [e["answered"] - e["sent"] for e in readies + straddling if e["kind"] == "readyz" and e["status"] == 503]
    summary = {
        "before_stop": sum(1 for e in records if e["kind"] == "verify" and e["answered"] < stopped_at),
        "allowed_before_stop": sum(1 for e in records if e["kind"] == "verify" and e["result"] == "allow" and e["answered"] < stopped_at),
        "straddling_stop": len(straddling),
        "verifications_during_stop": len(verifies),
        "verify_503": sum(1 for e in verifies if e["status"] == 503),
        "verify_503_slowest": round(max(verify_latencies, default=0.0), 3),
        "verify_503_median": round(statistics.median(verify_latencies), 3) if verify_latencies else None,
        "readyz_during_stop": len(readies),
        "readyz_503": len(ready_latencies),
        "readyz_503_slowest": round(max(ready_latencies, default=0.0), 3),
        "allowed_during_stop": sum(1 for e in verifies if e["result"] == "allow"),
        "problems": problems,
        # Every request, times relative to the end of the stop (no codes).
        "requests": [{"kind": e["kind"], "user": e.get("user"), "sent": round(e["sent"] - stopped_at, 3),
                      "seconds": round(e["answered"] - e["sent"], 3), "status": e["status"] or e["error"],
                      "result": e.get("result")} for e in sorted(records, key=lambda e: e["sent"])],
    }
    write_json(args.summary, summary)
    log(f"while stopped: {summary['verify_503']}/{len(verifies)} verifications answered 503 (slowest "
        f"{summary['verify_503_slowest']} s), /readyz {summary['readyz_503']}/{len(readies)} 503 (slowest "
        f"{summary['readyz_503_slowest']} s); problems: {problems or 'none'}")
    return 0 if not problems else 1


def mode_recover(args):
    key = read_key(args.key_file)
    factor = load_state(args.state)[args.user]
    client = Client(args.url, key, args.timeout)
    began = time.time()
    deadline = began + args.deadline
    summary = {"ready_after": None, "allowed_after": None, "readyz_polls": 0, "verify_503_after_ready": 0, "problems": []}
    while time.time() < deadline:
        summary["readyz_polls"] += 1
        try:
            status, _, _, _ = client.request("GET", "/readyz", auth=False)
        except CONNECTION_ERRORS:
            status = None
        if status == 200:
            summary["ready_after"] = round(time.time() - began, 3)
            break
        time.sleep(0.1)
    if summary["ready_after"] is None:
        summary["problems"].append(f"/readyz was not 200 within {args.deadline} s")
    else:
        while time.time() < deadline:
            try:
                status, answer, raw, _ = client.request("POST", user_path(factor.user_id, "verify"),
                                                        {"code": factor.code(fresh_step(factor))})
                answer = answer if isinstance(answer, dict) else {}
            except CONNECTION_ERRORS as exc:
                status, answer = None, {"result": type(exc).__name__}
            if status == 200 and answer.get("result") == "allow":
                summary["allowed_after"] = round(time.time() - began, 3)
                break
            if status == 503:
                summary["verify_503_after_ready"] += 1
                time.sleep(0.2)
                continue
            summary["problems"].append(f"the fresh code was answered {status} {answer.get('result')}/{answer.get('reason')}")
            break
        else:
            summary["problems"].append(f"no verification was allowed within {args.deadline} s")
    client.close()
    write_json(args.summary, summary)
    log(f"/readyz 200 after {summary['ready_after']} s, fresh code allowed after {summary['allowed_after']} s, "
        f"{summary['verify_503_after_ready']} 503s after ready; problems: {summary['problems'] or 'none'}")
    return 0 if not summary["problems"] else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)

    def common(p):
        p.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
        p.add_argument("--key-file", required=True, help="file holding the API key (all scopes)")
        p.add_argument("--timeout", type=float, default=20.0, help="seconds without an answer that count as a hang")
        p.add_argument("--summary", help="write the JSON summary (no codes) here")

    p = sub.add_parser("load")
    common(p)
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--user-prefix", default="rel")
    p.add_argument("--period", type=int, default=2, help="TOTP period of the enrolled factors")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--dup-every", type=int, default=4, help="every Nth code is sent twice at once (0: never)")
    p.add_argument("--filler-rate", type=float, default=40.0, help="no_factors verifications a second")
    p.add_argument("--codes", required=True, help="new file (0600) for the allowed codes")
    p.add_argument("--kill-pid", type=int)
    p.add_argument("--kill-after", type=float, default=5.0)
    p.add_argument("--kill-file")
    p.add_argument("--restarted-file")

    p = sub.add_parser("replay")
    common(p)
    p.add_argument("--codes", required=True)
    p.add_argument("--threads", type=int, default=3)
    p.add_argument("--free-failures", type=int, default=5, help="the server's TWOFOLD_LOCKOUT_FREE_FAILURES")

    p = sub.add_parser("enroll")
    common(p)
    p.add_argument("--user", action="append", required=True)
    p.add_argument("--period", type=int, default=0, help="TOTP period (0: the server's default)")
    p.add_argument("--state", required=True, help="new file (0600) for the users' URIs")

    p = sub.add_parser("outage")
    common(p)
    p.add_argument("--state", required=True)
    p.add_argument("--before", action="append", required=True, help="users verified until the stop")
    p.add_argument("--during", action="append", required=True, help="users verified after it")
    p.add_argument("--interval", type=float, default=0.05, help="pause of each sender between requests")
    p.add_argument("--stopped-file", required=True)
    p.add_argument("--wait-for-stop", type=float, default=30.0)
    p.add_argument("--after-stop", type=float, default=12.0)
    p.add_argument("--max-503-seconds", type=float, default=12.0)

    p = sub.add_parser("recover")
    common(p)
    p.add_argument("--state", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--deadline", type=float, default=30.0)

    args = parser.parse_args()
    handler = {"load": mode_load, "replay": mode_replay, "enroll": mode_enroll,
               "outage": mode_outage, "recover": mode_recover}[args.mode]
    try:
        return handler(args)
    except RuntimeError as exc:
        log(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
