import Foundation
import Testing
import TwofoldCore
import TwofoldTesting

/// ``SecurityKeyStore``, and what security keys change in the other ports: a key goes with its
/// factor (deletion, reset, erasure, the purge of lapsed enrollments), and `webauthn`
/// challenges.
@Suite("Security key store conformance")
struct SecurityKeyStoreConformance: StoreFixtures {
    /// When a pending factor's enrollment lapses: ten minutes after the start.
    private var lapse: Date { start.addingTimeInterval(600) }

    /// A `webauthn` factor whose id is `fac_` and 26 × `name`, pending (lapsing) unless told otherwise.
    private func keyFactor(_ name: String, user: UserID? = nil, application: ApplicationID? = nil,
                           status: FactorStatus = .pending) -> FactorRecord {
        factor(name, user: user, status: status, expiresAt: status == .pending ? lapse : nil, application: application, type: .webauthn)
    }

    /// The key of `factor` (its application and user unless told otherwise), with `credential`
    /// as its credential id, created at `start` unless told otherwise.
    private func key(of factor: FactorRecord, credential: [UInt8], user: UserID? = nil, application: ApplicationID? = nil,
                     createdAt: Date? = nil) -> SecurityKeyRecord {
        SecurityKeyRecord(factorID: factor.id, applicationID: application ?? factor.applicationID, userID: user ?? factor.userID,
                          credentialID: credential, aaguid: Array(repeating: 0xA1, count: 16), transports: ["usb", "nfc"],
                          attestationFormat: "packed", signCount: 0, createdAt: createdAt ?? start)
    }

    private func insert(_ factor: FactorRecord, into store: any TwofoldStore) async throws {
        try await store.insertFactor(factor, audit: audit(.factorEnrolled, factor.applicationID, factor.userID))
    }

    private func attach(_ key: SecurityKeyRecord, secret: [UInt8] = [0xC0, 0x5E], in store: any TwofoldStore) async throws -> Bool {
        try await store.attachSecurityKey(key, sealedSecret: secret,
                                          audit: audit(AuditAction(rawValue: "security_key.registered"), key.applicationID, key.userID))
    }

    /// Inserts `factor` and attaches `key` to it, expecting it to be attached.
    private func enroll(_ factor: FactorRecord, _ key: SecurityKeyRecord, in store: any TwofoldStore) async throws {
        try await insert(factor, into: store)
        #expect(try await attach(key, in: store))
    }

    private func events(_ store: any TwofoldStore) async throws -> Int {
        try await store.auditEvents(AuditQuery(limit: 1000)).count
    }

    private func storedFactor(_ id: FactorID, of user: UserID? = nil, application: ApplicationID? = nil,
                              in store: any TwofoldStore) async throws -> FactorRecord? {
        try await store.factors(applicationID: application ?? app, userID: user ?? alice).first { $0.id == id }
    }

    private func storedKey(_ factorID: FactorID, of user: UserID? = nil, in store: any TwofoldStore) async throws -> SecurityKeyRecord? {
        try await store.securityKeys(applicationID: app, userID: user ?? alice).first { $0.factorID == factorID }
    }

    // MARK: Registration

    @Test("attaching writes the key as given, the factor's new sealed secret and the event", arguments: StoreUnderTest.all)
    func attachWritesEverything(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = keyFactor("k")
            try await insert(factor, into: store)
            let before = try await events(store)
            // Every column set, times in whole milliseconds, bytes a blob would trip on.
            let full = SecurityKeyRecord(factorID: factor.id, applicationID: app, userID: alice, credentialID: [0, 0xFF, 0, 1] + Array(0...200),
                                         aaguid: Array(0..<16), transports: ["usb", "hybrid", "internal", "a,b \"c\"\n"],
                                         attestationFormat: "fido-u2f", signCount: UInt32.max - 1, createdAt: start.addingTimeInterval(0.25),
                                         lastUsedAt: start.addingTimeInterval(1.5), flaggedAt: start.addingTimeInterval(2.125))
            #expect(try await attach(full, secret: [9, 0, 9], in: store))
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [full])
            var sealed = factor
            sealed.sealedSecret = [9, 0, 9]
            #expect(try await store.factors(applicationID: app, userID: alice) == [sealed])
            #expect(try await events(store) == before + 1)
            #expect(try await store.auditEvents(AuditQuery(limit: 1)).first?.action == "security_key.registered")

