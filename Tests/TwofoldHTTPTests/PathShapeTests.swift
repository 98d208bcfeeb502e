import Foundation
import Hummingbird
import Testing
import TwofoldCore
@testable import TwofoldHTTP

@Suite("Paths with empty segments")
struct PathShapeTests {
    @Test("a path with an empty segment is 404, never the route it would collapse onto",
          arguments: ["//healthz", "/healthz/", "/metrics/", "//metrics", "/openapi.json/", "/v1//audit"])
    func emptySegments(_ path: String) async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let answer = try await client.send(.get, path, key: server.keys.all)
                #expect(answer.status == .notFound, "\(path)")
                #expect(answer.errorCode == "not_found")
            }
        }
    }

    @Test("the canonical paths still answer")
    func canonical() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let health = try await client.send(.get, "/healthz")
                let metrics = try await client.send(.get, "/metrics")
                let audit = try await client.send(.get, "/v1/audit", key: server.keys.admin)
                #expect(health.status == .ok)
                #expect(metrics.status == .ok)
                #expect(audit.status == .ok)
            }
        }
    }

    @Test("DELETE /v1/users//factors/ does not reach the user named factors")
    func doesNotReachAnotherUser() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let (factorID, _) = try await server.enrollActiveTOTP(client, user: "factors")
                let answer = try await client.send(.delete, "/v1/users//factors/", key: server.keys.all)
                #expect(answer.status == .notFound)
                let list = try await client.send(.get, "/v1/users/factors/factors", key: server.keys.all)
                #expect(list.json["factors"]?.array?.compactMap { $0["id"]?.string } == [factorID])
            }
        }
    }

    @Test("empty segments are found anywhere in a path", arguments: [
        ("/", false), ("/a", false), ("/a/b", false), ("//", true), ("/a/", true), ("//a", true), ("/a//b", true),
    ])
    func detection(_ path: String, expected: Bool) {
        #expect(CanonicalPathMiddleware<TwofoldRequestContext>.hasEmptySegment(path) == expected)
    }
}
