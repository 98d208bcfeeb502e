import Foundation
import Testing
import TwofoldTesting

/// What `twofold serve` and the admin commands write besides their answers, through the real
/// binary: JSON lines when asked, one announcement of each thing, no client noise in the CLI.
@Suite("log lines of serve and the admin commands")
struct LogFormatTests {
    /// Each line of `text` as a JSON object, or nil when one is not.
    static func objects(_ text: String) -> [[String: Any]]? {
        var objects: [[String: Any]] = []
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            objects.append(object)
        }
        return objects
    }

    @Test("with TWOFOLD_LOG_FORMAT=json every line serve writes is a JSON object: banner included, numbers as numbers, one listening line, one development-key warning")
    func jsonServe() async throws {
        let sandbox = try Sandbox()
        let port = try AdminHarness.freePort()
        let server = try await sandbox.serve(["TWOFOLD_LOG_FORMAT": "json", "TWOFOLD_LISTEN": "127.0.0.1:\(port)", "TWOFOLD_LISTNE": "x"])
        let result = try await server.stop()
        #expect(result.status == 0)
        let lines = try #require(Self.objects(result.standardOutput + result.standardError),
                                 "not all JSON: \(result.standardOutput)\(result.standardError)")
        let messages = lines.compactMap { $0["message"] as? String }
        #expect(messages.filter { $0.contains("DEVELOPMENT master key") }.count == 1)
        #expect(messages.contains { $0.contains("did you mean TWOFOLD_LISTEN?") })
        let banner = lines.first { ($0["message"] as? String)?.contains("Authorization: Bearer") == true }
        #expect(banner?["file"] as? String == "./data/initial-api-key")
        let listening = lines.filter { ($0["message"] as? String)?.contains("listening") == true }
        #expect(listening.count == 1)
        #expect(listening.first?["port"] as? Int == port)
        #expect(listening.first?["address"] as? String == "http://127.0.0.1:\(port)")
        let opened = lines.first { $0["message"] as? String == "store open" }
        #expect(opened?["master_keys"] as? Int == 1)

        // A start that fails is one JSON line too, and the process exits 2.
        let failed = try await sandbox.run(["serve"], environment: ["TWOFOLD_LOG_FORMAT": "json", "TWOFOLD_LISTEN": "127.0.0.1:\(port)",
                                                              "TWOFOLD_TLS_CERT": sandbox.path("none.pem"), "TWOFOLD_TLS_KEY": sandbox.path("none.key")])
        #expect(failed.status == 2)
        let failure = try #require(Self.objects(failed.standardOutput + failed.standardError), "\(failed.standardError)")
        #expect(failure.count == 1)
        #expect(failure.first?["level"] as? String == "critical")
        #expect((failure.first?["message"] as? String)?.contains("TWOFOLD_TLS_CERT") == true)
        #expect(failure.first?["exit_status"] as? Int == 2)

        // So is a refused setting, when the format itself was understood.
        let refused = try await sandbox.run(["serve"], environment: ["TWOFOLD_LOG_FORMAT": "json", "TWOFOLD_LISTEN": "nowhere"])
        #expect(refused.status == 2)
        #expect(Self.objects(refused.standardError)?.first?["message"] as? String != nil)
    }

    @Test("an admin command warns once about the development key, in the server's log format")
    func developmentKeyWarning() async throws {
        let sandbox = try Sandbox()
        try await sandbox.createStoreByServing()
        let text = try await sandbox.run(["apps", "list"])
        #expect(text.status == 0)
        let warnings = text.errorLines.filter { $0.contains("DEVELOPMENT master key") }
        #expect(warnings.count == 1)
        // LineLogHandler's text: a UTC time with milliseconds, the level, the label.
        #expect(warnings.first?.firstMatch(of: #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warning twofold\.cli: /#) != nil, "\(warnings)")

        let json = try await sandbox.run(["apps", "list"], environment: ["TWOFOLD_LOG_FORMAT": "json"])
        #expect(json.status == 0)
        let lines = try #require(Self.objects(json.standardError), "\(json.standardError)")
        #expect(lines.count == 1)
        #expect(lines.first?["level"] as? String == "warning")
    }

    @Test("the PostgreSQL client's lines below warning stay out of an admin command's output")
    func postgresNoise() async throws {
        try AdminHarness.postgres.require()
        let base = ProcessInfo.processInfo.environment["TWOFOLD_TEST_POSTGRES_URL"]!
        let name = "cli_log_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let created = try await ExternalProcess.run("psql", [base, "-q", "-c", "CREATE DATABASE \(name) TEMPLATE template0"])
        try #require(created.status == 0, "\(created.standardError)")
        defer { _ = try? ExternalProcess.runBlocking("psql", [base, "-q", "-c", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"]) }
        let sandbox = try Sandbox()
        let key = sandbox.path("master.key")
        #expect(try await sandbox.run(["keys", "generate", key]).status == 0)
        let environment = ["TWOFOLD_STORE": AdminHarness.url(base, database: String(name)), "TWOFOLD_MASTER_KEY_FILE": key,
                           "TWOFOLD_ENV": "production", "TWOFOLD_LOG_LEVEL": "trace"]
        try await sandbox.createStoreByServing(environment)
        let listed = try await sandbox.run(["apps", "list"], environment: environment)
        #expect(listed.status == 0)
        #expect(listed.standardOutput.contains("default"))
        // TWOFOLD_LOG_LEVEL=trace: the server's level, not a reason for the CLI to print the
        // client's connection lines around its answer.
        let levels = listed.errorLines.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? "" }
        #expect(levels.allSatisfy { ["warning", "error", "critical"].contains($0) }, "\(listed.standardError)")
        #expect(!listed.standardError.contains(" info ") && !listed.standardError.contains(" debug ")
            && !listed.standardError.contains(" trace "))
    }
}
