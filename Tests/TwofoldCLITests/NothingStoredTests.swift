import Foundation
import Testing
import TwofoldTesting

/// Commands about a user the application holds nothing for (a typo in the id, the wrong
/// `--app`) say so and write nothing; `migrate` says what it applied.
@Suite("twofold: answers that tell the truth", .serialized)
struct NothingStoredTests {
    static let backends = AdminHarness.Backend.allCases

    /// The commands that act on one user and must find someone, with the user id `user`.
    static func userCommands(_ user: String) -> [[String]] {
        [["users", "show", user], ["factors", "list", user], ["factors", "reset", user, "--yes"], ["unlock", user], ["recovery-codes", user]]
    }

    @Test("show, factors list, reset, unlock and recovery-codes of a user with nothing stored exit 1 naming user and application, and write nothing",
          arguments: backends)
    func nothingStored(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        #expect(try await h.run(["migrate"]).status == 0)
        #expect(try await h.run(["apps", "create", "shop"]).status == 0)
        let before = try await h.auditEvents()
        for command in Self.userCommands("nobody") {
            for json in [false, true] {
                let result = try await h.run(command + (json ? ["--json"] : []))
                #expect(result.status == 1, "\(command) exited \(result.status): \(result.standardError)")
                #expect(result.standardError.contains("nothing is stored for user nobody in application default"), "\(command): \(result.standardError)")
                #expect(result.standardOutput.isEmpty, "\(command) printed \(result.standardOutput)")
            }
        }
        let other = try await h.run(["unlock", "nobody", "--app", "shop"])
        #expect(other.status == 1)
        #expect(other.standardError.contains("nothing is stored for user nobody in application shop"))
        // Nothing was written: no event (an unlock of a stranger used to audit one), no user
        // (recovery codes used to create a data key and ten codes).
        let after = try await h.auditEvents()
        #expect(after.count == before.count)
        #expect(!after.contains { $0["user_id"] as? String == "nobody" })
        #expect(try await h.json(["users", "list"]) as? [String: [String]] == ["users": []])
    }

    @Test("erasing a user with nothing stored succeeds, says nothing was stored and writes nothing", arguments: backends)
    func eraseOfNobody(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        #expect(try await h.run(["migrate"]).status == 0)
        #expect(try await h.run(["apps", "create", "shop"]).status == 0)
        let before = try await h.auditEvents()
        let erased = try await h.run(["users", "erase", "nobody", "--yes"])
        #expect(erased.status == 0)
        #expect(erased.standardOutput == "nothing was stored for user nobody in application default; nothing to erase\n")
        let json = try await h.json(["users", "erase", "nobody", "--yes", "--app", "shop"]) as? [String: Any]
        #expect(json?["user_id"] as? String == "nobody")
        #expect(json?["erased"] as? Bool == false)
        #expect(try await h.auditEvents().count == before.count)
    }

    @Test("a user with only a pending factor is someone; recovery codes refuse naming the missing active factor; after erasure nobody",
          arguments: backends)
    func pendingOnly(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        #expect(try await h.run(["migrate"]).status == 0)
        #expect(try await h.run(["apps", "create", "shop"]).status == 0)
        let enrolled = try await h.json(["enroll", "alice", "--no-activate"]) as? [String: Any]
        #expect(enrolled?["status"] as? String == "pending")
        #expect(try await h.run(["users", "show", "alice"]).status == 0)
        #expect(try await h.run(["factors", "list", "alice"]).status == 0)
        #expect(try await h.run(["unlock", "alice"]).status == 0)
        #expect(try await h.auditEvents(user: "alice").contains { $0["action"] as? String == "user.unlocked" })

        let refused = try await h.run(["recovery-codes", "alice"])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("user alice has no active factor in application default"), "\(refused.standardError)")
        #expect(refused.standardOutput.isEmpty)
        #expect(!(try await h.auditEvents(user: "alice")).contains { $0["action"] as? String == "recovery_codes.generated" })
        // The same id in another application is a stranger.
        #expect(try await h.run(["recovery-codes", "alice", "--app", "shop"]).standardError
            .contains("nothing is stored for user alice in application shop"))

        let erased = try await h.json(["users", "erase", "alice", "--yes"]) as? [String: Any]
        #expect(erased?["erased"] as? Bool == true)
        for command in Self.userCommands("alice") {
            let result = try await h.run(command)
            #expect(result.status == 1, "\(command) after erasure exited \(result.status)")
            #expect(result.standardError.contains("nothing is stored for user alice in application default"), "\(command): \(result.standardError)")
        }
        #expect(try await h.run(["users", "erase", "alice", "--yes"]).standardOutput.contains("nothing was stored for user alice"))
    }

    /// Runs `body` with the `TWOFOLD_STORE` of a store of `backend` that nothing has created or
    /// migrated yet (the harness migrates its own), removed afterwards.
    func withUnmigratedStore(_ h: AdminHarness, _ backend: AdminHarness.Backend, _ body: ([String: String]) async throws -> Void) async throws {
        switch backend {
        case .sqlite:
            try await body(["TWOFOLD_STORE": "sqlite:" + h.directory.appendingPathComponent("unmigrated-\(UUID().uuidString).sqlite").path])
        case .postgres:
            let base = try #require(ProcessInfo.processInfo.environment["TWOFOLD_TEST_POSTGRES_URL"])
            let name = "unmigrated_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let created = try await ExternalProcess.run("psql", [base, "-q", "-c", "CREATE DATABASE \(name) TEMPLATE template0"])
            try #require(created.status == 0, "\(created.standardError)")
            defer {
                let dropped = try? ExternalProcess.runBlocking("psql", [base, "-q", "-c", "DROP DATABASE \(name)"])
                #expect(dropped?.status == 0, "dropping \(name): \(dropped?.standardError ?? "psql did not run")")
            }
            try await body(["TWOFOLD_STORE": AdminHarness.url(base, database: String(name))])
        }
    }

    @Test("migrate says which migrations it applied, then that the store is already up to date", arguments: backends)
    func migrate(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        var listed = ""
        try await withUnmigratedStore(h, backend) { store in
            let first = try await h.run(["migrate"], extra: store)
            #expect(first.status == 0, "\(first.standardError)")
            listed = first.standardOutput.split(separator: "\n").first.map(String.init) ?? ""
            #expect(listed.hasPrefix("applied 1, 2, 3"), "\(listed)")
            let again = try await h.run(["migrate"], extra: store)
            #expect(again.status == 0)
            #expect(again.standardOutput == "already up to date\n")
            let json = try await h.run(["migrate", "--json"], extra: store)
            #expect(try JSONSerialization.jsonObject(with: json.stdout) as? [String: [Int]] == ["applied": []])
        }
        try await withUnmigratedStore(h, backend) { store in
            let json = try await h.run(["migrate", "--json"], extra: store)
            #expect(json.status == 0, "\(json.standardError)")
            let applied = try #require((try JSONSerialization.jsonObject(with: json.stdout) as? [String: [Int]])?["applied"])
            #expect(applied.count >= 3)
            #expect(applied == Array(1...max(applied.count, 1)))
            #expect(listed == "applied " + applied.map(String.init).joined(separator: ", "))
        }
    }
}
