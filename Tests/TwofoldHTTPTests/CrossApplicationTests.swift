import Crypto
import Foundation
import Hummingbird
import Testing
import TwofoldCore
@testable import TwofoldHTTP

/// Every operation of the OpenAPI document, called by another application with this
/// application's ids: it shows none of them and changes nothing here. Driven by the document,
/// so an operation added later is covered without being listed here.
@Suite("Another application's key and device reach nothing of this application")
struct CrossApplicationTests {
    /// What `default` holds: alice with an active TOTP factor, a pending one, a push device
    /// with a pending push, and a hardware token in the pool.
    struct Holdings {
        let activeFactor: String
        let activeURI: String
        let pendingFactor: String
        let pendingURI: String
        let pushFactor: String
        let device: TestDevice
        let challenge: String
        let serial = "CROSS-TOKEN-1"

        /// Ids only this application's callers were given.
        var identifiers: [String] { [activeFactor, pendingFactor, pushFactor, device.id, challenge] }
    }

    static func prepare(_ server: TestServer, _ client: APIClient) async throws -> Holdings {
        let (active, activeURI) = try await server.enrollActiveTOTP(client, user: "alice")
        let pending = try await client.send(.post, "/v1/users/alice/factors", key: server.keys.all, json: ["type": "totp"])
        try #require(pending.status == .created, "\(pending.text)")
        let (device, pushFactor) = try await server.activatedDevice(client, user: "alice")
        let (challenge, _) = try await server.push(client, user: "alice", factorID: pushFactor)
        let csv = "serial, secret, type, digits, period-or-counter\nCROSS-TOKEN-1, hex:3132333435363738393031323334353637383930, totp, 6, 30\n"
        _ = try await server.services.hardwareTokens.importTokens(server.defaultApplication.id, file: Array(csv.utf8), format: .csv,
                                                                  key: .none, actor: "test")
        return Holdings(activeFactor: active, activeURI: activeURI, pendingFactor: try #require(pending.json["factor"]?["id"]?.string),
                        pendingURI: try #require(pending.json["otpauth_uri"]?.string), pushFactor: pushFactor, device: device,
                        challenge: challenge)
    }

    /// Everything of `default` a request could change, as text: alice's factors and challenges,
    /// the application's settings, its token pool and how many audit events it has.
    static func state(_ server: TestServer) async throws -> String {
        let services = server.services
        let app = server.defaultApplication.id
        let alice = try UserID("alice")
        let factors = try await services.enrollment.factors(app, alice)
        let challenges = try await services.challenges.challenges(app, alice)
        let application = try await services.applications.application(id: app)
        let tokens = try await services.hardwareTokens.tokens(app)
        let events = try await services.audit.auditEvents(AuditQuery(applicationID: app, limit: 10_000)).count
        return "\(factors)\n\(challenges)\n\(application)\n\(tokens.map { "\($0.serial) \(String(describing: $0.factorID))" })\n\(events)"
    }

    /// A body that would be valid for the operation, so that the request gets as far as it can.
    static func body(_ method: String, _ template: String, _ holdings: Holdings, _ server: TestServer) throws -> JSON? {
        switch (method, template) {
        case ("POST", "/v1/users/{user_id}/factors"): return ["type": "totp"]
        case ("POST", "/v1/users/{user_id}/factors/{factor_id}/activate"): return ["code": .string(try server.totpCode(holdings.pendingURI))]
        case ("POST", "/v1/users/{user_id}/factors/{factor_id}/resync"): return ["codes": ["123456", "654321"]]
        case ("POST", "/v1/users/{user_id}/verify"): return ["code": .string(try server.totpCode(holdings.activeURI))]
        case ("POST", "/v1/users/{user_id}/challenges"): return ["type": "push"]
        case ("POST", "/v1/challenges/{challenge_id}/verify"): return ["code": "123456"]
        case ("PATCH", "/v1/application"): return ["sms_template": "Your {app} code is {code}"]
        case ("POST", "/v1/tokens"): return ["format": "csv", "file": "serial, secret, type, digits, period-or-counter\nB-1, hex:3132333435363738393031323334353637383930, totp, 6, 30\n"]
        case ("POST", "/v1/tokens/{serial}/assign"): return ["user_id": "alice"]
        default: return method == "POST" || method == "PATCH" ? [:] : nil
        }
    }

