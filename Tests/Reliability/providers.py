#!/usr/bin/env python3
"""Driver of the reliability scenario `providers` (Tests/Reliability/run.sh): every SMS, voice and
push provider hangs, refuses or answers 500, while verifications go on.

Against one running `twofold serve` whose SMS, voice and push providers are all `webhook`,
pointed at the gateway of providers_gateway.py on --gateway-port (/sms, /voice, /push), signed
with the TWOFOLD_WEBHOOK_SECRET of --config-file, and whose TWOFOLD_DELIVERY_TIMEOUT is
--delivery-timeout seconds:

 1. with the gateway healthy, enrolls the users: per phase --per-channel SMS users and as many
    voice users (the first with code calls, the next asking to press a key) and push users (a
    device each, activated with a push token: the webhook transport), one of each for the
    recovery at the end, and --threads × (--hotp-users + --totp-users) users of the verify load
    (HOTP, and TOTP with a 2 s period). A phone factor is activated with the code its confirmation
    carried to the gateway; that confirmation spends the user's send budget (1 per 30 s per user
    and channel), so no phone user gets a login challenge before 31 s after it.
 2. warm-up: the verify load, until the first phase's phone users may be sent a challenge.
 3. phases healthy, hang, refuse, error (the gateway's modes). In each: the verify load for
    --phase-seconds from --threads threads (each request a fresh HOTP or TOTP code, expecting
    allow; latency measured), and --start-after seconds in, one challenge for each user of the
    phase (SMS, voice, push), each followed on its own thread (the control gets the same load):
      healthy: the gateway must receive the signed post, to the user's number (the device's push
               token); the SMS code verifies through POST /v1/challenges/{id}/verify and the
               spoken one through POST /v1/users/{id}/verify (allow), the key press (a signed
               digits callback) and the device's signed approval approve theirs;
      faults:  the challenge must end `failed` with the reason the failure gives (hang:
               provider_error, refuse: unreachable, 500: provider_error) and its audit event
               `challenge.finished` the failure's kind (`last_failure`: timeout, unreachable,
               provider_error), within the delivery's worst case plus --slack seconds (hang:
               (--retries + 1) × the timeout and the backoffs; otherwise the backoffs). A hang
               must have waited for the timeout at least once, and every connection the gateway
               held must have been closed by Twofold.
    The start of every challenge must answer 202 within the delivery timeout (delivery runs off
    the request path). /readyz must answer 200 in every phase (a provider is not the store), and
    show SMS and voice `degraded` once three deliveries in a row failed.
 4. recovery: the gateway healthy again; one SMS, voice and push challenge delivered and answered;
    /readyz shows SMS and voice `ok`.
 5. the server log (--server-log) holds none of the full numbers, nor the webhook secret.

The same verify load goes to --control-url (the same binary with no provider faults) in the same
windows. The verify p99 of each fault phase must stay within max(--p99-factor × ref, ref +
--p99-margin-ms), ref the larger of the healthy phase's p99 and the control's p99 in that window:
a machine slowed by something else slows both servers, a provider fault only the one tested.
Exits 0 when everything held, 1 otherwise; the summary (--summary, JSON) holds figures and
problems, never a code, secret or full number.
"""

import argparse
import statistics
import sys
import threading
import time
import traceback
import urllib.parse

import pyotp

from load import CONNECTION_ERRORS, Client, decision, enroll, percentile, read_key, user_path, write_json
from providers_gateway import Gateway, PushDevice, phone_number, post_callback, read_secret

PHASES = [("healthy", "healthy"), ("hang", "hang"), ("refuse", "refuse"), ("500", "error")]
# What each fault ends a challenge with: (its reason, the audit event's last_failure).
FAULTS = {"hang": ("provider_error", "timeout"), "refuse": ("unreachable", "unreachable"),
          "error": ("provider_error", "provider_error")}


def log(message):
    print(f"providers.py: {message}", file=sys.stderr, flush=True)


class Problems:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, text):
        with self.lock:
            self.counts[text] = self.counts.get(text, 0) + 1


