import Foundation
import TwofoldTesting

/// Requests to a `twofold serve` on 127.0.0.1, one curl process each.
struct LoopbackHTTP: Sendable {
    static let curl = ExternalTool.command("curl", installHint: "apt-get install curl")

    let port: Int
    /// The API key sent as `Authorization: Bearer`, if any.
    let token: String?

    struct Reply {
        let status: Int
        let text: String

        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:] }
    }

    /// One request; `json` is sent as the body.
    func send(_ method: String, _ path: String, json: String? = nil) async throws -> Reply {
        var arguments = ["-s", "-S", "-o", "-", "-w", "\n%{http_code}", "-X", method, "http://127.0.0.1:\(port)\(path)"]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
        let result = try await ExternalProcess.run("curl", arguments)
        guard result.status == 0 else { throw HarnessError("curl \(method) \(path) failed: \(result.standardError)") }
        var lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.removeLast()) ?? 0
        return Reply(status: status, text: lines.joined(separator: "\n"))
    }
}