    @Test("each operation with another application's all-scope key and this application's ids: no id of ours in the answer, no change here")
    func everyOperation() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let holdings = try await Self.prepare(server, client)
                let before = try await Self.state(server)
                let operations = try OpenAPITests.documentedOperations().sorted()
                var called = 0
                for operation in operations {
                    let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
                    let (method, template) = (parts[0], parts[1])
                    // Device routes are signed by a device, callbacks by a provider: below and in their own tests.
                    guard template.hasPrefix("/v1/"), !template.hasPrefix("/v1/devices/"), !template.hasPrefix("/v1/callbacks/") else { continue }
                    // The pending factor too, where an id of a factor is taken: pending and active answer alike.
                    let factorIDs = template.contains("{factor_id}") ? [holdings.activeFactor, holdings.pendingFactor] : [holdings.activeFactor]
                    for factorID in factorIDs {
                        let path = template
                            .replacingOccurrences(of: "{user_id}", with: "alice")
                            .replacingOccurrences(of: "{factor_id}", with: factorID)
                            .replacingOccurrences(of: "{challenge_id}", with: holdings.challenge)
                            .replacingOccurrences(of: "{serial}", with: holdings.serial)
                        let answer = try await client.send(HTTPRequest.Method(rawValue: method)!, path, key: server.keys.otherAll,
                                                           json: try Self.body(method, template, holdings, server))
                        called += 1
                        let sent = path + (try Self.body(method, template, holdings, server).map { String(decoding: $0.serialized, as: UTF8.self) } ?? "")
                        for identifier in holdings.identifiers where !sent.contains(identifier) {
                            #expect(!answer.text.contains(identifier), "\(operation) answered with \(identifier): \(answer.text)")
                        }
                        // An id of ours in the path is not found, as an id that does not exist.
                        if ["{factor_id}", "{challenge_id}", "{serial}"].contains(where: template.contains) {
                            #expect(answer.status == .notFound, "\(operation) \(path): \(answer.status) \(answer.text)")
                        }
                    }
                }
                #expect(called >= 27, "the document's /v1 operations were not all called: \(called)")
                let after = try await Self.state(server)
                #expect(after == before, "another application's calls changed this application's state")
                // Alice still signs in: another application's failures did not lock her here.
                let verified = try await client.send(.post, "/v1/users/alice/verify", key: server.keys.verify,
                                                     json: ["code": .string(try server.totpCode(holdings.activeURI))])
                #expect(verified.json["result"]?.string == "allow", "\(verified.text)")
            }
        }
    }

    @Test("another application's device cannot see, answer or be told of this application's push")
    func otherDevice() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let holdings = try await Self.prepare(server, client)
                // A device of the other application, enrolled with its own key.
                let enrolled = try await client.send(.post, "/v1/users/bob/factors", key: server.keys.otherAll, json: ["type": "push"])
                try #require(enrolled.status == .created, "\(enrolled.text)")
                let token = try #require(enrolled.json["activation"]?["token"])
                let key = P256.Signing.PrivateKey()
                let activated = try await client.send(.post, "/v1/devices/activate", json: ["token": token, "public_key": .string(TestDevice.publicKeyText(key))])
                try #require(activated.status == .created, "\(activated.text)")
                let other = TestDevice(id: try #require(activated.json["device_id"]?.string), key: key)
                let before = try await Self.state(server)
                let now = server.clock.now()

                let pending = try await other.send(client, .get, other.challengesPath, at: now)
                #expect(pending.status == .ok)
                #expect(!pending.text.contains(holdings.challenge), "\(pending.text)")
                let shown = try await other.send(client, .get, other.challengePath(holdings.challenge), at: now)
                #expect(shown.status == .notFound, "\(shown.text)")
                let answered = try await other.send(client, .post, other.challengePath(holdings.challenge),
                                                    body: #"{"decision": "approve"}"#, at: now)
                #expect(answered.status == .notFound, "\(answered.text)")
                // Its key signing for our device's paths is no signature of that device.
                let borrowed = TestDevice(id: holdings.device.id, key: key)
                let forged = try await borrowed.send(client, .get, borrowed.challengesPath, at: now)
                #expect(forged.status == .unauthorized, "\(forged.text)")
                #expect(!forged.text.contains(holdings.challenge))
                #expect(try await Self.state(server) == before)
                // Our device still sees its push.
                let ours = try await holdings.device.send(client, .get, holdings.device.challengesPath, at: now)
                #expect(ours.text.contains(holdings.challenge), "\(ours.text)")
            }
        }
    }
}
