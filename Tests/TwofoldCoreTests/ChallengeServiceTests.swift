import Foundation
import Testing
import TwofoldCore
import TwofoldTesting

/// The services with SMS and voice providers that deliver to inboxes the tests read.
struct PhoneHarness {
    let services: TwofoldServices
    let store: InMemoryStore
    let clock: FixedClock
    let app: ApplicationID
    let primary: RecordingProvider
    let backup: RecordingProvider
    let observer: RecordingChallengeObserver
    let user = try! UserID("alice")
    let number = "+15551234567"

    static func make(configure: (inout ChallengePolicy) -> Void = { _ in }, verification: VerificationPolicy = VerificationPolicy()) async throws -> PhoneHarness {
        let store = InMemoryStore()
        let clock = FixedClock()
        let primary = RecordingProvider(name: "primary")
        let backup = RecordingProvider(name: "backup")
        let observer = RecordingChallengeObserver()
        var policy = ChallengePolicy(publicURL: URL(string: "https://twofold.example.com")!)
        configure(&policy)
        let services = try await TwofoldServices.start(
            store: store, keyring: try Keyring([MasterKey.generate()]), policy: verification, challengePolicy: policy,
            providers: DeliveryProviderSet(sms: [primary, backup], voice: [primary, backup],
                                           callbacks: [ScriptedCallbackAuthenticator(provider: "primary")]),
            observer: observer, clock: clock)
        let app = try await services.applications.ensureApplication(named: "shop", actor: "test").id
        return PhoneHarness(services: services, store: store, clock: clock, app: app, primary: primary, backup: backup, observer: observer)
    }

    /// Enrolls `number` for SMS (or voice) and confirms it with the code that arrived.
    func enrollPhone(_ type: FactorType = .sms) async throws -> FactorID {
        let enrollment = try await services.challenges.enrollPhone(app, user, type: type, phone: number, actor: "test")
        await services.challenges.drain()
        let code = try #require(primary.lastCode(to: number))
        _ = try await services.enrollment.activate(app, user, enrollment.factor.id, code: code, actor: "test")
        clock.advance(by: 31)
        return enrollment.factor.id
    }

    func challenge(_ type: ChallengeType = .sms, mode: ChallengeMode = .code) async throws -> Challenge {
        let challenge = try await services.challenges.create(app, user, ChallengeRequest(type: type, mode: mode), actor: "test")
        await services.challenges.drain()
        return challenge
    }

    func callback(_ challenge: ChallengeID, _ body: String, signed: Bool = true) async throws -> CallbackReply {
        try await services.challenges.handleCallback(InboundCallback(
            provider: "primary", challengeID: challenge, url: "https://twofold.example.com/v1/callbacks/primary/\(challenge)/digits",
            method: "POST", headers: signed ? ["x-test-signature": "valid"] : [:], body: Array(body.utf8)))
    }
}

@Suite("SMS and voice challenges", .timeLimit(.minutes(2)))
struct ChallengeServiceTests {
    @Test("an SMS factor is pending until the code sent to the number activates it; the number is shown masked")
    func phoneEnrollment() async throws {
        let h = try await PhoneHarness.make()
        let enrollment = try await h.services.challenges.enrollPhone(h.app, h.user, type: .sms, phone: h.number, actor: "test")
        #expect(enrollment.factor.status == .pending)
        #expect(enrollment.factor.label == "+1•••••4567")
        #expect(enrollment.challenge.purpose == .enrollment)
        await h.services.challenges.drain()
        let text = try #require(h.primary.inbox.last?.text)
        #expect(text.hasPrefix("Your shop code is "))
        #expect(text.hasSuffix("It expires in 5 minutes."))
        let code = try #require(h.primary.lastCode(to: h.number))
        // A pending factor's code does not log in.
        #expect(try await h.services.verification.verify(h.app, h.user, code: code, actor: "test") == .deny(.noFactors, retryAfter: nil))
        await #expect { try await h.services.enrollment.activate(h.app, h.user, enrollment.factor.id, code: Self.other(code), actor: "test") }
            throws: { ($0 as? TwofoldError)?.code == .invalidCode }
        let active = try await h.services.enrollment.activate(h.app, h.user, enrollment.factor.id, code: code, actor: "test")
        #expect(active.status == .active)
        // Stored sealed: the number is nowhere in clear.
        let stored = try await h.store.factors(applicationID: h.app, userID: h.user)
        #expect(!stored[0].sealedSecret.contains(subsequence: Array(h.number.utf8)))
        #expect(!stored[0].sealedSecret.contains(subsequence: Array("5551234567".utf8)))
        let events = try await h.store.auditEvents(AuditQuery())
        #expect(events.allSatisfy { !$0.details.contains("5551234") })
        #expect(events.contains { $0.details.contains("+1•••••4567") })
    }

