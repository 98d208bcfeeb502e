import Foundation
import Testing
import TwofoldTesting

/// `twofold audit verify` against an audit log edited behind Twofold's back, with SQL on the
/// store itself, on both stores.
@Suite("twofold audit verify pinpoints an event edited with SQL, on SQLite and PostgreSQL")
struct AuditTamperTests {
    static let python = ExternalTool.command("python3", installHint: "apt-get install python3")

    @Test("an event's details changed in the database: verify exits 1 and names that event", arguments: AdminHarness.Backend.allCases)
    func editedDetails(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        #expect(try await h.run(["apps", "create", "shop"]).status == 0)
        #expect(try await h.run(["audit", "verify"]).status == 0)

        // The event recording the creation of "shop" now says "shoq".
        let id = try await Self.renameShopInAuditLog(h, backend)

        let broken = try await h.run(["audit", "verify"])
        #expect(broken.status == 1)
        #expect(broken.standardError.contains("the audit log does not verify: 1 problem\n"), "\(broken.standardError)")
        #expect(broken.standardOutput.contains("(event \(id)): the event's fields do not match its MAC"), "\(broken.standardOutput)")
        let report = try JSONSerialization.jsonObject(with: try await h.run(["audit", "verify", "--json"]).stdout) as? [String: Any]
        let problems = report?["problems"] as? [[String: Any]] ?? []
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?["kind"] as? String == "edited")
        #expect(problems.first?["event_id"] as? Int == id)
    }

    /// Edits the details of the `application.created` event of "shop" with SQL, as someone with
    /// the database's credentials but not the master key could; returns that event's id.
    static func renameShopInAuditLog(_ h: AdminHarness, _ backend: AdminHarness.Backend) async throws -> Int {
        let store = try #require(h.environment["TWOFOLD_STORE"])
        let output: String
        switch backend {
        case .sqlite:
            try python.require()
            let script = """
                import sqlite3, sys
                c = sqlite3.connect(sys.argv[1])
                (id,) = c.execute("SELECT id FROM audit_events WHERE action = 'application.created' AND details LIKE '%\\"shop\\"%'").fetchone()
                c.execute("UPDATE audit_events SET details = replace(details, '\\"shop\\"', '\\"shoq\\"') WHERE id = ?", (id,))
                c.commit()
                print(id)
                """
            let edited = try await ExternalProcess.run("python3", ["-c", script, String(store.dropFirst("sqlite:".count))])
            try #require(edited.status == 0, "\(edited.standardError)")
            output = edited.standardOutput
        case .postgres:
            let edited = try await ExternalProcess.run("psql", [store, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", """
                UPDATE audit_events SET details = replace(details, '"shop"', '"shoq"')
                WHERE action = 'application.created' AND details LIKE '%"shop"%' RETURNING id
                """])
            try #require(edited.status == 0, "\(edited.standardError)")
            output = edited.standardOutput
        }
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return try #require(lines.first.flatMap { Int($0) }, "no event id in \"\(output)\"")
    }
}
