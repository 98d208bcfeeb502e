import Foundation
import Hummingbird
import Testing
import TwofoldCore
@testable import TwofoldHTTP
import TwofoldTesting

/// Security keys through the API on a SQLite node: the relying party set with PATCH
/// /v1/application, registration and sign-in answered by a software key, and the answers the
/// OpenAPI document promises.
@Suite("Security keys over HTTP", .timeLimit(.minutes(2)))
struct SecurityKeyAPITests {
    static let origin = "https://login.example.com"

    static func options(_ json: JSON?) throws -> [String: Any] {
        let bytes = try #require(json).serialized
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func configureRelyingParty(_ client: APIClient, _ server: TestServer) async throws {
        let updated = try await client.send(.patch, "/v1/application", key: server.keys.admin,
                                            json: ["rp_id": "example.com", "origins": [.string(origin)]])
        #expect(updated.status == .ok)
        #expect(updated.json["rp_id"] == "example.com")
        #expect(updated.json["origins"] == [.string(origin)])
    }

    @Test("a key registers, activates its factor, lists with its model, and signs in; its answer works once")
    func registerAndSignIn() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                try await Self.configureRelyingParty(client, server)
                let key = SoftAuthenticator(signCount: 1, attestation: "packed")
                let enrolled = try await client.send(.post, "/v1/users/alice/factors", key: server.keys.enroll,
                                                     json: ["type": "webauthn", "label": "YubiKey"])
                #expect(enrolled.status == .created)
                #expect(Set(try #require(enrolled.json.object).keys) == (try PushAPITests.documentedFields("SecurityKeyEnrollment")))
                let factorID = try #require(enrolled.json["factor"]?["id"]?.string)
                #expect(enrolled.json["factor"]?["status"] == "pending")
                #expect(enrolled.json["public_key"]?["rp"]?["id"] == "example.com")
                let registration = try key.register(try Self.options(enrolled.json["public_key"]), origin: Self.origin)
                let activated = try await client.send(.post, "/v1/users/alice/factors/\(factorID)/activate", key: server.keys.enroll,
                                                      json: ["credential": try JSON(parsing: registration)])
                #expect(activated.status == .ok, "\(activated.text)")
                #expect(activated.json["factor"]?["status"] == "active")
                #expect(activated.json["factor"]?["security_key"]?["attestation_format"] == "packed")
                #expect(activated.json["factor"]?["security_key"]?["transports"] == ["usb"])

                let created = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify, json: ["type": "webauthn"])
                #expect(created.status == .accepted)
                #expect(created.json["type"] == "webauthn")
                let challengeID = try #require(created.json["challenge_id"]?.string)
                let options = try Self.options(created.json["public_key"])
                #expect((options["allowCredentials"] as? [[String: Any]])?.count == 1)
                let assertion = try JSON(parsing: try key.authenticate(options, origin: Self.origin))
                let answered = try await client.send(.post, "/v1/challenges/\(challengeID)/verify", key: server.keys.verify,
                                                     json: ["credential": assertion])
                #expect(answered.json == ["result": "allow", "factor_id": .string(factorID), "factor_type": "webauthn"])
                let again = try await client.send(.post, "/v1/challenges/\(challengeID)/verify", key: server.keys.verify,
                                                  json: ["credential": assertion])
                #expect(again.json["result"] == "deny")
                #expect(again.json["reason"] == "replayed")
                let status = try await client.send(.get, "/v1/challenges/\(challengeID)", key: server.keys.verify)
                #expect(status.json["status"] == "approved")
            }
        }
    }

    @Test("a sign-in from another origin is denied and counted; bad bodies are 400 and count nothing")
    func refusals() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                try await Self.configureRelyingParty(client, server)
                let key = SoftAuthenticator(signCount: 1)
                let enrolled = try await client.send(.post, "/v1/users/alice/factors", key: server.keys.enroll, json: ["type": "webauthn"])
                let factorID = try #require(enrolled.json["factor"]?["id"]?.string)
                let registration = try key.register(try Self.options(enrolled.json["public_key"]), origin: Self.origin)
                _ = try await client.send(.post, "/v1/users/alice/factors/\(factorID)/activate", key: server.keys.enroll,
                                          json: ["credential": try JSON(parsing: registration)])
                let created = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify, json: ["type": "webauthn"])
                let challengeID = try #require(created.json["challenge_id"]?.string)
                let phished = try JSON(parsing: try key.authenticate(try Self.options(created.json["public_key"]),
                                                                     origin: "https://login.example.com.evil.net"))
                for body: JSON in [["credential": "text"], ["credential": ["id": 1]], ["code": "123456", "credential": [:]], [:]] {
                    let bad = try await client.send(.post, "/v1/challenges/\(challengeID)/verify", key: server.keys.verify, json: body)
                    #expect(bad.status == .badRequest, "\(body)")
                }
                #expect(try await server.services.administration.throttleState(server.defaultApplication.id, try UserID("alice")) == nil)
                let denied = try await client.send(.post, "/v1/challenges/\(challengeID)/verify", key: server.keys.verify,
                                                   json: ["credential": phished])
                #expect(denied.json["result"] == "deny")
                #expect(denied.json["reason"] == "invalid_code")
                // Another application's key sees no such challenge.
                let other = try await client.send(.post, "/v1/challenges/\(challengeID)/verify", key: server.keys.otherAll,
                                                  json: ["credential": phished])
                #expect(other.status == .notFound)
            }
        }
    }

    @Test("an application without a relying party cannot enroll security keys, and says how to set one")
    func relyingPartyRequired() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let refused = try await client.send(.post, "/v1/users/alice/factors", key: server.keys.enroll, json: ["type": "webauthn"])
                #expect(refused.status == .badRequest)
                #expect(refused.errorCode == "invalid_request")
                #expect(refused.text.contains("--rp-id"))
                let bad = try await client.send(.patch, "/v1/application", key: server.keys.admin,
                                                json: ["rp_id": "example.com", "origins": ["https://evil.net"]])
                #expect(bad.status == .badRequest)
                let noOrigins = try await client.send(.patch, "/v1/application", key: server.keys.admin, json: ["rp_id": "example.com"])
                #expect(noOrigins.status == .badRequest)
            }
        }
    }
}