    @Test("bad numbers and countries outside the allowlist are refused, naming phone, and store nothing")
    func refusedNumbers() async throws {
        let h = try await PhoneHarness.make { $0.smsCountries = try! CountryAllowlist("GB", setting: "TWOFOLD_SMS_COUNTRIES") }
        for bad in ["5551234567", "+1 555 123 4567", "+0123456789", "+1555123456789012", ""] {
            await #expect { try await h.services.challenges.enrollPhone(h.app, h.user, type: .sms, phone: bad, actor: "t") }
                throws: { ($0 as? TwofoldError)?.code == .invalidRequest && ($0 as? TwofoldError)?.message.contains("phone") == true }
        }
        await #expect { try await h.services.challenges.enrollPhone(h.app, h.user, type: .sms, phone: h.number, actor: "t") }
            throws: { ($0 as? TwofoldError)?.message.contains("TWOFOLD_SMS_COUNTRIES") == true }
        #expect(try await h.store.factors(applicationID: h.app, userID: h.user).isEmpty)
        #expect(h.primary.attempts == 0)
    }

    @Test("an SMS challenge's code verifies once through verify, answering factor_type sms")
    func codeThroughVerify() async throws {
        let h = try await PhoneHarness.make()
        let factorID = try await h.enrollPhone()
        let challenge = try await h.challenge()
        #expect(challenge.status == .pending)
        #expect(challenge.purpose == .login)
        let code = try #require(h.primary.lastCode(to: h.number))
        #expect(try await h.services.verification.verify(h.app, h.user, code: code, actor: "test") == .allow(.factor(factorID, .sms)))
        #expect(try await h.services.challenges.status(h.app, challenge.id).status == .approved)
        // Single use.
        #expect(try await h.services.verification.verify(h.app, h.user, code: code, actor: "test") == .deny(.invalidCode, retryAfter: nil))
        let stored = try #require(try await h.store.challenge(id: challenge.id))
        #expect(stored.codeHash?.count == 32)
        #expect(stored.delivery?.provider == "primary")
    }

