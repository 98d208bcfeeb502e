import Foundation
import Testing
import TwofoldCore
import TwofoldTesting

/// ``PushDeviceStore``, and what push changes in the other ports: a device goes with its factor
/// (deletion, reset, erasure, the purge of lapsed enrollments), an application's number
/// matching, and push challenges.
@Suite("Push device store conformance")
struct PushDeviceStoreConformance: StoreFixtures {
    /// When a device's activation token lapses: ten minutes after the start.
    private var lapse: Date { start.addingTimeInterval(600) }

    private func deviceID(_ name: String) -> DeviceID {
        DeviceID(rawValue: "dev_" + String(repeating: "a", count: 26 - name.count) + name)!
    }

    /// A pending push factor whose id is `fac_` and 26 × `name`, lapsing with its token.
    private func pushFactor(_ name: String, user: UserID? = nil, application: ApplicationID? = nil,
                            status: FactorStatus = .pending) -> FactorRecord {
        factor(name, user: user, status: status, expiresAt: status == .pending ? lapse : nil, application: application, type: .push)
    }

    /// A device waiting for activation with `hash`, of `factor`'s user, created at `start` unless told otherwise.
    private func waiting(_ name: String, factor: FactorRecord, hash: [UInt8], createdAt: Date? = nil) -> PushDeviceRecord {
        PushDeviceRecord(id: deviceID(name), applicationID: factor.applicationID, userID: factor.userID, factorID: factor.id,
                         activationHash: hash, activationExpiresAt: lapse, createdAt: createdAt ?? start)
    }

    private func insert(_ device: PushDeviceRecord, _ factor: FactorRecord, into store: any TwofoldStore) async throws {
        try await store.insertPushDevice(device, factor: factor, audit: audit(.factorEnrolled, factor.applicationID, factor.userID))
    }

    /// Activates `device` with `hash` at `date`, with a key and transport of its own.
    private func activate(_ device: PushDeviceRecord, hash: [UInt8], at date: Date, key: [UInt8] = [0x30, 0x59, 1],
                          transport: [UInt8]? = [0xEE, 2], kind: PushTransportKind = .webPush,
                          in store: any TwofoldStore) async throws -> Bool {
        try await store.activatePushDevice(device.id, activationHash: hash, publicKey: key, sealedTransport: transport,
                                           transportKind: kind, at: date, audit: audit(.factorActivated, app, device.userID, at: date))
    }

    private func events(_ store: any TwofoldStore) async throws -> Int {
        try await store.auditEvents(AuditQuery(limit: 1000)).count
    }

    private func storedFactor(_ id: FactorID, of user: UserID? = nil, in store: any TwofoldStore) async throws -> FactorRecord? {
        try await store.factors(applicationID: app, userID: user ?? alice).first { $0.id == id }
    }

    // MARK: Insert and read

