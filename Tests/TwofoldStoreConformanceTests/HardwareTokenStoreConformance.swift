import Foundation
import Testing
import TwofoldCore
import TwofoldTesting

/// ``HardwareTokenStore``, and what hardware tokens change in the other ports: a token's
/// assignment goes with its factor (deletion, reset, erasure), and an HOTP token goes back to
/// the pool with its counter one past the factor's last accepted one.
@Suite("Hardware token store conformance")
struct HardwareTokenStoreConformance: StoreFixtures {
    /// How a token's factor can go other than through ``HardwareTokenStore``.
    enum FactorRemoval: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case deleteFactor = "deleting the factor"
        case reset = "resetting the user"
        case erase = "erasing the user"

        var testDescription: String { rawValue }
    }

    /// A token of `app` (unless told otherwise) in the pool since `start`: a six-digit SHA-1 TOTP
    /// token with a 30-second period, or an HOTP token at `counter`; its sealed secret names its serial.
    private func token(serial: String, app application: ApplicationID? = nil, type: FactorType = .totp,
                       counter: UInt64 = 0) -> HardwareTokenRecord {
        HardwareTokenRecord(applicationID: application ?? app, serial: serial, type: type, algorithm: .sha1, digits: 6,
                            period: type == .totp ? 30 : 0, counter: counter, sealedSecret: Array("sealed-\(serial)".utf8),
                            manufacturer: "Feitian", importedAt: start)
    }

    /// The factor assigning `token` to `user` (alice unless told otherwise) inserts, as the
    /// service builds it, whose id is `fac_` and 26 × `id`: active since `start`, an HOTP
    /// factor's last accepted counter one before the token's.
    private func tokenFactor(_ id: String, for token: HardwareTokenRecord, user: UserID? = nil) -> FactorRecord {
        let last = token.type == .hotp && token.counter > 0 ? token.counter - 1 : nil
        var record = factor(id, user: user, last: last, application: token.applicationID, type: token.type)
        record.activatedAt = start
        record.label = token.serial
        record.issuer = token.manufacturer
        record.algorithm = token.algorithm
        record.digits = token.digits
        record.period = token.period
        return record
    }

    /// `token` as assigned to `factor` at `date`.
    private func assigned(_ token: HardwareTokenRecord, to factor: FactorRecord, at date: Date) -> HardwareTokenRecord {
        var record = token
        record.userID = factor.userID
        record.factorID = factor.id
        record.assignedAt = date
        return record
    }

    private func insert(_ tokens: [HardwareTokenRecord], application: ApplicationID? = nil, into store: any TwofoldStore) async throws {
        try await store.insertHardwareTokens(tokens, audit: audit(.hardwareTokensImported, application ?? tokens.first?.applicationID ?? app))
    }

    /// Assigns `serial` of `application` (the factor's unless told otherwise) to `factor`, at `start` unless told otherwise.
    private func assign(_ serial: String, _ factor: FactorRecord, at date: Date? = nil, application: ApplicationID? = nil,
                        in store: any TwofoldStore) async throws -> Bool {
        try await store.assignHardwareToken(applicationID: application ?? factor.applicationID, serial: serial, factor: factor,
                                            at: date ?? start, audit: audit(.hardwareTokenAssigned, application ?? factor.applicationID, factor.userID))
    }

    /// Inserts `token` and assigns it to `factor` at `start`, expecting the assignment to succeed.
    private func insertAssigned(_ token: HardwareTokenRecord, to factor: FactorRecord, in store: any TwofoldStore) async throws {
        try await insert([token], into: store)
        #expect(try await assign(token.serial, factor, in: store))
    }

    private func unassign(_ serial: String, application: ApplicationID? = nil, in store: any TwofoldStore) async throws -> Bool {
        try await store.unassignHardwareToken(applicationID: application ?? app, serial: serial,
                                              audit: audit(.hardwareTokenUnassigned, application ?? app))
    }

    private func delete(_ serial: String, application: ApplicationID? = nil, in store: any TwofoldStore) async throws -> Bool {
        try await store.deleteHardwareToken(applicationID: application ?? app, serial: serial,
                                            audit: audit(.hardwareTokenDeleted, application ?? app))
    }

    /// The application's tokens (`app`'s unless told otherwise), all of them unless told otherwise.
    private func pool(_ application: ApplicationID? = nil, unassignedOnly: Bool = false, in store: any TwofoldStore) async throws -> [HardwareTokenRecord] {
        try await store.hardwareTokens(applicationID: application ?? app, unassignedOnly: unassignedOnly)
    }

    /// The token whose serial has exactly the bytes of `serial`.
    private func storedToken(_ serial: String, application: ApplicationID? = nil, in store: any TwofoldStore) async throws -> HardwareTokenRecord? {
        try await pool(application, in: store).first { $0.serial.utf8.elementsEqual(serial.utf8) }
    }

    /// Accepts `step` of `factor` through an attempt of its user, expecting it to be accepted.
    private func accept(_ step: UInt64, of factor: FactorRecord, in store: any TwofoldStore) async throws {
        let acceptance = Acceptance.acceptStep(factor.id, type: factor.type, step: step, drift: 0, activate: false)
        #expect(try await attempt(store, request(user: factor.userID), .accept(acceptance)) == .accepted(acceptance))
    }

    private func events(_ store: any TwofoldStore) async throws -> Int {
        try await store.auditEvents(AuditQuery(limit: 1000)).count
    }

    private func latestAction(_ store: any TwofoldStore) async throws -> String? {
        try await store.auditEvents(AuditQuery(limit: 1)).first?.action
    }

    // MARK: Import and listing

    @Test("an import stores every token exactly as given, with one event, listed by serial in byte order",
          arguments: StoreUnderTest.all)
    func insertsAndLists(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            var big = token(serial: "B", type: .hotp, counter: 1 << 40)
            big.manufacturer = nil
            big.importedAt = start.addingTimeInterval(0.125)
            var wide = token(serial: "a")
            wide.algorithm = .sha256
            wide.digits = 8
            wide.period = 60
            wide.sealedSecret = [0, 0xFF, 0, 1] + Array(0...200)
            wide.importedAt = start.addingTimeInterval(1.5)
            var highest = token(serial: "Z9", type: .hotp, counter: UInt64.max - 1)
            highest.algorithm = .sha512
            highest.manufacturer = "Yubico \"OATH\", série 5\n"
            var blank = token(serial: "_1")
            blank.manufacturer = ""
            blank.importedAt = start.addingTimeInterval(2.25)
            let accented = token(serial: "é")
            let before = try await events(store)

            try await insert([wide, accented, big, blank, highest], into: store)
            // Bytes: "B" 0x42 < "Z9" 0x5A < "_1" 0x5F < "a" 0x61 < "é" 0xC3 0xA9.
            #expect(try await pool(in: store) == [big, highest, blank, wide, accented])
            #expect(try await pool(in: store).map(\.serial) == ["B", "Z9", "_1", "a", "é"])
            #expect(try await pool(unassignedOnly: true, in: store) == [big, highest, blank, wide, accented])
            #expect(try await pool(otherApp, in: store).isEmpty)
            #expect(try await events(store) == before + 1)
            #expect(try await latestAction(store) == AuditAction.hardwareTokensImported.rawValue)
        }
    }

    @Test("a batch holding a serial of the pool is a conflict that writes nothing, not even its other tokens",
          arguments: StoreUnderTest.all)
    func takenSerialWritesNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let free = token(serial: "P1")
            let given = token(serial: "P2", type: .hotp, counter: 3)
            try await insert([free], into: store)
            try await insertAssigned(given, to: tokenFactor("g", for: given), in: store)
            let before = try await events(store)
            let pooled = try await pool(in: store)

            for batch in [[token(serial: "N1"), token(serial: "P1"), token(serial: "N2")], [token(serial: "N3"), token(serial: "P2")],
                          [token(serial: "P1")]] {
                let error = await #expect(throws: TwofoldError.self) {
                    try await insert(batch, into: store)
                }
                #expect(error?.code == .conflict, "\(batch.map(\.serial))")
            }
            #expect(try await pool(in: store) == pooled)
            #expect(try await events(store) == before)
        }
    }

    @Test("a batch naming one serial twice is a conflict that writes nothing", arguments: StoreUnderTest.all)
    func repeatedSerialWritesNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let error = await #expect(throws: TwofoldError.self) {
                try await insert([token(serial: "N1"), token(serial: "N2"), token(serial: "N1", type: .hotp)], into: store)
            }
            #expect(error?.code == .conflict)
            #expect(try await pool(in: store).isEmpty)
            #expect(try await events(store) == 0)
            // Nothing of it is left behind: the batch without the repeat goes in.
            try await insert([token(serial: "N1"), token(serial: "N2")], into: store)
            #expect(try await pool(in: store).map(\.serial) == ["N1", "N2"])
        }
    }

    @Test("the same serial in another application is another token", arguments: StoreUnderTest.all)
    func serialsAreUniquePerApplication(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let here = token(serial: "S1")
            try await insertAssigned(here, to: tokenFactor("h", for: here), in: store)
            let there = [token(serial: "S1", app: otherApp, type: .hotp, counter: 7), token(serial: "S2", app: otherApp)]
            try await insert(there, into: store)
            #expect(try await pool(otherApp, in: store) == there)
            #expect(try await pool(in: store) == [assigned(here, to: tokenFactor("h", for: here), at: start)])

            // Assigning the other application's S1 leaves this one's alone.
            let bobs = tokenFactor("b", for: there[0], user: bob)
            #expect(try await assign("S1", bobs, at: start.addingTimeInterval(5), in: store))
            #expect(try await pool(otherApp, in: store) == [assigned(there[0], to: bobs, at: start.addingTimeInterval(5)), there[1]])
            #expect(try await pool(in: store) == [assigned(here, to: tokenFactor("h", for: here), at: start)])
        }
    }

    @Test("serials compare exactly: case, trailing space and Unicode normalisation make other tokens",
          arguments: StoreUnderTest.all)
    func serialsCompareExactly(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
            let serials = ["abc", "ABC", "abc ", composed, decomposed]
            let tokens = serials.map { token(serial: $0) }
            try await insert(tokens, into: store)
            // Bytes: "ABC" < "abc" < "abc " < "cafe\u{301}" (65 CC 81) < "caf\u{E9}" (C3 A9).
            #expect(try await pool(in: store).map { Array($0.serial.utf8) } == ["ABC", "abc", "abc ", decomposed, composed].map { Array($0.utf8) })
            let before = try await events(store)

            // No spelling but the exact one finds a token.
            for other in ["Abc", "aBC", " abc", "abc  ", "CAFÉ"] {
                #expect(try await !assign(other, tokenFactor("x", for: token(serial: other)), in: store), "\(other)")
                #expect(try await !unassign(other, in: store), "\(other)")
                #expect(try await !delete(other, in: store), "\(other)")
            }
            #expect(try await pool(in: store).count == 5)
            #expect(try await store.factors(applicationID: app, userID: alice).isEmpty)
            #expect(try await events(store) == before)

            let factor = tokenFactor("a", for: tokens[0])
            #expect(try await assign("abc", factor, in: store))
            #expect(try await storedToken("abc", in: store) == assigned(tokens[0], to: factor, at: start))
            for serial in ["ABC", "abc ", composed, decomposed] {
                #expect(try await storedToken(serial, in: store)?.factorID == nil, "\(serial)")
            }
            #expect(try await delete(decomposed, in: store))
            #expect(try await pool(in: store).map { Array($0.serial.utf8) } == ["ABC", "abc", "abc ", composed].map { Array($0.utf8) })
        }
    }

    @Test("unassignedOnly lists only the tokens in the pool", arguments: StoreUnderTest.all)
    func unassignedOnlyFilters(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let first = token(serial: "A"), taken = token(serial: "B", type: .hotp, counter: 2), last = token(serial: "C")
            try await insert([first, taken, last], into: store)
            try await insert([token(serial: "D", app: otherApp)], into: store)
            let factor = tokenFactor("b", for: taken)
            #expect(try await assign("B", factor, at: start.addingTimeInterval(3), in: store))

            #expect(try await pool(unassignedOnly: true, in: store) == [first, last])
            #expect(try await pool(in: store) == [first, assigned(taken, to: factor, at: start.addingTimeInterval(3)), last])
            #expect(try await unassign("B", in: store))
            #expect(try await pool(unassignedOnly: true, in: store) == [first, taken, last])
            #expect(try await pool(otherApp, unassignedOnly: true, in: store) == [token(serial: "D", app: otherApp)])
        }
    }

    // MARK: Assignment

    @Test("assigning sets the token's user, factor and time, and inserts the active factor with its event",
          arguments: StoreUnderTest.all)
    func assignWritesEverything(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let hotp = token(serial: "H", type: .hotp, counter: 5)
            try await insert([hotp, token(serial: "T")], into: store)
            let before = try await events(store)
            let at = start.addingTimeInterval(60.25)
            var factor = tokenFactor("h", for: hotp)
            factor.createdAt = at
            factor.activatedAt = at
            #expect(factor.lastAcceptedStep == 4)

            #expect(try await assign("H", factor, at: at, in: store))
            #expect(try await storedToken("H", in: store) == assigned(hotp, to: factor, at: at))
            #expect(try await storedToken("T", in: store) == token(serial: "T"))
            #expect(try await store.factors(applicationID: app, userID: alice) == [factor])
            #expect(try await events(store) == before + 1)
            #expect(try await latestAction(store) == AuditAction.hardwareTokenAssigned.rawValue)
        }
    }

    @Test("assigning a token already assigned, an unknown serial or another application's writes nothing",
          arguments: StoreUnderTest.all)
    func refusedAssignWritesNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let mine = token(serial: "T")
            let first = tokenFactor("a", for: mine)
            try await insertAssigned(mine, to: first, in: store)
            try await insert([token(serial: "X", app: otherApp)], into: store)
            let before = try await events(store)
            let pooled = try await pool(in: store)

            // A second assignment, to another user or to the same one.
            #expect(try await !assign("T", tokenFactor("b", for: mine, user: bob), at: start.addingTimeInterval(9), in: store))
            #expect(try await !assign("T", tokenFactor("c", for: mine), at: start.addingTimeInterval(9), in: store))
            #expect(try await !assign("U", tokenFactor("d", for: token(serial: "U")), in: store))
            // The other application's serial, named in this one.
            #expect(try await !assign("X", tokenFactor("e", for: token(serial: "X")), in: store))

            #expect(try await pool(in: store) == pooled)
            #expect(try await pool(otherApp, in: store) == [token(serial: "X", app: otherApp)])
            #expect(try await store.factors(applicationID: app, userID: alice) == [first])
            #expect(try await store.factors(applicationID: app, userID: bob).isEmpty)
            #expect(try await store.factors(applicationID: otherApp, userID: alice).isEmpty)
            #expect(try await events(store) == before)
        }
    }

    @Test("of 10 concurrent assignments of one token to 10 users, exactly one wins and one factor exists",
          arguments: StoreUnderTest.all)
    func concurrentAssignsWinOnce(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let shared = token(serial: "C", type: .hotp, counter: 1)
            try await insert([shared], into: store)
            let users = try (0..<10).map { try UserID("user\($0)") }
            let factors = zip(users, "abcdefghij").map { tokenFactor(String($1), for: shared, user: $0) }
            let before = try await events(store)
            let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for (index, factor) in factors.enumerated() {
                    group.addTask { (index, try await assign("C", factor, at: start.addingTimeInterval(Double(index)), in: store)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = results.filter(\.1).map(\.0)
            #expect(winners.count == 1)
            let winner = try #require(winners.first)

            var stored: [FactorRecord] = []
            for user in users {
                stored += try await store.factors(applicationID: app, userID: user)
            }
            #expect(stored == [factors[winner]])
            #expect(try await pool(in: store) == [assigned(shared, to: factors[winner], at: start.addingTimeInterval(Double(winner)))])
            #expect(try await events(store) == before + 1)
        }
    }

    // MARK: Unassignment

    @Test("unassigning deletes the factor, puts the token back in the pool, and appends the event", arguments: StoreUnderTest.all)
    func unassignHandsBack(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let mine = token(serial: "T")
            let bobs = token(serial: "B")
            try await insertAssigned(mine, to: tokenFactor("t", for: mine), in: store)
            try await insertAssigned(bobs, to: tokenFactor("b", for: bobs, user: bob), in: store)
            // A factor of alice's that is no token's.
            let plain = factor("z")
            try await store.insertFactor(plain, audit: audit(.factorEnrolled, app, alice))
            let before = try await events(store)

            #expect(try await unassign("T", in: store))
            #expect(try await storedToken("T", in: store) == mine)
            #expect(try await storedToken("B", in: store) == assigned(bobs, to: tokenFactor("b", for: bobs, user: bob), at: start))
            #expect(try await store.factors(applicationID: app, userID: alice) == [plain])
            #expect(try await store.factors(applicationID: app, userID: bob) == [tokenFactor("b", for: bobs, user: bob)])
            #expect(try await events(store) == before + 1)
            #expect(try await latestAction(store) == AuditAction.hardwareTokenUnassigned.rawValue)

            // Back in the pool, it can be assigned again.
            #expect(try await assign("T", tokenFactor("u", for: mine, user: bob), in: store))
        }
    }

    @Test("unassigning an unknown serial, a token in the pool or another application's writes nothing",
          arguments: StoreUnderTest.all)
    func refusedUnassignWritesNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let kept = token(serial: "K")
            try await insertAssigned(kept, to: tokenFactor("k", for: kept), in: store)
            try await insert([token(serial: "F")], into: store)
            let elsewhere = token(serial: "X", app: otherApp)
            try await insertAssigned(elsewhere, to: tokenFactor("x", for: elsewhere), in: store)
            let before = try await events(store)
            let pooled = try await pool(in: store)
            let pooledElsewhere = try await pool(otherApp, in: store)

            #expect(try await !unassign("U", in: store))
            #expect(try await !unassign("F", in: store))
            #expect(try await !unassign("X", in: store))
            #expect(try await !unassign("K", application: otherApp, in: store))

            #expect(try await pool(in: store) == pooled)
            #expect(try await pool(otherApp, in: store) == pooledElsewhere)
            #expect(try await store.factors(applicationID: app, userID: alice) == [tokenFactor("k", for: kept)])
            #expect(try await store.factors(applicationID: otherApp, userID: alice) == [tokenFactor("x", for: elsewhere)])
            #expect(try await events(store) == before)
            // A second unassignment finds the token in the pool.
            #expect(try await unassign("K", in: store))
            #expect(try await !unassign("K", in: store))
            #expect(try await events(store) == before + 1)
        }
    }

    @Test("unassigning an HOTP token carries its counter back from the factor; a TOTP token's stays 0",
          arguments: StoreUnderTest.all)
    func unassignCarriesTheCounter(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let used = token(serial: "H", type: .hotp, counter: 5)
            let unused = token(serial: "K", type: .hotp, counter: 5)
            let time = token(serial: "T")
            let usedFactor = tokenFactor("h", for: used), unusedFactor = tokenFactor("k", for: unused)
            let timeFactor = tokenFactor("t", for: time)
            #expect(usedFactor.lastAcceptedStep == 4 && unusedFactor.lastAcceptedStep == 4)
            try await insertAssigned(used, to: usedFactor, in: store)
            try await insertAssigned(unused, to: unusedFactor, in: store)
            try await insertAssigned(time, to: timeFactor, in: store)
            try await accept(12, of: usedFactor, in: store)
            try await accept(56_666_666, of: timeFactor, in: store)

            for serial in ["H", "K", "T"] {
                #expect(try await unassign(serial, in: store), "\(serial)")
            }
            // One past the last accepted counter: 12 + 1; 4 + 1 when none was accepted since.
            #expect(try await storedToken("H", in: store)?.counter == 13)
            #expect(try await storedToken("K", in: store)?.counter == 5)
            #expect(try await storedToken("T", in: store)?.counter == 0)
            var carried = used
            carried.counter = 13
            #expect(try await pool(in: store) == [carried, unused, time])
        }
    }

    // MARK: The assignment goes with the factor

    @Test("deleting, resetting or erasing hands the token back to the pool, its HOTP counter carried, and keeps it",
          arguments: StoreUnderTest.all, FactorRemoval.allCases)
    func factorRemovalHandsBack(_ backend: StoreUnderTest, removal: FactorRemoval) async throws {
        try await backend.withFreshStore { store in
            let counting = token(serial: "H", type: .hotp, counter: 5)
            let timed = token(serial: "T")
            let bobs = token(serial: "B", type: .hotp, counter: 5)
            let countingFactor = tokenFactor("h", for: counting), timedFactor = tokenFactor("t", for: timed)
            let bobsFactor = tokenFactor("b", for: bobs, user: bob)
            try await insertAssigned(counting, to: countingFactor, in: store)
            try await insertAssigned(timed, to: timedFactor, in: store)
            try await insertAssigned(bobs, to: bobsFactor, in: store)
            try await accept(12, of: countingFactor, in: store)
            try await accept(20, of: bobsFactor, in: store)

            var returned = counting
            returned.counter = 13
            let bobsNow = assigned(bobs, to: bobsFactor, at: start)
            switch removal {
            case .deleteFactor:
                #expect(try await store.deleteFactor(applicationID: app, userID: alice, factorID: countingFactor.id,
                                                     audit: audit(.factorDeleted, app, alice)))
                #expect(try await pool(in: store) == [bobsNow, returned, assigned(timed, to: timedFactor, at: start)])
                #expect(try await store.factors(applicationID: app, userID: alice) == [timedFactor])
            case .reset:
                let counts = try #require(try await store.resetUser(applicationID: app, userID: alice, audit: audit(.userReset, app, alice)))
                #expect(counts.factors == 2)
                #expect(try await pool(in: store) == [bobsNow, returned, timed])
                #expect(try await store.factors(applicationID: app, userID: alice).isEmpty)
            case .erase:
                #expect(try await store.eraseUser(applicationID: app, userID: alice, audit: audit(.userErased, app, alice, keepsUserID: false)))
                #expect(try await pool(in: store) == [bobsNow, returned, timed])
                #expect(try await !store.storesAnything(applicationID: app, userID: alice))
            }
            #expect(try await pool(unassignedOnly: true, in: store).map(\.serial) == (removal == .deleteFactor ? ["H"] : ["H", "T"]))
            // Bob's token (its counter still the imported one) and factor are untouched.
            #expect(try await storedToken("B", in: store) == bobsNow)
            #expect(try await store.factors(applicationID: app, userID: bob).map(\.lastAcceptedStep) == [20])

            // Back in the pool, the token can be assigned again.
            #expect(try await assign("H", tokenFactor("n", for: returned, user: bob), in: store))
        }
    }

    // MARK: Deletion

    @Test("deleting an assigned token deletes its factor too, with the event", arguments: StoreUnderTest.all)
    func deleteAssignedDeletesTheFactor(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let doomed = token(serial: "H", type: .hotp, counter: 5)
            let kept = token(serial: "K")
            try await insertAssigned(doomed, to: tokenFactor("h", for: doomed), in: store)
            try await insertAssigned(kept, to: tokenFactor("k", for: kept), in: store)
            let elsewhere = token(serial: "H", app: otherApp)
            try await insert([elsewhere], into: store)
            let before = try await events(store)

            #expect(try await delete("H", in: store))
            #expect(try await pool(in: store) == [assigned(kept, to: tokenFactor("k", for: kept), at: start)])
            #expect(try await store.factors(applicationID: app, userID: alice) == [tokenFactor("k", for: kept)])
            #expect(try await pool(otherApp, in: store) == [elsewhere])
            #expect(try await events(store) == before + 1)
            #expect(try await latestAction(store) == AuditAction.hardwareTokenDeleted.rawValue)
            // No row is left behind: the serial can be imported again.
            try await insert([doomed], into: store)
            #expect(try await storedToken("H", in: store) == doomed)
        }
    }

    @Test("deleting a token in the pool removes just it", arguments: StoreUnderTest.all)
    func deleteUnassignedRemovesIt(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let free = token(serial: "F"), kept = token(serial: "G", type: .hotp, counter: 9)
            try await insert([free, kept], into: store)
            let other = factor("z")
            try await store.insertFactor(other, audit: audit(.factorEnrolled, app, alice))
            let before = try await events(store)

            #expect(try await delete("F", in: store))
            #expect(try await pool(in: store) == [kept])
            #expect(try await store.factors(applicationID: app, userID: alice) == [other])
            #expect(try await events(store) == before + 1)
            #expect(try await latestAction(store) == AuditAction.hardwareTokenDeleted.rawValue)
        }
    }

    @Test("deleting an unknown serial, or one of another application, writes nothing", arguments: StoreUnderTest.all)
    func refusedDeleteWritesNothing(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            let mine = token(serial: "M")
            try await insertAssigned(mine, to: tokenFactor("m", for: mine), in: store)
            let elsewhere = token(serial: "X", app: otherApp)
            try await insertAssigned(elsewhere, to: tokenFactor("x", for: elsewhere), in: store)
            let before = try await events(store)
            let pooled = try await pool(in: store)
            let pooledElsewhere = try await pool(otherApp, in: store)

            #expect(try await !delete("U", in: store))
            #expect(try await !delete("X", in: store))
            #expect(try await !delete("M", application: otherApp, in: store))

            #expect(try await pool(in: store) == pooled)
            #expect(try await pool(otherApp, in: store) == pooledElsewhere)
            #expect(try await store.factors(applicationID: app, userID: alice) == [tokenFactor("m", for: mine)])
            #expect(try await store.factors(applicationID: otherApp, userID: alice) == [tokenFactor("x", for: elsewhere)])
            #expect(try await events(store) == before)
        }
    }
}
