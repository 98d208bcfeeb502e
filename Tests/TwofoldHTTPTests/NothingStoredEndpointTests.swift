import Foundation
import Hummingbird
import Testing
import TwofoldCore
@testable import TwofoldHTTP

/// Unlock and recovery codes for a user the application holds nothing for (a typo in the id):
/// 404, and nothing written — no row, no data key, no audit event.
@Suite("Endpoints: a user with nothing stored")
struct NothingStoredEndpointTests {
    /// Every audit event of the node, and every user of `default`.
    static func written(_ server: TestServer) async throws -> (events: [AuditEvent], users: [UserID]) {
        (try await server.services.audit.auditEvents(AuditQuery(limit: 1_000)),
         try await server.services.administration.users(server.defaultApplication.id))
    }

    @Test("unlock of a user with nothing stored is 404 and writes nothing, not even an audit event")
    func unlockOfNobody() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                _ = try await server.enrollActiveTOTP(client, user: "alice")
                let before = try await Self.written(server)
                let answer = try await client.send(.post, "/v1/users/nobody/unlock", key: server.keys.admin)
                #expect(answer.status == .notFound)
                #expect(answer.errorCode == "not_found")
                #expect(answer.json["error"]?["message"] == "nothing is stored for user nobody")
                let after = try await Self.written(server)
                #expect(after.events == before.events)
                #expect(after.users == before.users)
                // alice of `default` is nobody to the application `other`.
                #expect(try await client.send(.post, "/v1/users/alice/unlock", key: server.keys.otherAll).status == .notFound)
                #expect(try await server.services.audit.auditEvents(AuditQuery(limit: 1_000)) == before.events)
            }
        }
    }

    @Test("a refused guess at a stranger stores nothing; a user reset after failures is still someone to unlock")
    func unlockAfterReset() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let denied = try await client.send(.post, "/v1/users/mallory/verify", key: server.keys.verify, json: ["code": "123456"])
                #expect(denied.json["reason"] == "no_factors")
                // no_factors counts no failure: mallory is still nobody.
                #expect(try await client.send(.post, "/v1/users/mallory/unlock", key: server.keys.admin).status == .notFound)

                _ = try await server.enrollActiveTOTP(client, user: "trent")
                for _ in 0..<3 {
                    _ = try await client.send(.post, "/v1/users/trent/verify", key: server.keys.verify, json: ["code": "000000"])
                }
                #expect(try await client.send(.post, "/v1/users/trent/reset", key: server.keys.admin).status == .noContent)
                let trent = try UserID("trent")
                #expect(try await server.services.administration.throttleState(server.defaultApplication.id, trent)?.failures == 3)
                let unlocked = try await client.send(.post, "/v1/users/trent/unlock", key: server.keys.admin)
                #expect(unlocked.status == .noContent)
                let events = try await server.services.audit.auditEvents(AuditQuery(limit: 1_000))
                #expect(events.contains { $0.action == "user.unlocked" && $0.userID == "trent" })
                #expect(try await server.services.administration.throttleState(server.defaultApplication.id, trent) == nil)
            }
        }
    }

    @Test("recovery codes for a user with nothing stored are 404 and write nothing: no codes, no data key, no event")
    func recoveryCodesOfNobody() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let before = try await Self.written(server)
                let answer = try await client.send(.post, "/v1/users/nobody/recovery-codes", key: server.keys.enroll)
                #expect(answer.status == .notFound)
                #expect(answer.errorCode == "not_found")
                #expect(answer.json["error"]?["message"] == "nothing is stored for user nobody")
                #expect(answer.json["codes"] == nil)
                let after = try await Self.written(server)
                #expect(after.events == before.events)
                #expect(after.users.isEmpty)
                #expect(try await server.services.administration.storesAnything(server.defaultApplication.id, try UserID("nobody")) == false)
            }
        }
    }

    @Test("recovery codes for a user whose only factor is pending are 404 naming the missing active factor; 201 once it is active")
    func recoveryCodesNeedAnActiveFactor() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let enrolled = try await client.send(.post, "/v1/users/peggy/factors", key: server.keys.enroll, json: ["type": "totp"])
                #expect(enrolled.status == .created)
                let before = try await Self.written(server)
                let refused = try await client.send(.post, "/v1/users/peggy/recovery-codes", key: server.keys.enroll)
                #expect(refused.status == .notFound)
                #expect(refused.errorCode == "not_found")
                let message = try #require(refused.json["error"]?["message"]?.string)
                #expect(message.contains("user peggy has no active factor"))
                #expect(message.contains("enroll and activate a factor first"))
                #expect(try await Self.written(server).events == before.events)
                let peggy = try UserID("peggy")
                #expect(try await server.services.administration.recoveryCodeSummary(server.defaultApplication.id, peggy).total == 0)

                let factorID = try #require(enrolled.json["factor"]?["id"]?.string)
                let uri = try #require(enrolled.json["otpauth_uri"]?.string)
                let activated = try await client.send(.post, "/v1/users/peggy/factors/\(factorID)/activate", key: server.keys.enroll,
                                                      json: ["code": .string(try server.totpCode(uri))])
                #expect(activated.status == .ok)
                let created = try await client.send(.post, "/v1/users/peggy/recovery-codes", key: server.keys.enroll)
                #expect(created.status == .created)
                #expect(created.json["codes"]?.array?.count == 10)
            }
        }
    }

    @Test("the OpenAPI document names the 404 of unlock and of recovery codes")
    func documented() throws {
        let document = try JSON(parsing: OpenAPIDocument.json)
        for (path, method) in [("/v1/users/{user_id}/unlock", "post"), ("/v1/users/{user_id}/recovery-codes", "post")] {
            let operation = document["paths"]?[path]?[method]
            #expect(operation?["responses"]?["404"] != nil, "\(path)")
            #expect(operation?["summary"]?.string?.contains("404") == true, "\(path)")
        }
    }
}
