import Foundation
import Testing
import TwofoldOTP
import TwofoldTesting

/// `audit purge` and `recovery-codes` replacing a set: the minimum retention, and the
/// confirmation every destructive command asks for (on a terminal; `--yes` without one).
@Suite("twofold audit purge and recovery-codes: minimum retention and confirmation", .serialized)
struct ConfirmationTests {
    static let python = ExternalTool.command("python3", installHint: "apt-get install python3")

    /// Runs `twofold ARGUMENTS` with this deployment's configuration on a pseudo-terminal,
    /// answers `answer` to its question, and returns the exit status and everything it wrote
    /// to the terminal. Fails, rather than hangs, when no question comes within 20 seconds.
    static func onTerminal(_ h: AdminHarness, _ arguments: [String], answer: String) async throws -> (status: Int32, output: String) {
        try python.require()
        let script = """
            import os, pty, select, sys
            answer = sys.argv[1].encode() + b"\\n"
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[2], sys.argv[2:])
            seen = b""
            def more(timeout):
                global seen
                ready, _, _ = select.select([fd], [], [], timeout)
                if not ready:
                    return False
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return False
                seen += data
                return bool(data)
            while b"[y/N]" not in seen:
                if not more(20):
                    break
            if b"[y/N]" in seen:
                os.write(fd, answer)
            while more(20):
                pass
            _, status = os.waitpid(pid, 0)
            sys.stdout.buffer.write(seen)
            sys.exit(os.waitstatus_to_exitcode(status) if b"[y/N]" in seen else 99)
            """
        let result = try await ExternalProcess.run("python3", ["-c", script, answer, TwofoldBinary.path] + arguments,
                                             environment: ProcessInfo.processInfo.environment.merging(h.environment) { $1 })
        return (result.status, result.standardOutput)
    }

