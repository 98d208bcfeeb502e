import Foundation
import Testing
import TwofoldTesting

/// `twofold audit`: the order of GET /v1/audit, tables that say when they are empty and stay
/// aligned as events arrive, counts in English.
@Suite("twofold audit tail, verify and purge: order, tables, counts", .serialized)
struct AuditTailTests {
    @Test("tail lists newest first, as the API does; the table's first row is the newest event")
    func newestFirst() async throws {
        let h = try await AdminHarness(.sqlite)
        #expect(try await h.run(["migrate"]).status == 0)
        for name in ["shop", "blog"] { #expect(try await h.run(["apps", "create", name]).status == 0) }
        let page = try await h.json(["audit", "tail"]) as? [String: Any]
        let events = (page?["events"] as? [[String: Any]]) ?? []
        let ids = events.compactMap { $0["id"] as? String }
        #expect(ids.count >= 3)
        #expect(ids.allSatisfy { $0.hasPrefix("evt_") } && Set(ids).count == ids.count)
        let times = events.compactMap { $0["time"] as? String }
        #expect(times == times.sorted(by: >), "newest first")
        #expect(page?["next"] is NSNull)
        let table = try await h.run(["audit", "tail"]).standardOutput.split(separator: "\n")
        #expect(table.first?.hasPrefix("TIME") == true)
        #expect(table.dropFirst().first?.contains("blog") == true, "\(table)")
        // A page at a time: --before takes the `next` of the page before.
        let first = try await h.json(["audit", "tail", "--limit", "2"]) as? [String: Any]
        let next = try #require(first?["next"] as? String)
        let second = try await h.json(["audit", "tail", "--limit", "2", "--before", next]) as? [String: Any]
        let paged = [first, second].flatMap { ($0?["events"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? [] }
        #expect(paged == Array(ids.prefix(4)))
        // --app alone keeps one application's events.
        let shop = try await h.json(["audit", "tail", "--app", "shop"]) as? [String: Any]
        #expect(((shop?["events"] as? [[String: Any]]) ?? []).map { $0["action"] as? String } == ["application.created"])
    }

    @Test("an empty listing says so: no events, not a bare header; --json is an empty page")
    func empty() async throws {
        let h = try await AdminHarness(.sqlite)
        #expect(try await h.run(["migrate"]).status == 0)
        let table = try await h.run(["audit", "tail", "--user", "nobody"])
        #expect(table.status == 0)
        #expect(table.standardOutput == "no events\n")
        let json = try await h.run(["audit", "tail", "--user", "nobody", "--json"])
        #expect(json.standardOutput == #"{"events":[],"next":null}"# + "\n")
    }

    @Test("--before is an event id, and pages back: it cannot follow", arguments: [
        ["--before", "0"], ["--before", "-4"], ["--before", "x"], ["--before", "5", "--follow"],
        ["--before", "evt_" + String(repeating: "a", count: 58), "--follow"],
    ])
    func badBefore(arguments: [String]) async throws {
        let h = try await AdminHarness(.sqlite)
        let result = try await h.run(["audit", "tail"] + arguments)
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.standardError.contains("--before"), "\(result.standardError)")
    }

    @Test("--follow prints oldest first, then new events aligned under the header; a wider cell is never cut")
    func followAligned() async throws {
        let h = try await AdminHarness(.sqlite)
        #expect(try await h.run(["migrate"]).status == 0)
        #expect(try await h.run(["apps", "create", "shop"]).status == 0)
        let long = "an-application-name-wider-than-its-column"
        let lines = try await following(h, ["audit", "tail", "--follow"], until: long) { () async throws -> Void in
            #expect(try await h.run(["apikey", "create", "--app", "shop", "--scopes", "verify"]).status == 0)
            #expect(try await h.run(["apps", "create", "b"]).status == 0)
            try await Task.sleep(for: .seconds(1.2))
            #expect(try await h.run(["apps", "create", long]).status == 0)
        }
        let header = try #require(lines.first)
        #expect(header.hasPrefix("TIME"))
        let rows = Array(lines.dropFirst())
        #expect(rows.dropLast().map { Self.cell($0, header: header, "ACTION") } == [
            "application.created", "application.created", "api_key.created", "application.created",
        ], "\(lines.joined(separator: "\n"))")
        #expect(rows.count == 5 && rows[4].contains("  application.created  "))
        // Applications created while following are shown by name, and in full.
        #expect(rows.dropFirst(3).map { Self.cell($0, header: header, "APPLICATION") } == ["b", long])
        for title in ["APPLICATION", "USER", "ACTION", "OUTCOME", "ACTOR"] {
            let offset = try #require(header.range(of: title)).lowerBound.utf16Offset(in: header)
            for row in rows.dropLast() {
                // Each cell starts where its title does, after the two spaces that end the cell before.
                let characters = Array(row)
                #expect(characters.count > offset && characters[offset] != " " && String(characters[..<offset]).hasSuffix("  "),
                        "\(title) misaligned:\n\(lines.joined(separator: "\n"))")
            }
        }
    }

    @Test("--follow --json prints JSON Lines, oldest first, each event in the API's shape")
    func followJSONLines() async throws {
        let h = try await AdminHarness(.sqlite)
        #expect(try await h.run(["migrate"]).status == 0)
        let lines = try await following(h, ["audit", "tail", "--follow", "--json"], until: #""name":"shop""#) { () async throws -> Void in
            #expect(try await h.run(["apps", "create", "shop"]).status == 0)
        }
        let events = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(events.count >= 2)
        let times = events.compactMap { $0["time"] as? String }
        #expect(times == times.sorted(), "oldest first")
        #expect(events.allSatisfy { ($0["id"] as? String)?.hasPrefix("evt_") == true })
        #expect(events.last?["action"] as? String == "application.created")
        #expect((events.last?["details"] as? [String: Any])?["name"] as? String == "shop")
        for event in events {
            #expect(Set(event.keys) == ["id", "time", "application_id", "user_id", "user_ref", "actor", "action", "outcome", "reason", "factor_id", "details"])
        }
    }

    @Test("counts read as English: 1 event, 2 events, 1 problem")
    func counts() async throws {
        let h = try await AdminHarness(.sqlite)
        #expect(try await h.run(["migrate"]).status == 0)
        // A new store holds one event: the default application's creation.
        #expect(try await h.run(["audit", "verify"]).standardOutput.hasPrefix("audit log intact: 1 event in 1 chain verified\n"))
        #expect(try await h.run(["apps", "create", "shop"]).status == 0)
        let report = try await h.json(["audit", "verify"]) as? [String: Any]
        #expect(report?["events_checked"] as? Int == 2)
        let chains = try #require(report?["shards_checked"] as? Int)
        #expect(try await h.run(["audit", "verify"]).standardOutput
                .hasPrefix("audit log intact: 2 events in \(chains) chain\(chains == 1 ? "" : "s") verified\n"))
        #expect(try await h.run(["audit", "purge", "--older-than", "90d", "--yes"]).standardOutput == "deleted 0 audit events older than 90d\n")

        let database = h.directory.appendingPathComponent("twofold.sqlite").path
        let edit = try await ExternalProcess.run("python3", ["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_events SET outcome='failure' WHERE action='application.created' AND actor='system'\"); c.commit()", database])
        #expect(edit.status == 0)
        let broken = try await h.run(["audit", "verify"])
        #expect(broken.status == 1)
        #expect(broken.standardError.contains("the audit log does not verify: 1 problem\n"), "\(broken.standardError)")
        let problems = try JSONSerialization.jsonObject(with: try await h.run(["audit", "verify", "--json"]).stdout) as? [String: Any]
        let problem = (problems?["problems"] as? [[String: Any]])?.first
        #expect(problem?["kind"] as? String == "edited")
        #expect(problem?["event_id"] is Int)
        #expect(Set(problem?.keys.map { $0 } ?? []) == ["kind", "shard", "sequence", "event_id", "message"])
    }

    /// Runs `arguments` (an `audit tail --follow`) while `act` runs, until its output holds `last`
    /// (or 10 s pass), then interrupts it; its lines of output.
    func following(_ h: AdminHarness, _ arguments: [String], until last: String, act: () async throws -> Void) async throws -> [String] {
        let output = h.directory.appendingPathComponent("follow-\(UUID().uuidString).out")
        try Data().write(to: output)
        let process = try SpawnedProcess(TwofoldBinary.path, arguments: arguments,
                                         environment: ProcessInfo.processInfo.environment.merging(h.environment) { $1 },
                                         output: output.path, error: "/dev/null")
        // The first events are printed before the first poll; new ones within a second or so.
        try await Task.sleep(for: .seconds(1.5))
        try await act()
        let deadline = Date().addingTimeInterval(10)
        var text = ""
        repeat {
            try await Task.sleep(for: .milliseconds(500))
            text = try String(contentsOf: output, encoding: .utf8)
        } while Date() < deadline && !text.contains(last)
        if process.isRunning { process.interrupt() }
        await process.exited()
        return text.split(separator: "\n").map(String.init)
    }

    /// The cell of `row` under `title`: from the title's column to the next two spaces.
    static func cell(_ row: String, header: String, _ title: String) -> String {
        guard let start = header.range(of: title)?.lowerBound.utf16Offset(in: header), start < row.utf16.count else { return "" }
        let rest = row.dropFirst(start)
        return String(rest.range(of: "  ").map { rest[..<$0.lowerBound] } ?? rest)
    }
}
