import Foundation
import Logging
import Testing
import TwofoldCore
import TwofoldTesting
@testable import TwofoldServer
import TwofoldHTTP

@Suite("Runtime: store, keys, first start")
struct RuntimeTests {
    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("twofold-runtime-\(UUID().uuidString)")
    }

    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("in development a master key is generated (0600) with a warning, then reused")
    func developmentKey() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = LogCapture()
        let configuration = try TwofoldConfiguration.load(file: nil, environment: ["TWOFOLD_DATA_DIR": directory.path])
        let runtime = try await TwofoldRuntime.open(configuration, logger: logs.logger(label: "runtime"), creating: true)
        try await runtime.close()
        let keyFile = directory.appendingPathComponent("master.key").path
        #expect(try Self.mode(keyFile) == 0o600)
        #expect(try Self.mode(directory.path) == 0o700)
        #expect(logs.lines.contains { $0.level == .warning && $0.message.contains("DEVELOPMENT master key") })
        let contents = try String(contentsOfFile: keyFile, encoding: .utf8)
        #expect(!logs.lines.contains { $0.text.contains(contents.split(separator: " ").last.map(String.init) ?? "?") })

        // A second start opens the same store with the same key.
        let again = try await TwofoldRuntime.open(configuration, logger: logs.logger(label: "runtime"))
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8) == contents)
        #expect(again.defaultApplication.name == "default")
        try await again.close()
    }

    @Test("production refuses an unreadable key file; a configured key file is used as is")
    func configuredKeys() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = TwofoldConfiguration(dataDirectory: directory.path)
        configuration.deployment = .production
        configuration.masterKeyFiles = [directory.appendingPathComponent("missing.key").path]
        let error = await #expect(throws: TwofoldError.self) {
            try await TwofoldRuntime.open(configuration, logger: Logger(label: "test"), creating: true)
        }
        #expect(error?.code == .configuration)

        let keyFile = directory.appendingPathComponent("prod.key").path
        try MasterKey.generate().fileContents.write(toFile: keyFile, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
        configuration.masterKeyFiles = [keyFile]
        let runtime = try await TwofoldRuntime.open(configuration, logger: Logger(label: "test"), creating: true)
        try await runtime.close()
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("master.key").path))
    }

    @Test("the first start writes an API key with every scope to a 0600 file, once")
    func initialAPIKey() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = LogCapture()
        let configuration = TwofoldConfiguration(dataDirectory: directory.path)
        let runtime = try await TwofoldRuntime.open(configuration, logger: logs.logger(label: "runtime"), creating: true)
        let path = try #require(try await runtime.ensureInitialAPIKey())
        #expect(path == directory.appendingPathComponent("initial-api-key").path)
        #expect(try Self.mode(path) == 0o600)
        let token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try #require(try await runtime.services.apiKeys.authenticate(token: token))
        #expect(key.scopes == Set(APIKeyScope.allCases))
        #expect(key.applicationID == runtime.defaultApplication.id)
        #expect(!logs.lines.contains { $0.text.contains(token) || $0.text.contains(String(token.suffix(52))) })
        #expect(logs.lines.contains { $0.message.contains("initial API key") && $0.metadata["file"] == path })
        #expect(try await runtime.ensureInitialAPIKey() == nil)
        try await runtime.close()
    }
}
