import Crypto
import Foundation
import Hummingbird
import Testing
import TwofoldCore
@testable import TwofoldHTTP

/// Push approval through the API: enrollment and activation, challenges, and the device's
/// signed requests, with real P-256 keys on a SQLite node whose clock stands still.
@Suite("Push approval over HTTP", .timeLimit(.minutes(2)))
struct PushAPITests {
    static func approval(_ number: Int?) -> String {
        number.map { #"{"decision":"approve","number":\#($0)}"# } ?? #"{"decision":"approve"}"#
    }

    static let denial = #"{"decision":"deny"}"#
    static let fraudReport = #"{"decision":"deny","fraud":true}"#

    /// Another number from 10 to 99.
    static func other(than number: Int) -> Int { number == 99 ? 10 : number + 1 }

    /// The fields the OpenAPI document lists for a schema (or a nested object of it).
    static func documentedFields(_ path: String...) throws -> Set<String> {
        var schema = try #require(try JSON(parsing: OpenAPIDocument.json)["components"]?["schemas"])
        for name in path {
            schema = try #require(schema[name] ?? schema["properties"]?[name], "\(path)")
        }
        return Set(try #require(schema["properties"]?.object, "\(path)").keys)
    }

    // MARK: Enrollment and activation

    @Test("a device activates its enrollment with its P-256 key; the factor is then active and names the device")
    func enrollAndActivate() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let enrolled = try await client.send(.post, "/v1/users/alice/factors", key: server.keys.enroll, json: ["type": "push"])
                #expect(enrolled.status == .created)
                #expect(Set(try #require(enrolled.json.object).keys) == (try Self.documentedFields("PushEnrollment")))
                let factor = try #require(enrolled.json["factor"])
                #expect(Set(try #require(factor.object).keys) == (try Self.documentedFields("Factor")))
                #expect(factor["type"] == "push")
                #expect(factor["status"] == "pending")
                #expect(factor["label"] == "Push device")
                #expect(factor["expires_at"] == "2023-11-14T22:23:20.000Z")
                #expect(factor["last_used_at"] == .null)
                let deviceID = try #require(factor["device_id"]?.string)
                #expect(deviceID.wholeMatch(of: /dev_[a-z2-7]{26}/) != nil)
                let activation = try #require(enrolled.json["activation"])
                #expect(Set(try #require(activation.object).keys) == (try Self.documentedFields("PushEnrollment", "activation")))
                let token = try #require(activation["token"]?.string)
                #expect(token.wholeMatch(of: /[A-Za-z0-9_-]{43}/) != nil)
                let uri = try #require(activation["uri"]?.string)
                #expect(uri.hasPrefix("twofold://activate?url="))
                #expect(uri.hasSuffix("&token=\(token)"))
                #expect(activation["qr_svg"]?.string?.contains("<svg") == true)
                #expect(activation["expires_at"] == "2023-11-14T22:23:20.000Z")
                // Web Push is not enabled on this node.
                #expect(activation["application_server_key"] == .null)

                let key = P256.Signing.PrivateKey()
                let activated = try await client.send(.post, "/v1/devices/activate",
                                                      json: ["token": .string(token), "public_key": .string(TestDevice.publicKeyText(key))])
                #expect(activated.status == .created)
                #expect(activated.json == ["device_id": .string(deviceID)])

                let listed = try await client.send(.get, "/v1/users/alice/factors", key: server.keys.enroll)
                #expect(listed.json["factors"]?.array?.count == 1)
                let shown = try #require(listed.json["factors"]?[0])
                #expect(shown["id"] == factor["id"])
                #expect(shown["status"] == "active")
                #expect(shown["device_id"] == .string(deviceID))
                #expect(shown["activated_at"] == "2023-11-14T22:13:20.000Z")
                #expect(shown["expires_at"] == .null)

                // From now on the device's key signs its requests.
                let device = TestDevice(id: deviceID, key: key)
                let open = try await device.send(client, .get, device.challengesPath, at: server.clock.now())
                #expect(open.status == .ok)
                #expect(open.json == ["challenges": []])
            }
        }
    }

    enum RefusedKey: String, CaseIterable, CustomTestStringConvertible {
        case notBase64, garbage, p384, truncated, bareP256Point
        var testDescription: String { rawValue }

        var text: String {
            switch self {
            case .notBase64: "not Base64!"
            case .garbage: Data((0..<91).map { UInt8($0) }).base64EncodedString()
            case .p384: P384.Signing.PrivateKey().publicKey.derRepresentation.base64EncodedString()
            case .truncated: P256.Signing.PrivateKey().publicKey.derRepresentation.dropLast(1).base64EncodedString()
            case .bareP256Point: P256.Signing.PrivateKey().publicKey.x963Representation.base64EncodedString()
            }
        }
    }

    @Test("activation refuses anything but a P-256 key in SPKI DER with 400; the factor stays pending and the token still works",
          arguments: RefusedKey.allCases)
    func refusedKeys(key refused: RefusedKey) async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (factor, activation) = try await server.enrollPush(client, user: "alice")
                let token = try #require(activation["token"])
                let answer = try await client.send(.post, "/v1/devices/activate", json: ["token": token, "public_key": .string(refused.text)])
                #expect(answer.status == .badRequest)
                #expect(answer.errorCode == "invalid_request")
                #expect(answer.json["error"]?["message"]?.string?.contains("public_key") == true, "\(answer.text)")

                let listed = try await client.send(.get, "/v1/users/alice/factors", key: server.keys.enroll)
                #expect(listed.json["factors"]?[0]?["status"] == "pending")
                #expect(listed.json["factors"]?[0]?["id"] == factor["id"])

                let good = try await client.send(.post, "/v1/devices/activate",
                                                 json: ["token": token, "public_key": .string(TestDevice.publicKeyText(P256.Signing.PrivateKey()))])
                #expect(good.status == .created)
                #expect(good.json["device_id"] == factor["device_id"])
            }
        }
    }

    @Test("an activation token works once, and not once it lapses; an unknown token is 401 too")
    func tokenOnce() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (factor, activation) = try await server.enrollPush(client, user: "alice")
                let token = try #require(activation["token"])
                let first = P256.Signing.PrivateKey()
                let activated = try await client.send(.post, "/v1/devices/activate",
                                                      json: ["token": token, "public_key": .string(TestDevice.publicKeyText(first))])
                #expect(activated.status == .created)

                // The token again, with another key: refused, and the device keeps its first key.
                let second = P256.Signing.PrivateKey()
                let reused = try await client.send(.post, "/v1/devices/activate",
                                                   json: ["token": token, "public_key": .string(TestDevice.publicKeyText(second))])
                #expect(reused.status == .unauthorized)
                #expect(reused.errorCode == "unauthorized")
                let deviceID = try #require(factor["device_id"]?.string)
                let byIntruder = try await TestDevice(id: deviceID, key: second).send(
                    client, .get, "/v1/devices/\(deviceID)/challenges", at: server.clock.now())
                #expect(byIntruder.status == .unauthorized)
                let byOwner = try await TestDevice(id: deviceID, key: first).send(
                    client, .get, "/v1/devices/\(deviceID)/challenges", at: server.clock.now())
                #expect(byOwner.status == .ok)

                let unknown = try await client.send(.post, "/v1/devices/activate",
                                                    json: ["token": .string(String(repeating: "A", count: 43)),
                                                           "public_key": .string(TestDevice.publicKeyText(second))])
                #expect(unknown.status == .unauthorized)

                // Bob's token lapses 600 s after his enrollment.
                let (_, bobActivation) = try await server.enrollPush(client, user: "bob")
                server.clock.advance(by: 600)
                let lapsed = try await client.send(.post, "/v1/devices/activate",
                                                   json: ["token": try #require(bobActivation["token"]),
                                                          "public_key": .string(TestDevice.publicKeyText(second))])
                #expect(lapsed.status == .unauthorized)
                let bobFactors = try await client.send(.get, "/v1/users/bob/factors", key: server.keys.enroll)
                #expect(bobFactors.json == ["factors": []])
            }
        }
    }

    @Test("activation takes polling, and refuses with 400 a transport this server has not enabled or an unknown field")
    func transports() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (factor, activation) = try await server.enrollPush(client, user: "alice")
                let token = try #require(activation["token"])
                let publicKey = JSON.string(TestDevice.publicKeyText(P256.Signing.PrivateKey()))
                let subscriptionKey = P256.KeyAgreement.PrivateKey().publicKey.x963Representation.base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                let refused: [(JSON, String)] = [
                    (["token": token, "public_key": publicKey,
                      "transport": ["type": "webpush", "endpoint": "https://push.example.com/send/abc",
                                    "keys": ["p256dh": .string(subscriptionKey), "auth": "AAAAAAAAAAAAAAAAAAAAAA"]]], "not enabled"),
                    (["token": token, "public_key": publicKey, "push_token": "relay-token"], "not enabled"),
                    (["token": token, "public_key": publicKey, "transport": ["type": "carrier-pigeon"]], "transport.type"),
                    (["token": token, "public_key": publicKey, "transport": ["type": "polling", "endpoint": "https://push.example.com/x"]],
                     "polling"),
                    (["token": token, "public_key": publicKey, "name": "my phone"], "unknown field `name`"),
                ]
                for (body, reason) in refused {
                    let answer = try await client.send(.post, "/v1/devices/activate", json: body)
                    #expect(answer.status == .badRequest, "\(body)")
                    #expect(answer.errorCode == "invalid_request")
                    #expect(answer.json["error"]?["message"]?.string?.contains(reason) == true, "\(answer.text)")
                }
                let listed = try await client.send(.get, "/v1/users/alice/factors", key: server.keys.enroll)
                #expect(listed.json["factors"]?[0]?["status"] == "pending")

                let polling = try await client.send(.post, "/v1/devices/activate",
                                                    json: ["token": token, "public_key": publicKey, "transport": ["type": "polling"]])
                #expect(polling.status == .created)
                #expect(polling.json["device_id"] == factor["device_id"])
            }
        }
    }

    @Test("a push needs an active push factor: none, only a pending one, or another type's factor id is 404")
    func pushNeedsActiveFactor() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let none = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify, json: ["type": "push"])
                #expect(none.status == .notFound)
                _ = try await server.enrollPush(client, user: "alice")
                let pending = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify, json: ["type": "push"])
                #expect(pending.status == .notFound)
                #expect(pending.errorCode == "not_found")
                let (totpID, _) = try await server.enrollActiveTOTP(client, user: "alice")
                _ = try await server.activatedDevice(client, user: "alice")
                let wrongType = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify,
                                                      json: ["type": "push", "factor_id": .string(totpID)])
                #expect(wrongType.status == .notFound)
                let codeMode = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify,
                                                     json: ["type": "push", "mode": "code"])
                #expect(codeMode.status == .badRequest)
                let pushed = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify, json: ["type": "push"])
                #expect(pushed.status == .accepted)
            }
        }
    }

    // MARK: Answers

    @Test("a push shows a number; the device sees that it needs it, and approving with it approves the sign-in")
    func approveWithNumber() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, factorID) = try await server.activatedDevice(client, user: "alice")
                let created = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify,
                                                    json: ["type": "push", "context": ["ip": "203.0.113.7", "location": "Lyon"]])
                #expect(created.status == .accepted)
                // Every field documented but the security keys' options.
                #expect(Set(try #require(created.json.object).keys) == (try Self.documentedFields("ChallengeCreated")).subtracting(["public_key"]))
                #expect(created.json["type"] == "push")
                #expect(created.json["status"] == "pending")
                let id = try #require(created.json["challenge_id"]?.string)
                let number = try #require(created.json["number"]?.int)
                #expect((10...99).contains(number))

                let listed = try await device.send(client, .get, device.challengesPath, at: server.clock.now())
                #expect(listed.status == .ok)
                let challenges = try #require(listed.json["challenges"]?.array)
                #expect(challenges.count == 1)
                let seen = try #require(challenges.first)
                #expect(Set(try #require(seen.object).keys) == (try Self.documentedFields("DeviceChallenge")))
                #expect(seen["challenge_id"] == .string(id))
                #expect(seen["status"] == "pending")
                #expect(seen["reason"] == .null)
                #expect(seen["number_required"] == true)
                #expect(seen["app_name"] == .string(server.defaultApplication.name))
                #expect(seen["context"] == ["ip": "203.0.113.7", "location": "Lyon"])
                #expect(seen["expires_at"] == "2023-11-14T22:15:20.000Z")
                // The number is what the sign-in page shows, never what the device is told.
                #expect(!listed.text.contains("\"number\""))

                let shown = try await device.send(client, .get, device.challengePath(id), at: server.clock.now())
                #expect(shown.status == .ok)
                #expect(shown.json == seen)

                server.clock.advance(by: 5)
                let approved = try await device.send(client, .post, device.challengePath(id), body: Self.approval(number), at: server.clock.now())
                #expect(approved.status == .ok)
                #expect(approved.json == ["status": "approved", "reason": nil])
                #expect(Set(try #require(approved.json.object).keys) == (try Self.documentedFields("DeviceAnswerResult")))

                let status = try await client.send(.get, "/v1/challenges/\(id)", key: server.keys.verify)
                #expect(status.json["status"] == "approved")
                #expect(status.json["reason"] == .null)
                #expect(status.json["type"] == "push")
                #expect(status.json["mode"] == "approve")
                #expect(status.json["factor_id"] == .string(factorID))
                #expect(status.json["finished_at"] == "2023-11-14T22:13:25.000Z")

                // Answered: no longer listed, and a second answer is refused.
                let after = try await device.send(client, .get, device.challengesPath, at: server.clock.now())
                #expect(after.json == ["challenges": []])
                let again = try await device.send(client, .post, device.challengePath(id), body: Self.denial, at: server.clock.now())
                #expect(again.status == .badRequest)
                #expect(again.errorCode == "invalid_request")
                let still = try await client.send(.get, "/v1/challenges/\(id)", key: server.keys.verify)
                #expect(still.json["status"] == "approved")

                let factors = try await client.send(.get, "/v1/users/alice/factors", key: server.keys.enroll)
                #expect(factors.json["factors"]?[0]?["last_used_at"] == "2023-11-14T22:13:25.000Z")
            }
        }
    }

    @Test("approving with another number denies the sign-in (wrong_number)")
    func wrongNumber() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let (id, number) = try await server.push(client, user: "alice")
                let answer = try await device.send(client, .post, device.challengePath(id),
                                                   body: Self.approval(Self.other(than: try #require(number))), at: server.clock.now())
                #expect(answer.status == .ok)
                #expect(answer.json == ["status": "denied", "reason": "wrong_number"])
                let status = try await client.send(.get, "/v1/challenges/\(id)", key: server.keys.verify)
                #expect(status.json["status"] == "denied")
                #expect(status.json["reason"] == "wrong_number")
            }
        }
    }

    @Test("an answer that cannot apply is 400 and leaves the challenge pending: no number, a number out of range, fraud with an approval, an unknown decision or field")
    func malformedAnswers() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let (id, number) = try await server.push(client, user: "alice")
                let refused = [
                    Self.approval(nil),
                    Self.approval(5),
                    Self.approval(100),
                    #"{"decision":"approve","number":\#(try #require(number)),"fraud":true}"#,
                    #"{"decision":"maybe"}"#,
                    #"{"decision":"deny","reason":"not me"}"#,
                    #"{"decision":"approve","number":"\#(try #require(number))"}"#,
                ]
                for body in refused {
                    let answer = try await device.send(client, .post, device.challengePath(id), body: body, at: server.clock.now())
                    #expect(answer.status == .badRequest, "\(body)")
                    #expect(answer.errorCode == "invalid_request", "\(body)")
                }
                let shown = try await device.send(client, .get, device.challengePath(id), at: server.clock.now())
                #expect(shown.json["status"] == "pending")
                let approved = try await device.send(client, .post, device.challengePath(id), body: Self.approval(number), at: server.clock.now())
                #expect(approved.json == ["status": "approved", "reason": nil])
            }
        }
    }

    @Test("a denial declines the sign-in")
    func declined() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let (id, _) = try await server.push(client, user: "alice")
                let answer = try await device.send(client, .post, device.challengePath(id), body: Self.denial, at: server.clock.now())
                #expect(answer.status == .ok)
                #expect(answer.json == ["status": "denied", "reason": "declined"])
                let status = try await client.send(.get, "/v1/challenges/\(id)", key: server.keys.verify)
                #expect(status.json["status"] == "denied")
                #expect(status.json["reason"] == "declined")
                // A plain denial suspends nothing: the next push (past the send budget) goes out.
                server.clock.advance(by: 30)
                let next = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify, json: ["type": "push"])
                #expect(next.status == .accepted)
            }
        }
    }

    @Test("a fraud report denies the sign-in and suspends push to the device, 429 with Retry-After, until the suspension ends")
    func fraudSuspends() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let (id, _) = try await server.push(client, user: "alice")
                let answer = try await device.send(client, .post, device.challengePath(id), body: Self.fraudReport, at: server.clock.now())
                #expect(answer.status == .ok)
                #expect(answer.json == ["status": "denied", "reason": "fraud"])
                let status = try await client.send(.get, "/v1/challenges/\(id)", key: server.keys.verify)
                #expect(status.json["reason"] == "fraud")

                // Past the per-user send budget (one per 30 s), only the suspension (1200 s) refuses.
                server.clock.advance(by: 30)
                let suspended = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify, json: ["type": "push"])
                #expect(suspended.status == .tooManyRequests)
                #expect(suspended.errorCode == "rate_limited")
                #expect(suspended.headers[.retryAfter] == "1170")

                server.clock.advance(by: 1169)
                let lastSecond = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify, json: ["type": "push"])
                #expect(lastSecond.status == .tooManyRequests)
                #expect(lastSecond.headers[.retryAfter] == "1")

                server.clock.advance(by: 1)
                let resumed = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify, json: ["type": "push"])
                #expect(resumed.status == .accepted)
            }
        }
    }

    @Test("a newer push cancels the one still open (canceled, superseded), which can no longer be approved")
    func superseded() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let (older, olderNumber) = try await server.push(client, user: "alice")
                server.clock.advance(by: 30)
                let (newer, _) = try await server.push(client, user: "alice")

                let status = try await client.send(.get, "/v1/challenges/\(older)", key: server.keys.verify)
                #expect(status.json["status"] == "canceled")
                #expect(status.json["reason"] == "superseded")
                let listed = try await device.send(client, .get, device.challengesPath, at: server.clock.now())
                #expect(listed.json["challenges"]?.array?.compactMap { $0["challenge_id"]?.string } == [newer])

                let late = try await device.send(client, .post, device.challengePath(older), body: Self.approval(olderNumber), at: server.clock.now())
                #expect(late.status == .badRequest)
                #expect(late.errorCode == "invalid_request")
                let seen = try await device.send(client, .get, device.challengePath(older), at: server.clock.now())
                #expect(seen.json["status"] == "canceled")
                #expect(seen.json["reason"] == "superseded")
                let newerStatus = try await client.send(.get, "/v1/challenges/\(newer)", key: server.keys.verify)
                #expect(newerStatus.json["status"] == "pending")
            }
        }
    }

    @Test("with number matching off, a push has a null number and is approved without one")
    func numberMatchingOff() async throws {
        try await TestServer.with { server in
            _ = try await server.services.applications.updateSettings(id: server.defaultApplication.id, smsTemplate: .keep, domain: .keep,
                                                                      pushNumberMatching: false, actor: "test")
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let created = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.verify, json: ["type": "push"])
                #expect(created.status == .accepted)
                #expect(created.json["number"] == .null)
                let id = try #require(created.json["challenge_id"]?.string)
                let shown = try await device.send(client, .get, device.challengePath(id), at: server.clock.now())
                #expect(shown.json["number_required"] == false)
                let approved = try await device.send(client, .post, device.challengePath(id), body: Self.approval(nil), at: server.clock.now())
                #expect(approved.json == ["status": "approved", "reason": nil])
            }
        }
    }

    // MARK: Signatures

    @Test("a signature is accepted once: the same headers again, or the same signature re-encoded with n − s, are 401")
    func replay() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let (id, number) = try await server.push(client, user: "alice")

                let listHeaders = try device.signatureHeaders(.get, device.challengesPath, at: server.clock.now())
                let first = try await client.send(.get, device.challengesPath, headers: listHeaders)
                #expect(first.status == .ok)
                let replayed = try await client.send(.get, device.challengesPath, headers: listHeaders)
                #expect(replayed.status == .unauthorized)
                #expect(replayed.errorCode == "unauthorized")

                // (r, n − s) verifies as well as (r, s): it must count as the same signature.
                let timestamp = try #require(listHeaders[TestDevice.timestampName])
                let signature = try #require(listHeaders[TestDevice.signatureName])
                let original = try P256.Signing.ECDSASignature(derRepresentation: try #require(Data(base64Encoded: signature)))
                let raw = Array(original.rawRepresentation)
                let twin = try P256.Signing.ECDSASignature(rawRepresentation: Array(raw[0..<32]) + Self.p256Order(minus: Array(raw[32..<64])))
                let message = DeviceRequestSignature.message(method: "GET", path: device.challengesPath, timestamp: timestamp, body: [])
                #expect(device.key.publicKey.isValidSignature(twin, for: message))
                #expect(twin.derRepresentation != original.derRepresentation)
                let malleated = try await client.send(.get, device.challengesPath, headers: TestDevice.headers(
                    timestamp: timestamp, signature: twin.derRepresentation.base64EncodedString()))
                #expect(malleated.status == .unauthorized)

                // An answer sent twice is refused as a replay before it is read.
                let body = Self.approval(number)
                let answerHeaders = try device.signatureHeaders(.post, device.challengePath(id), body: body, at: server.clock.now())
                let applied = try await client.send(.post, device.challengePath(id), body: body, headers: answerHeaders)
                #expect(applied.json == ["status": "approved", "reason": nil])
                let again = try await client.send(.post, device.challengePath(id), body: body, headers: answerHeaders)
                #expect(again.status == .unauthorized)
            }
        }
    }

    /// n − s for P-256's group order n and a 32-byte big-endian s.
    static func p256Order(minus s: [UInt8]) -> [UInt8] {
        let n: [UInt8] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
        ]
        var result = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for index in stride(from: 31, through: 0, by: -1) {
            let difference = Int(n[index]) - Int(s[index]) - borrow
            borrow = difference < 0 ? 1 : 0
            result[index] = UInt8(difference + (difference < 0 ? 256 : 0))
        }
        return result
    }

    @Test("a timestamp more than 300 s from the server's clock, either way, is 401; within it, the request is served",
          arguments: zip([-301, 301, -86_400, -300, 300, 0], [false, false, false, true, true, true]))
    func timestampWindow(offset: Int, accepted: Bool) async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let answer = try await device.send(client, .get, device.challengesPath,
                                                   at: server.clock.now().addingTimeInterval(TimeInterval(offset)))
                #expect(answer.status == (accepted ? .ok : .unauthorized), "\(answer.text)")
            }
        }
    }

    @Test("a signature made for another path, query, method or body is 401, and the challenge stays pending")
    func signatureBindsRequest() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let (id, number) = try await server.push(client, user: "alice")
                let now = server.clock.now()

                let otherPath = try await client.send(.get, device.challengePath(id), headers: try device.signatureHeaders(.get, device.challengesPath, at: now))
                #expect(otherPath.status == .unauthorized)
                let otherQuery = try await client.send(.get, device.challengesPath + "?all=1",
                                                       headers: try device.signatureHeaders(.get, device.challengesPath, at: now))
                #expect(otherQuery.status == .unauthorized)
                let otherMethod = try await client.send(.post, device.challengePath(id), body: "",
                                                        headers: try device.signatureHeaders(.get, device.challengePath(id), at: now))
                #expect(otherMethod.status == .unauthorized)

                let signedApproval = try device.signatureHeaders(.post, device.challengePath(id), body: Self.approval(number), at: now)
                let otherBody = try await client.send(.post, device.challengePath(id), body: Self.fraudReport, headers: signedApproval)
                #expect(otherBody.status == .unauthorized)
                let respaced = try await client.send(.post, device.challengePath(id),
                                                     body: #"{"decision": "approve", "number": \#(try #require(number))}"#, headers: signedApproval)
                #expect(respaced.status == .unauthorized)

                let shown = try await device.send(client, .get, device.challengePath(id), at: server.clock.now())
                #expect(shown.json["status"] == "pending")
                // A query the device signed is served.
                let signedQuery = try await device.send(client, .get, device.challengesPath + "?all=1", at: server.clock.now())
                #expect(signedQuery.status == .ok)
            }
        }
    }

    @Test("another device's key, no signature, and an unknown or unactivated device are all 401; another device's challenge is 404 as none")
    func otherDevices() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                // Alice has two push factors; Bob has one; Carol's waits for its device.
                let (phone, phoneFactor) = try await server.activatedDevice(client, user: "alice")
                let (tablet, _) = try await server.activatedDevice(client, user: "alice")
                let (bob, _) = try await server.activatedDevice(client, user: "bob")
                let (carol, _) = try await server.enrollPush(client, user: "carol")
                let (id, number) = try await server.push(client, user: "alice", factorID: phoneFactor)
                let now = server.clock.now()

                let none = "chl_" + String(repeating: "a", count: 26)
                for other in [tablet, bob] {
                    let shown = try await other.send(client, .get, other.challengePath(id), at: now)
                    let unknown = try await other.send(client, .get, other.challengePath(none), at: now)
                    #expect(shown.status == .notFound)
                    #expect(unknown.status == .notFound)
                    #expect(shown.json["error"] == unknown.json["error"], "\(shown.text) against \(unknown.text)")
                    let answered = try await other.send(client, .post, other.challengePath(id), body: Self.approval(number), at: now)
                    #expect(answered.status == .notFound)
                    let listed = try await other.send(client, .get, other.challengesPath, at: now)
                    #expect(listed.json == ["challenges": []])
                }
                let wrongKey = try await TestDevice(id: phone.id, key: bob.key).send(client, .get, phone.challengePath(id), at: now)
                #expect(wrongKey.status == .unauthorized)

                let unsigned = try await client.send(.get, phone.challengePath(id))
                #expect(unsigned.status == .unauthorized)
                #expect(unsigned.errorCode == "unauthorized")
                let full = try phone.signatureHeaders(.get, phone.challengePath(id), at: now)
                var timestampOnly = full
                timestampOnly[TestDevice.signatureName] = nil
                #expect(try await client.send(.get, phone.challengePath(id), headers: timestampOnly).status == .unauthorized)
                var signatureOnly = full
                signatureOnly[TestDevice.timestampName] = nil
                #expect(try await client.send(.get, phone.challengePath(id), headers: signatureOnly).status == .unauthorized)
                var notBase64 = full
                notBase64[TestDevice.signatureName] = "not a signature"
                #expect(try await client.send(.get, phone.challengePath(id), headers: notBase64).status == .unauthorized)

                let unknown = TestDevice(id: "dev_" + String(repeating: "a", count: 26), key: phone.key)
                #expect(try await unknown.send(client, .get, unknown.challengesPath, at: now).status == .unauthorized)
                let malformed = TestDevice(id: "dev_1", key: phone.key)
                #expect(try await malformed.send(client, .get, malformed.challengesPath, at: now).status == .unauthorized)
                let waiting = TestDevice(id: try #require(carol["device_id"]?.string), key: phone.key)
                #expect(try await waiting.send(client, .get, waiting.challengesPath, at: now).status == .unauthorized)

                // None of it touched the challenge: its own device still approves it.
                let approved = try await phone.send(client, .post, phone.challengePath(id), body: Self.approval(number), at: server.clock.now())
                #expect(approved.json == ["status": "approved", "reason": nil])
            }
        }
    }

    // MARK: Concurrency and long polls

    @Test("of ten approvals sent at once, exactly one is applied; the others find the challenge answered (400)")
    func concurrentApprovals() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let (id, number) = try await server.push(client, user: "alice")
                let body = Self.approval(number)
                let signed = try (0..<10).map { _ in try device.signatureHeaders(.post, device.challengePath(id), body: body, at: server.clock.now()) }
                let answers: [APIClient.Answer] = try await withThrowingTaskGroup(of: APIClient.Answer.self) { group in
                    for headers in signed {
                        group.addTask { try await client.send(.post, device.challengePath(id), body: body, headers: headers) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(answers.count == 10)
                let applied = answers.filter { $0.status == .ok }
                #expect(applied.count == 1)
                #expect(applied.first?.json == ["status": "approved", "reason": nil])
                let refused = answers.filter { $0.status != .ok }
                #expect(refused.allSatisfy { $0.status == .badRequest && $0.errorCode == "invalid_request" },
                        "\(refused.map { "\($0.status.code) \($0.text)" })")
                let status = try await client.send(.get, "/v1/challenges/\(id)", key: server.keys.verify)
                #expect(status.json["status"] == "approved")
            }
        }
    }

    @Test("a long poll started before the approval answers approved as soon as the device approves")
    func longPoll() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, _) = try await server.activatedDevice(client, user: "alice")
                let (id, number) = try await server.push(client, user: "alice")
                let started = ContinuousClock.now
                async let polled = client.send(.get, "/v1/challenges/\(id)?wait=30", key: server.keys.verify)
                try await Task.sleep(for: .milliseconds(300))
                let approved = try await device.send(client, .post, device.challengePath(id), body: Self.approval(number), at: server.clock.now())
                #expect(approved.status == .ok)
                let answer = try await polled
                let elapsed = ContinuousClock.now - started
                #expect(answer.status == .ok)
                #expect(answer.json["status"] == "approved")
                // Well before the 30 s wait ends: woken by the approval (loose, for a loaded machine).
                #expect(elapsed < .seconds(15), "the poll took \(elapsed)")
            }
        }
    }

    // MARK: Tenancy

    @Test("another application's API key can neither create nor see the user's push challenges")
    func tenancy() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (device, factorID) = try await server.activatedDevice(client, user: "alice")
                let (id, _) = try await server.push(client, user: "alice")
                server.clock.advance(by: 30)

                // Alice seen from `other` is exactly a user that does not exist.
                let nobody = try await client.send(.post, "/v1/users/nobody/challenges", key: server.keys.all, json: ["type": "push"])
                let create = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.otherAll, json: ["type": "push"])
                #expect(create.status == .notFound)
                #expect(create.json == nobody.json)
                let named = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.otherAll,
                                                  json: ["type": "push", "factor_id": .string(factorID)])
                #expect(named.status == .notFound)
                let status = try await client.send(.get, "/v1/challenges/\(id)", key: server.keys.otherAll)
                #expect(status.status == .notFound)
                #expect(status.errorCode == "not_found")
                let factors = try await client.send(.get, "/v1/users/alice/factors", key: server.keys.otherAll)
                #expect(factors.json == ["factors": []])
                let forbidden = try await client.send(.post, "/v1/users/alice/challenges", key: server.keys.enroll, json: ["type": "push"])
                #expect(forbidden.status == .forbidden)

                // Nothing was sent or ended: Alice's one push is still open.
                let listed = try await device.send(client, .get, device.challengesPath, at: server.clock.now())
                #expect(listed.json["challenges"]?.array?.compactMap { $0["challenge_id"]?.string } == [id])
                let own = try await client.send(.get, "/v1/challenges/\(id)", key: server.keys.verify)
                #expect(own.json["status"] == "pending")
            }
        }
    }
}
