import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TwofoldOTP
import TwofoldTesting
@testable import TwofoldServer

/// A node started from a configuration file as `twofold serve --config FILE` starts one: the
/// settings read by ``TwofoldConfiguration/load(file:environment:)`` (nothing from the test's
/// environment), the runtime opened for serving on a fresh SQLite store, the first API key
/// created, and the HTTP application built by ``buildApplication(runtime:logger:metrics:)``,
/// driven through its router. Only the services' clock is the test's: a fixed one.
struct ConfiguredNode: Sendable {
    let clock: FixedClock
    let runtime: TwofoldRuntime
    let client: any TestClientProtocol
    /// The initial API key, with every scope.
    let token: String

    /// The middle of a TOTP step (56 666 667 × 30 + 15), so that no request straddles two.
    static let start = Date(timeIntervalSince1970: 1_700_000_025)

    /// Runs `body` on a node configured by `settings` (`KEY=value` lines), then closes it and
    /// removes its folder. The data folder is the node's own; `settings` must not set it.
    static func with(settings: String, _ body: @escaping @Sendable (ConfiguredNode) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-settings-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("twofold.env")
        let text = settings + "\nTWOFOLD_DATA_DIR=" + directory.appendingPathComponent("data").path + "\n"
        try text.write(to: file, atomically: false, encoding: .utf8)
        let configuration = try TwofoldConfiguration.load(file: file.path, environment: [:])
        let clock = FixedClock(start)
        var logger = Logger(label: "twofold.test")
        logger.logLevel = .critical
        let runtime = try await TwofoldRuntime.open(configuration, logger: logger, serving: true, creating: true, clock: clock)
        do {
            let keyFile = try #require(try await runtime.ensureInitialAPIKey())
            let token = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let application = try buildApplication(runtime: runtime, logger: logger)
            try await application.test(.router) { client in
                try await body(ConfiguredNode(clock: clock, runtime: runtime, client: client, token: token))
            }
        } catch {
            try? await runtime.close()
            throw error
        }
        try await runtime.close()
    }

    /// An answer of the API.
    struct Answer: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let text: String

        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:] }
        /// `allow` or `deny`, for a verification.
        var result: String? { json["result"] as? String }
        /// Why a verification was denied.
        var reason: String? { json["reason"] as? String }
        /// The machine code of an error answer.
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    func send(_ method: HTTPRequest.Method, _ path: String, json: String? = nil) async throws -> Answer {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if json != nil { headers[.contentType] = "application/json" }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
        return Answer(status: response.status, headers: response.headers, text: String(buffer: response.body))
    }

    var unixNow: UInt64 { UInt64(clock.now().timeIntervalSince1970) }

    /// `POST /v1/users/{user}/verify`.
    func verify(_ user: String, _ code: String) async throws -> Answer {
        try await send(.post, "/v1/users/\(user)/verify", json: #"{"code": "\#(code)"}"#)
    }

    /// Enrolls a TOTP factor for `user` and activates it with the code of the current step
    /// (which that consumes); returns the device.
    func enrollTOTP(_ user: String) async throws -> TOTP {
        let enrolled = try await send(.post, "/v1/users/\(user)/factors", json: #"{"type": "totp"}"#)
        try #require(enrolled.status == .created, "\(enrolled.text)")
        let factorID = try #require((enrolled.json["factor"] as? [String: Any])?["id"] as? String)
        let totp = try OTPAuthURI(parsing: try #require(enrolled.json["otpauth_uri"] as? String)).makeTOTP()
        let code = try totp.code(at: unixNow)
        let activated = try await send(.post, "/v1/users/\(user)/factors/\(factorID)/activate", json: #"{"code": "\#(code)"}"#)
        try #require(activated.status == .ok, "\(activated.text)")
        return totp
    }

    /// Enrolls an HOTP factor for `user` and activates it with the code of counter 0; returns
    /// the factor's id and the device.
    func enrollHOTP(_ user: String) async throws -> (factorID: String, hotp: HOTP) {
        let enrolled = try await send(.post, "/v1/users/\(user)/factors", json: #"{"type": "hotp"}"#)
        try #require(enrolled.status == .created, "\(enrolled.text)")
        let factorID = try #require((enrolled.json["factor"] as? [String: Any])?["id"] as? String)
        let hotp = try OTPAuthURI(parsing: try #require(enrolled.json["otpauth_uri"] as? String)).makeHOTP()
        let activated = try await send(.post, "/v1/users/\(user)/factors/\(factorID)/activate",
                                       json: #"{"code": "\#(hotp.code(counter: 0))"}"#)
        try #require(activated.status == .ok, "\(activated.text)")
        return (factorID, hotp)
    }

    /// A code that matches no step within ten of the current one.
    func wrongCode(_ totp: TOTP) throws -> String {
        let step = try totp.step(at: unixNow)
        let near = Set((step - 10...step + 10).map { totp.code(step: $0) })
        return (0..<1_000_000).lazy.map { String(format: "%06d", $0) }.first { !near.contains($0) }!
    }
}