    @Test("a device reads back exactly as inserted, by id and by activation hash, with its factor and event",
          arguments: StoreUnderTest.all)
    func insertsAndReads(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = pushFactor("p")
            let device = waiting("b", factor: factor, hash: [0, 1, 0xFF, 0])
            try await insert(device, factor, into: store)
            #expect(try await store.pushDevice(id: device.id) == device)
            #expect(try await store.pushDevice(activationHash: [0, 1, 0xFF, 0]) == device)
            #expect(try await store.pushDevice(activationHash: [0, 1, 0xFF]) == nil)
            #expect(try await store.pushDevice(id: deviceID("z")) == nil)
            #expect(try await store.factors(applicationID: app, userID: alice) == [factor])
            #expect(try await store.auditEvents(AuditQuery(applicationID: app, userID: alice)).map(\.action) == [AuditAction.factorEnrolled.rawValue])

            // Every column, set: the record is stored as given (times in whole milliseconds).
            let full = PushDeviceRecord(id: deviceID("c"), applicationID: app, userID: alice, factorID: pushFactor("q").id,
                                        activationHash: nil, activationExpiresAt: nil, publicKey: Array(0...90),
                                        sealedTransport: [9, 8, 7], transportKind: .webhook,
                                        createdAt: start.addingTimeInterval(0.25), activatedAt: start.addingTimeInterval(1.5),
                                        lastUsedAt: start.addingTimeInterval(2), suspendedUntil: start.addingTimeInterval(3600))
            try await insert(full, pushFactor("q", status: .active), into: store)
            #expect(try await store.pushDevice(id: full.id) == full)
            #expect(try await events(store) == 2)
        }
    }

    @Test("a user's devices list oldest first, by creation then id, and only theirs", arguments: StoreUnderTest.all)
    func listsOldestFirst(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let newest = waiting("b", factor: pushFactor("b"), hash: [1], createdAt: start.addingTimeInterval(2))
            let highID = waiting("z", factor: pushFactor("c"), hash: [2], createdAt: start.addingTimeInterval(1))
            let lowID = waiting("y", factor: pushFactor("d"), hash: [3], createdAt: start.addingTimeInterval(1))
            let oldest = waiting("x", factor: pushFactor("e"), hash: [4], createdAt: start)
            let bobs = waiting("f", factor: pushFactor("f", user: bob), hash: [5])
            let elsewhere = waiting("g", factor: pushFactor("g", application: otherApp), hash: [6])
            for (device, name) in [(highID, "c"), (bobs, "f"), (newest, "b"), (elsewhere, "g"), (oldest, "e"), (lowID, "d")] {
                let user = device.userID, application = device.applicationID
                try await insert(device, pushFactor(name, user: user, application: application), into: store)
            }
            #expect(try await store.pushDevices(applicationID: app, userID: alice) == [oldest, lowID, highID, newest])
            #expect(try await store.pushDevices(applicationID: app, userID: bob) == [bobs])
            #expect(try await store.pushDevices(applicationID: otherApp, userID: alice) == [elsewhere])
            #expect(try await store.pushDevices(applicationID: otherApp, userID: bob).isEmpty)
        }
    }

    @Test("a taken device id, factor id, device factor or activation hash is a conflict that writes nothing",
          arguments: StoreUnderTest.all)
    func conflictsWriteNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let first = waiting("b", factor: pushFactor("p"), hash: [0xAA])
            try await insert(first, pushFactor("p"), into: store)
            let totp = factor("t")
            try await store.insertFactor(totp, audit: audit(.factorEnrolled, app, alice))
            let before = try await events(store)

            let sameID = waiting("b", factor: pushFactor("q"), hash: [0xBB])
            let takenFactor = waiting("c", factor: pushFactor("t"), hash: [0xCC])
            var sameDeviceFactor = waiting("d", factor: pushFactor("r"), hash: [0xDD])
            sameDeviceFactor.factorID = first.factorID
            let sameHash = waiting("e", factor: pushFactor("s"), hash: [0xAA])
            let attempts: [(PushDeviceRecord, FactorRecord)] = [
                (sameID, pushFactor("q")), (takenFactor, pushFactor("t")), (sameDeviceFactor, pushFactor("r")), (sameHash, pushFactor("s")),
            ]
            for (device, factor) in attempts {
                let error = await #expect(throws: TwofoldError.self) {
                    try await insert(device, factor, into: store)
                }
                #expect(error?.code == .conflict)
            }
            // Neither the devices nor their factors were written, nor any event.
            #expect(try await store.pushDevices(applicationID: app, userID: alice) == [first])
            #expect(try await store.factors(applicationID: app, userID: alice) == [pushFactor("p"), totp])
            #expect(try await store.pushDevice(activationHash: [0xAA]) == first)
            #expect(try await events(store) == before)
        }
    }

    // MARK: Activation

    @Test("activation gives the device its key and transport, forgets the hash, and activates the factor with its event",
          arguments: StoreUnderTest.all)
    func activates(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = pushFactor("p")
            let device = waiting("b", factor: factor, hash: [7, 7])
            try await insert(device, factor, into: store)
            let at = start.addingTimeInterval(30.5)
            #expect(try await activate(device, hash: [7, 7], at: at, key: [0x30, 1, 2], transport: [0xEE, 0xFF], kind: .webhook, in: store))
            var activated = device
            activated.publicKey = [0x30, 1, 2]
            activated.sealedTransport = [0xEE, 0xFF]
            activated.transportKind = .webhook
            activated.activatedAt = at
            activated.activationHash = nil
            activated.activationExpiresAt = nil
            #expect(try await store.pushDevice(id: device.id) == activated)
            #expect(try await store.pushDevice(activationHash: [7, 7]) == nil)
            let stored = try #require(try await storedFactor(factor.id, in: store))
            #expect(stored.status == .active)
            #expect(stored.activatedAt == at)
            #expect(stored.expiresAt == nil)
            #expect(try await store.auditEvents(AuditQuery(limit: 1)).first?.action == AuditAction.factorActivated.rawValue)
            #expect(try await events(store) == 2)

            // Polling: no transport to seal.
            let polling = waiting("c", factor: pushFactor("q"), hash: [8])
            try await insert(polling, pushFactor("q"), into: store)
            #expect(try await activate(polling, hash: [8], at: at, transport: nil, kind: .polling, in: store))
            let read = try #require(try await store.pushDevice(id: polling.id))
            #expect(read.sealedTransport == nil && read.transportKind == .polling && read.isActivated)
        }
    }

    @Test("activation with a wrong hash, a lapsed token, a factor no longer pending or a second time writes nothing",
          arguments: StoreUnderTest.all)
    func refusedActivationsWriteNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = pushFactor("p")
            let device = waiting("b", factor: factor, hash: [7, 7])
            try await insert(device, factor, into: store)
            // Its factor already active (a device inserted with an active factor).
            let early = waiting("c", factor: pushFactor("q"), hash: [9])
            try await insert(early, pushFactor("q", status: .active), into: store)
            // Its factor deleted, and the device with it.
            let orphan = waiting("d", factor: pushFactor("r"), hash: [10])
            try await insert(orphan, pushFactor("r"), into: store)
            #expect(try await store.deleteFactor(applicationID: app, userID: alice, factorID: orphan.factorID,
                                                 audit: audit(.factorDeleted, app, alice)))
            let before = try await events(store)

            #expect(try await !activate(device, hash: [7], at: start, in: store))
            #expect(try await !activate(device, hash: [7, 7, 0], at: start, in: store))
            #expect(try await !activate(device, hash: [], at: start, in: store))
            // The token lapses at its expiry: not after it, nor at that very millisecond.
            #expect(try await !activate(device, hash: [7, 7], at: lapse, in: store))
            #expect(try await !activate(device, hash: [7, 7], at: lapse.addingTimeInterval(60), in: store))
            #expect(try await !activate(early, hash: [9], at: start, in: store))
            #expect(try await !activate(orphan, hash: [10], at: start, in: store))
            #expect(try await !activate(waiting("z", factor: factor, hash: [7, 7]), hash: [7, 7], at: start, in: store))
            #expect(try await store.pushDevice(id: device.id) == device)
            #expect(try await store.pushDevice(id: early.id) == early)
            #expect(try await store.pushDevice(id: orphan.id) == nil)
            #expect(try await storedFactor(factor.id, in: store) == factor)
            #expect(try await storedFactor(early.factorID, in: store) == pushFactor("q", status: .active))
            #expect(try await events(store) == before)

            // A millisecond before the lapse it still works, once.
            #expect(try await activate(device, hash: [7, 7], at: lapse.addingTimeInterval(-0.001), in: store))
            let activated = try await store.pushDevice(id: device.id)
            #expect(try await events(store) == before + 1)
            #expect(try await !activate(device, hash: [7, 7], at: start, key: [0x30, 0xFF], in: store))
            #expect(try await store.pushDevice(id: device.id) == activated)
            #expect(activated?.publicKey == [0x30, 0x59, 1])
            #expect(try await events(store) == before + 1)
        }
    }

    @Test("of 20 concurrent activations of one device, exactly one wins, and its key is the one stored", arguments: StoreUnderTest.all)
    func concurrentActivationsWinOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = pushFactor("p")
            let device = waiting("b", factor: factor, hash: [1, 2, 3])
            try await insert(device, factor, into: store)
            let results = try await withThrowingTaskGroup(of: (UInt8, Bool).self) { group in
                for index in UInt8(0)..<20 {
                    group.addTask {
                        (index, try await activate(device, hash: [1, 2, 3], at: start.addingTimeInterval(1), key: [0x30, index], in: store))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = results.filter(\.1).map(\.0)
            #expect(winners.count == 1)
            let winner = try #require(winners.first)
            #expect(try await store.pushDevice(id: device.id)?.publicKey == [0x30, winner])
            #expect(try await storedFactor(factor.id, in: store)?.status == .active)
            #expect(try await events(store) == 2)
        }
    }

    // MARK: Use and suspension

    @Test("touching a device records its last use and never moves it back", arguments: StoreUnderTest.all)
    func touchNeverMovesBack(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let device = waiting("b", factor: pushFactor("p"), hash: [1])
            try await insert(device, pushFactor("p"), into: store)
            try await store.touchPushDevice(device.id, at: start.addingTimeInterval(10))
            #expect(try await store.pushDevice(id: device.id)?.lastUsedAt == start.addingTimeInterval(10))
            try await store.touchPushDevice(device.id, at: start.addingTimeInterval(5))
            #expect(try await store.pushDevice(id: device.id)?.lastUsedAt == start.addingTimeInterval(10))
            try await store.touchPushDevice(device.id, at: start.addingTimeInterval(20))
            var touched = device
            touched.lastUsedAt = start.addingTimeInterval(20)
            #expect(try await store.pushDevice(id: device.id) == touched)
            // An unknown device: nothing to record, nothing created.
            try await store.touchPushDevice(deviceID("z"), at: start)
            #expect(try await store.pushDevice(id: deviceID("z")) == nil)
        }
    }

    @Test("suspending a device keeps the later of the two ends", arguments: StoreUnderTest.all)
    func suspensionKeepsTheLater(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let device = waiting("b", factor: pushFactor("p"), hash: [1])
            try await insert(device, pushFactor("p"), into: store)
            try await store.suspendPushDevice(device.id, until: start.addingTimeInterval(3600))
            #expect(try await store.pushDevice(id: device.id)?.suspendedUntil == start.addingTimeInterval(3600))
            try await store.suspendPushDevice(device.id, until: start.addingTimeInterval(60))
            #expect(try await store.pushDevice(id: device.id)?.suspendedUntil == start.addingTimeInterval(3600))
            try await store.suspendPushDevice(device.id, until: start.addingTimeInterval(7200))
            var suspended = device
            suspended.suspendedUntil = start.addingTimeInterval(7200)
            #expect(try await store.pushDevice(id: device.id) == suspended)
            try await store.suspendPushDevice(deviceID("z"), until: start)
            #expect(try await store.pushDevice(id: deviceID("z")) == nil)
        }
    }

    // MARK: Signatures

    @Test("a signature digest is remembered once; the purge forgets only those lapsed before its date", arguments: StoreUnderTest.all)
    func remembersSignaturesOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { (store: any TwofoldStore) async throws -> Void in
            #expect(try await store.rememberDeviceSignature([1], expiresAt: start.addingTimeInterval(60)))
            #expect(try await !store.rememberDeviceSignature([1], expiresAt: start.addingTimeInterval(600)))
            #expect(try await store.rememberDeviceSignature([1, 0], expiresAt: start.addingTimeInterval(120)))
            #expect(try await store.rememberDeviceSignature([2], expiresAt: start.addingTimeInterval(180)))
            // Lapsed but not purged yet: still remembered.
            #expect(try await !store.rememberDeviceSignature([2], expiresAt: start.addingTimeInterval(180)))

            #expect(try await store.purgeDeviceSignatures(expiredBefore: start.addingTimeInterval(120)) == 1)
            #expect(try await store.purgeDeviceSignatures(expiredBefore: start.addingTimeInterval(120)) == 0)
            // [1] (which lapsed at 60 s, not at the 600 s of the refused second insert) is forgotten; the others are not.
            #expect(try await !store.rememberDeviceSignature([1, 0], expiresAt: start.addingTimeInterval(120)))
            #expect(try await !store.rememberDeviceSignature([2], expiresAt: start.addingTimeInterval(180)))
            #expect(try await store.rememberDeviceSignature([1], expiresAt: start.addingTimeInterval(60)))
            #expect(try await store.purgeDeviceSignatures(expiredBefore: start.addingTimeInterval(3600)) == 3)
            #expect(try await store.rememberDeviceSignature([2], expiresAt: start.addingTimeInterval(180)))
        }
    }

    @Test("of 20 concurrent inserts of one signature digest, exactly one is accepted", arguments: StoreUnderTest.all)
    func concurrentSignaturesAcceptOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let digest = Array(repeating: UInt8(0x5A), count: 32)
            let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await store.rememberDeviceSignature(digest, expiresAt: start.addingTimeInterval(300)) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(accepted == 1)
        }
    }

    // MARK: A device goes with its factor

    @Test("deleting a push factor deletes its device, and no other", arguments: StoreUnderTest.all)
    func deletingTheFactorDeletesTheDevice(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let mine = waiting("b", factor: pushFactor("p"), hash: [1])
            let kept = waiting("c", factor: pushFactor("q"), hash: [2])
            let bobs = waiting("d", factor: pushFactor("r", user: bob), hash: [3])
            try await insert(mine, pushFactor("p"), into: store)
            try await insert(kept, pushFactor("q"), into: store)
            try await insert(bobs, pushFactor("r", user: bob), into: store)
            // Another user's id cannot delete it.
            #expect(try await !store.deleteFactor(applicationID: app, userID: bob, factorID: mine.factorID, audit: audit(.factorDeleted, app, bob)))
            #expect(try await store.pushDevice(id: mine.id) == mine)
            #expect(try await store.deleteFactor(applicationID: app, userID: alice, factorID: mine.factorID,
                                                 audit: audit(.factorDeleted, app, alice)))
            #expect(try await store.pushDevice(id: mine.id) == nil)
            #expect(try await store.pushDevice(activationHash: [1]) == nil)
            #expect(try await store.pushDevices(applicationID: app, userID: alice) == [kept])
            #expect(try await store.pushDevices(applicationID: app, userID: bob) == [bobs])
            // Its activation hash and factor id are free again.
            try await insert(waiting("e", factor: pushFactor("p"), hash: [1]), pushFactor("p"), into: store)
        }
    }

    @Test("resetting a user deletes their devices, counting their push factors", arguments: StoreUnderTest.all)
    func resetDeletesDevices(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let mine = waiting("b", factor: pushFactor("p"), hash: [1])
            let bobs = waiting("d", factor: pushFactor("r", user: bob), hash: [3])
            try await insert(mine, pushFactor("p"), into: store)
            try await insert(bobs, pushFactor("r", user: bob), into: store)
            let counts = try #require(try await store.resetUser(applicationID: app, userID: alice, audit: audit(.userReset, app, alice)))
            #expect(counts.factors == 1)
            #expect(try await store.pushDevice(id: mine.id) == nil)
            #expect(try await store.pushDevices(applicationID: app, userID: alice).isEmpty)
            #expect(try await store.pushDevices(applicationID: app, userID: bob) == [bobs])
        }
    }

    @Test("erasing a user deletes their devices, and no one else's", arguments: StoreUnderTest.all)
    func eraseDeletesDevices(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let mine = waiting("b", factor: pushFactor("p"), hash: [1])
            let bobs = waiting("d", factor: pushFactor("r", user: bob), hash: [3])
            try await insert(mine, pushFactor("p"), into: store)
            try await insert(bobs, pushFactor("r", user: bob), into: store)
            #expect(try await activate(mine, hash: [1], at: start, in: store))
            #expect(try await store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false)))
            #expect(try await store.pushDevice(id: mine.id) == nil)
            #expect(try await store.pushDevices(applicationID: app, userID: alice).isEmpty)
            #expect(try await store.pushDevices(applicationID: app, userID: bob) == [bobs])
            #expect(try await !store.storesAnything(applicationID: app, userID: alice))
        }
    }

    @Test("purging lapsed enrollments deletes their devices, and keeps waiting and activated ones", arguments: StoreUnderTest.all)
    func expiredEnrollmentPurgeDeletesDevices(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            // Lapses before the purge's date.
            let lapsedFactor = factor("p", status: .pending, expiresAt: start.addingTimeInterval(60), type: .push)
            let lapsed = waiting("b", factor: lapsedFactor, hash: [1])
            try await insert(lapsed, lapsedFactor, into: store)
            // Still waiting at the purge's date.
            let fresh = waiting("c", factor: pushFactor("q"), hash: [2])
            try await insert(fresh, pushFactor("q"), into: store)
            // Activated before its enrollment would have lapsed.
            let usedFactor = factor("r", status: .pending, expiresAt: start.addingTimeInterval(60), type: .push)
            let used = waiting("d", factor: usedFactor, hash: [3])
            try await insert(used, usedFactor, into: store)
            #expect(try await activate(used, hash: [3], at: start, in: store))

            #expect(try await store.deleteExpiredPendingFactors(before: start.addingTimeInterval(120)) == 1)
            #expect(try await store.pushDevice(id: lapsed.id) == nil)
            #expect(try await store.pushDevice(activationHash: [1]) == nil)
            #expect(try await store.pushDevices(applicationID: app, userID: alice).map(\.id) == [fresh.id, used.id])
            #expect(try await store.factors(applicationID: app, userID: alice).map(\.id) == [fresh.factorID, used.factorID])
        }
    }

    // MARK: Applications and challenges

    @Test("an application's number matching is on by default, and turning it off persists", arguments: StoreUnderTest.all)
    func numberMatchingRoundTrips(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let application = Application(id: app, name: "default", createdAt: start)
            #expect(application.pushNumberMatching)
            try await store.insertApplication(application, audit: audit(.applicationCreated, app))
            #expect(try await store.application(named: "default")?.pushNumberMatching == true)
            var changed = try #require(try await store.application(named: "default"))
            changed.pushNumberMatching = false
            #expect(try await store.updateApplicationSettings(changed, audit: audit(.applicationUpdated, app)))
            #expect(try await store.application(named: "default") == changed)
            #expect(try await store.applications().map(\.pushNumberMatching) == [false])
            changed.pushNumberMatching = true
            #expect(try await store.updateApplicationSettings(changed, audit: audit(.applicationUpdated, app)))
            #expect(try await store.application(named: "default")?.pushNumberMatching == true)

            let off = Application(id: otherApp, name: "billing", createdAt: start, pushNumberMatching: false)
            try await store.insertApplication(off, audit: audit(.applicationCreated, otherApp))
            #expect(try await store.application(named: "billing") == off)
            #expect(try await store.applications().map(\.pushNumberMatching) == [false, true])
        }
    }

    @Test("a push challenge is stored and reads back as inserted", arguments: StoreUnderTest.all)
    func storesPushChallenges(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let factor = pushFactor("p", status: .active)
            let device = waiting("b", factor: factor, hash: [1])
            try await insert(device, factor, into: store)
            var pushed = challenge("b", factor: factor.id, mode: .approve)
            pushed.type = .push
            pushed.codeHash = [0x42]
            let refusal = try await store.insertChallenge(pushed, spending: [], audit: audit(.challengeCreated, app, alice))
            #expect(refusal == nil)
            #expect(try await store.challenge(id: pushed.id) == pushed)
        }
    }
}
