import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TwofoldCore
import TwofoldTesting
@testable import TwofoldServer

@Suite("What the server logs as it starts")
struct ServeLogTests {
    @Test("a started server announces itself in one JSON line, with the bound port as a number")
    func oneListeningLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-serve-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = TwofoldConfiguration(dataDirectory: directory.path)
        let written = LockedLines()
        var logger = Logger(label: "twofold") { label in LineLogHandler(label: label, format: .json, write: { written.append($0) }) }
        logger.logLevel = .info
        let runtime = try await TwofoldRuntime.open(configuration, logger: Logger(label: "test"), creating: true)
        do {
            let application = try buildApplication(runtime: runtime, logger: logger)
            try await application.test(.live) { client in
                let response = try await client.execute(uri: "/healthz", method: .get)
                #expect(response.status == .ok)
            }
        } catch {
            try? await runtime.close()
            throw error
        }
        try await runtime.close()
        let objects = try written.lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let announcements = objects.filter { ($0["message"] as? String)?.localizedCaseInsensitiveContains("listening") == true }
        #expect(announcements.count == 1, "\(written.lines)")
        #expect(announcements.first?["message"] as? String == "listening")
        #expect((announcements.first?["port"] as? Int ?? 0) > 0)
        // The requests are still logged through the same logger.
        #expect(objects.contains { $0["message"] as? String == "request" && $0["status"] as? Int == 200 })
    }
}
