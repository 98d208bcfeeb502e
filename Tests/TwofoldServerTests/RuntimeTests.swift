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

        // A second start opens the same store with the same key.
        let again = try await TwofoldRuntime.open(configuration, logger: logs.logger(label: "runtime"))
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8) == contents)
        #expect(again.defaultApplication.name == "default")
        try await again.close()
        // Neither start logged the key, in any form.
        let leaks = try Self.masterKeyLeaks(keyFileContents: contents, in: logs)
        #expect(leaks.isEmpty, "the master key was logged as \(leaks)")
    }

    /// The forms of the key in `contents` (a key file) that appear in `logs`: the file's line and
    /// its base64 without the newline, the 32 bytes in any other encoding (hex, base64url, Base32,
    /// raw, a byte list), and any 16-character run of its base64 or hex (a key cut short).
    static func masterKeyLeaks(keyFileContents contents: String, in logs: LogCapture) throws -> [String] {
        let line = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = line.split(separator: " ")
        try #require(parts.count == 2 && parts[0] == "twofold-master-key-v1", "not a key file: \(contents)")
        let encoded = String(parts[1])
        let bytes = try #require(Data(base64Encoded: encoded).map { Array($0) })
        try #require(bytes.count == 32)
        let text = logs.lines.map(\.text).joined(separator: "\n")
        var leaks = SecretForms.found(bytes, in: Array(text.utf8))
        if text.contains(line) { leaks.append("the key file's line") }
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        for (name, form) in [("base64", encoded), ("hex", hex), ("HEX", hex.uppercased())] {
            let characters = Array(form)
            for start in 0...(characters.count - 16) where text.contains(String(characters[start..<(start + 16)])) {
                leaks.append("16 characters of its \(name) from offset \(start)")
                break
            }
        }
        return leaks
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
        let contents = MasterKey.generate().fileContents
        try contents.write(toFile: keyFile, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
        configuration.masterKeyFiles = [keyFile]
        let logs = LogCapture()
        let runtime = try await TwofoldRuntime.open(configuration, logger: logs.logger(label: "runtime"), creating: true)
        try await runtime.close()
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("master.key").path))
        let leaks = try Self.masterKeyLeaks(keyFileContents: contents, in: logs)
        #expect(leaks.isEmpty, "the master key was logged as \(leaks)")
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