    @Test("a code for an approved challenge answers replayed, counted towards the lock and audited")
    func answerAfterApproval() async throws {
        let h = try await PhoneHarness.make(verification: VerificationPolicy(throttle: ThrottlePolicy(freeFailures: 50)))
        let factorID = try await h.enrollPhone()
        let challenge = try await h.challenge()
        let code = try #require(h.primary.lastCode(to: h.number))
        #expect(try await h.services.challenges.answer(h.app, challenge.id, code: code, actor: "test") == .allow(.factor(factorID, .sms)))
        #expect(try await h.services.challenges.answer(h.app, challenge.id, code: code, actor: "test") == .deny(.replayed, retryAfter: nil))
        #expect(try await h.services.challenges.answer(h.app, challenge.id, code: Self.other(code, 1), actor: "test")
                    == .deny(.replayed, retryAfter: nil))
        #expect(try await h.store.throttleState(applicationID: h.app, userID: h.user)?.failures == 2)
        let answered = try await h.services.audit.auditEvents(AuditQuery(applicationID: h.app, userID: h.user, limit: 100))
            .filter { $0.action == AuditAction.challengeAnswered.rawValue }
        #expect(answered.map(\.outcome).sorted() == ["allow", "deny", "deny"])
        #expect(answered.filter { $0.outcome == "deny" }.allSatisfy { $0.reason == DenialReason.replayed.rawValue })
    }

    @Test("a challenge approved at its last attempt and then replayed is finished once, as approved")
    func replayAfterLastAttemptIsNotDenied() async throws {
        let h = try await PhoneHarness.make(verification: VerificationPolicy(throttle: ThrottlePolicy(freeFailures: 50)))
        _ = try await h.enrollPhone()
        let challenge = try await h.challenge()
        let code = try #require(h.primary.lastCode(to: h.number))
        for attempt in 1...4 {
            _ = try await h.services.challenges.answer(h.app, challenge.id, code: Self.other(code, attempt), actor: "test")
        }
        _ = try await h.services.challenges.answer(h.app, challenge.id, code: code, actor: "test")
        let finished = h.observer.recorded.filter { $0.hasPrefix("finished") }
        #expect(finished.last == "finished sms approved")
        #expect(try await h.services.challenges.answer(h.app, challenge.id, code: code, actor: "test") == .deny(.replayed, retryAfter: nil))
        // The replay finishes nothing: the challenge was approved, not denied.
        #expect(h.observer.recorded.filter { $0.hasPrefix("finished") } == finished)
    }

    @Test("answers racing one challenge: one allow, every other one a replayed refusal, never an error")
    func racingAnswers() async throws {
        let h = try await PhoneHarness.make(verification: VerificationPolicy(throttle: ThrottlePolicy(freeFailures: 50)))
        _ = try await h.enrollPhone()
        let challenge = try await h.challenge()
        let code = try #require(h.primary.lastCode(to: h.number))
        let results = try await withThrowingTaskGroup(of: VerificationResult.self) { group in
            for _ in 0..<20 {
                group.addTask { try await h.services.challenges.answer(h.app, challenge.id, code: code, actor: "test") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { if case .allow = $0 { true } else { false } }.count == 1)
        #expect(results.filter { $0 == .deny(.replayed, retryAfter: nil) }.count == 19)
    }

    @Test("five wrong codes end a challenge denied with too_many_attempts; its right code no longer works")
    func tooManyAttempts() async throws {
        let h = try await PhoneHarness.make(verification: VerificationPolicy(throttle: ThrottlePolicy(freeFailures: 50)))
        _ = try await h.enrollPhone()
        let challenge = try await h.challenge()
        let code = try #require(h.primary.lastCode(to: h.number))
        for attempt in 1...5 {
            let result = try await h.services.challenges.answer(h.app, challenge.id, code: Self.other(code, attempt), actor: "test")
            #expect(result == .deny(.invalidCode, retryAfter: nil))
        }
        let ended = try await h.services.challenges.status(h.app, challenge.id)
        #expect(ended.status == .denied)
        #expect(ended.reason == .tooManyAttempts)
        await #expect { try await h.services.challenges.answer(h.app, challenge.id, code: code, actor: "test") }
            throws: { ($0 as? TwofoldError)?.code == .invalidState }
        #expect(try await h.services.verification.verify(h.app, h.user, code: code, actor: "test") == .deny(.invalidCode, retryAfter: nil))
        // The wrong codes counted towards the user's throttle too.
        #expect(try await h.store.throttleState(applicationID: h.app, userID: h.user)?.failures == 6)
    }

    @Test("a challenge expires after five minutes, and its code with it")
    func expiry() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone()
        let challenge = try await h.challenge()
        let code = try #require(h.primary.lastCode(to: h.number))
        h.clock.advance(by: 300)
        #expect(try await h.services.challenges.status(h.app, challenge.id).status == .expired)
        #expect(try await h.store.challenge(id: challenge.id)?.status == .expired)
        #expect(try await h.services.verification.verify(h.app, h.user, code: code, actor: "test") == .deny(.invalidCode, retryAfter: nil))
    }

    @Test("another application's challenge is not found, exactly like none")
    func tenancy() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone()
        let challenge = try await h.challenge()
        let other = try await h.services.applications.ensureApplication(named: "other", actor: "test").id
        await #expect { try await h.services.challenges.status(other, challenge.id) } throws: { ($0 as? TwofoldError) == .challengeNotFound }
        await #expect { try await h.services.challenges.status(h.app, ChallengeID.random()) } throws: { ($0 as? TwofoldError) == .challengeNotFound }
        await #expect { try await h.services.challenges.answer(other, challenge.id, code: "123456", actor: "t") }
            throws: { ($0 as? TwofoldError) == .challengeNotFound }
    }

    @Test("send limits: one per 30 s and five per hour per user, refused with the time to retry and audited")
    func userLimits() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone()   // spends one of the hour's five
        _ = try await h.challenge()
        await #expect { try await h.challenge() } throws: { error in
            guard let error = error as? TwofoldError, error.code == .rateLimited, let retry = error.lockedUntil else { return false }
            return retry > h.clock.now() && retry <= h.clock.now().addingTimeInterval(30)
        }
        for _ in 0..<3 {
            h.clock.advance(by: 31)
            _ = try await h.challenge()
        }
        h.clock.advance(by: 31)
        await #expect { try await h.challenge() } throws: { ($0 as? TwofoldError)?.code == .rateLimited }
        #expect(h.observer.recorded.filter { $0.hasPrefix("refused sms") } == ["refused sms user_short", "refused sms user_long"])
        let refusals = try await h.store.auditEvents(AuditQuery(limit: 1000)).filter { $0.action == AuditAction.challengeRefused.rawValue }
        #expect(refusals.count == 2)
        #expect(refusals.allSatisfy { $0.details.contains("\"to\":\"+1•••••4567\"") })
    }

    @Test("the application's daily budget is shared by its users")
    func applicationBudget() async throws {
        let h = try await PhoneHarness.make { $0.applicationDailyLimit = 1 }
        _ = try await h.enrollPhone()
        h.clock.advance(by: 3600)
        await #expect { try await h.challenge() } throws: { ($0 as? TwofoldError)?.message.contains("application_daily") == true }
    }

    @Test("a failing provider hands over to the next; a final failure ends the challenge at once")
    func failover() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone()
        h.primary.failNext(DeliveryFailure(.providerError, "500"))
        let first = try await h.challenge()
        #expect(try await h.store.challenge(id: first.id)?.delivery?.provider == "backup")
        #expect(h.backup.inbox.count == 1)

        h.clock.advance(by: 31)
        h.primary.failNext(DeliveryFailure(.invalidNumber, "21211"))
        let second = try await h.challenge()
        let ended = try await h.services.challenges.status(h.app, second.id)
        #expect(ended.status == .failed)
        #expect(ended.reason == .invalidNumber)
        #expect(h.backup.inbox.count == 1)
    }

    @Test("every provider failing ends the challenge failed with a reason; a provider that keeps failing is skipped")
    func allFail() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone()
        let attemptsBefore = h.primary.attempts
        h.primary.failNext(DeliveryFailure(.timeout, "t"), DeliveryFailure(.timeout, "t"), DeliveryFailure(.timeout, "t"))
        h.backup.failNext(DeliveryFailure(.unreachable, "u"))
        let failed = try await h.challenge()
        let ended = try await h.services.challenges.status(h.app, failed.id)
        #expect(ended.status == .failed)
        #expect(ended.reason == .unreachable)
        for _ in 0..<2 {
            h.clock.advance(by: 31)
            _ = try await h.challenge()
        }
        #expect(h.primary.attempts == attemptsBefore + 3, "\(h.observer.recorded)")
        #expect(h.services.challenges.providerHealth().first { $0.channel == .sms && $0.provider == "primary" }?.isDegraded == true)
        h.clock.advance(by: 31)
        _ = try await h.challenge()
        // Skipped while its circuit is open (a minute).
        #expect(h.primary.attempts == attemptsBefore + 3)
    }

    @Test("a press-a-key call: 1 approves, 9 denies and reports fraud, unsigned callbacks change nothing")
    func pressAKey() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone(.voice)
        let approve = try await h.challenge(.voice, mode: .approve)
        let call = try #require(h.primary.inbox.last)
        #expect(call.text.contains("Press 1 to approve"))
        #expect(call.digitsCallback?.absoluteString == "https://twofold.example.com/v1/callbacks/primary/\(approve.id)/digits")
        await #expect { try await h.callback(approve.id, "pressed:1", signed: false) } throws: { ($0 as? TwofoldError)?.code == .unauthorized }
        #expect(try await h.services.challenges.status(h.app, approve.id).status == .pending)
        _ = try await h.callback(approve.id, "pressed:1")
        #expect(try await h.services.challenges.status(h.app, approve.id).status == .approved)

        h.clock.advance(by: 31)
        let fraud = try await h.challenge(.voice, mode: .approve)
        _ = try await h.callback(fraud.id, "pressed:9")
        let denied = try await h.services.challenges.status(h.app, fraud.id)
        #expect(denied.status == .denied)
        #expect(denied.reason == .fraud)
        #expect(h.observer.recorded.contains("fraud voice"))
        // A replayed key press changes nothing.
        _ = try await h.callback(fraud.id, "pressed:1")
        #expect(try await h.services.challenges.status(h.app, fraud.id).status == .denied)

        h.clock.advance(by: 31)
        let unanswered = try await h.challenge(.voice, mode: .approve)
        _ = try await h.callback(unanswered.id, "ended:no_answer")
        let failed = try await h.services.challenges.status(h.app, unanswered.id)
        #expect(failed.status == .failed)
        #expect(failed.reason == .noAnswer)
    }

    @Test("approve mode is for voice only")
    func approveIsVoiceOnly() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone()
        await #expect { try await h.challenge(.sms, mode: .approve) } throws: { ($0 as? TwofoldError)?.code == .invalidRequest }
    }

    @Test("a voice code call reads the code digit by digit, twice")
    func spokenCode() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone(.voice)
        _ = try await h.challenge(.voice)
        let speech = try #require(h.primary.inbox.last?.text)
        let digits = speech.filter(\.isNumber)
        #expect(digits.count == 12)
        #expect(digits.prefix(6) == digits.suffix(6))
        #expect(speech.contains(", "))
    }

    @Test("the long poll returns as soon as the code is accepted")
    func longPollWakes() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone()
        let challenge = try await h.challenge()
        let code = try #require(h.primary.lastCode(to: h.number))
        let started = ContinuousClock.now
        async let polled = h.services.challenges.status(h.app, challenge.id, wait: 30)
        try await Task.sleep(for: .milliseconds(100))
        _ = try await h.services.verification.verify(h.app, h.user, code: code, actor: "test")
        let answer = try await polled
        #expect(answer.status == .approved)
        // Woken, not timed out: well before the longest wait, 30 s (the bound is loose, as the
        // whole suite runs at once on a few cores).
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test("a wait that sees no change returns pending after the wait")
    func longPollTimesOut() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone()
        let challenge = try await h.challenge()
        let started = ContinuousClock.now
        #expect(try await h.services.challenges.status(h.app, challenge.id, wait: 1).status == .pending)
        #expect(ContinuousClock.now - started >= .milliseconds(900))
    }

    @Test("deleting the factor cancels its open challenges; erasing the user removes them")
    func deletionAndErasure() async throws {
        let h = try await PhoneHarness.make()
        let factorID = try await h.enrollPhone()
        let challenge = try await h.challenge()
        try await h.services.enrollment.deleteFactor(h.app, h.user, factorID, actor: "test")
        let canceled = try await h.services.challenges.status(h.app, challenge.id)
        #expect(canceled.status == .canceled)
        #expect(canceled.reason == .factorDeleted)
        _ = try await h.services.administration.erase(h.app, h.user, actor: "test")
        #expect(try await h.store.challenges(applicationID: h.app, userID: h.user).isEmpty)
    }

    @Test("the pumping guard refuses a prefix whose challenges are not completed, and completions give tokens back")
    func pumpingGuard() async throws {
        let h = try await PhoneHarness.make { $0.pumpingGuard = ChallengePolicy.Rate(3, per: 3600) }
        // Three users on numbers of one prefix (+1555…), each enrolled (one challenge each, completed).
        var users: [(UserID, String)] = []
        for index in 0..<3 {
            let user = try UserID("user\(index)")
            let number = "+1555000000\(index)"
            let enrollment = try await h.services.challenges.enrollPhone(h.app, user, type: .sms, phone: number, actor: "test")
            await h.services.challenges.drain()
            _ = try await h.services.enrollment.activate(h.app, user, enrollment.factor.id, code: try #require(h.primary.lastCode(to: number)),
                                                         actor: "test")
            users.append((user, number))
        }
        h.clock.advance(by: 31)
        // Three login challenges nobody completes spend the prefix's three tokens; the fourth is refused.
        for (user, _) in users {
            _ = try await h.services.challenges.create(h.app, user, ChallengeRequest(type: .sms), actor: "test")
        }
        await h.services.challenges.drain()
        h.clock.advance(by: 31)
        await #expect { try await h.services.challenges.create(h.app, users[0].0, ChallengeRequest(type: .sms), actor: "test") }
            throws: { ($0 as? TwofoldError)?.message.contains("pumping_guard") == true }
        let refusal = try #require(try await h.store.auditEvents(AuditQuery(limit: 100)).first { $0.action == AuditAction.challengeRefused.rawValue })
        #expect(refusal.details.contains("possible SMS pumping"))
        #expect(refusal.details.contains("+1555"))
        // One user completes their challenge: the prefix gets a token back.
        let code = try #require(h.primary.lastCode(to: users[1].1))
        #expect(try await h.services.verification.verify(h.app, users[1].0, code: code, actor: "test").isAllowed)
        _ = try await h.services.challenges.create(h.app, users[2].0, ChallengeRequest(type: .sms), actor: "test")
        await #expect { try await h.services.challenges.create(h.app, users[1].0, ChallengeRequest(type: .sms), actor: "test") }
            throws: { ($0 as? TwofoldError)?.message.contains("pumping_guard") == true }
    }

    @Test("an application's own template and domain shape its SMS, ending with the origin-bound code line")
    func applicationTemplate() async throws {
        let h = try await PhoneHarness.make()
        try await h.services.applications.updateSettings(named: "shop", smsTemplate: .set("{code} is your {app} login code ({minutes} min)"),
                                                         domain: .set("shop.example.com"), actor: "test")
        let enrollment = try await h.services.challenges.enrollPhone(h.app, h.user, type: .sms, phone: h.number, actor: "test")
        await h.services.challenges.drain()
        let code = try #require(h.primary.lastCode(to: h.number))
        #expect(h.primary.inbox.last?.text == "\(code) is your shop login code (5 min)\n\n@shop.example.com #\(code)")
        _ = try await h.services.enrollment.activate(h.app, h.user, enrollment.factor.id, code: code, actor: "test")
        await #expect { try await h.services.applications.updateSettings(named: "shop", smsTemplate: .set("no code here"), domain: .keep, actor: "t") }
            throws: { ($0 as? TwofoldError)?.code == .invalidRequest }
        await #expect { try await h.services.applications.updateSettings(named: "shop", smsTemplate: .keep, domain: .set("Not A Host"), actor: "t") }
            throws: { ($0 as? TwofoldError)?.message.contains("domain") == true }
        // Cleared: back to the deployment's template, no domain line.
        try await h.services.applications.updateSettings(named: "shop", smsTemplate: .clear, domain: .clear, actor: "test")
        h.clock.advance(by: 31)
        _ = try await h.services.challenges.create(h.app, h.user, ChallengeRequest(type: .sms), actor: "test")
        await h.services.challenges.drain()
        let text = try #require(h.primary.inbox.last?.text)
        #expect(text.hasPrefix("Your shop code is ") && !text.contains("@"))
    }

    @Test("a shutdown's drain cancels deliveries stuck on a provider that hangs, past its grace")
    func drainCancelsHangingDeliveries() async throws {
        let h = try await PhoneHarness.make()
        _ = try await h.enrollPhone()
        h.primary.delay(by: .seconds(60))
        h.backup.delay(by: .seconds(60))
        let stuck = try await h.services.challenges.create(h.app, h.user, ChallengeRequest(type: .sms), actor: "test")
        let started = ContinuousClock.now
        await h.services.challenges.drain(grace: .milliseconds(200))
        #expect(ContinuousClock.now - started < .seconds(30), "the drain waited for the 60 s delivery")
        let ended = try await h.services.challenges.status(h.app, stuck.id)
        #expect(ended.status == .failed)
        #expect(h.backup.inbox.isEmpty)
    }

    static func other(_ code: String, _ offset: Int = 1) -> String {
        String((Int(code)! + offset) % 1_000_000).leftPadded(6)
    }
}

extension String {
    func leftPadded(_ length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<$0 + subsequence.count]) == subsequence }
    }
}
