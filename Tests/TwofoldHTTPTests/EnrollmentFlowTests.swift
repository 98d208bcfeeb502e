import Foundation
import Hummingbird
import Testing
import TwofoldCore
import TwofoldOTP
@testable import TwofoldHTTP

@Suite("Enrollment and verification over HTTP")
struct EnrollmentFlowTests {
    @Test("enroll, QR, activate, verify, replay refused, then locked with Retry-After")
    func fullFlow() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let key = server.keys.all
                // Enroll: 201 with the factor pending, its secret, URI and QR code.
                let enrolled = try await client.send(.post, "/v1/users/alice%40example.com/factors", key: key,
                                                     json: ["type": "totp", "issuer": "Acme"])
                #expect(enrolled.status == .created)
                let factor = try #require(enrolled.json["factor"])
                let factorID = try #require(factor["id"]?.string)
                #expect(factor["status"] == "pending")
                #expect(factor["type"] == "totp")
                #expect(factor["label"] == "alice@example.com")
                #expect(factor["issuer"] == "Acme")
                #expect(factor["created_at"] == "2023-11-14T22:13:20.000Z")
                #expect(factor["expires_at"] == "2023-11-14T22:23:20.000Z")
                #expect(factor["activated_at"] == .null)
                #expect(factor["secret"] == nil)
                let uriText = try #require(enrolled.json["otpauth_uri"]?.string)
                let uri = try OTPAuthURI(parsing: uriText)
                #expect(uri.secret.base32 == enrolled.json["secret"]?.string)
                #expect(uri.issuer == "Acme")
                #expect(enrolled.json["qr_svg"]?.string?.hasPrefix("<svg") == true || enrolled.json["qr_svg"]?.string?.contains("<svg") == true)
                #expect(enrolled.headers[.cacheControl] == "no-store")

                // QR code while pending: SVG and PNG.
                let svg = try await client.send(.get, "/v1/users/alice%40example.com/factors/\(factorID)/qr", key: key)
                #expect(svg.status == .ok)
                #expect(svg.headers[.contentType] == "image/svg+xml")
                #expect(svg.text.contains("<svg"))
                let png = try await client.send(.get, "/v1/users/alice%40example.com/factors/\(factorID)/qr?format=png", key: key)
                #expect(png.status == .ok)
                #expect(png.headers[.contentType] == "image/png")
                #expect(Array(png.body.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

                // Activate with the code TwofoldOTP computes from the returned URI.
                let code = try server.totpCode(uriText)
                let activated = try await client.send(.post, "/v1/users/alice%40example.com/factors/\(factorID)/activate", key: key,
                                                      json: ["code": .string(code)])
                #expect(activated.status == .ok)
                #expect(activated.json["factor"]?["status"] == "active")
                #expect(activated.json["factor"]?["expires_at"] == .null)
                #expect(activated.json["factor"]?["activated_at"]?.string != nil)

                // No QR code once active.
                let gone = try await client.send(.get, "/v1/users/alice%40example.com/factors/\(factorID)/qr", key: key)
                #expect(gone.status == .notFound)
                #expect(gone.errorCode == "not_found")

                // Verify the next step's code: allow, naming the factor.
                server.clock.advance(by: 30)
                let next = try server.totpCode(uriText)
                let allowed = try await client.send(.post, "/v1/users/alice%40example.com/verify", key: key, json: ["code": .string(next)])
                #expect(allowed.status == .ok)
                #expect(allowed.json == ["result": "allow", "factor_id": .string(factorID), "factor_type": "totp"])

                // The same code again: replayed.
                let replayed = try await client.send(.post, "/v1/users/alice%40example.com/verify", key: key, json: ["code": .string(next)])
                #expect(replayed.status == .ok)
                #expect(replayed.json == ["result": "deny", "reason": "replayed"])

