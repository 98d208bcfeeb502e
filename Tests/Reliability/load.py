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
  race     against two nodes (--node twice): --rounds rounds, each a user enrolled and activated
           just before (a chunk at a time) and one valid, never used code of theirs (the step
           after the activation's) sent by --racers threads at once (racer i to node i % 2, each
           on its own kept-alive connection, released together by a threading.Barrier): exactly
           one allow per round, every loser `replayed` as long as the throttle evaluates it
           (--free-failures + 1 of them; that last one locks the user) and `locked` after that.
           Then --recovery-users users get a set of recovery codes and their first code is raced
           the same way (losers `invalid_code`, then `locked`; the allow says 9 remaining); after
           an unlock, that code is refused (invalid_code, sent to the second node) and the set's
           second code allowed with 8 remaining (sent to the first).
  front    enroll --users TOTP users through a front (nginx) and verify through it from
           --threads threads (user i belongs to thread i % threads): fresh codes at --fresh-rate
           a second (the next step of a user within the server's ±1 window: allow), each allowed
           code replayed once soon after (replayed), and verifications of users with nothing
           stored (no_factors) in between. --kill-after seconds in, at a moment a fresh code is
           in flight, SIGKILL goes to --kill-pid (one node behind the front); the moment the
           process is seen gone is the end of the kill instant. A request sent before then may
           fail (the front's 502 when it was on its way to the dying node): counted apart, and a
           fresh code that failed so is sent once more (allow, or replayed when the dying node
           had committed it). So may one sent within --stale-window seconds after, when the
           front's access log shows it went to the dead node alone and was answered 502: nginx
           wrote it to a connection kept alive from before the kill before it read that
           connection's end (and never passes on a POST it has written). Every other request
           sent after must be answered as expected, which --access-log (request ids and
           upstreams) shows was by the other node; allowed codes go to --codes for `replay`.
"""

import argparse
import http.client
import json
import os
import queue
import random
import re
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

    def request(self, method, path, body=None, auth=True, request_id=None, headers=None, raw=None):
        """(status, parsed JSON body or None, raw body, fresh): fresh says whether the
        connection was opened for this request. Raises the connection's errors, after
        closing it. `request_id` (X-Request-Id) defaults to one made from the thread; `headers`
        are added; `raw` is a JSON body sent byte for byte (one a signature covers) instead of
        `body`."""
        fresh = self.conn is None or self.conn.sock is None
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.counter += 1
        extra = headers
        headers = {"X-Request-Id": request_id or f"rel-{threading.get_ident() % 100000}-{self.counter}"}
        data = None
        if auth:
            headers["Authorization"] = f"Bearer {self.key}"
        if raw is not None:
            data = raw
            headers["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if extra:
            headers.update(extra)
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


# MARK: race


def decision(status, answer, error):
    """One answer in a word or two: `allow`, the deny reason, or what went wrong instead."""
    if error:
        return f"error {error}"
    if status != 200 or not isinstance(answer, dict):
        body = answer.get("error") if isinstance(answer, dict) else None
        return f"status {status}" + (f" {body.get('code')}" if isinstance(body, dict) else "")
    if answer.get("result") == "allow":
        return "allow"
    if answer.get("result") == "deny":
        return answer.get("reason") or "deny"
    return f"result {answer.get('result')}"


def enroll_many(nodes, key, users, period, threads, timeout):
    """Enrolls and activates `users` from `threads` threads, thread i through node i % len(nodes).
    Returns {user: Factor}; raises RuntimeError with the first failure."""
    work = queue.Queue()
    for user in users:
        work.put(user)
    factors, errors = {}, []
    lock = threading.Lock()

    def enroller(index):
        client = Client(nodes[index % len(nodes)], key, timeout)
        try:
            while True:
                try:
                    user = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    factor = enroll(client, user, period)
                except (RuntimeError, *CONNECTION_ERRORS) as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    return
                with lock:
                    factors[user] = factor
        finally:
            client.close()

    workers = [threading.Thread(target=enroller, args=(i,), daemon=True) for i in range(max(1, threads))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise RuntimeError(f"enrolling: {errors[0]} ({len(errors)} failures)")
    return factors


def error_message(answer):
    """The message of an error body, challenge ids left out (for tallies of refusals)."""
    body = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return None
    return re.sub(r"chl_[a-z0-9]+", "chl_…", body["message"])[:200]


class RaceJob:
    """What every racer of a round sends: by default the user's verification of one code.
    Other races (Tests/Reliability/race_challenges.py) give their own `request` and `classify`."""

    __slots__ = ("number", "kind", "user", "code")

    def __init__(self, number, kind, user, code):
        self.number, self.kind, self.user, self.code = number, kind, user, code

    def request(self, index):
        """(method, path, body, raw body, extra headers, with the API key) of racer `index`."""
        return "POST", user_path(self.user, "verify"), {"code": self.code}, None, None, True

    def classify(self, status, answer, error):
        return decision(status, answer, error)


class Racers:
    """`count` threads, racer i on its own keep-alive connection to node i % len(nodes), which a
    barrier releases together for each round (the coordinator is its last party)."""

    def __init__(self, nodes, key, count, timeout):
        self.nodes, self.key, self.count, self.timeout = nodes, key, count, timeout
        self.start = threading.Barrier(count + 1)
        self.done = threading.Barrier(count + 1)
        self.job = None
        self.results = [None] * count
        self.threads = [threading.Thread(target=self.racer, args=(i,), daemon=True) for i in range(count)]
        for thread in self.threads:
            thread.start()

    def racer(self, index):
        node = index % len(self.nodes)
        client = Client(self.nodes[node], self.key, self.timeout)
        try:
            # Connected before the first round: the race is between verifications, not handshakes.
            try:
                client.request("GET", "/healthz", auth=False)
            except CONNECTION_ERRORS:
                client.close()
            while True:
                self.start.wait()
                job = self.job
                if job is None:
                    return
                method, path, body, raw, headers, auth = job.request(index)
                sent = time.time()
                try:
                    status, answer, _, _ = client.request(method, path, body, auth=auth, headers=headers, raw=raw,
                                                          request_id=f"race-{job.kind}-{job.number}-{index}")
                    error = None
                except TimeoutError:
                    status, answer, error = None, None, "timeout"
                except CONNECTION_ERRORS as exc:
                    status, answer, error = None, None, type(exc).__name__
                answer = answer if isinstance(answer, dict) else {}
                self.results[index] = {"node": node, "sent": sent, "answered": time.time(),
                                       "answer": job.classify(status, answer, error),
                                       "factor_type": answer.get("factor_type"),
                                       "remaining": answer.get("remaining_recovery_codes"),
                                       "message": error_message(answer)}
                self.done.wait()
        except threading.BrokenBarrierError:
            return
        finally:
            client.close()

    def run(self, job):
        """Releases every racer with `job` at once; their answers, once all came back.
        Raises threading.BrokenBarrierError when a racer is stuck (no answer, no timeout)."""
        self.job = job
        self.results = [None] * self.count
        self.start.wait(timeout=30)
        self.done.wait(timeout=self.timeout + 10)
        return list(self.results)

    def close(self):
        self.job = None
        try:
            self.start.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        self.start.abort()
        self.done.abort()
        for thread in self.threads:
            thread.join(timeout=5)


class RaceTally:
    """What the rounds of one kind answered: one `winner` (allow) each, the losers refused as
    `refused` by the throttle's count (the (free failures + 1)th refusal locks), then `locked`.
    With `losers` (a set of answers), the losers may answer any of those instead, in any number
    (refusals that no throttle counts). `factor_type` None: the winner's is not checked."""

    def __init__(self, kind, refused, factor_type, free_failures, nodes, losers=None, winner="allow"):
        self.kind, self.refused, self.factor_type = kind, refused, factor_type
        self.losers, self.winner = (frozenset(losers) if losers is not None else None), winner
        self.messages = {}
        self.free_failures = free_failures
        self.rounds = 0
        self.allows_per_round = {}
        self.mix = {}
        self.mixes = {}
        self.allowed_by_node = [0] * nodes
        self.round_ms = []
        self.spread_ms = []
        self.problems = {}

    def flag(self, problem):
        self.problems[problem] = self.problems.get(problem, 0) + 1

    def add(self, results, remaining=None):
        self.rounds += 1
        answers = [r["answer"] for r in results]
        for answer in answers:
            self.mix[answer] = self.mix.get(answer, 0) + 1
        allows = [r for r in results if r["answer"] == self.winner]
        self.allows_per_round[str(len(allows))] = self.allows_per_round.get(str(len(allows)), 0) + 1
        counts = {}
        for answer in answers:
            counts[answer] = counts.get(answer, 0) + 1
        for r in results:
            if r["answer"] != self.winner and r.get("message"):
                self.messages[r["message"]] = self.messages.get(r["message"], 0) + 1
        order = [self.winner, self.refused, "locked"] if self.losers is None else [self.winner] + sorted(self.losers)
        shape = " / ".join(f"{name} {counts[name]}" for name in order + sorted(set(counts) - set(order)) if name in counts)
        self.mixes[shape] = self.mixes.get(shape, 0) + 1
        for r in allows:
            self.allowed_by_node[r["node"]] += 1
        self.round_ms.append(1000 * (max(r["answered"] for r in results) - min(r["sent"] for r in results)))
        self.spread_ms.append(1000 * (max(r["sent"] for r in results) - min(r["sent"] for r in results)))
        if len(allows) > 1:
            self.flag(f"{self.kind}: ONE CODE ACCEPTED MORE THAN ONCE in a round (up to {len(allows)}x {self.winner})")
        elif not allows:
            self.flag(f"{self.kind}: a round without {self.winner}")
        for r in allows:
            if self.factor_type is not None and r["factor_type"] != self.factor_type:
                self.flag(f"{self.kind}: allowed as factor_type {r['factor_type']}, not {self.factor_type}")
            if remaining is not None and r["remaining"] != remaining:
                self.flag(f"{self.kind}: remaining_recovery_codes {r['remaining']} after the first use, not {remaining}")
        expected_answers = {self.winner, self.refused, "locked"} if self.losers is None else {self.winner} | self.losers
        for answer in set(answers) - expected_answers:
            self.flag(f"{self.kind}: answered {answer}")
        if self.losers is not None:
            return
        expected = min(len(results) - 1, self.free_failures + 1)
        if allows and counts.get(self.refused, 0) != expected:
            self.flag(f"{self.kind}: {counts.get(self.refused, 0)} losers answered {self.refused} in a round, where the "
                      f"throttle evaluates {expected} ({self.free_failures} free failures, the next locks)")

    def summary(self):
        return {
            "rounds": self.rounds,
            "allows_per_round": self.allows_per_round,
            "mix": self.mix,
            "round_mixes": self.mixes,
            "allowed_by_node": self.allowed_by_node,
            "round_ms_median": round(statistics.median(self.round_ms), 1) if self.round_ms else None,
            "round_ms_max": round(max(self.round_ms, default=0.0), 1),
            "send_spread_ms_median": round(statistics.median(self.spread_ms), 2) if self.spread_ms else None,
            "send_spread_ms_max": round(max(self.spread_ms, default=0.0), 2),
            "loser_messages": self.messages,
            "problems": self.problems,
        }


def mode_race(args):
    key = read_key(args.key_file)
    nodes = args.node
    began = time.time()
    racers = Racers(nodes, key, args.racers, args.timeout)
    totp = RaceTally("totp", "replayed", "totp", args.free_failures, len(nodes))
    recovery = RaceTally("recovery", "invalid_code", "recovery_code", args.free_failures, len(nodes))
    after_checks = {"used_code_after_unlock": {}, "second_code": {}}
    enroll_seconds = 0.0
    race_seconds = 0.0
    problems = {}

    def flag(problem):
        problems[problem] = problems.get(problem, 0) + 1

    def race(job, tally, remaining=None):
        nonlocal race_seconds
        started = time.time()
        results = racers.run(job)
        race_seconds += time.time() - started
        tally.add(results, remaining)

    try:
        # TOTP: one user per round, enrolled and activated a chunk at a time just before its
        # rounds; the round's code is the first step after the activation's (or the current
        # one, should the clock have moved on): valid, and never used.
        for first in range(0, args.rounds, args.chunk):
            users = [f"{args.user_prefix}-totp-{i}@example.com" for i in range(first, min(args.rounds, first + args.chunk))]
            started = time.time()
            factors = enroll_many(nodes, key, users, args.period, args.enroll_threads, args.timeout)
            enroll_seconds += time.time() - started
            for offset, user in enumerate(users):
                factor = factors[user]
                race(RaceJob(first + offset, "totp", user, factor.code(fresh_step(factor))), totp)
            log(f"totp: {totp.rounds}/{args.rounds} rounds, allows per round {totp.allows_per_round}")

        # Recovery codes: one user each, a fresh set of ten, its first code raced.
        if args.recovery_users:
            users = [f"{args.user_prefix}-recovery-{i}@example.com" for i in range(args.recovery_users)]
            started = time.time()
            enroll_many(nodes, key, users, args.period, args.enroll_threads, args.timeout)
            client = Client(nodes[0], key, args.timeout)
            sets = {}
            for user in users:
                status, answer, raw, _ = client.request("POST", user_path(user, "recovery-codes"))
                if status != 201 or not isinstance(answer, dict) or len(answer.get("codes") or []) != 10:
                    raise RuntimeError(f"generating recovery codes: status {status}, body {raw[:200]!r}")
                sets[user] = answer["codes"]
            enroll_seconds += time.time() - started
            for number, user in enumerate(users):
                race(RaceJob(number, "recovery", user, sets[user][0]), recovery, remaining=9)
            # Afterwards, unlocked (the race's refusals locked each user): the raced code is
            # spent on either node, and the set's second code is the ninth's (one was used).
            others = [Client(node, key, args.timeout) for node in nodes]
            for user in users:
                status, _, _, _ = client.request("POST", user_path(user, "unlock"))
                if status != 204:
                    flag(f"unlock answered {status}")
                status, answer, _, _ = others[-1].request("POST", user_path(user, "verify"), {"code": sets[user][0]})
                word = decision(status, answer, None)
                after_checks["used_code_after_unlock"][word] = after_checks["used_code_after_unlock"].get(word, 0) + 1
                if word != "invalid_code":
                    flag(f"recovery: the raced code, sent again after an unlock, answered {word} (expected invalid_code)")
                status, answer, _, _ = others[0].request("POST", user_path(user, "verify"), {"code": sets[user][1]})
                word = decision(status, answer, None)
                remaining = answer.get("remaining_recovery_codes") if isinstance(answer, dict) else None
                shown = f"{word} (remaining {remaining})" if word == "allow" else word
                after_checks["second_code"][shown] = after_checks["second_code"].get(shown, 0) + 1
                if word != "allow" or remaining != 8:
                    flag(f"recovery: the set's second code answered {shown} (expected allow with 8 remaining)")
            for other in others:
                other.close()
            client.close()
    except threading.BrokenBarrierError:
        flag(f"a racer got no answer and no error within {args.timeout + 10} s (hang)")
    except RuntimeError as exc:
        flag(str(exc))
    finally:
        racers.close()

    for tally in (totp, recovery):
        for problem, count in tally.problems.items():
            problems[problem] = problems.get(problem, 0) + count
    if totp.rounds < args.rounds:
        flag(f"only {totp.rounds} of {args.rounds} TOTP rounds ran")
    if recovery.rounds < args.recovery_users:
        flag(f"only {recovery.rounds} of {args.recovery_users} recovery-code rounds ran")
    summary = {
        "nodes": len(nodes),
        "racers": args.racers,
        "totp": totp.summary(),
        "recovery": recovery.summary(),
        "recovery_after": after_checks,
        "enroll_seconds": round(enroll_seconds, 1),
        "race_seconds": round(race_seconds, 1),
        "seconds": round(time.time() - began, 1),
        "problems": problems,
    }
    write_json(args.summary, summary)
    log(f"{totp.rounds} TOTP rounds and {recovery.rounds} recovery-code rounds of {args.racers} racers in "
        f"{summary['race_seconds']} s (enrolling {summary['enroll_seconds']} s): TOTP {totp.mixes}, recovery "
        f"{recovery.mixes}; problems: {problems or 'none'}")
    return 0 if not problems else 1


# MARK: front (node-kill)


def process_gone(pid):
    """Whether PID has exited (gone, or a zombie no one has reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            stat = handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


class FrontUser:
    __slots__ = ("factor", "last", "unreplayed", "refusals")

    def __init__(self, factor):
        self.factor = factor
        self.last = factor.activation_step  # the last step consumed (as far as the load knows)
        self.unreplayed = []  # allowed steps not yet replayed during the load
        self.refusals = 0  # refusals since the last allow (kept under the lock's free failures)


class FrontRun:
    """Verifications through the front from --threads threads; user i belongs to thread
    i % threads, so a user's requests never overlap and each fresh code is sent once."""

    def __init__(self, args, key, factors):
        self.args, self.key = args, key
        self.users = [FrontUser(factor) for factor in factors]
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.codes = private_file(args.codes)
        self.kill_time = None
        self.dead_time = None
        self.kill_info = {}
        self.in_flight = {}
        self.records = []
        self.allows = {}
        self.next_fresh = time.monotonic()
        self.ghosts = [f"{args.user_prefix}-ghost-{i}@example.com" for i in range(40)]

    def take_fresh(self):
        with self.lock:
            now = time.monotonic()
            if now < self.next_fresh:
                return False
            self.next_fresh = max(self.next_fresh + 1.0 / self.args.fresh_rate, now - 1.0)
            return True

    def send(self, client, index, kind, user, step, code, rid):
        sent = time.time()
        with self.lock:
            self.in_flight[index] = kind
        try:
            status, answer, _, _ = client.request("POST", user_path(user, "verify"), {"code": code}, request_id=rid)
            error = None
        except TimeoutError:
            status, answer, error = None, None, "timeout"
        except CONNECTION_ERRORS as exc:
            status, answer, error = None, None, type(exc).__name__
        answered = time.time()
        with self.lock:
            self.in_flight.pop(index, None)
        entry = {"kind": kind, "user": user, "step": step, "rid": rid, "sent": sent, "answered": answered,
                 "status": status, "error": error, "answer": decision(status, answer, error)}
        with self.lock:
            self.records.append(entry)
        return entry

    def record_allow(self, user, step, entry):
        with self.lock:
            key = (user.factor.user_id, step)
            self.allows[key] = self.allows.get(key, 0) + 1
            before = self.kill_time is None or entry["answered"] < self.kill_time
            self.codes.write(json.dumps({"user": user.factor.user_id, "step": step, "code": user.factor.code(step),
                                         "period": user.factor.period, "sent": entry["sent"],
                                         "answered": entry["answered"], "before_kill": before}) + "\n")
            self.codes.flush()

    def worker(self, index):
        args = self.args
        mine = self.users[index::args.threads]
        client = Client(args.url, self.key, args.timeout)
        turn = 0
        count = 0
        try:
            while not self.stop.is_set():
                count += 1
                rid = f"nk-{index}-{count}"
                job = None
                if self.take_fresh():
                    for k in range(len(mine)):
                        user = mine[(turn + k) % len(mine)]
                        now_step = user.factor.step_now()
                        step = max(user.last + 1, now_step)
                        if step <= now_step + 1:  # within the server's window (±1 step)
                            turn = (turn + k + 1) % len(mine)
                            job = ("fresh", user, step)
                            break
                if job is None:
                    for user in mine:
                        if user.unreplayed and user.refusals < 2:
                            job = ("replay", user, user.unreplayed.pop(0))
                            break
                if job is None:
                    ghost = random.choice(self.ghosts)
                    self.send(client, index, "filler", ghost, None, "000000", rid)
                    self.stop.wait(args.interval)
                    continue
                kind, user, step = job
                entry = self.send(client, index, kind, user.factor.user_id, step, user.factor.code(step), rid)
                if kind == "fresh":
                    if entry["status"] is None or entry["status"] >= 500:
                        # No answer, or the front's 502: the node may have died with this code
                        # consumed, or before. Sent again once: allow or replayed, never both.
                        with self.lock:
                            killed = self.kill_time is not None
                        if killed:
                            entry["retried"] = True
                            entry = self.send(client, index, "retry", user.factor.user_id, step, user.factor.code(step),
                                              f"{rid}-again")
                    if entry["answer"] == "allow":
                        self.record_allow(user, step, entry)
                        user.last = step
                        user.unreplayed.append(step)
                        user.refusals = 0
                    elif entry["answer"] == "replayed" and entry["kind"] == "retry":
                        user.last = step  # consumed by the node that died before it answered
                elif kind == "replay" and entry["status"] == 200:
                    user.refusals += 1
                self.stop.wait(args.interval)
        finally:
            client.close()

    def killer(self, start):
        args = self.args
        time.sleep(max(0.0, start + args.kill_after - time.time()))
        give_up = time.time() + 2.0
        while time.time() < give_up and not self.stop.is_set():
            with self.lock:
                if any(kind == "fresh" for kind in self.in_flight.values()):
                    break
            time.sleep(0.0005)
        with self.lock:
            flying = list(self.in_flight.values())
            self.kill_time = time.time()
        try:
            os.kill(args.kill_pid, signal.SIGKILL)
        except ProcessLookupError:
            self.kill_info["already_gone"] = True
        deadline = time.time() + 10
        while not process_gone(args.kill_pid) and time.time() < deadline:
            time.sleep(0.0002)
        with self.lock:
            self.dead_time = time.time()
        self.kill_info.update({"time": self.kill_time, "dead": self.dead_time,
                               "dying_ms": round(1000 * (self.dead_time - self.kill_time), 2),
                               "gone": process_gone(args.kill_pid), "in_flight": len(flying),
                               "codes_in_flight": sum(1 for kind in flying if kind == "fresh")})
        write_json(args.kill_file, self.kill_info)

    def run(self):
        start = time.time()
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(self.args.threads)]
        for thread in threads:
            thread.start()
        killer = threading.Thread(target=self.killer, args=(start,), daemon=True)
        killer.start()
        while time.time() < start + self.args.duration:
            time.sleep(0.05)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=self.args.timeout + 5)
        killer.join(timeout=15)
        self.codes.close()
        return start, time.time()


