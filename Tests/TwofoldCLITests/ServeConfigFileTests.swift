import Foundation
import Testing
import TwofoldOTP
import TwofoldTesting

/// `twofold serve --config FILE`, as provisioning/twofold.service runs it: the settings come
/// from the file alone (the sandbox's environment holds no `TWOFOLD_*` variable).
@Suite("twofold serve --config FILE, as the systemd unit runs it", .timeLimit(.minutes(2)))
struct ServeConfigFileTests {
    @Test("serves with the file's settings: its address, data folder, log format and lockout")
    func startsWithTheFile() async throws {
        try LoopbackHTTP.curl.require()
        let sandbox = try Sandbox()
        let port = try AdminHarness.freePort()
        let file = sandbox.path("twofold.env")
        try """
            # Settings as the unit's credentials file holds them.
            TWOFOLD_LISTEN=127.0.0.1:\(port)
            TWOFOLD_DATA_DIR=\(sandbox.path("state"))
            TWOFOLD_LOG_FORMAT=json
            TWOFOLD_LOCKOUT_FREE_FAILURES=0
            TWOFOLD_LOCKOUT_BASE_DELAY=42s

            """.write(toFile: file, atomically: false, encoding: .utf8)
        let server = try sandbox.start(["serve", "--config", file])
        try await server.waitForOutput("listening")

        // The store, its key and the first API key are in the file's data folder, not ./data.
        let contents = Set(sandbox.contents())
        #expect(contents.isSuperset(of: ["state/twofold.sqlite", "state/master.key", "state/initial-api-key"]), "\(contents)")
        #expect(!contents.contains("data"))
        let token = try String(contentsOfFile: sandbox.path("state/initial-api-key"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let http = LoopbackHTTP(port: port, token: token)
        #expect(try await http.send("GET", "/readyz").status == 200)

        let enrolled = try await http.send("POST", "/v1/users/alice/factors", json: #"{"type": "totp"}"#)
        try #require(enrolled.status == 201, "\(enrolled.text)")
        let factorID = try #require((enrolled.json["factor"] as? [String: Any])?["id"] as? String)
        let totp = try OTPAuthURI(parsing: try #require(enrolled.json["otpauth_uri"] as? String)).makeTOTP()
        func now() -> UInt64 { UInt64(Date().timeIntervalSince1970) }
        let code = try totp.code(at: now())
        let activated = try await http.send("POST", "/v1/users/alice/factors/\(factorID)/activate", json: #"{"code": "\#(code)"}"#)
        try #require(activated.status == 200, "\(activated.text)")

        // No free failure: the first wrong code locks for the file's 42 s. With the defaults
        // (5 free failures, 30 s) the right code would be accepted next.
        let step = try totp.step(at: now())
        let near = Set((step - 3...step + 3).map { totp.code(step: $0) })
        let wrong = try #require((0..<1000).lazy.map { String(format: "%06d", $0) }.first { !near.contains($0) })
        let refused = try await http.send("POST", "/v1/users/alice/verify", json: #"{"code": "\#(wrong)"}"#)
        #expect(refused.json["reason"] as? String == "invalid_code", "\(refused.text)")
        let next = try totp.code(at: now() + 30)
        let locked = try await http.send("POST", "/v1/users/alice/verify", json: #"{"code": "\#(next)"}"#)
        #expect(locked.json["reason"] as? String == "locked", "\(locked.text)")
        let retryAfter = try #require(locked.json["retry_after"] as? Int, "\(locked.text)")
        #expect((40...42).contains(retryAfter), "Retry-After \(retryAfter) is not the file's 42 s")

        let outcome = try await server.stop()
        #expect(outcome.status == 0, "\(outcome.standardError)")
        // TWOFOLD_LOG_FORMAT=json from the file: every line is a JSON object.
        #expect(!outcome.errorLines.isEmpty)
        for line in outcome.errorLines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not JSON: \(line)")
        }
    }

    /// A bad value in the file, and what the refusal must say.
    static let badFiles: [(lines: String, message: String)] = [
        ("TWOFOLD_TOTP_WINDOW=11", #"TWOFOLD_TOTP_WINDOW="11" is invalid: use a whole number from 0 to 10"#),
        ("TWOFOLD_HOTP_LOOK_AHEAD=20\nTWOFOLD_HOTP_RESYNC_WINDOW=10", "TWOFOLD_HOTP_RESYNC_WINDOW=10 is smaller than the look-ahead (20)"),
        ("TWOFOLD_LOCKOUT_FREE_FAILURES=-1", #"TWOFOLD_LOCKOUT_FREE_FAILURES="-1" is invalid"#),
        ("TWOFOLD_LOCKOUT_BASE_DELAY=1m\nTWOFOLD_LOCKOUT_MAX_DELAY=30s",
         "TWOFOLD_LOCKOUT_MAX_DELAY (30s) is shorter than TWOFOLD_LOCKOUT_BASE_DELAY (1m)"),
        ("TWOFOLD_SQLITE_SYNCHRONOUS=off", #"TWOFOLD_SQLITE_SYNCHRONOUS="off" is invalid: use full or normal"#),
        ("TWOFOLD_POSTGRES_POOL_SIZE=1", #"TWOFOLD_POSTGRES_POOL_SIZE="1" is invalid: use a whole number from 2 to 100"#),
        ("TWOFOLD_LOCKOUT_FREE_FAILURE=3", #"twofold.env:3: unknown setting "TWOFOLD_LOCKOUT_FREE_FAILURE""#),
    ]

    @Test("a bad setting in the file exits 2 naming it, before anything is created", arguments: badFiles)
    func badSetting(lines: String, message: String) async throws {
        let sandbox = try Sandbox()
        let file = sandbox.path("twofold.env")
        try """
            TWOFOLD_LISTEN=127.0.0.1:\(try AdminHarness.freePort())
            TWOFOLD_DATA_DIR=\(sandbox.path("state"))
            \(lines)

            """.write(toFile: file, atomically: false, encoding: .utf8)
        let result = try await sandbox.run(["serve", "--config", file])
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(!result.standardError.contains("Usage:"))
        #expect(sandbox.contents() == ["twofold.env"])
    }

    @Test("a configuration file that cannot be read exits 2 naming it")
    func missingFile() async throws {
        let sandbox = try Sandbox()
        let file = sandbox.path("missing.env")
        let result = try await sandbox.run(["serve", "--config", file])
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.standardError.contains("cannot read the configuration file \(file)"), "\(result.standardError)")
        #expect(sandbox.contents().isEmpty)
    }
}
