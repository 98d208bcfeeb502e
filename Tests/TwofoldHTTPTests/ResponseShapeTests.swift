import Foundation
import Testing
import TwofoldCore
@testable import TwofoldHTTP

@Suite("Response shapes")
struct ResponseShapeTests {
    @Test("times are RFC 3339 in UTC with milliseconds, also on a whole second")
    func milliseconds() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                server.clock.set(Date(timeIntervalSince1970: 1_700_000_000.25))
                let fraction = try await client.send(.post, "/v1/users/ann/factors", key: server.keys.enroll, json: ["type": "totp"])
                #expect(fraction.json["factor"]?["created_at"] == "2023-11-14T22:13:20.250Z")
                #expect(fraction.json["factor"]?["expires_at"] == "2023-11-14T22:23:20.250Z")
                server.clock.set(Date(timeIntervalSince1970: 1_700_000_060))
                let whole = try await client.send(.post, "/v1/users/ann/factors", key: server.keys.enroll, json: ["type": "hotp"])
                #expect(whole.json["factor"]?["created_at"] == "2023-11-14T22:14:20.000Z")
                let audit = try await client.send(.get, "/v1/audit?user_id=ann", key: server.keys.admin)
                #expect(audit.json["events"]?.array?.compactMap { $0["time"]?.string } == ["2023-11-14T22:14:20.000Z", "2023-11-14T22:13:20.250Z"])
            }
        }
        #expect(TwofoldJSON.timestamp(Date(timeIntervalSince1970: 0.9999)) == "1970-01-01T00:00:00.999Z")
        #expect(TwofoldJSON.timestamp(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500Z")
    }

    @Test("audit events: every field present, details an object, the pseudonym kept after erasure")
    func auditEvents() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let enrolled = try await client.send(.post, "/v1/users/ann/factors", key: server.keys.enroll,
                                                     json: ["type": "totp", "algorithm": "SHA256", "digits": 8])
                let factorID = try #require(enrolled.json["factor"]?["id"]?.string)
                let page = try await client.send(.get, "/v1/audit?user_id=ann", key: server.keys.admin)
                let event = try #require(page.json["events"]?[0])
                #expect(Set(event.object?.keys.map { $0 } ?? []) == [
                    "id", "time", "application_id", "user_id", "user_ref", "actor", "action", "outcome", "reason", "factor_id", "details",
                ])
                #expect(event["action"] == "factor.enrolled")
                #expect(event["details"] == ["algorithm": "sha256", "digits": "8", "type": "totp"])
                #expect(event["application_id"] == .string(server.defaultApplication.id.rawValue))
                #expect(event["user_id"] == "ann")
                #expect(event["factor_id"] == .string(factorID))
                #expect(event["reason"] == .null)
                let reference = try #require(event["user_ref"]?.string)

                #expect(try await client.send(.delete, "/v1/users/ann", key: server.keys.admin).status == .noContent)
                let erased = try await client.send(.get, "/v1/audit", key: server.keys.admin)
                let events = try #require(erased.json["events"]?.array)
                let enrolledAfter = try #require(events.first { $0["action"] == "factor.enrolled" })
                #expect(enrolledAfter["user_id"] == .null)
                #expect(enrolledAfter["user_ref"] == .string(reference))
                #expect(events.first { $0["action"] == "user.erased" }?["user_ref"] == .string(reference))
            }
        }
    }

    @Test("GET /v1/audit answers the bytes of Core's AuditPageJSON, the type the CLI prints")
    func auditPageBytes() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                for user in ["ann", "bob", "cat"] {
                    _ = try await client.send(.post, "/v1/users/\(user)/factors", key: server.keys.enroll, json: ["type": "totp"])
                    server.clock.advance(by: 0.125)
                }
                let answer = try await client.send(.get, "/v1/audit?limit=2", key: server.keys.admin)
                let events = try await server.services.audit.auditEvents(AuditQuery(applicationID: server.defaultApplication.id, limit: 2))
                let expected = try TwofoldJSON.encoder.encode(AuditPageJSON(events, limit: 2, ids: server.services.audit.ids))
                #expect(answer.body == Array(expected))
                #expect(answer.json["next"] == .string(server.services.audit.ids.token(try #require(events.last?.id))))
            }
        }
    }

    @Test("answers are compact JSON: one line, no padding")
    func compact() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                _ = try await server.enrollActiveTOTP(client, user: "ann")
                let answers = [
                    try await client.send(.get, "/v1/users/ann/factors", key: server.keys.all),
                    try await client.send(.get, "/v1/users/ann/export", key: server.keys.all),
                    try await client.send(.get, "/v1/audit", key: server.keys.all),
                    try await client.send(.post, "/v1/users/ann/verify", key: server.keys.all, json: ["code": "000000"]),
                ]
                for answer in answers {
                    #expect(answer.status == .ok)
                    #expect(!answer.text.contains("\n"))
                    #expect(!answer.text.contains("\": "))
                    #expect(!answer.text.contains(", \""))
                }
            }
        }
    }

    @Test("Core's UserExportJSON and UserSummaryJSON, which the CLI prints, are the export's shape field for field")
    func exportAndSummary() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                _ = try await server.enrollActiveTOTP(client, user: "ann")
                _ = try await client.send(.post, "/v1/users/ann/factors", key: server.keys.all, json: ["type": "hotp"])
                _ = try await client.send(.post, "/v1/users/ann/recovery-codes", key: server.keys.all)
                _ = try await client.send(.post, "/v1/users/ann/verify", key: server.keys.all, json: ["code": "12345678"])
                let app = server.defaultApplication
                let user = try UserID("ann")
                let administration = server.services.administration
                let summary = UserSummaryJSON(application: app.name, userID: user,
                                              factors: try await server.services.enrollment.factors(app.id, user),
                                              recoveryCodes: try await administration.recoveryCodeSummary(app.id, user),
                                              throttle: try await administration.throttleState(app.id, user))
                let export = try #require(try await administration.export(app, user, actor: "test"))
                let answer = try await client.send(.get, "/v1/users/ann/export", key: server.keys.admin)
                // The answer lists the export just made first; the clock stands still, so the rest is the same.
                guard case .object(var answered) = answer.json, case .array(var events)? = answered["audit_events"] else {
                    Issue.record("not an export: \(answer.text)")
                    return
                }
                #expect(events.first?["action"] == "user.exported")
                events.removeFirst()
                answered["audit_events"] = .array(events)
                #expect(try JSON(parsing: Array(TwofoldJSON.encoder.encode(UserExportJSON(export)))) == .object(answered))

                let shown = try #require(try JSON(parsing: Array(TwofoldJSON.encoder.encode(summary))).object)
                #expect(Set(shown.keys) == ["application", "user_id", "factors", "recovery_codes", "throttle"])
                for key in shown.keys { #expect(shown[key] == answered[key], "\(key)") }
                #expect(shown["throttle"] == ["consecutive_failures": 1, "locked_until": nil])
            }
        }
    }

    @Test("Core's APIKeyJSON: scopes an array, revoked_at null while the key works, the key only when just created")
    func apiKey() async throws {
        try await TestServer.with { server in
            server.clock.set(Date(timeIntervalSince1970: 1_700_000_000.5))
            let created = try await server.services.apiKeys.createAPIKey(server.defaultApplication.id, scopes: [.admin, .verify], actor: "test")
            let listed = try JSON(parsing: Array(TwofoldJSON.encoder.encode(APIKeyJSON(created.record, application: "default"))))
            #expect(listed == [
                "id": .string(created.record.id), "application": "default", "scopes": ["verify", "admin"],
                "created_at": "2023-11-14T22:13:20.500Z", "revoked_at": nil,
            ])
            let withKey = try JSON(parsing: Array(TwofoldJSON.encoder.encode(APIKeyJSON(created.record, application: "default", token: created.token))))
            #expect(withKey["key"] == .string(created.token))
            try await server.services.apiKeys.revokeAPIKey(id: created.record.id, actor: "test")
            let revoked = try #require(try await server.services.apiKeys.apiKeys(server.defaultApplication.id).first { $0.id == created.record.id })
            let after = try JSON(parsing: Array(TwofoldJSON.encoder.encode(APIKeyJSON(revoked, application: "default"))))
            #expect(after["revoked_at"] == "2023-11-14T22:13:20.500Z")
        }
    }

    @Test("stored details that are not an object of strings are shown as stored, not hidden")
    func unreadableDetails() throws {
        func details(_ text: String) throws -> JSON? {
            let event = AuditEvent(id: 7, shard: 0, sequence: 1, timeMilliseconds: 1_700_000_000_000, applicationID: nil, userID: nil,
                                   userReference: nil, actor: "system", action: "keys.rotated", outcome: "success", reason: nil,
                                   factorID: nil, details: text, previousMAC: [], mac: [])
            return try JSON(parsing: Array(TwofoldJSON.encoder.encode(AuditEventJSON(event, ids: AuditEventIDs(keyBytes: Array(repeating: 1, count: 32))))))["details"]
        }
        #expect(try details(#"{"key_id":"k1","rewrapped":"3"}"#) == ["key_id": "k1", "rewrapped": "3"])
        #expect(try details("{}") == [:])
        #expect(try details("not json") == "not json")
        #expect(try details(#"{"count":3}"#) == #"{"count":3}"#)
    }
}
