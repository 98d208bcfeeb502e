import Foundation
import Hummingbird
import Testing
import TwofoldCore
import TwofoldOTP
@testable import TwofoldHTTP

/// Every `/v1` endpoint × every kind of caller, each on a fresh node where the user `alice` of
/// the application `default` has an active TOTP factor, an active HOTP factor and a pending one.
@Suite("Applications × scopes × endpoints")
struct TenancyMatrixTests {
    enum Caller: String, CaseIterable, CustomTestStringConvertible {
        case none, malformed, unknown, revoked, verifyOnly, enrollOnly, adminOnly, otherApplication, allScopes
        var testDescription: String { rawValue }
    }

    enum Endpoint: String, CaseIterable, CustomTestStringConvertible {
        case enroll, list, qr, activate, deleteFactor, resync, recoveryCodes, verify, reset, unlock, export, erase, audit
        var testDescription: String { rawValue }

        var scope: APIKeyScope {
            switch self {
            case .verify: .verify
            case .reset, .unlock, .export, .erase, .audit: .admin
            default: .enroll
            }
        }

        /// The answer to a caller allowed to call it, about `alice`.
        var successStatus: HTTPResponse.Status {
            switch self {
            case .enroll, .recoveryCodes: .created
            case .deleteFactor, .reset, .unlock, .erase: .noContent
            default: .ok
            }
        }
    }

    /// Alice's state, made through the services.
    struct Alice {
        let totp: Enrollment
        let hotp: Enrollment
        let pending: Enrollment
    }

    static func prepare(_ server: TestServer) async throws -> Alice {
        let services = server.services
        let app = server.defaultApplication.id
        let alice = try UserID("alice")
        let totp = try await services.enrollment.enroll(app, alice, EnrollmentRequest(type: .totp), actor: "test")
        let now = UInt64(server.clock.now().timeIntervalSince1970)
        _ = try await services.enrollment.activate(app, alice, totp.factor.id, code: try totp.uri.makeTOTP().code(at: now), actor: "test")
        let hotp = try await services.enrollment.enroll(app, alice, EnrollmentRequest(type: .hotp), actor: "test")
        _ = try await services.enrollment.activate(app, alice, hotp.factor.id, code: try hotp.uri.makeHOTP().code(counter: 0), actor: "test")
        let pending = try await services.enrollment.enroll(app, alice, EnrollmentRequest(type: .totp), actor: "test")
        // The activation used the current step: verification uses the next one.
        server.clock.advance(by: 30)
        return Alice(totp: totp, hotp: hotp, pending: pending)
    }

    static func request(_ endpoint: Endpoint, user: String, _ alice: Alice, _ server: TestServer) throws -> (HTTPRequest.Method, String, JSON?) {
        let base = "/v1/users/\(user)"
        let now = UInt64(server.clock.now().timeIntervalSince1970)
        switch endpoint {
        case .enroll: return (.post, "\(base)/factors", ["type": "totp"])
        case .list: return (.get, "\(base)/factors", nil)
        case .qr: return (.get, "\(base)/factors/\(alice.pending.factor.id)/qr", nil)
        case .activate:
            return (.post, "\(base)/factors/\(alice.pending.factor.id)/activate", ["code": .string(try alice.pending.uri.makeTOTP().code(at: now))])
        case .deleteFactor: return (.delete, "\(base)/factors/\(alice.totp.factor.id)", nil)
        case .resync:
            let hotp = try alice.hotp.uri.makeHOTP()
            return (.post, "\(base)/factors/\(alice.hotp.factor.id)/resync", ["codes": [.string(hotp.code(counter: 30)), .string(hotp.code(counter: 31))]])
        case .recoveryCodes: return (.post, "\(base)/recovery-codes", nil)
        case .verify: return (.post, "\(base)/verify", ["code": .string(try alice.totp.uri.makeTOTP().code(at: now))])
        case .reset: return (.post, "\(base)/reset", nil)
        case .unlock: return (.post, "\(base)/unlock", nil)
        case .export: return (.get, "\(base)/export", nil)
        case .erase: return (.delete, base, nil)
        case .audit: return (.get, user == "alice" ? "/v1/audit?user_id=alice" : "/v1/audit?user_id=\(user)", nil)
        }
    }

    @Test("each caller gets the answer its key allows, and never sees another application's users",
          arguments: Endpoint.allCases, Caller.allCases)
    func matrix(endpoint: Endpoint, caller: Caller) async throws {
        try await TestServer.with { server in
            let alice = try await Self.prepare(server)
            try await server.test { client in
                let (method, path, body) = try Self.request(endpoint, user: "alice", alice, server)
                let key: String? = switch caller {
                case .none: nil
                case .malformed: "not-a-key"
                case .unknown: "tf_key_aaaaaaaaaaaaaaaa_" + String(repeating: "a", count: 52)
                case .revoked: server.keys.revoked
                case .verifyOnly: server.keys.verify
                case .enrollOnly: server.keys.enroll
                case .adminOnly: server.keys.admin
                case .otherApplication: server.keys.otherAll
                case .allScopes: server.keys.all
                }

                switch caller {
                case .none, .malformed, .unknown, .revoked:
                    let answer = try await client.send(method, path, key: key, json: body)
                    #expect(answer.status == .unauthorized)
                    #expect(answer.errorCode == "unauthorized")
                    #expect(answer.headers[.wwwAuthenticate] != nil)

                case .verifyOnly, .enrollOnly, .adminOnly:
                    let scope: APIKeyScope = caller == .verifyOnly ? .verify : caller == .enrollOnly ? .enroll : .admin
                    let answer = try await client.send(method, path, key: key, json: body)
                    if scope == endpoint.scope {
                        #expect(answer.status == endpoint.successStatus, "\(answer.text)")
                    } else {
                        #expect(answer.status == .forbidden)
                        #expect(answer.errorCode == "forbidden")
                    }

                case .allScopes:
                    let answer = try await client.send(method, path, key: key, json: body)
                    #expect(answer.status == endpoint.successStatus, "\(answer.text)")

                case .otherApplication:
                    // Alice of `default` seen by `other` is exactly a user that does not exist.
                    let (_, nobodyPath, nobodyBody) = try Self.request(endpoint, user: "nobody", alice, server)
                    let nobody = try await client.send(method, nobodyPath, key: server.keys.all, json: nobodyBody)
                    let answer = try await client.send(method, path, key: key, json: body)
                    #expect(answer.status == nobody.status, "\(answer.text)")
                    #expect(answer.errorCode == nobody.errorCode)
                    switch endpoint {
                    case .list, .verify:
                        #expect(answer.json == nobody.json)
                    case .audit:
                        #expect(answer.json["events"] == [])
                    default:
                        break
                    }
                    // And alice is untouched.
                    let factors = try await server.services.enrollment.factors(server.defaultApplication.id, try UserID("alice"))
                    #expect(factors.count == 3)
                }
            }
        }
    }
}