def parallel(items, work, threads, make_client):
    """Runs work(client, item) for every item from `threads` threads; the first error is raised."""
    items = list(items)
    errors = []
    lock = threading.Lock()
    index = [0]

    def worker():
        client = make_client()
        try:
            while True:
                with lock:
                    if errors or index[0] >= len(items):
                        return
                    item = items[index[0]]
                    index[0] += 1
                try:
                    work(client, item)
                except (RuntimeError, *CONNECTION_ERRORS) as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    return
        finally:
            client.close()

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, threads))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    if any(thread.is_alive() for thread in pool):
        raise RuntimeError("enrollment did not finish within 120 s")
    if errors:
        raise RuntimeError(errors[0])


# --- users --------------------------------------------------------------------------------------


class PhoneUser:
    def __init__(self, user_id, channel, number, mode):
        self.user_id, self.channel, self.number, self.mode = user_id, channel, number, mode
        self.factor_id = None
        self.ready_at = None


class PushUser:
    def __init__(self, user_id, push_token):
        self.user_id, self.push_token = user_id, push_token
        self.device = PushDevice()
        self.factor_id = None


class HotpUser:
    def __init__(self, user_id, uri):
        self.user_id = user_id
        self.hotp = pyotp.parse_uri(uri)
        self.next = 1  # counter 0 activated the factor


def enroll_phone(client, gateway, user, code_timeout):
    status, answer, raw, _ = client.request("POST", user_path(user.user_id, "factors"),
                                            {"type": user.channel, "phone": user.number})
    if status != 201 or not isinstance(answer, dict) or "challenge" not in answer:
        raise RuntimeError(f"enrolling a {user.channel} factor: status {status}, body {raw[:200]!r}")
    sent = time.time()
    user.factor_id = answer["factor"]["id"]
    challenge_id = answer["challenge"]["challenge_id"]
    post = gateway.wait_post(challenge_id, code_timeout, lambda p: p.code is not None)
    if post is None:
        raise RuntimeError(f"no {user.channel} confirmation code reached the gateway within {code_timeout} s")
    if post.body.get("to") != user.number:
        raise RuntimeError(f"the {user.channel} confirmation went to another number than the factor's")
    status, answer, raw, _ = client.request("POST", user_path(user.user_id, "factors", user.factor_id, "activate"),
                                            {"code": post.code})
    if status != 200 or answer.get("factor", {}).get("status") != "active":
        raise RuntimeError(f"activating a {user.channel} factor with its confirmation code: status {status}, body {raw[:200]!r}")
    # The confirmation spent the user's budget of the channel (1 per 30 s) before its answer.
    user.ready_at = sent + 31.0


def enroll_push(client, user):
    status, answer, raw, _ = client.request("POST", user_path(user.user_id, "factors"), {"type": "push", "label": "reliability"})
    if status != 201 or not isinstance(answer, dict) or "activation" not in answer:
        raise RuntimeError(f"enrolling a push factor: status {status}, body {raw[:200]!r}")
    user.factor_id = answer["factor"]["id"]
    user.device.activate(client, answer["activation"]["token"], push_token=user.push_token)


def enroll_hotp(client, user_id):
    status, answer, raw, _ = client.request("POST", user_path(user_id, "factors"), {"type": "hotp", "issuer": "Twofold reliability"})
    if status != 201 or not isinstance(answer, dict) or "otpauth_uri" not in answer:
        raise RuntimeError(f"enrolling a HOTP factor: status {status}, body {raw[:200]!r}")
    user = HotpUser(user_id, answer["otpauth_uri"])
    status, answer, raw, _ = client.request("POST", user_path(user_id, "factors", answer["factor"]["id"], "activate"),
                                            {"code": user.hotp.at(0)})
    if status != 200:
        raise RuntimeError(f"activating a HOTP factor: status {status}, body {raw[:200]!r}")
    return user


# --- the verify load ------------------------------------------------------------------------------


