import Foundation
import Synchronization
import Testing
import TwofoldCore
import TwofoldTesting

/// ``ChallengeStore``, and what challenges change in the other ports: the send budgets' token
/// buckets, the compare-and-sets that move a challenge once, erasure, reset and factor deletion,
/// and the attempt's challenges (its snapshot, `.accept(.challenge)`, the failure count).
@Suite("Challenge store conformance")
struct ChallengeStoreConformance: StoreFixtures {
    /// alice's active SMS factor and her pending one, enrolling.
    private var phone: FactorRecord { factor("p", type: .sms) }
    private var enrolling: FactorRecord { factor("q", status: .pending, expiresAt: start.addingTimeInterval(600), type: .sms) }
    /// A policy that never locks within a test.
    private var lenient: ThrottlePolicy { ThrottlePolicy(freeFailures: 100) }

    /// Inserts `challenge` with no budget, its event at its creation.
    private func insert(_ challenge: ChallengeRecord, into store: any TwofoldStore) async throws {
        let refusal = try await store.insertChallenge(challenge, spending: [],
                                                      audit: audit(.challengeCreated, challenge.applicationID, challenge.userID,
                                                                   at: challenge.createdAt))
        #expect(refusal == nil)
    }

    /// Inserts a new challenge of alice's created at `time`, spending `budgets`.
    private func send(_ name: String, at time: Date, spending budgets: [SendBudget], into store: any TwofoldStore) async throws -> SendRefusal? {
        try await store.insertChallenge(challenge(name, factor: phone.id, createdAt: time), spending: budgets,
                                        audit: audit(.challengeCreated, app, alice, at: time))
    }

    /// What `decide` was given by an attempt of `request` that rejects with `no_factors` (which
    /// counts nothing and changes nothing but the audit log).
    private func snapshot(_ store: any TwofoldStore, _ request: AttemptRequest) async throws -> AttemptSnapshot {
        let seen = Mutex<AttemptSnapshot?>(nil)
        let outcome = try await store.attempt(request, decide: { snapshot in
            seen.withLock { $0 = snapshot }
            return .reject(.noFactors)
        }, audit: { _ in audit(.verification, app, request.userID) })
        #expect(outcome == .denied(.noFactors, lockedUntil: nil))
        return try #require(seen.withLock { $0 })
    }

    private func events(_ store: any TwofoldStore) async throws -> Int {
        try await store.auditEvents(AuditQuery(limit: 1000)).count
    }

    private func accept(_ challenge: ChallengeRecord, activate: Bool = false) -> Acceptance {
        .challenge(ChallengeAcceptance(challengeID: challenge.id, factorID: challenge.factorID, factorType: .sms, activate: activate))
    }

    // MARK: Insert and read

