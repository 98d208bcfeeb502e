import Foundation
import Logging
import Testing
import TwofoldCore
import TwofoldTesting
@testable import TwofoldServer

/// What `TwofoldRuntime.open` and `checkServing` refuse, before anything is created, and what
/// they create only when asked to.
@Suite("Start-up checks")
struct StartupChecksTests {
    /// A logger for the runtime, quiet below warnings.
    static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }

    /// A folder that does not exist yet, removed by `body`'s end.
    static func withDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-startup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    static func contents(_ directory: URL) -> [String] {
        (FileManager.default.subpaths(atPath: directory.path) ?? []).sorted()
    }

    static func refusal(_ body: () async throws -> Void) async -> TwofoldError? {
        do {
            try await body()
            return nil
        } catch let error as TwofoldError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test("without creating, a missing SQLite store is refused naming TWOFOLD_STORE, and nothing is created")
    func missingStore() async throws {
        try await Self.withDirectory { directory in
            let configuration = try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_DATA_DIR": directory.path])
            let error = await Self.refusal { _ = try await TwofoldRuntime.open(configuration, logger: Self.logger) }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains("TWOFOLD_STORE") == true)
            #expect(error?.message.contains("TWOFOLD_CONFIG") == true)
            #expect(error?.message.contains(directory.appendingPathComponent("twofold.sqlite").path) == true)
            #expect(!FileManager.default.fileExists(atPath: directory.path))
        }
    }

    @Test("without creating, in development, a store whose development key is missing is refused and no key is generated")
    func missingKeyWithoutCreating() async throws {
        try await Self.withDirectory { directory in
            let configuration = try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_DATA_DIR": directory.path])
            try await TwofoldRuntime.open(configuration, logger: Self.logger, creating: true).close()
            let key = configuration.developmentMasterKeyFile
            try FileManager.default.removeItem(atPath: key)
            let error = await Self.refusal { _ = try await TwofoldRuntime.open(configuration, logger: Self.logger) }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains("TWOFOLD_MASTER_KEY_FILE") == true)
            #expect(!FileManager.default.fileExists(atPath: key))
        }
    }

    @Test("creating, an existing SQLite store holding secrets whose development key is missing is refused before a key is generated")
    func existingStoreMissingKey() async throws {
        try await Self.withDirectory { directory in
            let configuration = try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_DATA_DIR": directory.path])
            let first = try await TwofoldRuntime.open(configuration, logger: Self.logger, creating: true)
            let sealing = first.services.keyRotation.keyIDs[0]
            try await first.close()
            let key = configuration.developmentMasterKeyFile
            try FileManager.default.removeItem(atPath: key)
            let error = await Self.refusal {
                _ = try await TwofoldRuntime.open(configuration, logger: Self.logger, creating: true)
            }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains(sealing) == true)
            #expect(error?.message.contains("refusing to generate a new key") == true)
            #expect(!FileManager.default.fileExists(atPath: key))
        }
    }

    @Test("creating, a PostgreSQL database holding secrets whose development key is missing is refused before a key is generated")
    func existingPostgresStoreMissingKey() async throws {
        let tool = ExternalTool(name: "PostgreSQL (TWOFOLD_TEST_POSTGRES_URL)", installHint: "provisioning/postgres/start-throwaway.sh",
                                probe: { ProcessInfo.processInfo.environment["TWOFOLD_TEST_POSTGRES_URL"] != nil })
        try tool.require()
        let base = ProcessInfo.processInfo.environment["TWOFOLD_TEST_POSTGRES_URL"]!
        let name = "startup_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let created = try await ExternalProcess.run("psql", [base, "-q", "-c", "CREATE DATABASE \(name) TEMPLATE template0"])
        try #require(created.status == 0, "\(created.standardError)")
        defer { _ = try? ExternalProcess.runBlocking("psql", [base, "-q", "-c", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"]) }
        let url = try #require(base.lastIndex(of: "/").map { String(base[..<$0]) + "/" + name })
        try await Self.withDirectory { directory in
            let configuration = try TwofoldConfiguration.load(file: nil, environment: [
                "TWOFOLD_DATA_DIR": directory.path, "TWOFOLD_STORE": url,
            ])
            try await TwofoldRuntime.open(configuration, logger: Self.logger, creating: true).close()
            try FileManager.default.removeItem(atPath: configuration.developmentMasterKeyFile)
            let error = await Self.refusal {
                _ = try await TwofoldRuntime.open(configuration, logger: Self.logger, creating: true)
            }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains("refusing to generate a new key") == true)
            #expect(!FileManager.default.fileExists(atPath: configuration.developmentMasterKeyFile))
        }
    }

    @Test("a master key file other users can read is refused in production and warned about in development; group permissions pass")
    func keyFilePermissions() async throws {
        try await Self.withDirectory { directory in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let key = directory.appendingPathComponent("master.key").path
            try MasterKey.generate().fileContents.write(toFile: key, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o604], ofItemAtPath: key)
            var configuration = TwofoldConfiguration(dataDirectory: directory.path)
            configuration.masterKeyFiles = [key]
            configuration.deployment = .production
            let error = await Self.refusal {
                _ = try await TwofoldRuntime.open(configuration, logger: Self.logger, creating: true)
            }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains("TWOFOLD_MASTER_KEY_FILE") == true)
            #expect(error?.message.contains("mode 0604") == true)
            #expect(Self.contents(directory) == ["master.key"])

            configuration.deployment = .development
            let logs = LogCapture()
            try await TwofoldRuntime.open(configuration, logger: logs.logger(label: "test"), creating: true).close()
            #expect(logs.lines.filter { $0.level == .warning && $0.message.contains("readable by other users") }.count == 1)

            try FileManager.default.setAttributes([.posixPermissions: 0o440], ofItemAtPath: key)
            configuration.deployment = .production
            let quiet = LogCapture()
            try await TwofoldRuntime.open(configuration, logger: quiet.logger(label: "test")).close()
            #expect(!quiet.lines.contains { $0.level >= .warning })
        }
    }

    @Test("a TWOFOLD_DATA_DIR that is a file is refused naming it")
    func dataDirectoryIsAFile() async throws {
        try await Self.withDirectory { directory in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = directory.appendingPathComponent("file").path
            try "x".write(toFile: file, atomically: false, encoding: .utf8)
            for dataDirectory in [file, file + "/below"] {
                let configuration = try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_DATA_DIR": dataDirectory])
                let error = await Self.refusal {
                    _ = try await TwofoldRuntime.open(configuration, logger: Self.logger, creating: true)
                }
                #expect(error?.code == .configuration)
                #expect(error?.message.contains("TWOFOLD_DATA_DIR=\(dataDirectory)") == true)
            }
            #expect(Self.contents(directory) == ["file"])
        }
    }

    @Test("checkServing refuses an unresolvable host and a port in use, naming TWOFOLD_LISTEN")
    func listenAddress() throws {
        var configuration = TwofoldConfiguration()
        configuration.listen = .init(host: "no-such-host.invalid", port: 8080)
        let unresolvable = #expect(throws: TwofoldError.self) { try TwofoldRuntime.checkServing(configuration) }
        #expect(unresolvable?.message.contains("TWOFOLD_LISTEN=no-such-host.invalid:8080") == true)
        #expect(unresolvable?.message.contains("does not resolve") == true)

        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && Glibc.listen(descriptor, 1) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        try #require(bound)
        configuration.listen = .init(host: "127.0.0.1", port: Int(UInt16(bigEndian: address.sin_port)))
        let inUse = #expect(throws: TwofoldError.self) { try TwofoldRuntime.checkServing(configuration) }
        #expect(inUse?.message.contains("TWOFOLD_LISTEN=\(configuration.listen)") == true)
        #expect(inUse?.message.contains("already in use") == true)
    }
}
