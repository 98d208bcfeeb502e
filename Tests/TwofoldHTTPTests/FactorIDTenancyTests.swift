import Foundation
import Hummingbird
import Testing
import TwofoldCore
import TwofoldOTP

@Suite("Factor ids across applications")
struct FactorIDTenancyTests {
    /// The answer's status and error object: what a caller can read.
    struct Seen: Equatable {
        let status: HTTPResponse.Status
        let error: JSON?
    }

    @Test("another application's factor id answers exactly like a factor that does not exist, message included")
    func indistinguishable() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                // The other application's pending factor and active factor, both of user alice.
                let pending = try await client.send(.post, "/v1/users/alice/factors", key: server.keys.otherAll, json: ["type": "hotp"])
                let pendingID = try #require(pending.json["factor"]?["id"]?.string)
                let active = try await client.send(.post, "/v1/users/alice/factors", key: server.keys.otherAll, json: ["type": "hotp"])
                let activeID = try #require(active.json["factor"]?["id"]?.string)
                let uri = try #require(active.json["otpauth_uri"]?.string)
                let code = try OTPAuthURI(parsing: uri).makeHOTP().code(counter: 0)
                let activated = try await client.send(.post, "/v1/users/alice/factors/\(activeID)/activate", key: server.keys.otherAll,
                                                      json: ["code": .string(code)])
                try #require(activated.status == .ok)
                // Alice also exists in `default`, so only the factor id differs.
                _ = try await server.enrollActiveTOTP(client, user: "alice")
                let unknownID = "fac_" + String(repeating: "z", count: 26)

                func seen(_ method: HTTPRequest.Method, _ path: String, _ body: JSON? = nil) async throws -> Seen {
                    let answer = try await client.send(method, path, key: server.keys.all, json: body)
                    return Seen(status: answer.status, error: answer.json["error"].map { error in
                        // The request id differs per request by design.
                        guard case .object(var fields) = error else { return error }
                        fields["request_id"] = nil
                        return .object(fields)
                    })
                }
                for factorID in [pendingID, activeID] {
                    let requests: [(HTTPRequest.Method, String, JSON?)] = [
                        (.get, "/v1/users/alice/factors/\(factorID)/qr", nil),
                        (.post, "/v1/users/alice/factors/\(factorID)/activate", ["code": "123456"]),
                        (.post, "/v1/users/alice/factors/\(factorID)/resync", ["codes": ["123456", "654321"]]),
                        (.delete, "/v1/users/alice/factors/\(factorID)", nil),
                    ]
                    for (method, path, body) in requests {
                        let other = try await seen(method, path, body)
                        let unknown = try await seen(method, path.replacingOccurrences(of: factorID, with: unknownID), body)
                        #expect(other == unknown, "\(method) \(path)")
                        #expect(other.status == .notFound, "\(method) \(path)")
                    }
                }
                // The other application's factors are untouched.
                let listed = try await client.send(.get, "/v1/users/alice/factors", key: server.keys.otherAll)
                #expect(Set(listed.json["factors"]?.array?.compactMap { $0["id"]?.string } ?? []) == [pendingID, activeID])
            }
        }
    }
}
