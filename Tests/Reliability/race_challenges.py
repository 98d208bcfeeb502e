#!/usr/bin/env python3
"""Driver of the reliability scenario `challenge-race` (Tests/Reliability/run.sh): challenge codes
and push answers raced over two nodes on one PostgreSQL, as `replay-race` races TOTP and recovery
codes (it reuses load.py's Racers: --racers threads, racer i on its own kept-alive connection to
node i % 2, released together by a threading.Barrier).

Both nodes' SMS provider is `webhook`, pointed at the gateway of providers_gateway.py on
--gateway-port, which checks every post's signature (TWOFOLD_WEBHOOK_SECRET from --config-file)
and keeps the code it carries. Then:

 1. --rounds SMS users are enrolled (a number each, through both nodes, activated with the
    confirmation code the gateway caught; that spends the user's SMS budget, 1 per 30 s), and
    --rounds push users, each with a device of its own (a P-256 key, polling, activated with the
    enrollment's token; providers_gateway.PushDevice).
 2. push rounds, one user each: a push (POST …/challenges, through node r % 2, with its number);
    the device lists its open pushes with a signed request (the push is there, asking for the
    number); --racers approvals with the number, each signed afresh, sent at once: exactly one
    answered 200 `approved`, every other 400 `invalid_request` (README: "400 once a push is
    answered"). Afterwards the application reads the push on both nodes (`approved`, every time:
    reading does not consume it), a code sent to it is refused (400: a push is not answered with a
    code), the device's list is empty and one more signed answer is refused (400).
 3. once the SMS users' budgets allow it (31 s after each enrollment; the push rounds run
    meanwhile), SMS rounds, one user each: a challenge (through node r % 2), its code caught by
    the gateway, and that code sent --racers times at once. Even rounds send it to the challenge
    (POST /v1/challenges/{id}/verify): exactly one allow (factor_type sms); the losers are counted
    as any refusal is (the challenge approved under them: `replayed`), so exactly --free-failures
    + 1 answer replayed (the last of them locks) and the rest `locked`, and the export says 6
    failures and a lock. Odd rounds send it to the user (POST /v1/users/{id}/verify): exactly one
    allow; the losers are counted likewise (the spent challenge no longer matches:
    `invalid_code`), so 1 / 6 invalid_code / 43 locked with 50 racers, and the export says 6
    failures and a lock. Every challenge is `approved` afterwards; in even rounds the code sent
    once more (to the other node) is `locked`, the user being locked by the race.

Exits 0 when every round was as expected, 1 otherwise; the summary (--summary, JSON) holds
counts and times, never a code, a number or a key.
"""

import argparse
import sys
import threading
import time
import traceback

from load import (CONNECTION_ERRORS, Client, RaceJob, RaceTally, Racers, decision, read_key, user_path,
                  write_json)
from providers import PhoneUser, PushUser, enroll_phone, enroll_push, parallel
from providers_gateway import Gateway, phone_number, read_secret

REFUSED_400 = "status 400 invalid_request"


def log(message):
    print(f"race_challenges.py: {message}", file=sys.stderr, flush=True)


class CodeJob(RaceJob):
    """A challenge's code, sent to the challenge or to its user."""

    __slots__ = ("challenge_id", "via")

    def __init__(self, number, kind, user, code, challenge_id, via):
        super().__init__(number, kind, user, code)
        self.challenge_id, self.via = challenge_id, via

    def request(self, index):
        if self.via == "challenge":
            return "POST", f"/v1/challenges/{self.challenge_id}/verify", {"code": self.code}, None, None, True
        return super().request(index)


class PingJob(RaceJob):
    """GET /healthz from every racer: opens a connection where an idle one was closed."""

    def __init__(self, number):
        super().__init__(number, "ping", None, None)

    def request(self, index):
        return "GET", "/healthz", None, None, None, False

    def classify(self, status, answer, error):
        return "ok" if status == 200 else (f"error {error}" if error else f"status {status}")