                // Wrong codes: the replay was failure 1; failures 2–6 are answered invalid_code,
                // the 6th locks for 30 s, and the next attempt is not evaluated at all.
                let wrong = Self.wrongCode(avoiding: try (-2...2).map { try server.totpCode(uriText, offsetSteps: $0) })
                for _ in 2...6 {
                    let denied = try await client.send(.post, "/v1/users/alice%40example.com/verify", key: key, json: ["code": .string(wrong)])
                    #expect(denied.json == ["result": "deny", "reason": "invalid_code"])
                    #expect(denied.headers[.retryAfter] == nil)
                }
                let locked = try await client.send(.post, "/v1/users/alice%40example.com/verify", key: key,
                                                   json: ["code": .string(try server.totpCode(uriText))])
                #expect(locked.status == .ok)
                #expect(locked.json == ["result": "deny", "reason": "locked", "retry_after": 30])
                #expect(locked.headers[.retryAfter] == "30")

                server.clock.advance(by: 10)
                let stillLocked = try await client.send(.post, "/v1/users/alice%40example.com/verify", key: key, json: ["code": "123456"])
                #expect(stillLocked.json["retry_after"] == 20)
                #expect(stillLocked.headers[.retryAfter] == "20")

                // Metrics saw all of it.
                let metrics = try await client.send(.get, "/metrics")
                #expect(metrics.text.contains(#"twofold_verifications_total{result="allow",reason="none"} 1"#))
                #expect(metrics.text.contains(#"twofold_verifications_total{result="deny",reason="replayed"} 1"#))
                #expect(metrics.text.contains(#"twofold_verifications_total{result="deny",reason="invalid_code"} 5"#))
                #expect(metrics.text.contains(#"twofold_verifications_total{result="deny",reason="locked"} 2"#))
                #expect(metrics.text.contains("twofold_lockouts_total 1"))
                #expect(metrics.text.contains(#"twofold_http_requests_total{route="/v1/users/{user_id}/verify",method="POST",status="200"} 9"#))
                #expect(metrics.text.contains("twofold_http_request_duration_seconds_bucket{"))

