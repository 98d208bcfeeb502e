import Foundation
import Hummingbird
import Logging
import Synchronization
import Testing
import TwofoldCore
import TwofoldOTP
import TwofoldTesting
@testable import TwofoldHTTP

@Suite("Request ids and logs")
struct HardeningTests {
    static let requestID = RequestIDMiddleware<TwofoldRequestContext>.header

    @Test("a safe X-Request-Id is echoed; an unsafe one is replaced; none gets a generated one")
    func requestIDs() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let given = try await client.send(.get, "/healthz", headers: [Self.requestID: "req-42_a.B"])
                #expect(given.headers[Self.requestID] == "req-42_a.B")
                for unsafe in ["has space", "new\u{0}line", String(repeating: "a", count: 65), "é"] {
                    var headers = HTTPFields()
                    headers[Self.requestID] = unsafe
                    let replaced = try await client.send(.get, "/healthz", headers: headers)
                    let id = try #require(replaced.headers[Self.requestID])
                    #expect(id != unsafe)
                    #expect(id.count == 16)
                }
                let generated = try await client.send(.get, "/nowhere")
                let first = try #require(generated.headers[Self.requestID])
                let second = try await client.send(.get, "/nowhere").headers[Self.requestID]
                #expect(first != second)
            }
        }
    }

    @Test("each request is logged once at info, with its id, method, route pattern, status and duration")
    func oneLinePerRequest() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                _ = try await client.send(.post, "/v1/users/secret%20user/verify", key: server.keys.verify, json: ["code": "123456"],
                                          headers: [Self.requestID: "trace-me"])
            }
            let lines = server.logs.lines.filter { $0.metadata["request_id"] == "trace-me" }
            let requestLines = lines.filter { $0.message == "request" }
            #expect(requestLines.count == 1)
            let line = try #require(requestLines.first)
            #expect(line.level == .info)
            #expect(line.metadata["method"] == "POST")
            #expect(line.metadata["route"] == "/v1/users/{user_id}/verify")
            #expect(line.metadata["status"] == "200")
            #expect(line.metadata["duration_ms"] != nil)
            #expect(line.metadata["hb.request.id"] == nil)
            // The path, which holds the user id, is not logged.
            #expect(!server.logs.lines.contains { $0.text.contains("secret user") || $0.text.contains("secret%20user") })
        }
    }

    @Test("no secret, code or key appears in any log line or error answer")
    func nothingSecretLogged() async throws {
        try await TestServer.with { server in
            let (secrets, answers) = try await server.test { client -> ([String], [String]) in
                let enrolled = try await client.send(.post, "/v1/users/zoe/factors", key: server.keys.all, json: ["type": "totp"])
                let uri = try #require(enrolled.json["otpauth_uri"]?.string)
                let secret = try #require(enrolled.json["secret"]?.string)
                let factorID = try #require(enrolled.json["factor"]?["id"]?.string)
                let code = try server.totpCode(uri)
                let wrong = EnrollmentFlowTests.wrongCode(avoiding: try (-2...2).map { try server.totpCode(uri, offsetSteps: $0) })
                var answers: [String] = []
                answers.append(try await client.send(.post, "/v1/users/zoe/factors/\(factorID)/activate", key: server.keys.all,
                                                     json: ["code": .string(wrong)]).text)
                _ = try await client.send(.post, "/v1/users/zoe/factors/\(factorID)/activate", key: server.keys.all, json: ["code": .string(code)])
                answers.append(try await client.send(.post, "/v1/users/zoe/verify", key: server.keys.all, json: ["code": .string(code)]).text)
                let recovery = try await client.send(.post, "/v1/users/zoe/recovery-codes", key: server.keys.all)
                let recoveryCode = try #require(recovery.json["codes"]?[0]?.string)
                _ = try await client.send(.post, "/v1/users/zoe/verify", key: server.keys.all, json: ["code": .string(recoveryCode)])
                answers.append(try await client.send(.get, "/v1/users/zoe/factors", key: server.keys.all + "x").text)
                answers.append(try await client.send(.get, "/v1/users/zoe/export", key: server.keys.all).text)
                answers.append(try await client.send(.get, "/v1/audit", key: server.keys.all).text)
                return ([secret, code, wrong, recoveryCode, server.keys.all, String(server.keys.all.suffix(52))], answers)
            }
            let logText = server.logs.lines.map(\.text).joined(separator: "\n")
            #expect(!logText.isEmpty)
            for secret in secrets {
                #expect(!logText.contains(secret), "\(secret) was logged")
                for answer in answers {
                    #expect(!answer.contains(secret), "\(secret) was answered")
                }
            }
            // The TOTP secret in any other encoding of its bytes (hex, base64, lower-case Base32, raw).
            let secretBytes = try OTPSecret(base32: secrets[0]).bytes
            #expect(SecretForms.found(secretBytes, in: Array(logText.utf8)) == [], "the TOTP secret was logged")
            for answer in answers {
                #expect(SecretForms.found(secretBytes, in: Array(answer.utf8)) == [], "the TOTP secret was answered")
            }
        }
    }
}
