import Foundation
import Hummingbird
import Testing
import TwofoldCore
import TwofoldOTP
import TwofoldTesting
@testable import TwofoldHTTP

@Suite("Endpoints")
struct EndpointTests {
    @Test("factors list: active and pending, never a secret; empty for a user with nothing stored")
    func listFactors() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (activeID, _) = try await server.enrollActiveTOTP(client, user: "erin")
                let pending = try await client.send(.post, "/v1/users/erin/factors", key: server.keys.enroll, json: ["type": "hotp"])
                let list = try await client.send(.get, "/v1/users/erin/factors", key: server.keys.enroll)
                #expect(list.status == .ok)
                let factors = try #require(list.json["factors"]?.array)
                #expect(factors.map { $0["id"]?.string } == [activeID, pending.json["factor"]?["id"]?.string])
                #expect(factors.map { $0["status"]?.string } == ["active", "pending"])
                for factor in factors {
                    #expect(Set(factor.object?.keys.map { $0 } ?? []) == [
                        "id", "type", "status", "created_at", "activated_at", "expires_at", "label", "issuer", "algorithm", "digits", "period", "phone",
                        "device_id", "last_used_at", "security_key",
                    ])
                }
                let secret = try #require(pending.json["secret"]?.string)
                #expect(!list.text.contains(secret))

                let empty = try await client.send(.get, "/v1/users/nobody/factors", key: server.keys.enroll)
                #expect(empty.json == ["factors": []])
            }
        }
    }

    @Test("deleting a factor: 204, then 404")
    func deleteFactor() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (factorID, _) = try await server.enrollActiveTOTP(client, user: "frank")
                let deleted = try await client.send(.delete, "/v1/users/frank/factors/\(factorID)", key: server.keys.enroll)
                #expect(deleted.status == .noContent)
                #expect(deleted.body.isEmpty)
                let again = try await client.send(.delete, "/v1/users/frank/factors/\(factorID)", key: server.keys.enroll)
                #expect(again.status == .notFound)
                #expect(again.errorCode == "not_found")
                let malformed = try await client.send(.delete, "/v1/users/frank/factors/not-a-factor", key: server.keys.enroll)
                #expect(malformed.status == .notFound)
                let verify = try await client.send(.post, "/v1/users/frank/verify", key: server.keys.verify, json: ["code": "123456"])
                #expect(verify.json == ["result": "deny", "reason": "no_factors"])
            }
        }
    }

    @Test("reset deletes factors and recovery codes; export shows what is held without secrets; erase removes it")
    func administration() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (factorID, uri) = try await server.enrollActiveTOTP(client, user: "grace")
                let codes = try await client.send(.post, "/v1/users/grace/recovery-codes", key: server.keys.enroll)
                let firstCode = try #require(codes.json["codes"]?[0]?.string)

                let export = try await client.send(.get, "/v1/users/grace/export", key: server.keys.admin)
                #expect(export.status == .ok)
                #expect(export.json["application"] == "default")
                #expect(export.json["user_id"] == "grace")
                #expect(export.json["exported_at"]?.string != nil)
                #expect(export.json["factors"]?[0]?["id"] == .string(factorID))
                #expect(export.json["recovery_codes"]?["total"] == 10)
                #expect(export.json["recovery_codes"]?["unused"] == 10)
                #expect(export.json["throttle"] == ["consecutive_failures": 0, "locked_until": nil])
                let actions = export.json["audit_events"]?.array?.compactMap { $0["action"]?.string } ?? []
                #expect(actions.contains("factor.enrolled"))
                #expect(actions.contains("recovery_codes.generated"))
                // The plaintext secret in Base32 (as the authenticator holds it) and as raw bytes in any encoding.
                let secret = try OTPAuthURI(parsing: uri).secret.bytes
                #expect(SecretForms.found(secret, in: export.body) == [], "the export holds the plaintext TOTP secret")
                let codeList = codes.json["codes"]?.array?.compactMap { $0.string } ?? []
                #expect(codeList.count == 10)
                for code in codeList {
                    #expect(!export.text.contains(code) && !export.text.contains(code.replacingOccurrences(of: "-", with: "")),
                            "the export holds the recovery code \(code)")
                }

                let reset = try await client.send(.post, "/v1/users/grace/reset", key: server.keys.admin)
                #expect(reset.status == .noContent)
                let list = try await client.send(.get, "/v1/users/grace/factors", key: server.keys.enroll)
                #expect(list.json == ["factors": []])
                let verify = try await client.send(.post, "/v1/users/grace/verify", key: server.keys.verify, json: ["code": .string(firstCode)])
                #expect(verify.json == ["result": "deny", "reason": "no_factors"])

                let erased = try await client.send(.delete, "/v1/users/grace", key: server.keys.admin)
                #expect(erased.status == .noContent)
                let exportAfter = try await client.send(.get, "/v1/users/grace/export", key: server.keys.admin)
                #expect(exportAfter.status == .notFound)
                // Nothing stored, nothing to export or unlock; erasing or resetting such a user is still 204.
                #expect(try await client.send(.get, "/v1/users/nobody/export", key: server.keys.admin).status == .notFound)
                #expect(try await client.send(.delete, "/v1/users/nobody", key: server.keys.admin).status == .noContent)
                #expect(try await client.send(.post, "/v1/users/nobody/reset", key: server.keys.admin).status == .noContent)
                #expect(try await client.send(.post, "/v1/users/nobody/unlock", key: server.keys.admin).status == .notFound)
            }
        }
    }

    @Test("audit: newest first, filtered by user and time, paginated with a next cursor; actor api:<key id>")
    func audit() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                for user in ["henry", "iris"] {
                    _ = try await client.send(.post, "/v1/users/\(user)/factors", key: server.keys.enroll, json: ["type": "totp"])
                    server.clock.advance(by: 60)
                    _ = try await client.send(.post, "/v1/users/\(user)/verify", key: server.keys.verify, json: ["code": "000000"])
                    server.clock.advance(by: 60)
                }
                let all = try await client.send(.get, "/v1/audit", key: server.keys.admin)
                #expect(all.status == .ok)
                let events = try #require(all.json["events"]?.array)
                let ids = events.compactMap { $0["id"]?.string }
                #expect(ids.count == events.count && Set(ids).count == ids.count)
                // Opaque: no counter to read other applications' activity from.
                #expect(ids.allSatisfy { $0.hasPrefix("evt_") && $0.count == 62 })
                let times = events.compactMap { $0["time"]?.string }
                #expect(times == times.sorted(by: >), "newest first")
                #expect(all.json["next"] == .null)
                let verifyKeyID = try #require(try await server.services.apiKeys.apiKeys(server.defaultApplication.id).first { $0.scopes == [.verify] }?.id)
                #expect(events.first?["actor"] == .string("api:\(verifyKeyID)"))
                #expect(events.first?["action"] == "verification")
                #expect(events.first?["user_id"] == "iris")
                #expect(events.first?["outcome"] == "deny")
                #expect(events.first?["reason"] == "no_factors")

                let henry = try await client.send(.get, "/v1/audit?user_id=henry", key: server.keys.admin)
                let henryEvents = try #require(henry.json["events"]?.array)
                #expect(henryEvents.count == 2)
                #expect(henryEvents.allSatisfy { $0["user_id"] == "henry" })

                let recent = try await client.send(.get, "/v1/audit?since=2023-11-14T22:15:20Z", key: server.keys.admin)
                #expect(recent.json["events"]?.array?.compactMap { $0["user_id"]?.string } == ["iris", "iris"])

                // Pages of two.
                var seen: [String] = []
                var path = "/v1/audit?limit=2"
                for _ in 0..<10 {
                    let page = try await client.send(.get, path, key: server.keys.admin)
                    let pageEvents = try #require(page.json["events"]?.array)
                    #expect(pageEvents.count <= 2)
                    seen += pageEvents.compactMap { $0["id"]?.string }
                    guard let next = page.json["next"]?.string else { break }
                    path = "/v1/audit?limit=2&before=\(next)"
                }
                #expect(seen == ids)

                let forged = "evt_" + String(repeating: "a", count: 58)
                for bad in ["limit=0", "limit=501", "limit=x", "since=yesterday", "before=-3", "before=12", "before=\(forged)", "user_id="] {
                    let answer = try await client.send(.get, "/v1/audit?\(bad)", key: server.keys.admin)
                    #expect(answer.status == .badRequest, "\(bad)")
                    #expect(answer.errorCode == "invalid_request")
                }
            }
        }
    }

    @Test("health, readiness, metrics and the OpenAPI document need no key")
    func operations() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let health = try await client.send(.get, "/healthz")
                #expect(health.status == .ok)
                #expect(health.json == ["status": "ok"])
                // Ready once the store answers within /readyz's 2 s: a test run that loads the
                // machine may need a second try.
                var ready = try await client.send(.get, "/readyz")
                for _ in 0..<3 where ready.status == .serviceUnavailable {
                    ready = try await client.send(.get, "/readyz")
                }
                #expect(ready.status == .ok)
                #expect(ready.json["status"] == "ready")
                // The development default: the console for SMS and for voice.
                #expect(ready.json["providers"]?.array?.map { $0["provider"]?.string } == ["console", "console"])
                #expect(ready.json["providers"]?.array?.allSatisfy { $0["status"] == "ok" } == true)
                let metrics = try await client.send(.get, "/metrics")
                #expect(metrics.status == .ok)
                #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
                #expect(metrics.text.contains(#"twofold_http_requests_total{route="/healthz",method="GET",status="200"} 1"#))
                #expect(metrics.text.contains("# TYPE twofold_lockouts_total counter"))
                let document = try await client.send(.get, "/openapi.json")
                #expect(document.status == .ok)
                #expect(document.json["openapi"] == "3.1.0")
            }
        }
    }

    @Test("readiness is 503 unavailable once the store is closed")
    func notReady() async throws {
        try await TestServer.with { server in
            try await server.runtime.close()
            try await server.test { client in
                let ready = try await client.send(.get, "/readyz")
                #expect(ready.status == .serviceUnavailable)
                #expect(ready.errorCode == "unavailable")
                let verify = try await client.send(.post, "/v1/users/x/verify", key: server.keys.verify, json: ["code": "123456"])
                #expect(verify.status == .serviceUnavailable)
                #expect(verify.errorCode == "unavailable")
                #expect(!verify.text.contains("SQLite"))
            }
        }
    }
}
