import Foundation
import Testing
import TwofoldOTP
import TwofoldTesting

/// Every admin command end to end: output (human and --json), exit status, audit event, and
/// its effect seen through the HTTP API of a real `twofold serve` on the same store.
@Suite("twofold admin commands", .serialized)
struct AdminCommandTests {
    static let backends = AdminHarness.Backend.allCases

    var actor: String {
        "cli:" + (ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? String(cString: getpwuid(geteuid())!.pointee.pw_name))
    }

    /// Enrolls `user` through the CLI without activating, then activates over HTTP; returns the device.
    func enrollActive(_ h: AdminHarness, _ user: String, token: String) async throws -> TOTP {
        let enrolled = try await h.json(["enroll", user, "--no-activate"]) as? [String: Any]
        let uri = try OTPAuthURI(parsing: try #require(enrolled?["otpauth_uri"] as? String))
        let totp = try uri.makeTOTP()
        let id = try #require(enrolled?["factor_id"] as? String)
        #expect(enrolled?["status"] as? String == "pending")
        let (status, _) = try await h.http("POST", "/v1/users/\(user)/factors/\(id)/activate",
                                     body: ["code": try totp.code(at: UInt64(Date().timeIntervalSince1970))], token: token)
        #expect(status == 200)
        return totp
    }

    func verify(_ h: AdminHarness, _ user: String, code: String, token: String) async throws -> [String: Any] {
        let (status, body) = try await h.http("POST", "/v1/users/\(user)/verify", body: ["code": code], token: token)
        #expect(status == 200)
        return body as? [String: Any] ?? [:]
    }

    @Test("apps create and list; a taken or malformed name fails", arguments: backends)
    func apps(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let created = try await h.run(["apps", "create", "billing"])
        #expect(created.status == 0)
        #expect(created.standardOutput.contains("created application billing (app_"))
        let listed = try await h.run(["apps", "list"])
        #expect(listed.standardOutput.hasPrefix("NAME"))
        #expect(listed.standardOutput.contains("billing"))
        let json = try await h.json(["apps", "list"]) as? [String: Any]
        let names = (json?["applications"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(Set(names ?? []) == ["default", "billing"])
        #expect(try await h.run(["apps", "create", "billing"]).status == 1)
        #expect(try await h.run(["apps", "create", "Bad Name"]).status == 2)
        #expect(try await h.auditEvents().contains { $0["action"] as? String == "application.created" && $0["actor"] as? String == actor })
    }

    @Test("apikey create, list and revoke; a revoked key stops working at once", arguments: backends)
    func apiKeys(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let created = try await h.run(["apikey", "create", "--app", "default", "--scopes", "verify,enroll"])
        #expect(created.status == 0)
        let token = try #require(created.standardOutput.split(separator: " ").last.map { $0.trimmingCharacters(in: .newlines) })
        #expect(token.hasPrefix("tf_key_"))
        let id = "key_" + token.split(separator: "_")[2]
        try await h.startServer()
        #expect(try await h.http("GET", "/v1/users/alice/factors", token: token).0 == 200)
        #expect(try await h.http("POST", "/v1/users/alice/unlock", token: token).0 == 403)
        let listed = try await h.run(["apikey", "list"])
        #expect(listed.standardOutput.contains(id))
        #expect(!listed.standardOutput.contains(token))
        #expect(try await h.run(["apikey", "create", "--scopes", "verify,root"]).status == 2)
        // Not on a terminal: a destructive command refuses without --yes.
        let refused = try await h.run(["apikey", "revoke", id])
        #expect(refused.status == 2)
        #expect(refused.standardError.contains("--yes"))
        #expect(try await h.http("GET", "/v1/users/alice/factors", token: token).0 == 200)
        #expect(try await h.run(["apikey", "revoke", id, "--yes"]).status == 0)
        #expect(try await h.http("GET", "/v1/users/alice/factors", token: token).0 == 401)
        let keys = try await h.json(["apikey", "list"]) as? [String: Any]
        let entry = (keys?["api_keys"] as? [[String: Any]])?.first { $0["id"] as? String == id }
        #expect(entry?["revoked_at"] != nil)
        #expect(try await h.auditEvents().contains { $0["action"] as? String == "api_key.revoked" })
        #expect(try await h.run(["apikey", "revoke", id, "--yes"]).status == 1)
    }

    @Test("enroll, users list and show, factors list and delete", arguments: backends)
    func enrollAndFactors(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let token = try await h.adminToken()
        try await h.startServer()
        let totp = try await enrollActive(h, "alice", token: token)
        await #expect(try verify(h, "alice", code: totp.code(at: UInt64(Date().timeIntervalSince1970) + 30), token: token)["result"] as? String == "allow")
        let users = try await h.json(["users", "list"]) as? [String: Any]
        #expect(users?["users"] as? [String] == ["alice"])
        let shown = try await h.run(["users", "show", "alice"])
        #expect(shown.standardOutput.contains("totp"))
        #expect(shown.standardOutput.contains("active"))
        let factors = try await h.json(["factors", "list", "alice"]) as? [String: Any]
        let id = try #require((factors?["factors"] as? [[String: Any]])?.first?["id"] as? String)
        #expect(try await h.run(["factors", "delete", "alice", "fac_nonsense", "--yes"]).status == 2)
        #expect(try await h.run(["factors", "delete", "alice", id, "--yes"]).status == 0)
        await #expect(try verify(h, "alice", code: "123456", token: token)["reason"] as? String == "no_factors")
        #expect(try await h.auditEvents(user: "alice").contains { $0["action"] as? String == "factor.deleted" && $0["actor"] as? String == actor })
        // Interactive enrollment reads the code from standard input.
        let interactive = try await h.run(["enroll", "bob", "--json"], input: "000000\n")
        #expect(interactive.status == 1)
    }

    @Test("factors reset is seen by the API at once: verify answers no_factors", arguments: backends)
    func reset(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let token = try await h.adminToken()
        try await h.startServer()
        _ = try await enrollActive(h, "alice", token: token)
        let codes = try await h.json(["recovery-codes", "alice"]) as? [String: Any]
        #expect((codes?["codes"] as? [String])?.count == 10)
        let reset = try await h.run(["factors", "reset", "alice", "--yes"])
        #expect(reset.status == 0)
        #expect(reset.standardOutput.contains("deleted 1 factor and 10 recovery codes"))
        let again = try await h.json(["factors", "reset", "alice", "--yes"]) as? [String: Any]
        #expect(again?["factors_deleted"] as? Int == 0)
        await #expect(try verify(h, "alice", code: "123456", token: token)["reason"] as? String == "no_factors")
        let event = try await h.auditEvents(user: "alice").first { $0["action"] as? String == "user.reset" }
        #expect(event?["actor"] as? String == actor)
    }

    @Test("unlock lets a locked user verify again; recovery codes verify over the API", arguments: backends)
    func unlockAndRecovery(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let token = try await h.adminToken()
        try await h.startServer()
        let totp = try await enrollActive(h, "alice", token: token)
        for _ in 0..<6 { _ = try await verify(h, "alice", code: "000000", token: token) }
        let now = UInt64(Date().timeIntervalSince1970)
        await #expect(try verify(h, "alice", code: totp.code(at: now + 30), token: token)["reason"] as? String == "locked")
        #expect(try await h.run(["unlock", "alice"]).status == 0)
        await #expect(try verify(h, "alice", code: totp.code(at: now + 30), token: token)["result"] as? String == "allow")
        let codes = try #require((try await h.json(["recovery-codes", "alice"]) as? [String: Any])?["codes"] as? [String])
        await #expect(try verify(h, "alice", code: codes[0], token: token)["result"] as? String == "allow")
        await #expect(try verify(h, "alice", code: codes[0], token: token)["reason"] as? String == "invalid_code")
        #expect(try await h.auditEvents(user: "alice").contains { $0["action"] as? String == "user.unlocked" })
    }

    @Test("keys: generate refuses to overwrite; rotate re-wraps and every factor still verifies", arguments: backends)
    func keys(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let oldKey = h.directory.appendingPathComponent("master.key").path
        #expect(try await h.run(["keys", "generate", oldKey]).status == 1)
        let attributes = try FileManager.default.attributesOfItem(atPath: oldKey)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let token = try await h.adminToken()
        try await h.startServer()
        var devices: [(String, TOTP)] = []
        for user in ["alice", "bob", "carol"] { await devices.append((user, try enrollActive(h, user, token: token))) }
        await h.stopServer()
        let nothing = try await h.run(["keys", "rotate"])
        #expect(nothing.status == 0)
        #expect(nothing.standardOutput.contains("nothing to do"))
        let newKey = h.directory.appendingPathComponent("new.key").path
        #expect(try await h.run(["keys", "generate", newKey]).status == 0)
        h.useKey(file: "\(newKey),\(oldKey)")
        let rotated = try await h.json(["keys", "rotate"]) as? [String: Any]
        #expect(rotated?["rewrapped"] as? Int == 8)  // three data keys, two audit keys, the send-budget, API key MAC and audit id keys
        let status = try await h.json(["keys", "status"]) as? [String: Any]
        let rows = status?["keys"] as? [[String: Any]] ?? []
        #expect(rows.first?["wraps"] as? Int == 8)
        #expect(rows.dropFirst().allSatisfy { $0["wraps"] as? Int == 0 })
        // No value sealed under the old key remains: the new key alone opens everything.
        h.useKey(file: newKey)
        try await h.startServer()
        let now = UInt64(Date().timeIntervalSince1970)
        for (user, totp) in devices {
            await #expect(try verify(h, user, code: totp.code(at: now + 30), token: token)["result"] as? String == "allow")
        }
        #expect(try await h.run(["audit", "verify"]).status == 0)
    }

    @Test("audit tail, verify and purge", arguments: backends)
    func audit(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        try await h.run(["apps", "create", "shop"])
        let tail = try await h.run(["audit", "tail"])
        #expect(tail.standardOutput.hasPrefix("TIME"))
        #expect(tail.standardOutput.contains("application.created"))
        let verified = try await h.run(["audit", "verify"])
        #expect(verified.status == 0)
        #expect(verified.standardOutput.contains("intact"))
        #expect(try await h.run(["audit", "purge", "--older-than", "ninety days"]).status == 2)
        let purged = try await h.json(["audit", "purge", "--older-than", "90d", "--yes"]) as? [String: Any]
        #expect(purged?["deleted"] as? Int == 0)
        #expect(try await h.auditEvents().contains { $0["action"] as? String == "audit.purged" })
        if backend == .sqlite {
            let database = h.directory.appendingPathComponent("twofold.sqlite").path
            let edit = try await ExternalProcess.run("python3", ["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_events SET outcome='failure' WHERE action='application.created'\"); c.commit()", database])
            #expect(edit.status == 0)
            let broken = try await h.run(["audit", "verify"])
            #expect(broken.status == 1)
            #expect(broken.standardOutput.contains("edited"))
        }
    }

    @Test("users export and erase: after erasure the API exports nothing and the log still verifies", arguments: backends)
    func exportAndErase(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let token = try await h.adminToken()
        try await h.startServer()
        _ = try await enrollActive(h, "alice", token: token)
        let file = h.directory.appendingPathComponent("alice.json").path
        #expect(try await h.run(["users", "export", "alice", "--output", file]).status == 0)
        let exported = try String(contentsOfFile: file, encoding: .utf8)
        #expect(exported.contains("\"user_id\":\"alice\""))
        #expect(!exported.contains("secret"))
        #expect(try await h.run(["users", "export", "nobody"]).status == 1)
        #expect(try await h.run(["users", "erase", "alice"]).status == 2)
        #expect(try await h.run(["users", "erase", "alice", "--yes"]).status == 0)
        #expect(try await h.http("GET", "/v1/users/alice/export", token: token).0 == 404)
        #expect(try await h.json(["users", "list"]) as? [String: [String]] == ["users": []])
        let events = try await h.auditEvents()
        #expect(!events.contains { $0["user_id"] as? String == "alice" })
        #expect(events.contains { $0["action"] as? String == "user.erased" && $0["user_ref"] != nil })
        #expect(try await h.run(["audit", "verify"]).status == 0)
    }

    @Test("migrate succeeds twice; completion scripts come from swift-argument-parser", arguments: backends)
    func migrate(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        #expect(try await h.run(["migrate"]).status == 0)
        #expect(try await h.json(["migrate"]) as? [String: [Int]] == ["applied": []])
        let completion = try await h.run(["--generate-completion-script", "bash"])
        #expect(completion.status == 0)
        #expect(completion.standardOutput.contains("twofold"))
        #expect(try await h.run(["users", "show", "bad\u{1}id"]).status == 2)
    }
}