class VerifyLoad:
    """Verifications from `threads` threads, each with its own users and keep-alive connection:
    a TOTP user whose clock step moved on since its last code, else the next HOTP user's next
    counter. Every answer must be allow. State (counters, steps) carries over between runs."""

    def __init__(self, url, key, threads, hotp_users, totp_factors, interval, timeout):
        self.url, self.key, self.threads, self.interval, self.timeout = url, key, threads, interval, timeout
        self.hotp = [hotp_users[i::threads] for i in range(threads)]
        self.totp = [totp_factors[i::threads] for i in range(threads)]
        self.totp_last = {factor.user_id: factor.activation_step for factor in totp_factors}

    def run(self, duration):
        """Runs for `duration` s; returns the records (sent, seconds, answer word, kind)."""
        records = []
        lock = threading.Lock()
        deadline = time.time() + duration

        def worker(index):
            client = Client(self.url, self.key, self.timeout)
            turn = 0
            try:
                while time.time() < deadline:
                    job = None
                    for factor in self.totp[index]:
                        step = factor.step_now()
                        if step > self.totp_last[factor.user_id]:
                            self.totp_last[factor.user_id] = step
                            job = ("totp", factor.user_id, factor.code(step))
                            break
                    if job is None and self.hotp[index]:
                        user = self.hotp[index][turn % len(self.hotp[index])]
                        turn += 1
                        job = ("hotp", user.user_id, user.hotp.at(user.next))
                        user.next += 1
                    if job is None:
                        time.sleep(self.interval)
                        continue
                    kind, user_id, code = job
                    sent = time.time()
                    try:
                        status, answer, _, _ = client.request("POST", user_path(user_id, "verify"), {"code": code})
                        error = None
                    except TimeoutError:
                        status, answer, error = None, None, "timeout"
                    except CONNECTION_ERRORS as exc:
                        status, answer, error = None, None, type(exc).__name__
                    seconds = time.time() - sent
                    word = decision(status, answer, error)
                    if word == "allow" and isinstance(answer, dict) and answer.get("factor_type") != kind:
                        word = f"allow as {answer.get('factor_type')}"
                    with lock:
                        records.append((sent, seconds, word, kind))
                    time.sleep(self.interval)
            finally:
                client.close()

        workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(self.threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=duration + self.timeout + 10)
        stuck = sum(1 for thread in workers if thread.is_alive())
        return records, stuck


class PairedLoad:
    """The verify load on the server under test and the same load on the control, at once."""

    def __init__(self, main, control):
        self.main, self.control = main, control

    def run(self, duration):
        outcome = {}
        control = threading.Thread(target=lambda: outcome.update(control=self.control.run(duration)), daemon=True)
        control.start()
        main = self.main.run(duration)
        control.join(timeout=duration + self.control.timeout + 15)
        return main, outcome.get("control", ([], self.control.threads))


def verify_figures(records):
    latencies = [seconds for _, seconds, word, _ in records if word == "allow"]
    answers = {}
    for _, _, word, _ in records:
        answers[word] = answers.get(word, 0) + 1
    return {
        "count": len(records),
        "answers": answers,
        "p50_ms": round(1000 * percentile(latencies, 0.5), 1) if latencies else None,
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(1000 * max(latencies), 1) if latencies else None,
        "per_second": round(len(records) / max(0.001, (max(r[0] for r in records) - min(r[0] for r in records))), 1)
        if len(records) > 1 else 0,
    }


# --- one challenge, followed ---------------------------------------------------------------------