def read_access_log(path):
    """{request id: (status, [upstream addresses tried, in order])} from the front's access
    log (provisioning/multi-node.sh's format: … STATUS upstream=A, B request_id=ID)."""
    entries = {}
    if not path:
        return entries
    pattern = re.compile(r'" (\d{3}) upstream=(.*) request_id=(\S+)$')
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            match = pattern.search(line.rstrip("\n"))
            if match:
                tried = [part.strip() for part in re.split(r"[,:]\s+", match.group(2)) if part.strip()]
                entries[match.group(3)] = (int(match.group(1)), tried)
    return entries


def read_error_log(path):
    """The front's error log lines, by what they say (no request data)."""
    kinds = {"connect() failed (111: Connection refused)": "connection refused",
             "upstream prematurely closed connection": "upstream closed the connection",
             "(104: Connection reset by peer)": "connection reset by peer",
             "no live upstreams": "no live upstreams",
             "upstream timed out": "upstream timed out",
             "is marked as down": "marked down",
             "upstream server temporarily disabled": "upstream temporarily disabled"}
    counts = {}
    if not path or not os.path.exists(path):
        return counts
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            for needle, name in kinds.items():
                if needle in line:
                    counts[name] = counts.get(name, 0) + 1
                    break
            else:
                if "[error]" in line or "[crit]" in line or "[alert]" in line:
                    counts["other error"] = counts.get("other error", 0) + 1
    return counts


