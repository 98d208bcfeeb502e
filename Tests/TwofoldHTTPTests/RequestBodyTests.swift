import Foundation
import Testing
import TwofoldCore
import TwofoldOTP
@testable import TwofoldHTTP

@Suite("Request bodies")
struct RequestBodyTests {
    @Test("an unknown field is 400 naming it, and the field it was likely meant to be", arguments: [
        ("/v1/users/ann/factors", #"{"type": "totp", "perod": 60}"#, "unknown field `perod` (did you mean `period`?)"),
        ("/v1/users/ann/factors", #"{"type": "totp", "Digits": 8}"#, "unknown field `Digits` (did you mean `digits`?)"),
        ("/v1/users/ann/factors", #"{"type": "totp", "secret": "JBSWY3DPEHPK3PXP"}"#, "unknown field `secret`; the fields are"),
        ("/v1/users/ann/factors", #"{"type": "totp", "b": 1, "a": null}"#, "unknown fields `a`, `b`; the fields are"),
        ("/v1/users/ann/verify", #"{"code": "123456", "remember": true}"#, "unknown field `remember`; the fields are code"),
        ("/v1/users/ann/verify", #"{"cod": "123456"}"#, "unknown field `cod` (did you mean `code`?)"),
        ("/v1/users/ann/factors/fac_aaaaaaaaaaaaaaaaaaaaaaaaaa/activate", #"{"code": "123456", "codes": []}"#, "unknown field `codes`"),
        ("/v1/users/ann/factors/fac_aaaaaaaaaaaaaaaaaaaaaaaaaa/resync", #"{"codes": ["1", "2"], "code": "3"}"#, "unknown field `code`"),
        ("/v1/users/ann/challenges", #"{"type": "sms", "context": {"ip": "203.0.113.9", "agent": "x"}}"#,
         "unknown field `context.agent`; the fields are context.ip"),
        ("/v1/users/ann/challenges", #"{"type": "push", "context": {"locaton": "Paris"}}"#,
         "unknown field `context.locaton` (did you mean `context.location`?)"),
        ("/v1/devices/activate", #"{"token": "t", "public_key": "AAAA", "transport": {"type": "polling", "bogus": 1}}"#,
         "unknown field `transport.bogus`"),
        ("/v1/devices/activate",
         #"{"token": "t", "public_key": "AAAA", "transport": {"type": "webpush", "endpoint": "https://p.example/1", "keys": {"p256dh": "A", "auth": "B", "x": 1}}}"#,
         "unknown field `transport.keys.x`"),
    ])
    func unknownField(path: String, body: String, message: String) async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let events = try await server.services.audit.auditEvents(AuditQuery()).count
                let answer = try await client.send(.post, path, key: server.keys.all, body: body)
                #expect(answer.status == .badRequest, "\(answer.text)")
                #expect(answer.errorCode == "invalid_request")
                #expect(answer.json["error"]?["message"]?.string?.contains(message) == true, "\(answer.text)")
                // Refused before anything is done: nothing stored, nothing audited.
                #expect(try await server.services.enrollment.factors(server.defaultApplication.id, try UserID("ann")).isEmpty)
                #expect(try await server.services.audit.auditEvents(AuditQuery()).count == events)
            }
        }
    }

    @Test("the message repeats at most three unknown names, each cut at 64 characters")
    func longUnknownNames() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let long = String(repeating: "x", count: 500)
                let answer = try await client.send(.post, "/v1/users/ann/verify", key: server.keys.verify,
                                                   body: #"{"code": "1", "\#(long)": 1, "p": 2, "q": 3, "r": 4}"#)
                #expect(answer.status == .badRequest)
                let message = try #require(answer.json["error"]?["message"]?.string)
                #expect(message.hasPrefix("unknown fields `p`, `q`, `r` and 1 more; the fields are code"), "\(message)")
                let longOnly = try await client.send(.post, "/v1/users/ann/verify", key: server.keys.verify,
                                                     body: #"{"code": "1", "\#(long)": 1}"#)
                let longMessage = try #require(longOnly.json["error"]?["message"]?.string)
                #expect(longMessage.contains("`\(String(repeating: "x", count: 64))…`"), "\(longMessage)")
                #expect(!longMessage.contains(String(repeating: "x", count: 65)))
            }
        }
    }

    @Test("a body of known fields still works, and a wrong type is still named", arguments: [
        (#"{"type": "totp", "issuer": "Acme", "label": "ann", "algorithm": "sha1", "digits": 6, "period": 30}"#, ""),
        (#"{"type": "totp", "issuer": null, "label": null, "algorithm": null, "digits": null, "period": null}"#, ""),
        (#"{"type": "totp", "period": "30"}"#, "field `period` must be an integer"),
        (#"[{"type": "totp"}]"#, "the request body must be a JSON object"),
    ])
    func knownFields(body: String, message: String) async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let answer = try await client.send(.post, "/v1/users/ann/factors", key: server.keys.enroll, body: body)
                if message.isEmpty {
                    #expect(answer.status == .created, "\(answer.text)")
                } else {
                    #expect(answer.status == .badRequest)
                    #expect(answer.json["error"]?["message"]?.string == message, "\(answer.text)")
                }
            }
        }
    }

    @Test("algorithm: the spellings the CLI accepts, answered in lower case", arguments: [
        ("sha256", OTPAlgorithm.sha256), ("SHA256", .sha256), ("SHA-256", .sha256), ("Sha-512", .sha512), ("SHA1", .sha1),
    ])
    func algorithmSpellings(spelling: String, algorithm: OTPAlgorithm) async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let enrolled = try await client.send(.post, "/v1/users/ann/factors", key: server.keys.enroll,
                                                     json: ["type": "totp", "algorithm": .string(spelling)])
                #expect(enrolled.status == .created, "\(enrolled.text)")
                #expect(enrolled.json["factor"]?["algorithm"] == .string(algorithm.rawValue))
                let uri = try OTPAuthURI(parsing: try #require(enrolled.json["otpauth_uri"]?.string))
                #expect(uri.algorithm == algorithm)
            }
        }
    }

    @Test("algorithm: anything else is refused naming the field", arguments: ["md5", "sha384", "sha_256", "", "sha 1"])
    func unknownAlgorithm(spelling: String) async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let answer = try await client.send(.post, "/v1/users/ann/factors", key: server.keys.enroll,
                                                   json: ["type": "totp", "algorithm": .string(spelling)])
                #expect(answer.status == .badRequest)
                #expect(answer.json["error"]?["message"]?.string?.hasPrefix("field `algorithm` must be sha1, sha256 or sha512") == true)
            }
        }
    }

    @Test("the nearest known name: close typos only, case ignored")
    func nearestName() {
        let fields = ["type", "issuer", "label", "algorithm", "digits", "period"]
        #expect(NearestName.to("perod", among: fields) == "period")
        #expect(NearestName.to("PERIOD", among: fields) == "period")
        #expect(NearestName.to("algoritm", among: fields) == "algorithm")
        #expect(NearestName.to("isuer", among: fields) == "issuer")
        #expect(NearestName.to("colour", among: fields) == nil)
        #expect(NearestName.to("x", among: fields) == nil)
        #expect(NearestName.to(String(repeating: "period", count: 10), among: fields) == nil)
        #expect(NearestName.editDistance(Array("kitten".unicodeScalars), Array("sitting".unicodeScalars)) == 3)
    }
}