    /// Enrolls `user` through the CLI and activates the factor over HTTP (the server must run).
    func enrollActive(_ h: AdminHarness, _ user: String, token: String) async throws {
        let enrolled = try await h.json(["enroll", user, "--no-activate"]) as? [String: Any]
        let totp = try OTPAuthURI(parsing: try #require(enrolled?["otpauth_uri"] as? String)).makeTOTP()
        let id = try #require(enrolled?["factor_id"] as? String)
        let (status, _) = try await h.http("POST", "/v1/users/\(user)/factors/\(id)/activate",
                                     body: ["code": try totp.code(at: UInt64(Date().timeIntervalSince1970))], token: token)
        try #require(status == 200)
    }

    func verify(_ h: AdminHarness, _ user: String, code: String, token: String) async throws -> String? {
        let (_, body) = try await h.http("POST", "/v1/users/\(user)/verify", body: ["code": code], token: token)
        return (body as? [String: Any])?["result"] as? String
    }

    func purges(_ h: AdminHarness) async throws -> Int {
        try await h.auditEvents().filter { $0["action"] as? String == "audit.purged" }.count
    }

    @Test("audit purge refuses an age below TWOFOLD_AUDIT_MIN_RETENTION (default 1d), exit 2 naming the setting, and purges nothing")
    func minimumRetention() async throws {
        let h = try await AdminHarness(.sqlite)
        for age in ["1h", "23h59m59s", "0s"] {
            let refused = try await h.run(["audit", "purge", "--older-than", age, "--yes"])
            #expect(refused.status == 2, "\(age): \(refused.standardError)")
            #expect(refused.standardError.contains("TWOFOLD_AUDIT_MIN_RETENTION"), "\(refused.standardError)")
            #expect(refused.standardError.contains("1d"), "\(refused.standardError)")
        }
        await #expect(try purges(h) == 0)
        #expect(try await h.run(["audit", "purge", "--older-than", "1d", "--yes"]).status == 0)
        await #expect(try purges(h) == 1)

        // Lowered: an hour is accepted.
        let lowered = try await h.run(["audit", "purge", "--older-than", "1h", "--yes"], extra: ["TWOFOLD_AUDIT_MIN_RETENTION": "1h"])
        #expect(lowered.status == 0, "\(lowered.standardError)")
        // Raised: a week is refused, and the message says where the value came from.
        let raised = try await h.run(["audit", "purge", "--older-than", "7d", "--yes"], extra: ["TWOFOLD_AUDIT_MIN_RETENTION": "30d"])
        #expect(raised.status == 2)
        #expect(raised.standardError.contains("30d"), "\(raised.standardError)")
        #expect(raised.standardError.contains("the environment"), "\(raised.standardError)")
        await #expect(try purges(h) == 2)

        // A minimum outside 1h to 3650d is a bad setting.
        let bad = try await h.run(["audit", "purge", "--older-than", "90d", "--yes"], extra: ["TWOFOLD_AUDIT_MIN_RETENTION": "30m"])
        #expect(bad.status == 2)
        #expect(bad.standardError.contains("TWOFOLD_AUDIT_MIN_RETENTION"), "\(bad.standardError)")
        await #expect(try purges(h) == 2)
    }

    @Test("audit purge without a terminal refuses unless --yes (exit 2), and purges nothing")
    func purgeNeedsYes() async throws {
        let h = try await AdminHarness(.sqlite)
        let refused = try await h.run(["audit", "purge", "--older-than", "90d"])
        #expect(refused.status == 2)
        #expect(refused.standardError.contains("refusing to delete every audit event older than 90d"), "\(refused.standardError)")
        #expect(refused.standardError.contains("--yes"))
        await #expect(try purges(h) == 0)
        #expect(try await h.run(["audit", "purge", "--older-than", "90d", "--yes"]).status == 0)
        await #expect(try purges(h) == 1)
    }

    @Test("recovery-codes: a first set needs no confirmation; replacing one refuses without --yes and the old codes keep working")
    func recoveryCodesReplace() async throws {
        let h = try await AdminHarness(.sqlite)
        let token = try await h.adminToken()
        try await h.startServer()
        try await enrollActive(h, "alice", token: token)
        let first = try #require((try await h.json(["recovery-codes", "alice"]) as? [String: Any])?["codes"] as? [String])
        #expect(first.count == 10)

        let refused = try await h.run(["recovery-codes", "alice"])
        #expect(refused.status == 2)
        #expect(refused.standardError.contains("refusing to replace the recovery codes of user alice"), "\(refused.standardError)")
        #expect(refused.standardError.contains("--yes"))
        #expect(refused.standardOutput.isEmpty)
        await #expect(try verify(h, "alice", code: first[0], token: token) == "allow")
        #expect(try await h.auditEvents(user: "alice").filter { $0["action"] as? String == "recovery_codes.generated" }.count == 1)

        let replaced = try #require((try await h.json(["recovery-codes", "alice", "--yes"]) as? [String: Any])?["codes"] as? [String])
        #expect(replaced.count == 10)
        await #expect(try verify(h, "alice", code: first[1], token: token) == "deny")
        await #expect(try verify(h, "alice", code: replaced[0], token: token) == "allow")
    }

    @Test("on a terminal, audit purge and recovery-codes ask: no cancels (exit 1, nothing done), yes goes on")
    func asksOnTerminal() async throws {
        let h = try await AdminHarness(.sqlite)
        let token = try await h.adminToken()

        let declined = try await Self.onTerminal(h, ["audit", "purge", "--older-than", "90d"], answer: "n")
        #expect(declined.status == 1, "\(declined.output)")
        #expect(declined.output.contains("Delete every audit event older than 90d"), "\(declined.output)")
        #expect(declined.output.contains("cancelled"))
        await #expect(try purges(h) == 0)
        let accepted = try await Self.onTerminal(h, ["audit", "purge", "--older-than", "90d"], answer: "y")
        #expect(accepted.status == 0, "\(accepted.output)")
        #expect(accepted.output.contains("deleted 0 audit events older than 90d"))
        await #expect(try purges(h) == 1)

        try await h.startServer()
        try await enrollActive(h, "alice", token: token)
        let first = try #require((try await h.json(["recovery-codes", "alice"]) as? [String: Any])?["codes"] as? [String])
        let kept = try await Self.onTerminal(h, ["recovery-codes", "alice"], answer: "")
        #expect(kept.status == 1, "\(kept.output)")
        #expect(kept.output.contains("Replace the recovery codes of user alice (10 of 10 unused)?"), "\(kept.output)")
        await #expect(try verify(h, "alice", code: first[0], token: token) == "allow")
        let replaced = try await Self.onTerminal(h, ["recovery-codes", "alice"], answer: "yes")
        #expect(replaced.status == 0, "\(replaced.output)")
        await #expect(try verify(h, "alice", code: first[1], token: token) == "deny")
    }
}
