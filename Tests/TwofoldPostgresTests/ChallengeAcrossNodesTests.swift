import Foundation
import Testing
import TwofoldCore
import TwofoldPostgres
import TwofoldPostgresTesting
import TwofoldTesting

/// Two nodes (two services over two pools) on one PostgreSQL database: a long poll on one node
/// sees an answer given on the other.
@Suite("Challenges across nodes on PostgreSQL", .timeLimit(.minutes(2)))
struct ChallengeAcrossNodesTests {
    @Test("a long poll on one node returns within a second of the code being accepted on the other")
    func longPollAcrossNodes() async throws {
        try await PostgresTestDatabase.with { database in
            let keyring = try Keyring([MasterKey.generate()])
            let phone = RecordingProvider(name: "phone")
            let policy = ChallengePolicy(publicURL: URL(string: "https://twofold.example.com")!)
            let providers = DeliveryProviderSet(sms: [phone], voice: [], callbacks: [])
            // One clock for both nodes, as NTP gives them; moved by the test past the send limit.
            let clock = FixedClock(Date())
            let first = try await TwofoldServices.start(store: try await database.makeStore(), keyring: keyring, challengePolicy: policy,
                                                        providers: providers, clock: clock)
            let second = try await TwofoldServices.start(store: try await database.makeStore(), keyring: keyring, challengePolicy: policy,
                                                         providers: providers, clock: clock)
            let app = try await first.applications.ensureApplication(named: "shop", actor: "test").id
            let user = try UserID("alice")
            let number = "+15551234567"

            let enrollment = try await first.challenges.enrollPhone(app, user, type: .sms, phone: number, actor: "test")
            await first.challenges.drain()
            _ = try await second.enrollment.activate(app, user, enrollment.factor.id, code: try #require(phone.lastCode(to: number)), actor: "test")
            clock.advance(by: 31)
            let challenge = try await first.challenges.create(app, user, ChallengeRequest(type: .sms), actor: "test")
            await first.challenges.drain()
            let code = try #require(phone.lastCode(to: number))

            async let polled = first.challenges.status(app, challenge.id, wait: 30)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await second.verification.verify(app, user, code: code, actor: "test") == .allow(.factor(enrollment.factor.id, .sms)))
            let answered = ContinuousClock.now
            let seen = try await polled
            let delay = ContinuousClock.now - answered
            #expect(seen.status == .approved)
            // Seen by a re-read (every half second), not at the end of the 30 s wait; loose, as the
            // whole suite runs at once on a few cores.
            #expect(delay < .seconds(10), "the poll on the other node saw the answer after \(delay)")
        }
    }
}
