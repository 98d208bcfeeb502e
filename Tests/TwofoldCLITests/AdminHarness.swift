import Foundation
import Testing
import TwofoldTesting

/// A Twofold deployment for admin-command tests: a store (a SQLite file, or a fresh database on
/// the test PostgreSQL server), a master key, the `twofold` binary run with that configuration,
/// and a real `twofold serve` to see each command's effect through the HTTP API.
final class AdminHarness: @unchecked Sendable {
    enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    static let postgres = ExternalTool(
        name: "PostgreSQL (TWOFOLD_TEST_POSTGRES_URL)", installHint: "provisioning/postgres/start-throwaway.sh",
        probe: { ProcessInfo.processInfo.environment["TWOFOLD_TEST_POSTGRES_URL"] != nil })
    static let curl = ExternalTool.command("curl", installHint: "apt-get install curl")

    let directory: URL
    private(set) var environment: [String: String]
    private(set) var port: Int
    private var server: SpawnedProcess?
    /// The PostgreSQL database made for this deployment and the server it is on, dropped at the end.
    private var database: (server: String, name: String)?

    init(_ backend: Backend) async throws {
        try Self.curl.require()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try Self.freePort()
        let key = directory.appendingPathComponent("master.key").path
        environment = [
            "TWOFOLD_ENV": "production",
            "TWOFOLD_DATA_DIR": directory.path,
            "TWOFOLD_MASTER_KEY_FILE": key,
            "TWOFOLD_LISTEN": "127.0.0.1:\(port)",
            "TWOFOLD_LOG_LEVEL": "warning",
        ]
        switch backend {
        case .sqlite:
            environment["TWOFOLD_STORE"] = "sqlite:" + directory.appendingPathComponent("twofold.sqlite").path
        case .postgres:
            try Self.postgres.require()
            let base = ProcessInfo.processInfo.environment["TWOFOLD_TEST_POSTGRES_URL"]!
            let name = "admin_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let created = try await ExternalProcess.run("psql", [base, "-q", "-c", "CREATE DATABASE \(name) TEMPLATE template0"])
            guard created.status == 0 else { throw HarnessError("cannot create database: \(created.standardError)") }
            environment["TWOFOLD_STORE"] = Self.url(base, database: String(name))
            database = (base, String(name))
        }
        let generated = try await run(["keys", "generate", key])
        guard generated.status == 0 else { throw HarnessError("keys generate failed: \(generated.standardError)") }
        // Admin commands never create a store: `migrate` does, as an operator would.
        let migrated = try await run(["migrate"])
        guard migrated.status == 0 else { throw HarnessError("migrate failed: \(migrated.standardError)") }
    }

    /// `url` with its database (the path) replaced, its query kept.
    static func url(_ url: String, database: String) -> String {
        let query = url.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        let withoutQuery = url.firstIndex(of: "?").map { String(url[..<$0]) } ?? url
        guard let slash = withoutQuery.lastIndex(of: "/") else { return url }
        return withoutQuery[..<slash] + "/" + database + query
    }

    deinit {
        if let server, server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
        if let database {
            _ = try? ExternalProcess.runBlocking("psql", [database.server, "-q", "-c", "DROP DATABASE IF EXISTS \(database.name) WITH (FORCE)"])
        }
    }

    /// Runs `twofold ARGUMENTS` with this deployment's configuration.
    @discardableResult
    func run(_ arguments: [String], input: String = "", extra: [String: String] = [:]) async throws -> ExternalProcess.Result {
        try await ExternalProcess.run(TwofoldBinary.path, arguments, input: Data(input.utf8), environment: environment.merging(extra) { $1 })
    }

    /// Runs a command that must succeed with `--json`, and decodes its output.
    func json(_ arguments: [String]) async throws -> Any {
        let result = try await run(arguments + ["--json"])
        guard result.status == 0 else { throw HarnessError("\(arguments) exited \(result.status): \(result.standardError)") }
        return try JSONSerialization.jsonObject(with: result.stdout)
    }

    func useKey(file: String) {
        environment["TWOFOLD_MASTER_KEY_FILE"] = file
    }

    // MARK: The server

    /// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's choice).
    static func freePort() throws -> Int {
        let (descriptor, port) = try LoopbackSocket.bound()
        close(descriptor)
        return port
    }

    func startServer() async throws {
        for attempt in 1...3 {
            do {
                try await startServerOnce()
                return
            } catch {
                // Another process took the port between our choice and the server's bind.
                guard attempt < 3 else { throw error }
                port = try Self.freePort()
                environment["TWOFOLD_LISTEN"] = "127.0.0.1:\(port)"
            }
        }
    }

    private func startServerOnce() async throws {
        await stopServer()
        let log = directory.appendingPathComponent("server.log")
        try Data().write(to: log)
        let process = try SpawnedProcess(TwofoldBinary.path, arguments: ["serve"],
                                         environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                         output: "/dev/null", error: log.path)
        server = process
        for _ in 0..<200 {
            if let (status, _) = try? await http("GET", "/readyz"), status == 200 { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let written = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw HarnessError("twofold serve did not become ready: \(written)")
    }

    func stopServer() async {
        guard let server, server.isRunning else { return }
        server.terminate()
        await server.exited()
        self.server = nil
    }

    /// One HTTP request to the server; returns the status and the decoded JSON body (if any).
    func http(_ method: String, _ path: String, body: Any? = nil, token: String? = nil) async throws -> (Int, Any?) {
        var arguments = ["-s", "-S", "-o", "-", "-w", "\n%{http_code}", "-X", method, "http://127.0.0.1:\(port)\(path)"]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        if let body {
            arguments += ["-H", "Content-Type: application/json", "--data-binary",
                          String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)]
        }
        let result = try await ExternalProcess.run("curl", arguments)
        guard result.status == 0 else { throw HarnessError("curl failed: \(result.standardError)") }
        var lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.removeLast()) ?? 0
        let text = lines.joined(separator: "\n")
        return (status, text.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(text.utf8)))
    }

    /// Creates an API key with all scopes through the CLI and returns its token.
    func adminToken(app: String = "default") async throws -> String {
        let created = try await json(["apikey", "create", "--app", app, "--scopes", "verify,enroll,admin"]) as? [String: Any]
        guard let token = created?["key"] as? String else { throw HarnessError("no key in apikey create output") }
        return token
    }

    /// Audit events, newest first, as JSON objects.
    func auditEvents(user: String? = nil) async throws -> [[String: Any]] {
        var arguments = ["audit", "tail", "--limit", "1000"]
        if let user { arguments += ["--user", user] }
        let object = try await json(arguments) as? [String: Any]
        return (object?["events"] as? [[String: Any]]) ?? []
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
