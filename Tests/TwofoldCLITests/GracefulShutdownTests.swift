import Foundation
import Testing
import TwofoldTesting

/// How `twofold serve` stops when systemd (or anyone) sends SIGTERM: the listener closes, the
/// requests in flight get their answers, then the process exits 0.
@Suite("twofold serve stops gracefully on SIGTERM", .timeLimit(.minutes(2)))
struct GracefulShutdownTests {
    @Test("a long poll in flight when SIGTERM arrives gets its answer, not a reset; new connections are refused")
    func longPollFinishes() async throws {
        try LoopbackHTTP.curl.require()
        let sandbox = try Sandbox()
        let port = try AdminHarness.freePort()
        let server = try await sandbox.serve(["TWOFOLD_LISTEN": "127.0.0.1:\(port)"])
        let token = try String(contentsOfFile: sandbox.path("data/initial-api-key"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let http = LoopbackHTTP(port: port, token: token)
        // An SMS factor's confirmation challenge (sent by the console provider, in development)
        // stays pending: something for a long poll to wait on.
        let enrolled = try await http.send("POST", "/v1/users/alice/factors", json: #"{"type": "sms", "phone": "+15551234567"}"#)
        try #require(enrolled.status == 201, "\(enrolled.text)")
        let challengeID = try #require((enrolled.json["challenge"] as? [String: Any])?["challenge_id"] as? String)

        let poll = try RawHTTPConnection(port: port)
        try poll.send("GET /v1/challenges/\(challengeID)?wait=5 HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
                      + "Authorization: Bearer \(token)\r\n\r\n")
        let sent = ContinuousClock.now
        // The server reads the request and starts waiting: nothing comes back yet.
        #expect(await !poll.isReadable(within: 1), "the long poll answered before its wait")
        server.process.terminate()  // SIGTERM, as `systemctl stop` sends it

        // The listener closes while the poll still waits.
        var refused = false
        let deadline = ContinuousClock.now + .seconds(3)
        while !refused, ContinuousClock.now < deadline {
            refused = (try? RawHTTPConnection(port: port)) == nil
            if !refused { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(refused, "the server still accepts connections after SIGTERM")
        #expect(await !poll.isReadable(within: 0), "the long poll was cut short by the shutdown")

        let answer = try #require(await poll.readUntilClosed(timeout: 20), "the connection stayed open")
        let waited = ContinuousClock.now - sent
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "the long poll got no answer: \"\(answer)\"")
        #expect(answer.contains(#""challenge_id":"\#(challengeID)""#))
        #expect(answer.contains(#""status":"pending""#))
        #expect(waited >= .milliseconds(4_500), "the long poll answered after \(waited), before its wait of 5 s")

        await server.process.exited()
        let outcome = try server.result()
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("server stopped"), "\(outcome.standardError)")
    }
}