    @Test("a challenge reads back exactly as inserted, its event appended; an unknown id reads nil", arguments: StoreUnderTest.all)
    func insertsAndReads(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertFactor(phone, audit: audit(.factorEnrolled, app, alice))
            var full = challenge("b", factor: phone.id, codeHash: [0, 1, 0xFF, 0], maxAttempts: 3)
            full.type = .voice
            full.failedAttempts = 2
            full.expiresAt = start.addingTimeInterval(123)
            full.context = ChallengeContext(ip: "2001:db8::1", userAgent: "Mozilla/5.0 (\"quoted\" \\ back/slash)",
                                            location: "Zürich, CH 🇨🇭", appName: "ACME <Login>")
            full.delivery = ChallengeDelivery(provider: "twilio", status: "queued", providerReference: "SM123", attempt: 1)
            let bare = challenge("c", factor: phone.id, mode: .approve, createdAt: start.addingTimeInterval(1))
            #expect(bare.codeHash == nil && bare.delivery == nil && bare.context == ChallengeContext())
            let partial = ChallengeRecord(id: challengeID("d"), applicationID: app, userID: alice, factorID: phone.id, type: .sms,
                                          mode: .code, purpose: .enrollment, createdAt: start, expiresAt: start.addingTimeInterval(60),
                                          codeHash: [], maxAttempts: 5, context: ChallengeContext(ip: "192.0.2.1"),
                                          delivery: ChallengeDelivery(provider: "console", status: "sent", attempt: 0))
            for challenge in [full, bare, partial] {
                try await insert(challenge, into: store)
                #expect(try await store.challenge(id: challenge.id) == challenge)
            }
            #expect(try await store.challenge(id: challengeID("z")) == nil)
            let recorded = try await store.auditEvents(AuditQuery(applicationID: app, userID: alice))
            #expect(recorded.filter { $0.action == AuditAction.challengeCreated.rawValue }.count == 3)
        }
    }

    @Test("inserting a challenge whose id is taken is a conflict that spends and records nothing", arguments: StoreUnderTest.all)
    func duplicateIDIsAConflict(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let first = challenge("b", factor: phone.id)
            try await insert(first, into: store)
            let before = try await events(store)
            let budget = SendBudget(limit: "destination", key: "k1", capacity: 1, period: 3600)
            var second = challenge("b", factor: phone.id, createdAt: start.addingTimeInterval(1))
            second.mode = .approve
            second.codeHash = nil
            let error = await #expect(throws: TwofoldError.self) {
                try await store.insertChallenge(second, spending: [budget], audit: audit(.challengeCreated, app, alice))
            }
            #expect(error?.code == .conflict)
            #expect(try await store.challenge(id: first.id) == first)
            #expect(try await events(store) == before)
            // The budget's one token is still there.
            #expect(try await send("c", at: start.addingTimeInterval(1), spending: [budget], into: store) == nil)
        }
    }

    @Test("a user's challenges list newest first, by creation then id, and only theirs", arguments: StoreUnderTest.all)
    func listsNewestFirst(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let older = challenge("z", factor: phone.id, createdAt: start)
            let lowID = challenge("b", factor: phone.id, createdAt: start.addingTimeInterval(1))
            let highID = challenge("c", factor: phone.id, createdAt: start.addingTimeInterval(1))
            let newest = challenge("a", factor: phone.id, createdAt: start.addingTimeInterval(2))
            let bobs = challenge("d", factor: factor("b", user: bob).id, user: bob, createdAt: start.addingTimeInterval(3))
            let elsewhere = challenge("e", factor: factor("c", application: otherApp).id, application: otherApp,
                                      createdAt: start.addingTimeInterval(3))
            for challenge in [lowID, bobs, newest, older, elsewhere, highID] {
                try await insert(challenge, into: store)
            }
            #expect(try await store.challenges(applicationID: app, userID: alice) == [newest, highID, lowID, older])
            #expect(try await store.challenges(applicationID: app, userID: bob) == [bobs])
            #expect(try await store.challenges(applicationID: otherApp, userID: alice) == [elsewhere])
            #expect(try await store.challenges(applicationID: otherApp, userID: bob).isEmpty)
        }
    }

    // MARK: Send budgets

    @Test("a fresh budget allows its capacity at once, then refuses with its limit and the time of the next token",
          arguments: StoreUnderTest.all)
    func budgetAllowsCapacityThenRefuses(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            // A token every 20 s.
            let budget = SendBudget(limit: "user_channel", key: "alice-sms", capacity: 3, period: 60)
            let now = StoredTime.milliseconds(start)
            for name in ["b", "c", "d"] {
                #expect(try await send(name, at: start, spending: [budget], into: store) == nil)
            }
            let refusal = try await send("e", at: start, spending: [budget], into: store)
            #expect(refusal == SendRefusal(limit: "user_channel", retryAfter: budget.retryAfter(available: 0, now: now)))
            #expect(abs(try #require(refusal).retryAfter.timeIntervalSince(start) - 20) < 0.002)
            // Five seconds later a quarter of a token is back: the next one is still 20 s after the start.
            let later = start.addingTimeInterval(5)
            let laterMS = StoredTime.milliseconds(later)
            let stillRefused = try await send("f", at: later, spending: [budget], into: store)
            #expect(stillRefused == SendRefusal(limit: "user_channel",
                                                retryAfter: budget.retryAfter(available: budget.available(tokens: 0, updatedAt: now, now: laterMS),
                                                                              now: laterMS)))
            #expect(abs(try #require(stillRefused).retryAfter.timeIntervalSince(start) - 20) < 0.002)
            #expect(try await store.challenges(applicationID: app, userID: alice).map(\.id) == ["d", "c", "b"].map(challengeID))
            // Another key is another bucket.
            let other = SendBudget(limit: "user_channel", key: "bob-sms", capacity: 3, period: 60)
            #expect(try await send("g", at: start, spending: [other], into: store) == nil)
        }
    }

    @Test("a budget refills at capacity per period, never beyond its capacity", arguments: StoreUnderTest.all)
    func budgetRefills(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let budget = SendBudget(limit: "user_channel", key: "alice-sms", capacity: 3, period: 60)
            var sent = 0
            func sendAt(_ seconds: TimeInterval) async throws -> SendRefusal? {
                sent += 1
                let name = String(Array("bcdefghijklmnopqrstuvwxyz")[sent])
                return try await send(name, at: start.addingTimeInterval(seconds), spending: [budget], into: store)
            }
            for _ in 0..<3 { #expect(try await sendAt(0) == nil) }
            #expect(try await sendAt(19.9) != nil)
            // One token back after 20 s, and only one.
            #expect(try await sendAt(20) == nil)
            let refusal = try #require(try await sendAt(20))
            #expect(abs(refusal.retryAfter.timeIntervalSince(start) - 40) < 0.002)
            // An hour later the bucket is full, and holds no more than its capacity.
            for _ in 0..<3 { #expect(try await sendAt(3600) == nil) }
            #expect(try await sendAt(3600)?.limit == "user_channel")
        }
    }

    @Test("a refund gives one token back, never beyond the capacity, and leaves a bucket without a row full",
          arguments: StoreUnderTest.all)
    func budgetRefunds(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            // A token an hour: refills play no part within the test's seconds.
            let budget = SendBudget(limit: "pumping_guard", key: "+1555", capacity: 2, period: 7200)
            #expect(try await send("b", at: start, spending: [budget], into: store) == nil)
            #expect(try await send("c", at: start, spending: [budget], into: store) == nil)
            #expect(try await send("d", at: start, spending: [budget], into: store)?.limit == "pumping_guard")
            try await store.refundSendBudget(budget, at: start.addingTimeInterval(1))
            #expect(try await send("e", at: start.addingTimeInterval(2), spending: [budget], into: store) == nil)
            #expect(try await send("f", at: start.addingTimeInterval(2), spending: [budget], into: store) != nil)
            // Refunds beyond the capacity are capped: two tokens at most, however many come back.
            for _ in 0..<5 { try await store.refundSendBudget(budget, at: start.addingTimeInterval(3)) }
            #expect(try await send("g", at: start.addingTimeInterval(4), spending: [budget], into: store) == nil)
            #expect(try await send("h", at: start.addingTimeInterval(4), spending: [budget], into: store) == nil)
            #expect(try await send("i", at: start.addingTimeInterval(4), spending: [budget], into: store) != nil)
            // A bucket never spent has no row; a refund to it creates none and it stays full.
            let untouched = SendBudget(limit: "pumping_guard", key: "+4477", capacity: 1, period: 7200)
            try await store.refundSendBudget(untouched, at: start)
            #expect(try await send("j", at: start, spending: [untouched], into: store) == nil)
            #expect(try await send("k", at: start, spending: [untouched], into: store) != nil)
        }
    }

    @Test("finishing a challenge as pending is refused: pending is no final status", arguments: StoreUnderTest.all)
    func finishingAsPendingIsRefused(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { (store: any TwofoldStore) async throws -> Void in
            let refused = try await send("b", at: start, spending: [], into: store)
            #expect(refused == nil)
            var code: TwofoldError.Code?
            do {
                _ = try await store.finishChallenge(challengeID("b"), as: .pending, reason: nil, at: start, audit: audit(.challengeFinished))
            } catch let error as TwofoldError {
                code = error.code
            }
            #expect(code == .invalidRequest)
            let stored = try await store.challenge(id: challengeID("b"))
            #expect(stored?.status == .pending)
        }
    }

    @Test("a refused send writes nothing: no challenge, no event, no budget spent, not even of the budgets before the empty one",
          arguments: StoreUnderTest.all)
    func refusalWritesNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let wide = SendBudget(limit: "application", key: "app", capacity: 5, period: 3600)
            let narrow = SendBudget(limit: "destination", key: "+1555", capacity: 1, period: 60)
            #expect(try await send("b", at: start, spending: [wide, narrow], into: store) == nil)
            let eventCount = try await events(store)
            let refusal = try await send("c", at: start.addingTimeInterval(30), spending: [wide, narrow], into: store)
            #expect(refusal?.limit == "destination")
            #expect(try await store.challenge(id: challengeID("c")) == nil)
            #expect(try await store.challenges(applicationID: app, userID: alice).map(\.id) == [challengeID("b")])
            #expect(try await events(store) == eventCount)
            // `wide` still holds its 4 tokens (the refused send's spending was rolled back) …
            for name in ["d", "e", "f", "g"] {
                #expect(try await send(name, at: start.addingTimeInterval(30), spending: [wide], into: store) == nil)
            }
            #expect(try await send("h", at: start.addingTimeInterval(30), spending: [wide], into: store)?.limit == "application")
            // … and `narrow` refilled from its last spend, not from the refusal.
            #expect(try await send("i", at: start.addingTimeInterval(60), spending: [narrow], into: store) == nil)
        }
    }

    @Test("the refusal names the first empty budget, in the order given", arguments: StoreUnderTest.all)
    func refusalNamesTheFirstEmptyBudget(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store async throws in
            let first = SendBudget(limit: "user_channel", key: "u", capacity: 1, period: 60)
            let second = SendBudget(limit: "destination", key: "d", capacity: 1, period: 60)
            #expect(try await send("b", at: start, spending: [first, second], into: store) == nil)
            #expect(try await send("c", at: start, spending: [first, second], into: store)?.limit == "user_channel")
            #expect(try await send("d", at: start, spending: [second, first], into: store)?.limit == "destination")
        }
    }

    @Test("of 20 concurrent sends against a budget of one, one is inserted", arguments: StoreUnderTest.all)
    func concurrentSendsSpendOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let budget = SendBudget(limit: "destination", key: "+15551234567", capacity: 1, period: 3600)
            let names = Array("bcdefghijklmnopqrstu").map(String.init)
            let refusals = try await withThrowingTaskGroup(of: SendRefusal?.self) { group in
                for name in names {
                    group.addTask { try await send(name, at: start, spending: [budget], into: store) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(refusals.count == 20)
            #expect(refusals.filter { $0 == nil }.count == 1)
            #expect(refusals.compactMap { $0?.limit } == Array(repeating: "destination", count: 19))
            #expect(try await store.challenges(applicationID: app, userID: alice).count == 1)
            #expect(try await events(store) == 1)
        }
    }

    // MARK: Delivery and finishing

    @Test("delivery is recorded only while the challenge is pending, with its event only then", arguments: StoreUnderTest.all)
    func deliveryOnlyWhilePending(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let sent = challenge("b", factor: phone.id)
            try await insert(sent, into: store)
            let queued = ChallengeDelivery(provider: "twilio", status: "queued", providerReference: "SM1", attempt: 0)
            #expect(try await store.recordDelivery(sent.id, queued, audit: audit(.challengeDelivery, app, alice)))
            #expect(try await store.challenge(id: sent.id)?.delivery == queued)
            #expect(try await events(store) == 2)
            // Without an event; a fallback provider without a reference replaces the first.
            let fallback = ChallengeDelivery(provider: "webhook", status: "sent", attempt: 1)
            #expect(try await store.recordDelivery(sent.id, fallback, audit: nil))
            #expect(try await store.challenge(id: sent.id)?.delivery == fallback)
            #expect(try await events(store) == 2)
            #expect(try await store.finishChallenge(sent.id, as: .failed, reason: .unreachable, at: start.addingTimeInterval(1),
                                                    audit: audit(.challengeFinished, app, alice)))
            let late = ChallengeDelivery(provider: "twilio", status: "delivered", providerReference: "SM1", attempt: 0)
            #expect(try await !store.recordDelivery(sent.id, late, audit: audit(.challengeDelivery, app, alice)))
            #expect(try await store.challenge(id: sent.id)?.delivery == fallback)
            #expect(try await events(store) == 3)
            #expect(try await !store.recordDelivery(challengeID("z"), late, audit: audit(.challengeDelivery, app, alice)))
            #expect(try await events(store) == 3)
        }
    }

    @Test("of two concurrent finishes one moves the challenge, with its status, reason, time and event",
          arguments: StoreUnderTest.all)
    func finishIsACompareAndSet(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let sent = challenge("b", factor: phone.id)
            try await insert(sent, into: store)
            let at = start.addingTimeInterval(10)
            let finishes: [(ChallengeStatus, ChallengeReason?)] = [(.approved, nil), (.denied, .fraud)]
            let results = try await withThrowingTaskGroup(of: (ChallengeStatus, ChallengeReason?, Bool).self) { group in
                for (status, reason) in finishes {
                    group.addTask {
                        (status, reason, try await store.finishChallenge(sent.id, as: status, reason: reason, at: at,
                                                                          audit: audit(.challengeFinished, app, alice)))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = results.filter(\.2)
            try #require(winners.count == 1)
            let stored = try #require(try await store.challenge(id: sent.id))
            #expect(stored.status == winners[0].0)
            #expect(stored.reason == winners[0].1)
            #expect(stored.finishedAt == at)
            #expect(try await events(store) == 2)
            #expect(try await !store.finishChallenge(sent.id, as: .canceled, reason: nil, at: at, audit: audit(.challengeFinished, app, alice)))
            #expect(try await store.challenge(id: sent.id) == stored)
            #expect(try await events(store) == 2)
            #expect(try await !store.finishChallenge(challengeID("z"), as: .expired, reason: nil, at: at,
                                                     audit: audit(.challengeFinished, app, alice)))
        }
    }

    static let finalStatuses: [ChallengeStatus] = [.approved, .denied, .expired, .failed, .canceled]

    @Test("at or after its expiry a challenge may end expired, failed or canceled, never approved or denied",
          arguments: StoreUnderTest.all, finalStatuses)
    func finishAfterExpiry(_ backend: StoreUnderTest, status: ChallengeStatus) async throws {
        try await backend.withFreshStore { store in
            let sent = challenge("b", factor: phone.id, expiresAt: start.addingTimeInterval(300))
            let fresh = challenge("c", factor: phone.id, expiresAt: start.addingTimeInterval(300))
            try await insert(sent, into: store)
            try await insert(fresh, into: store)
            let allowed = status != .approved && status != .denied
            let reason: ChallengeReason? = status == .approved ? nil : .noAnswer
            let atExpiry = start.addingTimeInterval(300)
            #expect(try await store.finishChallenge(sent.id, as: status, reason: reason, at: atExpiry,
                                                    audit: audit(.challengeFinished, app, alice)) == allowed)
            var expected = sent
            if allowed {
                expected.status = status
                expected.reason = reason
                expected.finishedAt = atExpiry
            }
            #expect(try await store.challenge(id: sent.id) == expected)
            #expect(try await events(store) == (allowed ? 3 : 2))
            // A millisecond before its expiry, every final status may be set.
            let before = start.addingTimeInterval(299.999)
            #expect(try await store.finishChallenge(fresh.id, as: status, reason: reason, at: before,
                                                    audit: audit(.challengeFinished, app, alice)))
            #expect(try await store.challenge(id: fresh.id)?.status == status)
        }
    }

    @Test("purging deletes the challenges created before the date, and counts them", arguments: StoreUnderTest.all)
    func purgesOldChallenges(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let old = challenge("b", factor: phone.id, createdAt: start)
            let atCutoff = challenge("c", factor: phone.id, createdAt: start.addingTimeInterval(10))
            let recent = challenge("d", factor: phone.id, createdAt: start.addingTimeInterval(20))
            let bobsOld = challenge("e", factor: factor("b", user: bob).id, user: bob, createdAt: start.addingTimeInterval(-1))
            for challenge in [old, atCutoff, recent, bobsOld] {
                try await insert(challenge, into: store)
            }
            #expect(try await store.purgeChallenges(createdBefore: start.addingTimeInterval(10)) == 2)
            #expect(try await store.challenges(applicationID: app, userID: alice) == [recent, atCutoff])
            #expect(try await store.challenges(applicationID: app, userID: bob).isEmpty)
            #expect(try await store.purgeChallenges(createdBefore: start.addingTimeInterval(10)) == 0)
        }
    }

    // MARK: Users and factors

    @Test("erasing a user deletes their challenges, and no one else's", arguments: StoreUnderTest.all)
    func eraseDeletesChallenges(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertFactor(phone, audit: audit(.factorEnrolled, app, alice))
            let bobsPhone = factor("b", user: bob, type: .sms)
            try await store.insertFactor(bobsPhone, audit: audit(.factorEnrolled, app, bob))
            let mine = challenge("b", factor: phone.id)
            let bobs = challenge("c", factor: bobsPhone.id, user: bob)
            try await insert(mine, into: store)
            try await insert(bobs, into: store)
            #expect(try await store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false)))
            #expect(try await store.challenges(applicationID: app, userID: alice).isEmpty)
            #expect(try await store.challenge(id: mine.id) == nil)
            #expect(try await store.challenges(applicationID: app, userID: bob) == [bobs])
        }
    }

    @Test("resetting a user deletes their challenges, counting only factors and recovery codes", arguments: StoreUnderTest.all)
    func resetDeletesChallenges(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertFactor(phone, audit: audit(.factorEnrolled, app, alice))
            let bobsPhone = factor("b", user: bob, type: .sms)
            try await store.insertFactor(bobsPhone, audit: audit(.factorEnrolled, app, bob))
            let mine = [challenge("b", factor: phone.id), challenge("c", factor: phone.id, createdAt: start.addingTimeInterval(1))]
            let bobs = challenge("d", factor: bobsPhone.id, user: bob)
            for challenge in mine + [bobs] {
                try await insert(challenge, into: store)
            }
            let counts = try #require(try await store.resetUser(applicationID: app, userID: alice, audit: audit(.userReset, app, alice)))
            #expect(counts.factors == 1)
            #expect(counts.recoveryCodes == 0)
            #expect(try await store.challenges(applicationID: app, userID: alice).isEmpty)
            #expect(try await store.challenge(id: mine[0].id) == nil)
            #expect(try await store.challenges(applicationID: app, userID: bob) == [bobs])
        }
    }

    @Test("deleting a factor cancels its pending challenges (factor_deleted, at the event's time) and no others",
          arguments: StoreUnderTest.all)
    func deleteFactorCancelsPending(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let other = factor("r", type: .voice)
            for factor in [phone, other] {
                try await store.insertFactor(factor, audit: audit(.factorEnrolled, app, alice))
            }
            let pending = challenge("b", factor: phone.id)
            let pastExpiry = challenge("c", factor: phone.id, createdAt: start.addingTimeInterval(-600))
            let approved = challenge("d", factor: phone.id)
            let otherFactors = challenge("e", factor: other.id)
            for challenge in [pending, pastExpiry, approved, otherFactors] {
                try await insert(challenge, into: store)
            }
            #expect(try await store.finishChallenge(approved.id, as: .approved, reason: nil, at: start.addingTimeInterval(1),
                                                    audit: audit(.challengeFinished, app, alice)))
            let approvedStored = try await store.challenge(id: approved.id)
            // An unknown factor's deletion changes nothing.
            #expect(try await !store.deleteFactor(applicationID: app, userID: alice, factorID: factor("z").id,
                                                  audit: audit(.factorDeleted, app, alice, at: start.addingTimeInterval(2))))
            #expect(try await store.challenge(id: pending.id) == pending)
            let deletedAt = start.addingTimeInterval(42)
            #expect(try await store.deleteFactor(applicationID: app, userID: alice, factorID: phone.id,
                                                 audit: audit(.factorDeleted, app, alice, at: deletedAt)))
            for challenge in [pending, pastExpiry] {
                var canceled = challenge
                canceled.status = .canceled
                canceled.reason = .factorDeleted
                canceled.finishedAt = deletedAt
                #expect(try await store.challenge(id: challenge.id) == canceled)
            }
            #expect(try await store.challenge(id: approved.id) == approvedStored)
            #expect(try await store.challenge(id: otherFactors.id) == otherFactors)
        }
    }

    // MARK: Attempts: snapshots

    @Test("a verification sees the user's pending, unexpired login code challenges, newest first, and no other",
          arguments: StoreUnderTest.all)
    func verificationSnapshot(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            for factor in [phone, enrolling] {
                try await store.insertFactor(factor, audit: audit(.factorEnrolled, app, alice))
            }
            let now = start.addingTimeInterval(10)
            let older = challenge("b", factor: phone.id)
            let newer = challenge("c", factor: phone.id, createdAt: start.addingTimeInterval(1))
            let newerHigherID = challenge("l", factor: phone.id, createdAt: start.addingTimeInterval(1))
            let expired = challenge("d", factor: phone.id, createdAt: start.addingTimeInterval(-400))
            let expiringNow = challenge("e", factor: phone.id, expiresAt: now)
            // Approve mode, even holding a code hash.
            var approveMode = challenge("f", factor: phone.id, mode: .approve)
            approveMode.codeHash = [0xC0, 0xDE]
            let withoutCode = challenge("g", factor: phone.id, codeHash: nil)
            let enrollment = challenge("h", factor: enrolling.id, purpose: .enrollment)
            let finished = challenge("i", factor: phone.id)
            let bobs = challenge("j", factor: factor("b", user: bob, type: .sms).id, user: bob)
            let otherApps = challenge("k", factor: factor("c", application: otherApp, type: .sms).id, application: otherApp)
            for challenge in [older, newerHigherID, expired, expiringNow, approveMode, withoutCode, newer, enrollment, finished, bobs,
                              otherApps] {
                try await insert(challenge, into: store)
            }
            #expect(try await store.finishChallenge(finished.id, as: .denied, reason: .fraud, at: start.addingTimeInterval(5),
                                                    audit: audit(.challengeFinished, app, alice)))
            let seen = try await snapshot(store, request(at: now))
            #expect(seen.challenges == [newerHigherID, newer, older])
            #expect(seen.factors.map(\.id) == [phone.id])
            // Nothing was counted or changed.
            #expect(try await store.challenge(id: older.id) == older)
            let bobsSeen = try await snapshot(store, request(user: bob, at: now))
            #expect(bobsSeen.challenges == [bobs])
        }
    }

    @Test("an activation sees the factor's open enrollment challenges; a resynchronisation sees none", arguments: StoreUnderTest.all)
    func activationSnapshot(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let otherEnrolling = factor("r", status: .pending, expiresAt: start.addingTimeInterval(600), type: .voice)
            for factor in [phone, enrolling, otherEnrolling] {
                try await store.insertFactor(factor, audit: audit(.factorEnrolled, app, alice))
            }
            let mine = challenge("b", factor: enrolling.id, purpose: .enrollment)
            let mineNewer = challenge("c", factor: enrolling.id, purpose: .enrollment, createdAt: start.addingTimeInterval(2))
            let expired = challenge("d", factor: enrolling.id, purpose: .enrollment, createdAt: start.addingTimeInterval(-400))
            let otherFactors = challenge("e", factor: otherEnrolling.id, purpose: .enrollment)
            let login = challenge("f", factor: enrolling.id)
            for challenge in [mine, expired, otherFactors, login, mineNewer] {
                try await insert(challenge, into: store)
            }
            let seen = try await snapshot(store, request(.activate(enrolling.id), at: start.addingTimeInterval(10)))
            #expect(seen.challenges == [mineNewer, mine])
            #expect(seen.factors.map(\.id) == [enrolling.id])
            let resynchronizing = try await snapshot(store, request(.resynchronize(enrolling.id), at: start.addingTimeInterval(10)))
            #expect(resynchronizing.challenges.isEmpty)
            #expect(resynchronizing.factors.map(\.id) == [enrolling.id])
        }
    }

    @Test("answering a challenge sees that one only if it is the user's open login challenge, the active factors, no recovery codes",
          arguments: StoreUnderTest.all)
    func answerSnapshot(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            for factor in [phone, enrolling] {
                try await store.insertFactor(factor, audit: audit(.factorEnrolled, app, alice))
            }
            #expect(try await store.replaceRecoveryCodes(applicationID: app, userID: alice, codes: tenRecoveryCodes,
                                                         audit: audit(.recoveryCodesGenerated, app, alice)))
            let named = challenge("b", factor: phone.id)
            let sibling = challenge("c", factor: phone.id, createdAt: start.addingTimeInterval(1))
            let enrollment = challenge("d", factor: enrolling.id, purpose: .enrollment)
            let expired = challenge("e", factor: phone.id, createdAt: start.addingTimeInterval(-400))
            let approveMode = challenge("f", factor: phone.id, mode: .approve)
            let bobs = challenge("g", factor: factor("b", user: bob, type: .sms).id, user: bob)
            for challenge in [named, sibling, enrollment, expired, approveMode, bobs] {
                try await insert(challenge, into: store)
            }
            let now = start.addingTimeInterval(10)
            let seen = try await snapshot(store, request(.answerChallenge(named.id), at: now))
            #expect(seen.challenges == [named])
            #expect(seen.factors.map(\.id) == [phone.id])
            #expect(seen.recoveryCodes.isEmpty)
            for unseen in [enrollment, expired, approveMode, bobs] {
                #expect(try await snapshot(store, request(.answerChallenge(unseen.id), at: now)).challenges.isEmpty,
                        "\(unseen.id) must not be answered by alice")
            }
            #expect(try await snapshot(store, request(.answerChallenge(challengeID("z")), at: now)).challenges.isEmpty)
        }
    }

    // MARK: Attempts: acceptance

    @Test("accepting a challenge approves it once; the second acceptance is a replay", arguments: StoreUnderTest.all)
    func acceptsAChallengeOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertFactor(phone, audit: audit(.factorEnrolled, app, alice))
            let sent = challenge("b", factor: phone.id)
            try await insert(sent, into: store)
            let now = start.addingTimeInterval(10)
            let acceptance = accept(sent)
            #expect(try await attempt(store, request(at: now, throttle: lenient), .accept(acceptance)) == .accepted(acceptance))
            var approved = sent
            approved.status = .approved
            approved.finishedAt = now
            #expect(try await store.challenge(id: sent.id) == approved)
            #expect(try await attempt(store, request(at: now.addingTimeInterval(1), throttle: lenient), .accept(acceptance))
                    == .denied(.replayed, lockedUntil: nil))
            #expect(try await store.challenge(id: sent.id) == approved)
            #expect(try await store.throttleState(applicationID: app, userID: alice)?.failures == 1)
        }
    }

    @Test("of 20 concurrent acceptances of one challenge, one wins", arguments: StoreUnderTest.all)
    func concurrentAcceptancesWinOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertFactor(phone, audit: audit(.factorEnrolled, app, alice))
            let sent = challenge("b", factor: phone.id, maxAttempts: 100)
            try await insert(sent, into: store)
            let acceptance = accept(sent)
            let outcomes = try await withThrowingTaskGroup(of: AttemptOutcome.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await attempt(store, request(.answerChallenge(sent.id), throttle: lenient), .accept(acceptance)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .accepted(acceptance) }.count == 1)
            #expect(outcomes.filter { $0 == .denied(.replayed, lockedUntil: nil) }.count == 19)
            #expect(try await store.challenge(id: sent.id)?.status == .approved)
        }
    }

    @Test("accepting an enrollment challenge activates its factor, and a second one then loses", arguments: StoreUnderTest.all)
    func enrollmentChallengeActivates(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertFactor(enrolling, audit: audit(.factorEnrolled, app, alice))
            let first = challenge("b", factor: enrolling.id, purpose: .enrollment)
            let second = challenge("c", factor: enrolling.id, purpose: .enrollment, createdAt: start.addingTimeInterval(1))
            try await insert(first, into: store)
            try await insert(second, into: store)
            let now = start.addingTimeInterval(10)
            let activation = accept(first, activate: true)
            #expect(try await attempt(store, request(.activate(enrolling.id), at: now, throttle: lenient), .accept(activation))
                    == .accepted(activation))
            let active = try #require(try await store.factors(applicationID: app, userID: alice).first)
            #expect(active.status == .active)
            #expect(active.activatedAt == now)
            #expect(active.expiresAt == nil)
            #expect(active.lastAcceptedStep == nil)
            #expect(try await store.challenge(id: first.id)?.status == .approved)
            #expect(try await store.challenge(id: first.id)?.finishedAt == now)
            // The factor is no longer pending: the other challenge's acceptance loses whole, and
            // counts as a wrong attempt on it.
            let later = now.addingTimeInterval(1)
            #expect(try await attempt(store, request(.activate(enrolling.id), at: later, throttle: lenient), .accept(accept(second, activate: true)))
                    == .denied(.replayed, lockedUntil: nil))
            var counted = second
            counted.failedAttempts = 1
            #expect(try await store.challenge(id: second.id) == counted)
            #expect(try await store.factors(applicationID: app, userID: alice).first?.activatedAt == now)
        }
    }

    @Test("an expired challenge's acceptance loses, and leaves it pending", arguments: StoreUnderTest.all)
    func expiredChallengeLoses(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertFactor(phone, audit: audit(.factorEnrolled, app, alice))
            try await store.insertFactor(enrolling, audit: audit(.factorEnrolled, app, alice))
            let login = challenge("b", factor: phone.id, expiresAt: start.addingTimeInterval(300))
            let enrollment = challenge("c", factor: enrolling.id, purpose: .enrollment, expiresAt: start.addingTimeInterval(300))
            try await insert(login, into: store)
            try await insert(enrollment, into: store)
            let atExpiry = start.addingTimeInterval(300)
            #expect(try await attempt(store, request(at: atExpiry, throttle: lenient), .accept(accept(login)))
                    == .denied(.replayed, lockedUntil: nil))
            #expect(try await attempt(store, request(.activate(enrolling.id), at: atExpiry, throttle: lenient),
                                      .accept(accept(enrollment, activate: true))) == .denied(.replayed, lockedUntil: nil))
            #expect(try await store.challenge(id: login.id) == login)
            #expect(try await store.challenge(id: enrollment.id) == enrollment)
            #expect(try await store.factors(applicationID: app, userID: alice).map(\.status) == [.active, .pending])
        }
    }

    // MARK: Attempts: failures

    @Test("a counted failure is a wrong attempt on each challenge of the snapshot; the fifth ends it denied",
          arguments: StoreUnderTest.all)
    func failuresCountOnTheSnapshot(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            for factor in [phone, enrolling] {
                try await store.insertFactor(factor, audit: audit(.factorEnrolled, app, alice))
            }
            let first = challenge("b", factor: phone.id)
            let second = challenge("c", factor: phone.id, createdAt: start.addingTimeInterval(1), maxAttempts: 10)
            let enrollment = challenge("d", factor: enrolling.id, purpose: .enrollment)
            let expired = challenge("e", factor: phone.id, createdAt: start.addingTimeInterval(-400))
            let approveMode = challenge("f", factor: phone.id, mode: .approve)
            let bobs = challenge("g", factor: factor("b", user: bob, type: .sms).id, user: bob)
            let untouched = [enrollment, expired, approveMode, bobs]
            for challenge in [first, second] + untouched {
                try await insert(challenge, into: store)
            }
            for seconds in 1...4 {
                #expect(try await attempt(store, request(at: start.addingTimeInterval(Double(seconds)), throttle: lenient), .reject(.invalidCode))
                        == .denied(.invalidCode, lockedUntil: nil))
            }
            // An uncounted refusal changes nothing.
            #expect(try await attempt(store, request(at: start.addingTimeInterval(5), throttle: lenient), .reject(.noFactors))
                    == .denied(.noFactors, lockedUntil: nil))
            var firstCounted = first
            firstCounted.failedAttempts = 4
            #expect(try await store.challenge(id: first.id) == firstCounted)
            #expect(try await store.challenge(id: second.id)?.failedAttempts == 4)
            let fifth = start.addingTimeInterval(50)
            #expect(try await attempt(store, request(at: fifth, throttle: lenient), .reject(.invalidCode)) == .denied(.invalidCode, lockedUntil: nil))
            firstCounted.failedAttempts = 5
            firstCounted.status = .denied
            firstCounted.reason = .tooManyAttempts
            firstCounted.finishedAt = fifth
            #expect(try await store.challenge(id: first.id) == firstCounted)
            var secondCounted = second
            secondCounted.failedAttempts = 5
            #expect(try await store.challenge(id: second.id) == secondCounted)
            // A denied challenge counts no more; answering one challenge counts on it alone.
            #expect(try await attempt(store, request(.answerChallenge(second.id), at: fifth, throttle: lenient), .reject(.invalidCode))
                    == .denied(.invalidCode, lockedUntil: nil))
            #expect(try await store.challenge(id: first.id) == firstCounted)
            #expect(try await store.challenge(id: second.id)?.failedAttempts == 6)
            for challenge in untouched {
                #expect(try await store.challenge(id: challenge.id) == challenge)
            }
        }
    }

    @Test("a failed activation counts on the factor's enrollment challenges", arguments: StoreUnderTest.all)
    func activationFailuresCount(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertFactor(phone, audit: audit(.factorEnrolled, app, alice))
            try await store.insertFactor(enrolling, audit: audit(.factorEnrolled, app, alice))
            let enrollment = challenge("b", factor: enrolling.id, purpose: .enrollment, maxAttempts: 1)
            let login = challenge("c", factor: phone.id)
            try await insert(enrollment, into: store)
            try await insert(login, into: store)
            let now = start.addingTimeInterval(10)
            #expect(try await attempt(store, request(.activate(enrolling.id), at: now, throttle: lenient), .reject(.invalidCode))
                    == .denied(.invalidCode, lockedUntil: nil))
            var denied = enrollment
            denied.failedAttempts = 1
            denied.status = .denied
            denied.reason = .tooManyAttempts
            denied.finishedAt = now
            #expect(try await store.challenge(id: enrollment.id) == denied)
            #expect(try await store.challenge(id: login.id) == login)
        }
    }

    @Test("a locked user's attempt touches no challenge", arguments: StoreUnderTest.all)
    func lockedAttemptTouchesNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.insertFactor(phone, audit: audit(.factorEnrolled, app, alice))
            let sent = challenge("b", factor: phone.id)
            try await insert(sent, into: store)
            let policy = ThrottlePolicy(freeFailures: 0, baseDelay: 60, maximumDelay: 60)
            let lockEnd = start.addingTimeInterval(60)
            #expect(try await attempt(store, request(throttle: policy), .reject(.invalidCode)) == .denied(.invalidCode, lockedUntil: lockEnd))
            var counted = sent
            counted.failedAttempts = 1
            #expect(try await store.challenge(id: sent.id) == counted)
            for purpose in [AttemptRequest.Purpose.verify, .answerChallenge(sent.id)] {
                let outcome = try await store.attempt(request(purpose, at: start.addingTimeInterval(10), throttle: policy), decide: { _ in
                    Issue.record("a locked user's code must not be evaluated")
                    return .accept(accept(sent))
                }, audit: { _ in audit(.verification, app, alice) })
                #expect(outcome == .locked(until: lockEnd))
            }
            #expect(try await store.challenge(id: sent.id) == counted)
        }
    }
}
