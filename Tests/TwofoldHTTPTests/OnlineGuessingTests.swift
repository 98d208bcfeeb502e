import Foundation
import Testing
import TwofoldCore

/// An online attacker holding one application's verify key, guessing over HTTP against many
/// users for 30 days of an accelerated clock, always waiting out each lock.
@Suite("Online guessing over HTTP, 30 simulated days")
struct OnlineGuessingTests {
    /// How many guesses the default policy evaluates for one user in `days` of guessing that
    /// waits out every lock: the engine's bound, computed from the policy itself.
    static func evaluatedBound(days: Double, policy: ThrottlePolicy = ThrottlePolicy()) -> Int {
        var elapsed = 0.0
        var failures = 0
        while elapsed < days * 86_400 {
            failures += 1
            elapsed += policy.lockDuration(afterFailures: failures) ?? 0
        }
        return failures
    }

    @Test("20 users, one key, TOTP- and recovery-code-shaped guesses: each user gets the policy's guesses and no more")
    func manyUsersOneKey() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let users = (0..<20).map { "victim-\($0)" }
                for user in users {
                    _ = try await server.enrollActiveTOTP(client, user: user)
                    let codes = try await client.send(.post, "/v1/users/\(user)/recovery-codes", key: server.keys.enroll)
                    try #require(codes.status == .created, "\(codes.text)")
                }
                let start = server.clock.now()
                let end = start.addingTimeInterval(30 * 86_400)
                var lockedUntil = Dictionary(uniqueKeysWithValues: users.map { ($0, start) })
                var evaluated = Dictionary(uniqueKeysWithValues: users.map { ($0, 0) })
                var requests = 0
                // Certainly wrong guesses (never a code in the window, never a recovery code), so the
                // attacker never resets a count by luck; both kinds count against the same lock.
                let guesses = ["000000", "2222-3333-4444"]
                while server.clock.now() < end {
                    let now = server.clock.now()
                    let open = users.filter { lockedUntil[$0]! <= now }
                    if open.isEmpty {
                        server.clock.set(min(end, lockedUntil.values.min()!))
                        continue
                    }
                    for user in open {
                        let guess = guesses[requests % guesses.count]
                        let answer = try await client.send(.post, "/v1/users/\(user)/verify", key: server.keys.verify,
                                                           json: ["code": .string(guess)])
                        requests += 1
                        #expect(answer.json["result"]?.string == "deny", "\(answer.text)")
                        switch answer.json["reason"]?.string {
                        case "invalid_code":
                            evaluated[user]! += 1
                        case "locked":
                            let retryAfter = try #require(answer.json["retry_after"]?.int, "\(answer.text)")
                            lockedUntil[user] = now.addingTimeInterval(TimeInterval(retryAfter))
                        default:
                            Issue.record("unexpected answer: \(answer.text)")
                            return
                        }
                    }
                }
                let bound = Self.evaluatedBound(days: 30)
                #expect(bound == 46, "the README's figure")
                for user in users {
                    // The bound exactly: no more, and the lock is not permanent (the attacker who waits gets them all).
                    #expect(evaluated[user] == bound, "\(user): \(evaluated[user]!) evaluated guesses")
                }
                let total = evaluated.values.reduce(0, +)
                let probability = Double(total) * 3 / 1_000_000
                #expect(probability < 0.02, "\(total) evaluated guesses over \(users.count) users")
            }
        }
    }
}