            // The fewest: no transports, an all-zero AAGUID, no counter, never used.
            let bare = SecurityKeyRecord(factorID: keyFactor("m").id, applicationID: app, userID: alice, credentialID: [7],
                                         aaguid: Array(repeating: 0, count: 16), transports: [], attestationFormat: "none", signCount: 0,
                                         createdAt: start.addingTimeInterval(1))
            try await enroll(keyFactor("m"), bare, in: store)
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [full, bare])
        }
    }

    @Test("attaching to an active, non-webauthn, other user's, other application's, unknown or keyed factor writes nothing",
          arguments: StoreUnderTest.all)
    func refusedAttachWritesNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let active = keyFactor("a", status: .active)
            let totp = factor("t", status: .pending, expiresAt: lapse)
            let phone = factor("s", status: .pending, expiresAt: lapse, type: .sms)
            let bobs = keyFactor("b", user: bob)
            let elsewhere = keyFactor("e", application: otherApp)
            let keyed = keyFactor("k")
            for factor in [active, totp, phone, bobs, elsewhere, keyed] {
                try await insert(factor, into: store)
            }
            let first = key(of: keyed, credential: [1])
            #expect(try await attach(first, secret: [0x01], in: store))
            let before = try await events(store)

            let refused: [SecurityKeyRecord] = [
                key(of: active, credential: [10]),
                key(of: totp, credential: [11]),
                key(of: phone, credential: [12]),
                // bob's factor, named as alice's; alice's factor, named as bob's.
                key(of: bobs, credential: [13], user: alice),
                key(of: keyed, credential: [14], user: bob),
                // The other application's factor, named in this one; this one's, named in the other.
                key(of: elsewhere, credential: [15], application: app),
                key(of: keyFactor("k"), credential: [16], application: otherApp),
                key(of: keyFactor("u"), credential: [17]),
                // A second key for a factor that has one.
                key(of: keyed, credential: [18]),
            ]
            for attempt in refused {
                #expect(try await !attach(attempt, secret: [0xBA, 0xD0], in: store), "\(attempt.factorID) as \(attempt.userID)")
            }
            #expect(try await events(store) == before)
            for (factor, secret) in [(active, active.sealedSecret), (totp, totp.sealedSecret), (phone, phone.sealedSecret), (keyed, [0x01])] {
                #expect(try await storedFactor(factor.id, in: store)?.sealedSecret == secret, "\(factor.id)")
            }
            #expect(try await storedFactor(bobs.id, of: bob, in: store) == bobs)
            #expect(try await storedFactor(elsewhere.id, application: otherApp, in: store) == elsewhere)
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [first])
            #expect(try await store.securityKeys(applicationID: app, userID: bob).isEmpty)
            #expect(try await store.securityKeys(applicationID: otherApp, userID: alice).isEmpty)
            // The refused credential ids were not taken.
            #expect(try await attach(key(of: bobs, credential: [13]), in: store))
            #expect(try await attach(key(of: elsewhere, credential: [15]), in: store))
        }
    }

    @Test("a credential id taken in the application is a conflict that writes nothing; another application may have it",
          arguments: StoreUnderTest.all)
    func takenCredentialConflicts(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let first = key(of: keyFactor("k"), credential: [0xCA, 0xFE])
            try await enroll(keyFactor("k"), first, in: store)
            let second = keyFactor("m")
            let bobs = keyFactor("b", user: bob)
            try await insert(second, into: store)
            try await insert(bobs, into: store)
            let before = try await events(store)

            for taken in [key(of: second, credential: [0xCA, 0xFE]), key(of: bobs, credential: [0xCA, 0xFE])] {
                let error = await #expect(throws: TwofoldError.self) {
                    try await attach(taken, secret: [0xBA, 0xD0], in: store)
                }
                #expect(error?.code == .conflict)
            }
            #expect(try await events(store) == before)
            #expect(try await storedFactor(second.id, in: store) == second)
            #expect(try await storedFactor(bobs.id, of: bob, in: store) == bobs)
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [first])
            #expect(try await store.securityKeys(applicationID: app, userID: bob).isEmpty)

            // A prefix or an extension of it is another id; the same id in another application is fine.
            #expect(try await attach(key(of: second, credential: [0xCA]), in: store))
            #expect(try await attach(key(of: bobs, credential: [0xCA, 0xFE, 0]), in: store))
            let elsewhere = keyFactor("e", application: otherApp)
            try await enroll(elsewhere, key(of: elsewhere, credential: [0xCA, 0xFE]), in: store)
            #expect(try await store.securityKeys(applicationID: otherApp, userID: alice).map(\.credentialID) == [[0xCA, 0xFE]])
            #expect(try await events(store) == before + 4)
        }
    }

    @Test("of 20 concurrent attaches to one factor, exactly one wins, and its key and secret are the ones stored",
          arguments: StoreUnderTest.all)
    func concurrentAttachesWinOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = keyFactor("k")
            try await insert(factor, into: store)
            let before = try await events(store)
            let results = try await withThrowingTaskGroup(of: (UInt8, Bool).self) { group in
                for index in UInt8(0)..<20 {
                    group.addTask {
                        (index, try await attach(key(of: factor, credential: [0x10, index]), secret: [0x5E, index], in: store))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = results.filter(\.1).map(\.0)
            #expect(winners.count == 1)
            let winner = try #require(winners.first)
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [key(of: factor, credential: [0x10, winner])])
            #expect(try await storedFactor(factor.id, in: store)?.sealedSecret == [0x5E, winner])
            #expect(try await events(store) == before + 1)
        }
    }

    @Test("a user's keys list oldest first, by creation then factor id in byte order, and only theirs", arguments: StoreUnderTest.all)
    func listsOldestFirst(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let newest = key(of: keyFactor("c"), credential: [1], createdAt: start.addingTimeInterval(2))
            let highID = key(of: keyFactor("z"), credential: [2], createdAt: start.addingTimeInterval(1))
            let lowID = key(of: keyFactor("b"), credential: [3], createdAt: start.addingTimeInterval(1))
            let digitID = key(of: keyFactor("2"), credential: [4], createdAt: start.addingTimeInterval(1))
            let oldest = key(of: keyFactor("y"), credential: [5], createdAt: start.addingTimeInterval(-1))
            let bobs = key(of: keyFactor("f", user: bob), credential: [6])
            let elsewhere = key(of: keyFactor("g", application: otherApp), credential: [7])
            let pairs: [(FactorRecord, SecurityKeyRecord)] = [
                (keyFactor("z"), highID), (keyFactor("f", user: bob), bobs), (keyFactor("c"), newest),
                (keyFactor("g", application: otherApp), elsewhere), (keyFactor("y"), oldest), (keyFactor("b"), lowID),
                (keyFactor("2"), digitID),
            ]
            for (factor, key) in pairs {
                try await enroll(factor, key, in: store)
            }
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [oldest, digitID, lowID, highID, newest])
            #expect(try await store.securityKeys(applicationID: app, userID: bob) == [bobs])
            #expect(try await store.securityKeys(applicationID: otherApp, userID: alice) == [elsewhere])
            #expect(try await store.securityKeys(applicationID: otherApp, userID: bob).isEmpty)
        }
    }

    // MARK: Use and flag

    @Test("a use moves the counter only from the expected value, and the last use only forward", arguments: StoreUnderTest.all)
    func useIsACompareAndSet(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = keyFactor("k")
            var stored = key(of: factor, credential: [1])
            try await enroll(factor, stored, in: store)
            let events = try await events(store)

            // Wrong expectations, or an unknown key: nothing changes.
            #expect(try await !store.recordSecurityKeyUse(factor.id, expectedSignCount: 1, signCount: 2, at: start))
            #expect(try await !store.recordSecurityKeyUse(keyFactor("u").id, expectedSignCount: 0, signCount: 1, at: start))
            #expect(try await storedKey(factor.id, in: store) == stored)

            // A key that keeps no counter: 0 to 0 is a use.
            #expect(try await store.recordSecurityKeyUse(factor.id, expectedSignCount: 0, signCount: 0, at: start.addingTimeInterval(10.5)))
            stored.lastUsedAt = start.addingTimeInterval(10.5)
            #expect(try await storedKey(factor.id, in: store) == stored)

            #expect(try await store.recordSecurityKeyUse(factor.id, expectedSignCount: 0, signCount: 5, at: start.addingTimeInterval(20)))
            stored.signCount = 5
            stored.lastUsedAt = start.addingTimeInterval(20)
            #expect(try await storedKey(factor.id, in: store) == stored)
            // The old expectation no longer holds.
            #expect(try await !store.recordSecurityKeyUse(factor.id, expectedSignCount: 0, signCount: 9, at: start.addingTimeInterval(30)))
            #expect(try await !store.recordSecurityKeyUse(factor.id, expectedSignCount: 4, signCount: 9, at: start.addingTimeInterval(30)))
            #expect(try await storedKey(factor.id, in: store) == stored)

            // A use dated earlier moves the counter but not the last use back.
            #expect(try await store.recordSecurityKeyUse(factor.id, expectedSignCount: 5, signCount: UInt32.max, at: start.addingTimeInterval(15)))
            stored.signCount = UInt32.max
            #expect(try await storedKey(factor.id, in: store) == stored)
            #expect(try await store.recordSecurityKeyUse(factor.id, expectedSignCount: UInt32.max, signCount: 7, at: start.addingTimeInterval(40)))
            stored.signCount = 7
            stored.lastUsedAt = start.addingTimeInterval(40)
            #expect(try await storedKey(factor.id, in: store) == stored)
            // Neither the factor nor the audit log is touched.
            #expect(try await storedFactor(factor.id, in: store)?.sealedSecret == [0xC0, 0x5E])
            #expect(try await self.events(store) == events)
        }
    }

    @Test("of 20 concurrent uses expecting one counter, exactly one moves it", arguments: StoreUnderTest.all)
    func concurrentUsesWinOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = keyFactor("k")
            try await enroll(factor, key(of: factor, credential: [1]), in: store)
            #expect(try await store.recordSecurityKeyUse(factor.id, expectedSignCount: 0, signCount: 100, at: start))
            let results = try await withThrowingTaskGroup(of: (UInt32, Bool).self) { group in
                for index in UInt32(0)..<20 {
                    group.addTask {
                        (index, try await store.recordSecurityKeyUse(factor.id, expectedSignCount: 100, signCount: 101 + index,
                                                                     at: start.addingTimeInterval(Double(index) + 1)))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = results.filter(\.1).map(\.0)
            #expect(winners.count == 1)
            let winner = try #require(winners.first)
            let stored = try #require(try await storedKey(factor.id, in: store))
            #expect(stored.signCount == 101 + winner)
            #expect(stored.lastUsedAt == start.addingTimeInterval(Double(winner) + 1))
        }
    }

    @Test("a flag keeps the earliest time; an unknown key is left alone", arguments: StoreUnderTest.all)
    func flagKeepsTheEarliest(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = keyFactor("k")
            var stored = key(of: factor, credential: [1])
            try await enroll(factor, stored, in: store)
            let other = key(of: keyFactor("m"), credential: [2])
            try await enroll(keyFactor("m"), other, in: store)

            try await store.flagSecurityKey(factor.id, at: start.addingTimeInterval(60.5))
            stored.flaggedAt = start.addingTimeInterval(60.5)
            #expect(try await storedKey(factor.id, in: store) == stored)
            try await store.flagSecurityKey(factor.id, at: start.addingTimeInterval(120))
            #expect(try await storedKey(factor.id, in: store) == stored)
            try await store.flagSecurityKey(factor.id, at: start.addingTimeInterval(30))
            stored.flaggedAt = start.addingTimeInterval(30)
            #expect(try await storedKey(factor.id, in: store) == stored)
            #expect(try await storedKey(other.factorID, in: store) == other)

            try await store.flagSecurityKey(keyFactor("u").id, at: start)
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [stored, other])
        }
    }

    // MARK: A key goes with its factor

    @Test("deleting a webauthn factor deletes its key, frees its credential id, and leaves the others", arguments: StoreUnderTest.all)
    func deletingTheFactorDeletesTheKey(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let mine = key(of: keyFactor("k"), credential: [1])
            let kept = key(of: keyFactor("m"), credential: [2])
            let bobs = key(of: keyFactor("b", user: bob), credential: [3])
            try await enroll(keyFactor("k"), mine, in: store)
            try await enroll(keyFactor("m"), kept, in: store)
            try await enroll(keyFactor("b", user: bob), bobs, in: store)
            // Another user's id cannot delete it.
            #expect(try await !store.deleteFactor(applicationID: app, userID: bob, factorID: mine.factorID, audit: audit(.factorDeleted, app, bob)))
            #expect(try await storedKey(mine.factorID, in: store) == mine)
            #expect(try await store.deleteFactor(applicationID: app, userID: alice, factorID: mine.factorID,
                                                 audit: audit(.factorDeleted, app, alice)))
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [kept])
            #expect(try await store.securityKeys(applicationID: app, userID: bob) == [bobs])
            #expect(try await !store.recordSecurityKeyUse(mine.factorID, expectedSignCount: 0, signCount: 1, at: start))
            // Its factor id and credential id are free again.
            try await enroll(keyFactor("k"), mine, in: store)
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [mine, kept])
        }
    }

    @Test("resetting a user deletes their keys, and no one else's", arguments: StoreUnderTest.all)
    func resetDeletesKeys(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let mine = key(of: keyFactor("k"), credential: [1])
            let bobs = key(of: keyFactor("b", user: bob), credential: [3])
            try await enroll(keyFactor("k"), mine, in: store)
            try await enroll(keyFactor("b", user: bob), bobs, in: store)
            let counts = try #require(try await store.resetUser(applicationID: app, userID: alice, audit: audit(.userReset, app, alice)))
            #expect(counts.factors == 1)
            #expect(try await store.securityKeys(applicationID: app, userID: alice).isEmpty)
            #expect(try await store.securityKeys(applicationID: app, userID: bob) == [bobs])
            try await enroll(keyFactor("k"), mine, in: store)
        }
    }

    @Test("erasing a user leaves no key of theirs, and no one else's goes", arguments: StoreUnderTest.all)
    func eraseDeletesKeys(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let mine = key(of: keyFactor("k"), credential: [1])
            let flagged = key(of: keyFactor("m"), credential: [2])
            let bobs = key(of: keyFactor("b", user: bob), credential: [3])
            try await enroll(keyFactor("k"), mine, in: store)
            try await enroll(keyFactor("m"), flagged, in: store)
            try await enroll(keyFactor("b", user: bob), bobs, in: store)
            try await store.flagSecurityKey(flagged.factorID, at: start)
            #expect(try await store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false)))
            #expect(try await store.securityKeys(applicationID: app, userID: alice).isEmpty)
            #expect(try await store.securityKeys(applicationID: app, userID: bob) == [bobs])
            #expect(try await !store.storesAnything(applicationID: app, userID: alice))
            // No row is left behind: the keys are gone for every call, and their credential ids are free.
            #expect(try await !store.recordSecurityKeyUse(mine.factorID, expectedSignCount: 0, signCount: 1, at: start))
            try await enroll(keyFactor("n", user: bob), key(of: keyFactor("n", user: bob), credential: [1]), in: store)
            try await enroll(keyFactor("o", user: bob), key(of: keyFactor("o", user: bob), credential: [2]), in: store)
        }
    }

    @Test("purging lapsed enrollments deletes their keys, and keeps those of enrollments still open", arguments: StoreUnderTest.all)
    func expiredEnrollmentPurgeDeletesKeys(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let lapsedFactor = factor("p", status: .pending, expiresAt: start.addingTimeInterval(60), type: .webauthn)
            let lapsed = key(of: lapsedFactor, credential: [1])
            try await enroll(lapsedFactor, lapsed, in: store)
            let fresh = key(of: keyFactor("q"), credential: [2])
            try await enroll(keyFactor("q"), fresh, in: store)
            let active = keyFactor("r", status: .active)
            try await insert(active, into: store)

            #expect(try await store.deleteExpiredPendingFactors(before: start.addingTimeInterval(120)) == 1)
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [fresh])
            #expect(try await store.factors(applicationID: app, userID: alice).map(\.id) == [fresh.factorID, active.id])
            // The lapsed key's credential id is free again.
            try await enroll(keyFactor("t"), key(of: keyFactor("t"), credential: [1]), in: store)
        }
    }

    // MARK: Challenges

    @Test("a webauthn challenge is stored and reads back as inserted", arguments: StoreUnderTest.all)
    func storesWebAuthnChallenges(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = keyFactor("k", status: .active)
            try await insert(factor, into: store)
            var ceremony = challenge("w", factor: factor.id, mode: .approve)
            ceremony.type = .webauthn
            ceremony.codeHash = Array(repeating: 0x42, count: 32)
            let refusal = try await store.insertChallenge(ceremony, spending: [], audit: audit(.challengeCreated, app, alice))
            #expect(refusal == nil)
            #expect(try await store.challenge(id: ceremony.id) == ceremony)
            #expect(try await store.challenges(applicationID: app, userID: alice).map(\.type) == [.webauthn])
        }
    }
}
