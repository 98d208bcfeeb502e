import Foundation
import Hummingbird
import Testing
import TwofoldOTP
@testable import TwofoldServer

/// The settings that decide which codes are accepted and when a user locks, checked for their
/// effect through the API of a node started from them as `twofold serve --config` starts one
/// (``ConfiguredNode``), not only for how they parse (``ConfigurationTests``).
///
/// Each value is chosen so that the default would answer differently: a setting that did not
/// reach the services fails its test, and each test says which default would fail it and where.
@Suite("Security settings take effect: TOTP window, HOTP look-ahead and resync, lockout")
struct SettingsEffectTests {
    @Test("TWOFOLD_TOTP_WINDOW=0 refuses a code one step old and accepts the current one")
    func totpWindowZero() async throws {
        try await ConfiguredNode.with(settings: "TWOFOLD_TOTP_WINDOW=0") { node in
            let totp = try await node.enrollTOTP("alice")  // consumes step s
            node.clock.advance(by: 60)                      // step s + 2
            let now = try totp.step(at: node.unixNow)
            // Step s + 1 was never used: the default window (1) accepts its code here.
            let late = try await node.verify("alice", totp.code(step: now - 1))
            #expect(late.result == "deny", "\(late.text)")
            #expect(late.reason == "invalid_code")
            let current = try await node.verify("alice", totp.code(step: now))
            #expect(current.result == "allow", "\(current.text)")
        }
    }

    @Test("TWOFOLD_TOTP_WINDOW=2 accepts codes two steps off, and none three steps off")
    func totpWindowTwo() async throws {
        try await ConfiguredNode.with(settings: "TWOFOLD_TOTP_WINDOW=2") { node in
            let totp = try await node.enrollTOTP("alice")  // consumes step s
            node.clock.advance(by: 120)                     // step s + 4
            let now = try totp.step(at: node.unixNow)
            let tooLate = try await node.verify("alice", totp.code(step: now - 3))
            #expect(tooLate.reason == "invalid_code", "\(tooLate.text)")
            // The default window (1) refuses both of these.
            let late = try await node.verify("alice", totp.code(step: now - 2))
            #expect(late.result == "allow", "\(late.text)")
            let tooEarly = try await node.verify("alice", totp.code(step: now + 3))
            #expect(tooEarly.reason == "invalid_code", "\(tooEarly.text)")
            let early = try await node.verify("alice", totp.code(step: now + 2))
            #expect(early.result == "allow", "\(early.text)")
        }
    }

    @Test("TWOFOLD_HOTP_LOOK_AHEAD=3 accepts the next counter + 3 and refuses + 4")
    func hotpLookAhead() async throws {
        try await ConfiguredNode.with(settings: "TWOFOLD_HOTP_LOOK_AHEAD=3") { node in
            let (_, hotp) = try await node.enrollHOTP("bob")  // consumes counter 0: the next is 1
            // The default look-ahead (10) accepts counter 5 (next + 4).
            let tooFar = try await node.verify("bob", hotp.code(counter: 5))
            #expect(tooFar.result == "deny", "\(tooFar.text)")
            #expect(tooFar.reason == "invalid_code")
            let ahead = try await node.verify("bob", hotp.code(counter: 4))
            #expect(ahead.result == "allow", "\(ahead.text)")
            // Counter 5 is the next one now.
            let next = try await node.verify("bob", hotp.code(counter: 5))
            #expect(next.result == "allow", "\(next.text)")
        }
    }

    @Test("TWOFOLD_HOTP_RESYNC_WINDOW=20 resynchronises on a pair within 20 counters of the next one, not beyond")
    func hotpResyncWindow() async throws {
        try await ConfiguredNode.with(settings: "TWOFOLD_HOTP_LOOK_AHEAD=3\nTWOFOLD_HOTP_RESYNC_WINDOW=20") { node in
            let (factorID, hotp) = try await node.enrollHOTP("carol")  // the next counter is 1
            func resync(_ first: UInt64) async throws -> ConfiguredNode.Answer {
                try await node.send(.post, "/v1/users/carol/factors/\(factorID)/resync",
                                    json: #"{"codes": ["\#(hotp.code(counter: first))", "\#(hotp.code(counter: first + 1))"]}"#)
            }
            // The first code of the pair may be at most 1 + 20; the default window (100) takes 22 too.
            let beyond = try await resync(22)
            #expect(beyond.status == .unprocessableContent, "\(beyond.text)")
            #expect(beyond.errorCode == "invalid_code")
            let within = try await resync(21)
            #expect(within.status == .ok, "\(within.text)")
            // The counter moved to the device's: 23 is the next code.
            let next = try await node.verify("carol", hotp.code(counter: 23))
            #expect(next.result == "allow", "\(next.text)")
        }
    }

    @Test("the lockout settings: 2 free failures, then locks of 7 s, 14 s, and at most 20 s, told in Retry-After")
    func lockout() async throws {
        let settings = """
            TWOFOLD_LOCKOUT_FREE_FAILURES=2
            TWOFOLD_LOCKOUT_BASE_DELAY=7s
            TWOFOLD_LOCKOUT_MAX_DELAY=20s
            """
        try await ConfiguredNode.with(settings: settings) { node in
            let totp = try await node.enrollTOTP("dave")
            node.clock.advance(by: 30)
            func wrong() async throws {
                let code = try node.wrongCode(totp)
                let answer = try await node.verify("dave", code)
                #expect(answer.reason == "invalid_code", "a wrong code was not evaluated: \(answer.text)")
            }
            /// The answer to the right code, which a lock refuses without evaluating it.
            func right() async throws -> ConfiguredNode.Answer {
                let code = try totp.code(at: node.unixNow)
                return try await node.verify("dave", code)
            }
            func throttle() async throws -> [String: Any] {
                let export = try await node.send(.get, "/v1/users/dave/export")
                return export.json["throttle"] as? [String: Any] ?? [:]
            }

            // Two failures are free: counted, no lock.
            try await wrong()
            try await wrong()
            let free = try await throttle()
            #expect(free["consecutive_failures"] as? Int == 2)
            #expect(free["locked_until"] is NSNull, "\(free)")

            // The third locks for the base delay. With the default 5 free failures the right code
            // would be accepted here; with the default base delay (30 s) Retry-After would be 30.
            try await wrong()
            var locked = try await right()
            #expect(locked.reason == "locked", "\(locked.text)")
            #expect(locked.headers[.retryAfter] == "7")
            #expect(locked.json["retry_after"] as? Int == 7)

            // Once it ends, the next failure doubles it.
            node.clock.advance(by: 7)
            try await wrong()
            locked = try await right()
            #expect(locked.reason == "locked", "\(locked.text)")
            #expect(locked.headers[.retryAfter] == "14")

            // The next would be 28 s: the maximum delay caps it (the default, 24 h, would not).
            node.clock.advance(by: 14)
            try await wrong()
            locked = try await right()
            #expect(locked.reason == "locked", "\(locked.text)")
            #expect(locked.headers[.retryAfter] == "20")

            node.clock.advance(by: 20)
            let allowed = try await right()
            #expect(allowed.result == "allow", "\(allowed.text)")
        }
    }
}