class Case:
    """One challenge of a phase: started, then followed to its end on a thread of its own."""

    def __init__(self, driver, phase, mode, channel, user):
        self.driver, self.phase, self.mode, self.channel, self.user = driver, phase, mode, channel, user
        self.voice_mode = user.mode if channel == "voice" else None
        self.result = {"phase": phase, "channel": channel + (f" ({self.voice_mode})" if self.voice_mode else ""),
                       "create_status": None, "create_ms": None, "final": None, "reason": None,
                       "seconds_to_final": None, "last_failure": None, "gateway_posts": None, "problems": []}
        self.thread = threading.Thread(target=self.run, daemon=True)

    def problem(self, text):
        what = f"{self.phase}: {self.result['channel']}: {text}"
        self.result["problems"].append(text)
        self.driver.problems.add(what)

    def run(self):
        client = Client(self.driver.args.url, self.driver.key, self.driver.args.timeout)
        try:
            self.follow(client)
        except (RuntimeError, KeyError, TypeError, ValueError, *CONNECTION_ERRORS) as exc:
            self.problem(f"{type(exc).__name__}: {exc}")
        finally:
            client.close()

    def follow(self, client):
        args = self.driver.args
        body = {"type": self.channel, "context": {"ip": "203.0.113.9", "location": "Reliability"}}
        if self.voice_mode:
            body["mode"] = self.voice_mode
        started = time.time()
        status, answer, raw, _ = client.request("POST", user_path(self.user.user_id, "challenges"), body)
        created = time.time()
        self.result["create_status"] = status
        self.result["create_ms"] = round(1000 * (created - started), 1)
        if status != 202 or not isinstance(answer, dict) or answer.get("status") != "pending":
            self.problem(f"starting it answered {status}, not 202 pending: {raw[:200]!r}")
            return
        if created - started > args.delivery_timeout:
            self.problem(f"starting it took {created - started:.2f} s, more than the delivery timeout "
                         f"({args.delivery_timeout} s): delivery is on the request path")
        self.challenge_id = answer["challenge_id"]
        self.number = answer.get("number")
        if self.mode == "healthy":
            self.delivered(client)
        else:
            self.failed(client, started)

    def status(self, client, wait=0):
        path = f"/v1/challenges/{self.challenge_id}" + (f"?wait={wait}" if wait else "")
        status, answer, raw, _ = client.request("GET", path)
        if status != 200 or not isinstance(answer, dict):
            raise RuntimeError(f"reading the challenge answered {status}: {raw[:200]!r}")
        return answer

    def settle(self, client, deadline):
        """Long-polls until the challenge is no longer pending or `deadline`; its last state and when seen."""
        while True:
            remaining = deadline - time.time()
            wait = int(min(5, remaining)) if remaining >= 1 else 0
            shown = self.status(client, wait=wait)
            if shown["status"] != "pending" or time.time() >= deadline:
                return shown, time.time()
            if not wait:
                time.sleep(0.05)

    def delivered(self, client):
        args, gateway = self.driver.args, self.driver.gateway
        if self.channel == "sms" or self.voice_mode == "code":
            post = gateway.wait_post(self.challenge_id, args.code_timeout, lambda p: p.code is not None)
        else:
            post = gateway.wait_post(self.challenge_id, args.code_timeout, lambda p: p.signed)
        self.result["gateway_posts"] = len(gateway.posts_for(self.challenge_id))
        if post is None:
            self.problem(f"nothing reached the gateway within {args.code_timeout} s (or without its code)")
            return
        if not post.signed:
            self.problem("the gateway's post was not validly signed")
        # Answered once Twofold has recorded the send, as a person would be slower than that: a
        # challenge answered before it keeps no delivery (nor its challenge.sent audit event),
        # and a report on a delivery it does not know yet is acknowledged and applied to nothing.
        deadline = time.time() + args.code_timeout
        while self.status(client).get("delivery") is None and time.time() < deadline:
            time.sleep(0.02)
        callback_base = f"{args.url}/v1/callbacks/webhook/{self.challenge_id}/"
        if self.channel == "push":
            device = self.user.device
            if post.body.get("device_id") != device.device_id or post.body.get("push_token") != self.user.push_token:
                self.problem("the push relay got another device id or push token than the device's")
            status, answer, raw, _ = device.get(client, self.challenge_id)
            if status != 200 or answer.get("status") != "pending" or answer.get("number_required") != (self.number is not None):
                self.problem(f"the device's signed read of its challenge answered {status}: {raw[:200]!r}")
            status, answer, raw, _ = device.answer(client, self.challenge_id, "approve", self.number)
            if status != 200 or answer.get("status") != "approved":
                self.problem(f"the device's signed approval answered {status}: {raw[:200]!r}")
        else:
            if post.body.get("to") != self.user.number:
                self.problem("the gateway's post went to another number than the user's")
            if post.body.get("callback_url") != callback_base + "status":
                self.problem("the post's callback_url is not the challenge's status callback")
            if self.channel == "sms":
                status, answer, raw, _ = client.request("POST", f"/v1/challenges/{self.challenge_id}/verify", {"code": post.code})
                if decision(status, answer, None) != "allow" or answer.get("factor_type") != "sms":
                    self.problem(f"the SMS code, verified against its challenge, answered {status} {decision(status, answer, None)}")
            elif self.voice_mode == "code":
                status, answer, raw, _ = client.request("POST", user_path(self.user.user_id, "verify"), {"code": post.code})
                if decision(status, answer, None) != "allow" or answer.get("factor_type") != "voice":
                    self.problem(f"the spoken code, verified for the user, answered {status} {decision(status, answer, None)}")
            else:
                if post.body.get("mode") != "press_key" or post.body.get("digits_callback_url") != callback_base + "digits":
                    self.problem("the press-a-key call's post has no digits_callback_url of its challenge")
                status, raw = post_callback(post.body["digits_callback_url"], self.driver.secret,
                                            {"challenge_id": self.challenge_id, "status": "delivered", "digits": "1"})
                if not 200 <= status < 300:
                    self.problem(f"the signed key press answered {status}: {raw[:200]!r}")
        shown, _ = self.settle(client, time.time() + args.code_timeout)
        self.result["final"], self.result["reason"] = shown["status"], shown.get("reason")
        if shown["status"] != "approved":
            self.problem(f"ended {shown['status']} ({shown.get('reason')}), not approved")
        if shown.get("delivery") is None or shown["delivery"].get("provider") != "webhook":
            self.problem(f"its delivery is {shown.get('delivery')}, not by webhook")

    def failed(self, client, started):
        args, gateway = self.driver.args, self.driver.gateway
        reason, kind = FAULTS[self.mode]
        worst = args.backoff + ((args.retries + 1) * args.delivery_timeout if self.mode == "hang" else 0.0)
        bound = worst + args.slack
        shown, seen = self.settle(client, started + bound + 5.0)
        took = seen - started
        self.result.update(final=shown["status"], reason=shown.get("reason"), seconds_to_final=round(took, 2),
                           bound_seconds=round(bound, 2))
        if shown["status"] != "failed" or shown.get("reason") != reason:
            self.problem(f"ended {shown['status']} ({shown.get('reason')}) after {took:.1f} s, not failed ({reason})")
        elif took > bound:
            self.problem(f"ended failed after {took:.1f} s, more than {bound:.1f} s")
        if self.mode == "hang" and took < args.delivery_timeout - 0.25:
            self.problem(f"ended after {took:.2f} s, before one delivery timeout ({args.delivery_timeout} s) passed")
        # The audit event names the provider's failure.
        status, answer, raw, _ = client.request(
            "GET", "/v1/audit?" + urllib.parse.urlencode({"user_id": self.user.user_id, "limit": 50}))
        events = answer.get("events", []) if status == 200 and isinstance(answer, dict) else []
        finished = [e for e in events if e.get("action") == "challenge.finished"
                    and isinstance(e.get("details"), dict) and e["details"].get("challenge_id") == self.challenge_id]
        if status != 200 or len(finished) != 1:
            self.problem(f"GET /v1/audit answered {status} with {len(finished)} challenge.finished events for it, not 1")
        else:
            event = finished[0]
            self.result["last_failure"] = event["details"].get("last_failure")
            if event.get("outcome") != "failed" or event.get("reason") != reason or self.result["last_failure"] != kind:
                self.problem(f"its challenge.finished event says {event.get('outcome')}/{event.get('reason')}, "
                             f"last_failure {self.result['last_failure']}, not failed/{reason}, {kind}")

    def check_posts(self):
        """After the phase: what the gateway saw of it."""
        if self.mode == "healthy" or not hasattr(self, "challenge_id"):
            return
        args = self.driver.args
        posts = self.driver.gateway.posts_for(self.challenge_id)
        self.result["gateway_posts"] = len(posts)
        if self.mode == "refuse":
            if posts:
                self.problem(f"the gateway, with no listener, received {len(posts)} posts for it")
            return
        if not 1 <= len(posts) <= args.retries + 1:
            self.problem(f"the gateway received {len(posts)} posts for it, not 1 to {args.retries + 1} (retried at most {args.retries} times)")
        for post in posts:
            if post.mode != self.mode:
                self.problem(f"a post for it arrived in gateway mode {post.mode}")
        if self.mode == "hang":
            held = [round(post.held_seconds, 2) for post in posts if post.held_seconds is not None]
            self.result["held_seconds"] = held
            if any(post.closed_by_peer is not True for post in posts):
                self.problem("a connection the hanging gateway held was not closed by Twofold (its timeout)")


