import Foundation
import Hummingbird
import Logging
import Testing
import TwofoldCore
@testable import TwofoldHTTP
import TwofoldTesting

@Suite("Errors")
struct ErrorTests {
    @Test("malformed bodies are 400 invalid_request naming the field", arguments: [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ("\"totp\"", "JSON object"),
        ("{}", "field `type` is required"),
        (#"{"type": 7}"#, "field `type` must be a string"),
        (#"{"type": "fax"}"#, "field `type` must be totp, hotp, sms, voice, push or webauthn"),
        (#"{"type": "sms"}"#, "field `phone` is required"),
        (#"{"type": "sms", "phone": "5551234567"}"#, "phone must be an E.164 number"),
        (#"{"type": "totp", "phone": "+15551234567"}"#, "field `phone` applies to sms and voice factors only"),
        (#"{"type": "totp", "digits": "six"}"#, "field `digits` must be an integer"),
        (#"{"type": "totp", "digits": 6.5}"#, "field `digits`"),
        (#"{"type": "totp", "digits": 9}"#, "field `digits` must be 6, 7 or 8"),
        (#"{"type": "totp", "period": 0}"#, "field `period`"),
        (#"{"type": "totp", "algorithm": "md5"}"#, "field `algorithm`"),
        (#"{"type": "totp", "issuer": "a:b"}"#, "field `issuer`"),
        (#"{"type": "totp", "issuer": ""}"#, "field `issuer`"),
        (#"{"type": "totp", "label": null}"#, ""),
        (#"{"type": "totp", "label": "x\u0007y"}"#, "field `label`"),
    ])
    func malformedEnrollment(body: String, message: String) async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let answer = try await client.send(.post, "/v1/users/ann/factors", key: server.keys.enroll, body: body)
                if message.isEmpty {
                    #expect(answer.status == .created)
                } else {
                    #expect(answer.status == .badRequest, "\(answer.text)")
                    #expect(answer.errorCode == "invalid_request")
                    #expect(answer.json["error"]?["message"]?.string?.contains(message) == true, "\(answer.text)")
                }
            }
        }
    }

    @Test("code bodies: missing, wrong type, empty, too long; resync needs exactly two codes")
    func malformedCodes() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let cases: [(String, String, String)] = [
                    ("/v1/users/ann/verify", "{}", "field `code` is required"),
                    ("/v1/users/ann/verify", #"{"code": 123456}"#, "field `code` must be a string"),
                    ("/v1/users/ann/verify", #"{"code": null}"#, "field `code`"),
                    ("/v1/users/ann/verify", #"{"code": ""}"#, "field `code` must not be empty"),
                    ("/v1/users/ann/verify", #"{"code": "\#(String(repeating: "1", count: 65))"}"#, "at most 64"),
                    ("/v1/users/ann/verify", "", "JSON object"),
                    ("/v1/users/ann/factors/fac_aaaaaaaaaaaaaaaaaaaaaaaaaa/resync", #"{"codes": ["123456"]}"#, "exactly two"),
                    ("/v1/users/ann/factors/fac_aaaaaaaaaaaaaaaaaaaaaaaaaa/resync", #"{"codes": "123456"}"#, "field `codes`"),
                    ("/v1/users/ann/factors/fac_aaaaaaaaaaaaaaaaaaaaaaaaaa/resync", #"{"codes": ["1", 2]}"#, "field `codes[1]`"),
                ]
                for (path, body, message) in cases {
                    let answer = try await client.send(.post, path, key: server.keys.all, body: body)
                    #expect(answer.status == .badRequest, "\(body): \(answer.text)")
                    #expect(answer.json["error"]?["message"]?.string?.contains(message) == true, "\(body): \(answer.text)")
                }
            }
        }
    }

    @Test("invalid user ids are 400 naming user_id; valid ones are percent-decoded")
    func userIDs() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                // The last one is 65 characters as people see them, but 130 code points even in NFC (q with
                // an acute accent has no precomposed form): the limit counts code points, as JSON
                // Schema's maxLength does.
                for path in ["%00bob", "bob%0A", "%20bob", "%E2%80%AEbob", "%ZZ", "%FF", String(repeating: "a", count: 129),
                             String(repeating: "q%CC%81", count: 65)] {
                    let answer = try await client.send(.get, "/v1/users/\(path)/factors", key: server.keys.enroll)
                    #expect(answer.status == .badRequest, "\(path)")
                    #expect(answer.errorCode == "invalid_request")
                    #expect(answer.json["error"]?["message"]?.string?.contains("user_id") == true, "\(answer.text)")
                }
                // "a/b c" and "ünïcode" are fine ids, encoded in the path.
                for (encoded, decoded) in [("a%2Fb%20c", "a/b c"), ("%C3%BCn%C3%AFcode", "ünïcode"), (String(repeating: "a", count: 128), String(repeating: "a", count: 128))] {
                    let enrolled = try await client.send(.post, "/v1/users/\(encoded)/factors", key: server.keys.enroll, json: ["type": "totp"])
                    #expect(enrolled.status == .created, "\(encoded): \(enrolled.text)")
                    let factors = try await server.services.enrollment.factors(server.defaultApplication.id, try UserID(decoded))
                    #expect(factors.count == 1)
                }
                // An id with a colon needs a label for authenticator apps.
                let colon = try await client.send(.post, "/v1/users/a%3Ab/factors", key: server.keys.enroll, json: ["type": "totp"])
                #expect(colon.status == .badRequest)
                let labelled = try await client.send(.post, "/v1/users/a%3Ab/factors", key: server.keys.enroll, json: ["type": "totp", "label": "ab"])
                #expect(labelled.status == .created)
            }
        }
    }

    @Test("unknown routes are 404 not_found; a known path with the wrong method is 405 with Allow")
    func routing() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let unknown = try await client.send(.get, "/v2/nothing", key: server.keys.all)
                #expect(unknown.status == .notFound)
                #expect(unknown.errorCode == "not_found")
                let root = try await client.send(.get, "/")
                #expect(root.status == .notFound)

                let wrong = try await client.send(.put, "/v1/users/ann/factors", key: server.keys.all)
                #expect(wrong.status == .methodNotAllowed)
                #expect(wrong.errorCode == "method_not_allowed")
                #expect(wrong.headers[.allow] == "GET, POST")
                let verifyGet = try await client.send(.get, "/v1/users/ann/verify")
                #expect(verifyGet.status == .methodNotAllowed)
                #expect(verifyGet.headers[.allow] == "POST")
                let health = try await client.send(.post, "/healthz")
                #expect(health.status == .methodNotAllowed)
                #expect(health.headers[.allow] == "GET")
                // Errors carry the request id and no-store like any answer.
                #expect(wrong.headers[RequestIDMiddleware<TwofoldRequestContext>.header] != nil)
                #expect(wrong.headers[.cacheControl] == "no-store")
            }
        }
    }

    @Test("bodies over 16 KiB are 413 payload_too_large")
    func payloadTooLarge() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let big = #"{"type": "totp", "label": ""# + String(repeating: "x", count: 17_000) + #""}"#
                let answer = try await client.send(.post, "/v1/users/ann/factors", key: server.keys.enroll, body: big)
                #expect(answer.status == .contentTooLarge)
                #expect(answer.errorCode == "payload_too_large")
                // Refused before authentication or routing reads anything.
                let anonymous = try await client.send(.post, "/v1/users/ann/verify", body: big)
                #expect(anonymous.status == .contentTooLarge)
                // Padded with white space: a member the body does not have would be refused.
                let justUnder = #"{"code": "123456""# + String(repeating: " ", count: 16_000) + "}"
                let fine = try await client.send(.post, "/v1/users/ann/verify", key: server.keys.verify, body: justUnder)
                #expect(fine.status == .ok)
            }
        }
    }

    @Test("the Authorization header: missing, another scheme, an unknown key, a revoked key")
    func authorization() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let cases: [HTTPFields] = [
                    [:],
                    [.authorization: "Basic dXNlcjpwYXNz"],
                    [.authorization: "Bearer"],
                    [.authorization: "Bearer tf_key_zzzzzzzzzzzzzzzz_" + String(repeating: "z", count: 52)],
                    [.authorization: "Bearer \(server.keys.revoked)"],
                    [.authorization: "Bearer \(server.keys.all)x"],
                ]
                for headers in cases {
                    let answer = try await client.send(.get, "/v1/users/ann/factors", headers: headers)
                    #expect(answer.status == .unauthorized)
                    #expect(answer.errorCode == "unauthorized")
                }
                let lowercase = try await client.send(.get, "/v1/users/ann/factors", headers: [.authorization: "bearer \(server.keys.all)"])
                #expect(lowercase.status == .ok)
                let forbidden = try await client.send(.get, "/v1/users/ann/factors", key: server.keys.verify)
                #expect(forbidden.status == .forbidden)
                #expect(forbidden.json["error"]?["message"]?.string?.contains("enroll") == true)
            }
        }
    }

    @Test("a revoked key stops working at once")
    func revocation() async throws {
        try await TestServer.with { server in
            let created = try await server.services.apiKeys.createAPIKey(server.defaultApplication.id, scopes: [.verify], actor: "test")
            try await server.test { client in
                let before = try await client.send(.post, "/v1/users/ann/verify", key: created.token, json: ["code": "123456"])
                #expect(before.status == .ok)
                // The first verify left the key in the middleware's cache; the store's attempt
                // still refuses it, before evaluating the code or writing anything.
                try await server.services.apiKeys.revokeAPIKey(id: created.record.id, actor: "test")
                let events = try await server.services.audit.auditEvents(AuditQuery()).count
                for _ in 0..<2 {
                    let after = try await client.send(.post, "/v1/users/ann/verify", key: created.token, json: ["code": "123456"])
                    #expect(after.status == .unauthorized)
                    #expect(after.errorCode == "unauthorized")
                }
                #expect(try await server.services.audit.auditEvents(AuditQuery()).count == events)
                // A cached key revoked elsewhere is refused with 401 even when its request would
                // fail validation before reaching the store.
                let second = try await server.services.apiKeys.createAPIKey(server.defaultApplication.id, scopes: [.verify], actor: "test")
                let warm = try await client.send(.post, "/v1/users/ann/verify", key: second.token, json: ["code": "123456"])
                #expect(warm.status == .ok)
                try await server.services.apiKeys.revokeAPIKey(id: second.record.id, actor: "test")
                for body in ["{\"code\": 5}", "not json", "{}"] {
                    let malformed = try await client.send(.post, "/v1/users/ann/verify", key: second.token, body: body)
                    #expect(malformed.status == .unauthorized, "body \(body)")
                }
                let other = try await client.send(.get, "/v1/users/ann/factors", key: created.token)
                #expect(other.status == .unauthorized)
            }
        }
    }

    @Test("domain errors map to statuses in one place; internal failures keep their detail out of the answer")
    func mapping() {
        let logs = LogCapture()
        let logger = logs.logger(label: "mapping")
        let cases: [(TwofoldError.Code, Int, String)] = [
            (.invalidRequest, 400, "invalid_request"), (.invalidState, 400, "invalid_request"),
            (.notFound, 404, "not_found"), (.expired, 404, "not_found"), (.conflict, 409, "conflict"),
            (.invalidCode, 422, "invalid_code"), (.locked, 429, "rate_limited"), (.unauthorized, 401, "unauthorized"),
            (.unavailable, 503, "unavailable"), (.sealing, 500, "internal"), (.configuration, 500, "internal"),
        ]
        for (code, status, apiCode) in cases {
            let error = APIError(TwofoldError(code, "detail mk_0123456789abcdef"), logger: logger)
            #expect(error.status.code == status)
            #expect(error.code.rawValue == apiCode)
            if status >= 500 {
                #expect(!error.message.contains("mk_0123456789abcdef"))
            }
        }
        struct Surprise: Error { let secret = "JBSWY3DPEHPK3PXP" }
        let unknown = APIError(Surprise(), logger: logger)
        #expect(unknown.status == .internalServerError)
        #expect(unknown.code == .internalError)
        #expect(!logs.lines.contains { $0.text.contains("JBSWY3DPEHPK3PXP") })
        #expect(logs.lines.contains { $0.level == .error && $0.text.contains("Surprise") })
    }
}