                // Unlock (admin) lets the user in again.
                let unlocked = try await client.send(.post, "/v1/users/alice%40example.com/unlock", key: key)
                #expect(unlocked.status == .noContent)
                server.clock.advance(by: 30)
                let again = try await client.send(.post, "/v1/users/alice%40example.com/verify", key: key,
                                                  json: ["code": .string(try server.totpCode(uriText))])
                #expect(again.json["result"] == "allow")
            }
        }
    }

    @Test("a recovery code allows once, as factor type recovery_code with a null factor id")
    func recoveryCodes() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                // Recovery codes stand in for a lost factor: only a user with an active one gets them.
                _ = try await server.enrollActiveTOTP(client, user: "bob")
                let created = try await client.send(.post, "/v1/users/bob/recovery-codes", key: server.keys.enroll)
                #expect(created.status == .created)
                let codes = (created.json["codes"]?.array ?? []).compactMap(\.string)
                #expect(codes.count == 10)
                #expect(Set(codes).count == 10)

                let allowed = try await client.send(.post, "/v1/users/bob/verify", key: server.keys.verify, json: ["code": .string(codes[3])])
                #expect(allowed.json == ["result": "allow", "factor_id": nil, "factor_type": "recovery_code", "remaining_recovery_codes": 9])
                let reused = try await client.send(.post, "/v1/users/bob/verify", key: server.keys.verify, json: ["code": .string(codes[3])])
                #expect(reused.json == ["result": "deny", "reason": "invalid_code"])

                // A new set replaces the old one.
                let replaced = try await client.send(.post, "/v1/users/bob/recovery-codes", key: server.keys.enroll)
                #expect(replaced.status == .created)
                let old = try await client.send(.post, "/v1/users/bob/verify", key: server.keys.verify, json: ["code": .string(codes[4])])
                #expect(old.json["result"] == "deny")
            }
        }
    }

    @Test("HOTP: enroll with options, activate, resynchronise with two consecutive codes")
    func hotpResync() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let key = server.keys.enroll
                let enrolled = try await client.send(.post, "/v1/users/carol/factors", key: key,
                                                     json: ["type": "hotp", "algorithm": "sha256", "digits": 8, "label": "carol's phone"])
                #expect(enrolled.status == .created)
                #expect(enrolled.json["factor"]?["algorithm"] == "sha256")
                #expect(enrolled.json["factor"]?["digits"] == 8)
                #expect(enrolled.json["factor"]?["period"] == .null)
                #expect(enrolled.json["factor"]?["label"] == "carol's phone")
                let factorID = try #require(enrolled.json["factor"]?["id"]?.string)
                let hotp = try OTPAuthURI(parsing: try #require(enrolled.json["otpauth_uri"]?.string)).makeHOTP()
                #expect(hotp.digits == 8)

                let activated = try await client.send(.post, "/v1/users/carol/factors/\(factorID)/activate", key: key,
                                                      json: ["code": .string(hotp.code(counter: 0))])
                #expect(activated.status == .ok)

                // The device ran ahead by 50 presses: beyond the look-ahead, within the resync window.
                let far = try await client.send(.post, "/v1/users/carol/verify", key: server.keys.verify,
                                                 json: ["code": .string(hotp.code(counter: 51))])
                #expect(far.json["result"] == "deny")
                let resynced = try await client.send(.post, "/v1/users/carol/factors/\(factorID)/resync", key: key,
                                                     json: ["codes": [.string(hotp.code(counter: 52)), .string(hotp.code(counter: 53))]])
                #expect(resynced.status == .ok)
                #expect(resynced.json["factor"]?["id"] == .string(factorID))
                let next = try await client.send(.post, "/v1/users/carol/verify", key: server.keys.verify,
                                                 json: ["code": .string(hotp.code(counter: 54))])
                #expect(next.json["result"] == "allow")
                #expect(next.json["factor_type"] == "hotp")

                // Codes that are not consecutive: 422 invalid_code.
                let bad = try await client.send(.post, "/v1/users/carol/factors/\(factorID)/resync", key: key,
                                                json: ["codes": [.string(hotp.code(counter: 60)), .string(hotp.code(counter: 62))]])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.errorCode == "invalid_code")
            }
        }
    }

    @Test("a wrong activation code is 422 invalid_code; a locked user's activation is 429 with Retry-After")
    func activationFailures() async throws {
        try await TestServer.with(policy: VerificationPolicy(throttle: ThrottlePolicy(freeFailures: 1, baseDelay: 60))) { server in
            try await server.test { client in
                let key = server.keys.enroll
                let enrolled = try await client.send(.post, "/v1/users/dave/factors", key: key, json: ["type": "totp"])
                let factorID = try #require(enrolled.json["factor"]?["id"]?.string)
                let uri = try #require(enrolled.json["otpauth_uri"]?.string)
                let wrong = Self.wrongCode(avoiding: try (-2...2).map { try server.totpCode(uri, offsetSteps: $0) })
                let first = try await client.send(.post, "/v1/users/dave/factors/\(factorID)/activate", key: key, json: ["code": .string(wrong)])
                #expect(first.status == .unprocessableContent)
                #expect(first.errorCode == "invalid_code")
                let second = try await client.send(.post, "/v1/users/dave/factors/\(factorID)/activate", key: key, json: ["code": .string(wrong)])
                #expect(second.status == .unprocessableContent)
                let locked = try await client.send(.post, "/v1/users/dave/factors/\(factorID)/activate", key: key,
                                                   json: ["code": .string(try server.totpCode(uri))])
                #expect(locked.status == .tooManyRequests)
                #expect(locked.errorCode == "rate_limited")
                #expect(locked.headers[.retryAfter] == "60")
                let metrics = try await client.send(.get, "/metrics")
                #expect(metrics.text.contains("twofold_lockouts_total 1"))
            }
        }
    }

    /// A six-digit code that is none of `codes`.
    static func wrongCode(avoiding codes: [String]) -> String {
        var candidate = 0
        while codes.contains(String(format: "%06d", candidate)) { candidate += 1 }
        return String(format: "%06d", candidate)
    }
}
