import Foundation
import Testing
import TwofoldTesting

/// `twofold audit verify` keeps an anchor outside the database and fails once the database is
/// rolled back past it: restored from a complete, genuine older copy, on both stores.
@Suite("twofold audit verify detects a database rolled back past its anchor, on SQLite and PostgreSQL")
struct AuditAnchorCommandTests {
    static let python = ExternalTool.command("python3", installHint: "apt-get install python3")

    @Test("verify writes its anchor (0600); a restored backup then fails with rolled_back and leaves the anchor as it was",
          arguments: AdminHarness.Backend.allCases)
    func restoredBackup(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let anchor = h.directory.appendingPathComponent("audit-anchor.json").path
        #expect(try await h.run(["apps", "create", "shop"]).status == 0)
        let first = try await h.run(["audit", "verify"])
        #expect(first.status == 0, "\(first.standardError)")
        #expect(first.standardOutput.contains("no anchor yet"), "\(first.standardOutput)")
        let attributes = try FileManager.default.attributesOfItem(atPath: anchor)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        try await Self.backUp(h, backend)
        #expect(try await h.run(["apps", "create", "billing"]).status == 0)
        #expect(try await h.run(["apikey", "create", "--app", "billing", "--scopes", "verify"]).status == 0)
        let second = try await h.json(["audit", "verify"]) as? [String: Any]
        #expect(second?["intact"] as? Bool == true)
        let report = try #require(second?["anchor"] as? [String: Any])
        #expect(report["file"] as? String == anchor)
        #expect(report["compared_with"] is String)
        #expect(report["updated"] as? Bool == true)
        let good = try Data(contentsOf: URL(fileURLWithPath: anchor))

        try await Self.restore(h, backend)
        let rolledBack = try await h.run(["audit", "verify"])
        #expect(rolledBack.status == 1)
        #expect(rolledBack.standardOutput.contains("rolled_back: shard 0: its head is at sequence"), "\(rolledBack.standardOutput)")
        #expect(rolledBack.standardError.contains("the audit log does not verify"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: anchor)) == good, "a failed verification must not move the anchor on")
        let json = try JSONSerialization.jsonObject(with: try await h.run(["audit", "verify", "--json"]).stdout) as? [String: Any]
        let kinds = (json?["problems"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(!kinds.isEmpty && kinds.allSatisfy { $0 == "rolled_back" }, "\(kinds)")
    }

    @Test("an edited anchor is refused with exit 1 and left as it is; --anchor names another file")
    func editedAnchor() async throws {
        let h = try await AdminHarness(.sqlite)
        let elsewhere = h.directory.appendingPathComponent("kept-elsewhere.json").path
        #expect(try await h.run(["audit", "verify", "--anchor", elsewhere]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: h.directory.appendingPathComponent("audit-anchor.json").path))
        let text = try String(contentsOfFile: elsewhere, encoding: .utf8)
        let edited = text.replacingOccurrences(of: #""verified_at_ms":"#, with: #""verified_at_ms":1"#)
        try edited.write(toFile: elsewhere, atomically: true, encoding: .utf8)
        let refused = try await h.run(["audit", "verify", "--anchor", elsewhere])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("the audit anchor was edited, or written by another deployment"), "\(refused.standardError)")
        #expect(try String(contentsOfFile: elsewhere, encoding: .utf8) == edited)
    }

    /// Copies the audit rows aside, as a backup of the database would hold them.
    static func backUp(_ h: AdminHarness, _ backend: AdminHarness.Backend) async throws {
        let store = try #require(h.environment["TWOFOLD_STORE"])
        switch backend {
        case .sqlite:
            let path = String(store.dropFirst("sqlite:".count))
            try FileManager.default.copyItem(atPath: path, toPath: path + ".backup")
        case .postgres:
            try await psql(store, """
                CREATE TABLE backup_events AS SELECT * FROM audit_events;
                CREATE TABLE backup_shards AS SELECT * FROM audit_shards;
                """)
        }
    }

    /// Puts the backup back, as someone with the database's credentials (not the key) could.
    static func restore(_ h: AdminHarness, _ backend: AdminHarness.Backend) async throws {
        let store = try #require(h.environment["TWOFOLD_STORE"])
        switch backend {
        case .sqlite:
            let path = String(store.dropFirst("sqlite:".count))
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: path + ".backup", toPath: path)
        case .postgres:
            try await psql(store, """
                DELETE FROM audit_events; INSERT INTO audit_events SELECT * FROM backup_events;
                DELETE FROM audit_shards; INSERT INTO audit_shards SELECT * FROM backup_shards;
                """)
        }
    }

    static func psql(_ url: String, _ sql: String) async throws {
        let result = try await ExternalProcess.run("psql", [url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        try #require(result.status == 0, "\(result.standardError)")
    }
}