# --- the scenario --------------------------------------------------------------------------------


class Driver:
    def __init__(self, args):
        self.args = args
        self.key = read_key(args.key_file)
        self.control_key = read_key(args.control_key_file)
        self.secret = read_secret(args.config_file)
        self.problems = Problems()
        self.gateway = None

    def client(self):
        return Client(self.args.url, self.key, self.args.timeout)

    def readyz(self):
        client = Client(self.args.url, self.key, self.args.timeout)
        try:
            status, answer, raw, _ = client.request("GET", "/readyz", auth=False)
        finally:
            client.close()
        providers = {}
        if isinstance(answer, dict):
            for item in answer.get("providers") or []:
                providers[f"{item.get('channel')}:{item.get('provider')}"] = item.get("status")
        return status, providers

    def run(self):
        args = self.args
        self.gateway = Gateway(args.gateway_port, self.secret).start()
        prefix, k = args.user_prefix, args.per_channel
        phone_users, push_users = {}, {}
        exchange = {"sms": 555, "voice": 556}
        counters = {"sms": 0, "voice": 0}
        for phase, _ in PHASES + [("recovery", "healthy")]:
            count = k if phase != "recovery" else 1
            for channel in ("sms", "voice"):
                for i in range(count):
                    number = phone_number(exchange[channel], counters[channel])
                    counters[channel] += 1
                    mode = "approve" if channel == "voice" and i % 2 == 1 else "code"
                    user = PhoneUser(f"{prefix}-{phase}-{channel}-{i}@example.com", channel, number, mode)
                    phone_users.setdefault(phase, []).append(user)
            push_users[phase] = [PushUser(f"{prefix}-{phase}-push-{i}@example.com", f"rel-token-{phase}-{i}")
                                 for i in range(count)]
        began = time.time()
        everyone = [u for users in phone_users.values() for u in users]
        parallel(everyone, lambda c, u: enroll_phone(c, self.gateway, u, args.code_timeout), args.enroll_threads, self.client)
        parallel([u for users in push_users.values() for u in users], enroll_push, args.enroll_threads, self.client)
        hotp_users, totp_factors = [], []
        lock = threading.Lock()

        def enroll_load(client, item):
            kind, user_id = item
            made = enroll_hotp(client, user_id) if kind == "hotp" else enroll(client, user_id, 2)
            with lock:
                (hotp_users if kind == "hotp" else totp_factors).append(made)

        load_users = [("hotp", f"{prefix}-hotp-{i}@example.com") for i in range(args.threads * args.hotp_users)]
        load_users += [("totp", f"{prefix}-totp-{i}@example.com") for i in range(args.threads * args.totp_users)]
        parallel(load_users, enroll_load, args.enroll_threads, self.client)
        main_hotp, main_totp = hotp_users, totp_factors
        hotp_users, totp_factors = [], []
        parallel(load_users, enroll_load, args.enroll_threads, lambda: Client(args.control_url, self.control_key, args.timeout))
        control_hotp, control_totp = hotp_users, totp_factors
        enroll_seconds = time.time() - began
        log(f"enrolled {len(everyone)} phone, {sum(len(u) for u in push_users.values())} push and "
            f"{len(load_users)} HOTP/TOTP users in {enroll_seconds:.1f} s")

        load = PairedLoad(VerifyLoad(args.url, self.key, args.threads, main_hotp, main_totp, args.interval, args.timeout),
                          VerifyLoad(args.control_url, self.control_key, args.threads, control_hotp, control_totp,
                                     args.interval, args.timeout))
        # Warm-up: until the first phase's phone users may be sent a login challenge.
        first_ready = max(u.ready_at for u in phone_users[PHASES[0][0]])
        warm = max(args.min_warmup, first_ready - time.time())
        (records, stuck), (control_records, control_stuck) = load.run(warm)
        warmup = verify_figures(records)
        self.check_answers("warm-up", warmup, stuck)
        self.check_answers("warm-up (control)", verify_figures(control_records), control_stuck)
        log(f"warm-up {warm:.1f} s: {warmup['count']} verifications, p99 {warmup['p99_ms']} ms")

        phases = {}
        cases = []
        failures_in_a_row = 0
        for phase, mode in PHASES:
            figures, phase_cases, ready = self.phase(phase, mode, load, phone_users[phase], push_users[phase])
            cases += phase_cases
            if mode != "healthy":
                failures_in_a_row += args.per_channel
                for channel in ("sms", "voice"):
                    state = ready["providers"].get(f"{channel}:webhook")
                    if failures_in_a_row >= 3 and state != "degraded":
                        self.problems.add(f"{phase}: /readyz shows the {channel} webhook {state} after "
                                          f"{failures_in_a_row} failed deliveries in a row, not degraded")
            phases[phase] = figures

        # The provider is back: challenges are delivered again.
        self.gateway.set_mode("healthy")
        recovery = [Case(self, "recovery", "healthy", u.channel, u) for u in phone_users["recovery"]]
        recovery += [Case(self, "recovery", "healthy", "push", u) for u in push_users["recovery"]]
        for case in recovery:
            case.thread.start()
        for case in recovery:
            case.thread.join(timeout=args.code_timeout * 3 + args.timeout)
            if case.thread.is_alive():
                self.problems.add(f"recovery: {case.result['channel']}: still waiting (hang)")
        status, providers = self.readyz()
        recovered = {"readyz": status, "providers": providers}
        if status != 200 or any(providers.get(f"{c}:webhook") != "ok" for c in ("sms", "voice")):
            self.problems.add(f"recovery: /readyz answered {status} with providers {providers}, not 200 with sms and voice ok")

        self.check_latency(phases)
        self.check_log([u.number for users in phone_users.values() for u in users])
        problems = dict(self.problems.counts)
        for text, count in self.gateway.snapshot_problems().items():
            problems[f"gateway: {text}"] = count
        self.gateway.close()
        summary = {
            "delivery_timeout": args.delivery_timeout,
            "enroll_seconds": round(enroll_seconds, 1),
            "warmup": dict(warmup, seconds=round(warm, 1)),
            "phases": phases,
            "recovery": dict(recovered, challenges=[case.result for case in recovery]),
            "bound": self.bound,
            "problems": problems,
        }
        write_json(args.summary, summary)
        log(f"problems: {problems or 'none'}")
        return 0 if not problems else 1

    def phase(self, phase, mode, load, phone, push):
        args = self.args
        self.gateway.set_mode(mode)
        if mode == "refuse" and self.gateway.listening():
            self.problems.add("refuse: the gateway's port still accepts connections")
        wait = max(u.ready_at for u in phone) - time.time()
        if wait > 0:
            time.sleep(min(wait, 35.0))
        cases = [Case(self, phase, mode, u.channel, u) for u in phone] + [Case(self, phase, mode, "push", u) for u in push]
        outcome = {}

        def run_load():
            (outcome["records"], outcome["stuck"]), (outcome["control"], outcome["control_stuck"]) = load.run(args.phase_seconds)

        loader = threading.Thread(target=run_load, daemon=True)
        began = time.time()
        loader.start()
        time.sleep(args.start_after)
        for case in cases:
            case.thread.start()
        loader.join(timeout=args.phase_seconds + args.timeout + 15)
        if loader.is_alive():
            self.problems.add(f"{phase}: the verify load did not end (hang)")
            outcome.setdefault("records", [])
            outcome.setdefault("stuck", args.threads)
            outcome.setdefault("control", [])
            outcome.setdefault("control_stuck", args.threads)
        worst = args.backoff + (args.retries + 1) * args.delivery_timeout + args.slack + 5 + args.timeout
        for case in cases:
            case.thread.join(timeout=max(1.0, began + args.start_after + worst - time.time()))
            if case.thread.is_alive():
                self.problems.add(f"{phase}: {case.result['channel']}: still waiting for the challenge's end (hang)")
            else:
                case.check_posts()
        status, providers = self.readyz()
        if status != 200:
            self.problems.add(f"{phase}: /readyz answered {status}, not 200")
        verify = verify_figures(outcome["records"])
        control = verify_figures(outcome["control"])
        self.check_answers(phase, verify, outcome["stuck"])
        self.check_answers(f"{phase} (control)", control, outcome["control_stuck"])
        figures = {"mode": mode, "seconds": round(time.time() - began, 1), "verify": verify, "control": control,
                   "challenges": [case.result for case in cases], "readyz": {"status": status, "providers": providers}}
        finals = [c.result.get("seconds_to_final") for c in cases if c.result.get("seconds_to_final") is not None]
        log(f"{phase}: {verify['count']} verifications, p50 {verify['p50_ms']} ms, p99 {verify['p99_ms']} ms "
            f"(control p99 {control['p99_ms']} ms); challenges "
            + ", ".join(f"{c.result['channel']} {c.result['final']}" for c in cases)
            + (f"; failed after {min(finals):.1f}-{max(finals):.1f} s" if finals else ""))
        return figures, cases, figures["readyz"]

    def check_answers(self, phase, verify, stuck):
        if stuck:
            self.problems.add(f"{phase}: {stuck} verify threads got no answer (hang)")
        for word, count in verify["answers"].items():
            if word != "allow":
                self.problems.add(f"{phase}: {count} verifications answered {word}, not allow")
        if verify["count"] < 50:
            self.problems.add(f"{phase}: only {verify['count']} verifications were answered")

    def check_latency(self, phases):
        """Each fault phase's verify p99 against max(factor x ref, ref + margin), where ref is the
        larger of the healthy phase's p99 and the control server's p99 in the same window."""
        args = self.args
        base = phases["healthy"]["verify"]["p99_ms"] or 0.0
        self.bound = {"baseline_p99_ms": base, "factor": args.p99_factor, "margin_ms": args.p99_margin_ms, "phases": {}}
        for phase, figures in phases.items():
            if phase == "healthy":
                continue
            control = figures["control"]["p99_ms"] or 0.0
            ref = max(base, control)
            bound = round(max(args.p99_factor * ref, ref + args.p99_margin_ms), 1)
            self.bound["phases"][phase] = bound
            p99 = figures["verify"]["p99_ms"]
            if p99 is None or p99 > bound:
                self.problems.add(f"{phase}: verify p99 {p99} ms, over the bound {bound} ms (healthy p99 {base} ms, "
                                  f"the control's p99 in the same window {control} ms: max({args.p99_factor}x, "
                                  f"+{args.p99_margin_ms} ms) the larger)")

    def check_log(self, numbers):
        if not self.args.server_log:
            return
        with open(self.args.server_log, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        leaked = sum(1 for number in numbers if number in text or number[1:] in text)
        if leaked:
            self.problems.add(f"the server log holds {leaked} of the {len(numbers)} full phone numbers")
        if self.secret.decode() in text:
            self.problems.add("the server log holds the webhook secret")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--control-url", required=True,
                        help="a second server of the same binary, no provider faults: the control of every window")
    parser.add_argument("--control-key-file", required=True)
    parser.add_argument("--gateway-port", type=int, required=True)
    parser.add_argument("--config-file", required=True, help="the server's configuration file holding TWOFOLD_WEBHOOK_SECRET")
    parser.add_argument("--delivery-timeout", type=float, required=True, help="the server's TWOFOLD_DELIVERY_TIMEOUT, seconds")
    parser.add_argument("--retries", type=int, default=2, help="retries after a failed delivery attempt (README: at most twice)")
    parser.add_argument("--backoff", type=float, default=0.75, help="the longest sum of the backoffs between attempts, s")
    parser.add_argument("--slack", type=float, default=3.0, help="seconds a failure may take beyond its worst case")
    parser.add_argument("--per-channel", type=int, default=2, help="challenges per channel and phase")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--hotp-users", type=int, default=6, help="HOTP users per load thread")
    parser.add_argument("--totp-users", type=int, default=2, help="TOTP users (2 s period) per load thread")
    parser.add_argument("--interval", type=float, default=0.01, help="pause of each load thread between requests")
    parser.add_argument("--phase-seconds", type=float, default=8.0)
    parser.add_argument("--start-after", type=float, default=0.5, help="seconds into a phase its challenges start")
    parser.add_argument("--min-warmup", type=float, default=3.0)
    parser.add_argument("--p99-factor", type=float, default=3.0)
    parser.add_argument("--p99-margin-ms", type=float, default=50.0)
    parser.add_argument("--enroll-threads", type=int, default=4)
    parser.add_argument("--code-timeout", type=float, default=10.0, help="seconds a delivery may take to reach the healthy gateway")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds without an answer that count as a hang")
    parser.add_argument("--server-log", help="the server's log, searched for full numbers and the secret")
    parser.add_argument("--summary")
    parser.add_argument("--user-prefix", default="rel-providers")
    args = parser.parse_args()
    driver = Driver(args)
    try:
        return driver.run()
    except Exception as exc:  # noqa: BLE001 - any failure must end as a verdict, not a hang
        if not isinstance(exc, RuntimeError):
            traceback.print_exc()
        log(f"error: {type(exc).__name__}: {exc}")
        write_json(args.summary, {"problems": {f"{type(exc).__name__}: {exc}": 1}, "phases": {}})
        return 1
    finally:
        if driver.gateway is not None:
            driver.gateway.close()


if __name__ == "__main__":
    sys.exit(main())