def mode_front(args):
    key = read_key(args.key_file)
    client = Client(args.url, key, args.timeout)
    began = time.time()
    factors = [enroll(client, f"{args.user_prefix}-{i}@example.com", args.period) for i in range(args.users)]
    client.close()
    log(f"enrolled and activated {len(factors)} users through the front in {time.time() - began:.1f} s")
    run = FrontRun(args, key, factors)
    start, end = run.run()
    summary = classify_front(run, args, start, end, read_access_log(args.access_log))
    summary["enroll_seconds"] = round(start - began, 2)
    summary["front_errors"] = read_error_log(args.error_log)
    write_json(args.summary, summary)
    by_node, passed_on = summary["answered_by_after_kill"], summary["passed_on_after_kill"]
    log(f"{summary['requests']} requests through the front in {summary['duration']} s ({summary['requests_before_kill']} "
        f"before the kill, {summary['requests_at_kill']} at it, {summary['requests_after_kill']} after), "
        f"{summary['allows']} allows, failed at the kill {summary['failed_at_kill']}, after the kill answered by "
        f"{by_node} ({passed_on} passed on by the front); unexpected: {summary['unexpected'] or 'none'}")
    return 0 if not summary["unexpected"] else 1


def classify_front(run, args, start, end, nginx):
    """Which outcomes of a `front` run were expected, given the kill (see the module's notes)."""
    kill, dead = run.kill_time, run.dead_time
    killed_node = f"127.0.0.1:{args.killed_port}"
    other_node = f"127.0.0.1:{args.other_port}"
    unexpected = {}

    def flag(problem):
        unexpected[problem] = unexpected.get(problem, 0) + 1

    if kill is None or dead is None:
        flag("the node was never killed")
        kill = dead = end
    expected = {"fresh": {"allow"}, "retry": {"allow", "replayed"}, "replay": {"replayed"}, "filler": {"no_factors"}}
    phases = {"before": [], "at_kill": [], "after": []}
    failed_at_kill = {"sent_before_sigkill": 0, "sent_while_dying": 0, "sent_after_on_stale_connection": 0}
    by_node = {"before": {}, "after": {}}
    passed_on = []
    retried = {}
    failures = []
    for entry in run.records:
        if entry["answered"] < kill:
            phase = "before"
        elif entry["sent"] < dead:
            phase = "at_kill"
        else:
            phase = "after"
        phases[phase].append(entry)
        answer = entry["answer"]
        if entry["kind"] == "retry":
            retried[answer] = retried.get(answer, 0) + 1
        front = nginx.get(entry["rid"])
        tried = front[1] if front else []
        if args.access_log and front is None and entry["status"] is not None:
            flag("a request answered by the front is missing from its access log")
        failed = entry["status"] is None or entry["status"] >= 500
        if failed:
            failures.append({"kind": entry["kind"], "phase": phase, "answer": answer, "tried": tried,
                             "front_status": front[0] if front else None,
                             "sent_ms_after_sigkill": round(1000 * (entry["sent"] - kill), 2),
                             "sent_ms_after_death": round(1000 * (entry["sent"] - dead), 2),
                             "seconds": round(entry["answered"] - entry["sent"], 3)})
        if phase == "at_kill" and failed:
            failed_at_kill["sent_before_sigkill" if entry["sent"] < kill else "sent_while_dying"] += 1
            if entry["error"] == "timeout":
                flag("no answer within the timeout (hang)")
            continue
        if (phase == "after" and failed and front and front[0] == 502 and tried == [killed_node]
                and entry["sent"] - dead <= args.stale_window):
            # nginx wrote it to a connection to the killed node kept alive from before the kill,
            # before it read that connection's end; a POST once written is not passed on.
            failed_at_kill["sent_after_on_stale_connection"] += 1
            continue
        if answer not in expected[entry["kind"]]:
            where = {"before": "before the kill", "at_kill": "at the kill", "after": "after the kill"}[phase]
            flag(f"{entry['kind']} answered {answer} {where}")
        if tried and phase in by_node:
            last = tried[-1]
            name = "killed node" if last == killed_node else "other node" if last == other_node else last
            by_node[phase][name] = by_node[phase].get(name, 0) + 1
        if phase == "after":
            if tried and tried[-1] != other_node:
                flag(f"after the kill, answered through {tried[-1]} instead of the surviving node")
            if len(tried) > 1:
                passed_on.append(round(entry["sent"] - kill, 2))
    doubles = sum(1 for count in run.allows.values() if count > 1)
    if doubles:
        flag("a step allowed twice")
    if failed_at_kill["sent_after_on_stale_connection"] > args.threads:
        flag("more requests failed on connections kept alive to the dead node than there are threads")
    if not any(e["answer"] == "allow" for e in phases["before"]):
        flag("no code was allowed before the kill")
    if not any(e["answer"] == "allow" for e in phases["after"]):
        flag("no code was allowed after the kill")
    if not by_node["before"].get("killed node") or not by_node["before"].get("other node"):
        if args.access_log:
            flag("before the kill, the front did not reach both nodes")
    latencies = [e["answered"] - e["sent"] for e in run.records if e["status"] == 200]
    allows_before = sum(1 for e in run.records if e["answer"] == "allow" and e["answered"] < kill)
    return {
        "users": len(run.users),
        "threads": args.threads,
        "duration": round(end - start, 2),
        "kill_at": round(kill - start, 3),
        "kill": run.kill_info,
        "requests": len(run.records),
        "requests_before_kill": len(phases["before"]),
        "requests_at_kill": len(phases["at_kill"]),
        "requests_after_kill": len(phases["after"]),
        "failed_at_kill": failed_at_kill,
        "retried_fresh_codes": retried,
        "allows": sum(run.allows.values()),
        "allows_before_kill": allows_before,
        "allows_after_kill": sum(run.allows.values()) - allows_before,
        "double_allows": doubles,
        "answered_by_before_kill": by_node["before"],
        "answered_by_after_kill": by_node["after"],
        "passed_on_after_kill": len(passed_on),
        "passed_on_seconds_after_kill": passed_on[:20],
        "failures": failures[:20],
        "latency_p50_ms": round(1000 * percentile(latencies, 0.5), 1),
        "latency_p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "latency_max_ms": round(1000 * max(latencies, default=0.0), 1),
        "unexpected": unexpected,
    }


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

    p = sub.add_parser("race")
    p.add_argument("--node", action="append", required=True, help="a node's http://127.0.0.1:PORT (twice: two nodes)")
    p.add_argument("--key-file", required=True, help="file holding the API key (all scopes)")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds without an answer that count as a hang")
    p.add_argument("--summary", help="write the JSON summary (no codes) here")
    p.add_argument("--rounds", type=int, default=200, help="TOTP rounds, one user each")
    p.add_argument("--racers", type=int, default=50, help="concurrent verifications of one code, split over the nodes")
    p.add_argument("--recovery-users", type=int, default=10, help="users whose first recovery code is raced")
    p.add_argument("--chunk", type=int, default=25, help="users enrolled at a time, just before their rounds")
    p.add_argument("--enroll-threads", type=int, default=4)
    p.add_argument("--period", type=int, default=0, help="TOTP period (0: the server's default)")
    p.add_argument("--free-failures", type=int, default=5, help="the server's TWOFOLD_LOCKOUT_FREE_FAILURES")
    p.add_argument("--user-prefix", default="rel-race")

    p = sub.add_parser("front")
    common(p)
    p.add_argument("--users", type=int, default=60)
    p.add_argument("--user-prefix", default="rel-front")
    p.add_argument("--period", type=int, default=0, help="TOTP period (0: the server's default)")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--duration", type=float, default=16.0)
    p.add_argument("--interval", type=float, default=0.02, help="pause of each thread between requests")
    p.add_argument("--fresh-rate", type=float, default=5.0, help="fresh codes a second, over all threads")
    p.add_argument("--codes", required=True, help="new file (0600) for the allowed codes")
    p.add_argument("--kill-pid", type=int, required=True)
    p.add_argument("--kill-after", type=float, default=4.0)
    p.add_argument("--kill-file", required=True)
    p.add_argument("--killed-port", type=int, required=True, help="the killed node's port, as the front names it")
    p.add_argument("--other-port", type=int, required=True, help="the surviving node's port")
    p.add_argument("--access-log", help="the front's access log (request ids and upstreams)")
    p.add_argument("--error-log", help="the front's error log")
    p.add_argument("--stale-window", type=float, default=1.0,
                   help="seconds after the death in which the front may still send a request on a kept-alive "
                        "connection to the dead node (answered 502 through that node alone)")

    args = parser.parse_args()
    handler = {"load": mode_load, "replay": mode_replay, "enroll": mode_enroll,
               "outage": mode_outage, "recover": mode_recover, "race": mode_race, "front": mode_front}[args.mode]
    try:
        return handler(args)
    except RuntimeError as exc:
        log(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