class PushAnswerJob(RaceJob):
    """The device's approvals, one signed request per racer (byte for byte as signed)."""

    __slots__ = ("signed",)

    def __init__(self, number, user, signed):
        super().__init__(number, "push", user, None)
        self.signed = signed

    def request(self, index):
        path, raw, headers = self.signed[index]
        return "POST", path, None, raw, headers, False

    def classify(self, status, answer, error):
        if error:
            return f"error {error}"
        if status == 200 and isinstance(answer, dict):
            return str(answer.get("status"))
        return decision(status, answer, None)


class Race:
    def __init__(self, args):
        self.args = args
        self.key = read_key(args.key_file)
        self.secret = read_secret(args.config_file)
        self.nodes = args.node
        self.problems = {}
        self.after = {"push_read_by_app": {}, "push_code_sent": {}, "push_device_list_after": {}, "push_answer_again": {},
                      "sms_export": {}, "sms_code_again": {}}
        self.gateway = None
        self.race_seconds = 0.0

    def flag(self, problem):
        self.problems[problem] = self.problems.get(problem, 0) + 1

    def note(self, what, word):
        self.after[what][word] = self.after[what].get(word, 0) + 1

    def client(self, node):
        return Client(self.nodes[node % len(self.nodes)], self.key, self.args.timeout)

    def race(self, racers, job, tally):
        started = time.time()
        results = racers.run(job)
        self.race_seconds += time.time() - started
        tally.add(results)
        return results

    def run(self):
        args = self.args
        self.gateway = Gateway(args.gateway_port, self.secret).start()
        prefix = args.user_prefix
        sms_users = [PhoneUser(f"{prefix}-sms-{i}@example.com", "sms", phone_number(558, i), "code") for i in range(args.rounds)]
        push_users = [PushUser(f"{prefix}-push-{i}@example.com", None) for i in range(args.rounds)]
        turn = [0]
        lock = threading.Lock()

        def alternating():
            with lock:
                turn[0] += 1
                return self.client(turn[0])

        began = time.time()
        parallel(sms_users, lambda c, u: enroll_phone(c, self.gateway, u, args.code_timeout), args.enroll_threads, alternating)
        parallel(push_users, enroll_push, args.enroll_threads, alternating)
        enroll_seconds = time.time() - began
        log(f"enrolled {len(sms_users)} SMS and {len(push_users)} push users through both nodes in {enroll_seconds:.1f} s")

        racers = Racers(self.nodes, self.key, args.racers, args.timeout)
        free = args.free_failures
        push = RaceTally("push answers", None, None, free, len(self.nodes), losers={REFUSED_400}, winner="approved")
        by_challenge = RaceTally("SMS code via its challenge", "replayed", "sms", free, len(self.nodes))
        by_user = RaceTally("SMS code via its user", "invalid_code", "sms", free, len(self.nodes))
        clients = [self.client(n) for n in range(len(self.nodes))]
        waited = 0.0
        try:
            for number, user in enumerate(push_users):
                self.push_round(number, user, racers, push, clients)
            log(f"push: {push.rounds} rounds, answers {push.mixes}")
            wait = max(u.ready_at for u in sms_users) - time.time()
            if wait > 0:
                waited = min(wait, 35.0)
                log(f"waiting {waited:.1f} s for the SMS users' send budget (1 per 30 s, spent by the enrollment)")
                time.sleep(waited)
            # Connections idle through the wait may have been closed by the nodes (their idle
            # timeout, 30 s): every racer and client gets a live one before the SMS rounds.
            for client in clients:
                client.close()
            racers.run(PingJob(-1))
            pings = racers.run(PingJob(-2))
            if any(r["answer"] != "ok" for r in pings):
                raise RuntimeError(f"the racers' /healthz answered {sorted({r['answer'] for r in pings})}")
            for number, user in enumerate(sms_users):
                via = "challenge" if number % 2 == 0 else "user"
                self.sms_round(number, user, via, racers, by_challenge if via == "challenge" else by_user, clients)
            log(f"SMS: via the challenge {by_challenge.mixes}; via the user {by_user.mixes}")
        except threading.BrokenBarrierError:
            self.flag(f"a racer got no answer and no error within {args.timeout + 10} s (hang)")
        except (RuntimeError, *CONNECTION_ERRORS) as exc:
            self.flag(f"{type(exc).__name__}: {exc}")
        finally:
            racers.close()
            for client in clients:
                client.close()

        for tally in (push, by_challenge, by_user):
            for problem, count in tally.problems.items():
                self.problems[problem] = self.problems.get(problem, 0) + count
        want = {"push": (push, args.rounds), "via the challenge": (by_challenge, (args.rounds + 1) // 2),
                "via the user": (by_user, args.rounds // 2)}
        for name, (tally, rounds) in want.items():
            if tally.rounds < rounds:
                self.flag(f"only {tally.rounds} of {rounds} {name} rounds ran")
        for text, count in self.gateway.snapshot_problems().items():
            self.problems[f"gateway: {text}"] = count
        self.gateway.close()
        summary = {
            "nodes": len(self.nodes),
            "racers": args.racers,
            "push": push.summary(),
            "sms_via_challenge": by_challenge.summary(),
            "sms_via_user": by_user.summary(),
            "after": self.after,
            "enroll_seconds": round(enroll_seconds, 1),
            "race_seconds": round(self.race_seconds, 1),
            "budget_wait_seconds": round(waited, 1),
            "seconds": round(time.time() - began, 1),
            "problems": self.problems,
        }
        write_json(args.summary, summary)
        log(f"problems: {self.problems or 'none'}")
        return 0 if not self.problems else 1

    # --- push

    def push_round(self, number, user, racers, tally, clients):
        args = self.args
        first, other = clients[number % len(clients)], clients[(number + 1) % len(clients)]
        status, answer, raw, _ = first.request("POST", user_path(user.user_id, "challenges"), {"type": "push"})
        if status != 202 or not isinstance(answer, dict) or answer.get("status") != "pending":
            self.flag(f"push: starting a push answered {status}, not 202 pending")
            return
        challenge_id, shown_number = answer["challenge_id"], answer.get("number")
        if not isinstance(shown_number, int):
            self.flag("push: the push has no number to show (number matching is on by default)")
        device = user.device
        status, answer, raw, _ = device.get(other)
        listed = [c for c in (answer or {}).get("challenges", []) if c.get("challenge_id") == challenge_id] if status == 200 else []
        if len(listed) != 1 or listed[0].get("number_required") is not True:
            self.flag(f"push: the device's signed list answered {status} without the push asking for its number")
        signed = [device.answer_request(challenge_id, "approve", shown_number) for _ in range(args.racers)]
        if len({headers["Twofold-Signature"] for _, _, headers in signed}) != len(signed):
            self.flag("push: two of the device's signatures were the same")
        self.race(racers, PushAnswerJob(number, user.user_id, signed), tally)
        # The application's side: the push reads approved on both nodes, every time.
        for client in (first, other, first):
            status, answer, raw, _ = client.request("GET", f"/v1/challenges/{challenge_id}")
            word = answer.get("status") if status == 200 and isinstance(answer, dict) else f"status {status}"
            self.note("push_read_by_app", word)
            if word != "approved":
                self.flag(f"push: the application read the raced push as {word}, not approved")
        status, answer, raw, _ = other.request("POST", f"/v1/challenges/{challenge_id}/verify", {"code": "123456"})
        word = decision(status, answer, None)
        self.note("push_code_sent", word)
        if word == "allow" or status != 400:
            self.flag(f"push: a code sent to the approved push answered {word}, not 400")
        status, answer, raw, _ = device.get(first)
        left = len((answer or {}).get("challenges", [])) if status == 200 else None
        self.note("push_device_list_after", f"{left} open")
        if left != 0:
            self.flag(f"push: the device's list after the race answered {status} with {left} open pushes, not 0")
        status, answer, raw, _ = device.answer(other, challenge_id, "deny")
        word = decision(status, answer, None)
        self.note("push_answer_again", word)
        if word != REFUSED_400:
            self.flag(f"push: one more signed answer after the race answered {word}, not 400")

    # --- SMS

    def sms_round(self, number, user, via, racers, tally, clients):
        args = self.args
        first, other = clients[number % len(clients)], clients[(number + 1) % len(clients)]
        status, answer, raw, _ = first.request("POST", user_path(user.user_id, "challenges"), {"type": "sms"})
        if status != 202 or not isinstance(answer, dict) or answer.get("status") != "pending":
            self.flag(f"sms: starting a challenge answered {status}, not 202 pending: {raw[:160]!r}")
            return
        challenge_id = answer["challenge_id"]
        post = self.gateway.wait_post(challenge_id, args.code_timeout, lambda p: p.code is not None)
        if post is None:
            self.flag(f"sms: no code reached the gateway within {args.code_timeout} s")
            return
        if post.body.get("to") != user.number:
            self.flag("sms: the gateway's post went to another number than the user's")
        self.race(racers, CodeJob(number, f"sms-{via}", user.user_id, post.code, challenge_id, via), tally)
        status, answer, raw, _ = first.request("GET", user_path(user.user_id, "export"))
        if status != 200 or not isinstance(answer, dict):
            self.flag(f"sms: the user's export answered {status}")
            return
        throttle = answer.get("throttle") or {}
        failures, locked = throttle.get("consecutive_failures"), throttle.get("locked_until") is not None
        raced = [c for c in answer.get("challenges", []) if c.get("challenge_id") == challenge_id]
        final = raced[0].get("status") if raced else None
        self.note("sms_export", f"via the {via}: {final}, {failures} failures{', locked' if locked else ''}")
        if final != "approved":
            self.flag(f"sms via the {via}: the raced challenge is {final} afterwards, not approved")
        expected = (args.free_failures + 1, True)
        if (failures, locked) != expected:
            self.flag(f"sms via the {via}: the user has {failures} failures{' and a lock' if locked else ''} after the "
                      f"round, not {expected[0]}{' and a lock' if expected[1] else ''}")
        if via == "challenge":
            status, answer, raw, _ = other.request("POST", f"/v1/challenges/{challenge_id}/verify", {"code": post.code})
            word = decision(status, answer, None)
            self.note("sms_code_again", word)
            if word != "locked":
                self.flag(f"sms via the challenge: its code sent once more answered {word}, not locked")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node", action="append", required=True, help="a node's http://127.0.0.1:PORT (twice: two nodes)")
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--gateway-port", type=int, required=True)
    parser.add_argument("--config-file", required=True, help="the nodes' configuration file holding TWOFOLD_WEBHOOK_SECRET")
    parser.add_argument("--rounds", type=int, default=40, help="SMS rounds (half to the challenge, half to the user) and push rounds")
    parser.add_argument("--racers", type=int, default=50)
    parser.add_argument("--free-failures", type=int, default=5, help="the servers' TWOFOLD_LOCKOUT_FREE_FAILURES")
    parser.add_argument("--enroll-threads", type=int, default=4)
    parser.add_argument("--code-timeout", type=float, default=10.0, help="seconds a code may take to reach the gateway")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds without an answer that count as a hang")
    parser.add_argument("--summary")
    parser.add_argument("--user-prefix", default="rel-challenge-race")
    args = parser.parse_args()
    if len(args.node) < 2:
        parser.error("give two nodes (--node twice)")
    race = Race(args)
    try:
        return race.run()
    except Exception as exc:  # noqa: BLE001 - any failure must end as a verdict, not a hang
        if not isinstance(exc, RuntimeError):
            traceback.print_exc()
        log(f"error: {type(exc).__name__}: {exc}")
        write_json(args.summary, {"problems": {f"{type(exc).__name__}: {exc}": 1}})
        return 1
    finally:
        if race.gateway is not None:
            race.gateway.close()


if __name__ == "__main__":
    sys.exit(main())
