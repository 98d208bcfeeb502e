import Foundation
import TwofoldCore

extension InMemoryStore {
    /// - Throws: `conflict` when a factor has that id (of any user).
    public func insertFactor(_ factor: FactorRecord, audit: AuditAppend) async throws {
        try withState { state in
            let id = ExactText(factor.id.rawValue)
            guard state.factorOwners[id] == nil else { throw TwofoldError(.conflict, "a factor with id \(factor.id) exists") }
            let event = try state.chained(audit)
            let user = UserKey(factor.applicationID, factor.userID)
            state.factors[user, default: []].append(AsStored.record(factor))
            state.factorOwners[id] = user
            state.record(event)
        }
    }

    /// Oldest first (creation time, then insertion order).
    public func factors(applicationID: ApplicationID, userID: UserID) async throws -> [FactorRecord] {
        try withState { state in
            state.factors(of: UserKey(applicationID, userID))
        }
    }

    /// Appends `audit` only when the factor existed: nothing changed otherwise. The factor's
    /// pending challenges end `canceled`, at the event's time; its push device is deleted.
    public func deleteFactor(applicationID: ApplicationID, userID: UserID, factorID: FactorID, audit: AuditAppend) async throws -> Bool {
        try withState { state in
            let user = UserKey(applicationID, userID)
            let isTheFactor = { (factor: FactorRecord) in ExactText.same(factor.id.rawValue, factorID.rawValue) }
            guard state.factors[user]?.contains(where: isTheFactor) == true else { return false }
            let event = try state.chained(audit)
            state.deleteFactors(of: user, where: isTheFactor)
            state.cancelChallenges(of: factorID, at: StoredTime.milliseconds(audit.draft.time))
            state.record(event)
            return true
        }
    }

    /// Pending factors whose expiry (in stored milliseconds) is before `date`'s, with their push devices.
    public func deleteExpiredPendingFactors(before date: Date) async throws -> Int {
        try withState { state in
            let cutoff = StoredTime.milliseconds(date)
            var deleted = 0
            for user in Array(state.factors.keys) {
                deleted += state.deleteFactors(of: user) { factor in
                    factor.status == .pending && factor.expiresAt.map { StoredTime.milliseconds($0) < cutoff } ?? false
                }
            }
            return deleted
        }
    }

    // MARK: Recovery codes

    /// `false`, and nothing written, when the user has no active factor.
    /// - Throws: `unavailable` when `codes` repeat an index, as the SQLite store's unique key
    ///   refuses them (nothing is replaced then).
    @discardableResult
    public func replaceRecoveryCodes(applicationID: ApplicationID, userID: UserID, codes: [RecoveryCodeRecord], audit: AuditAppend) async throws -> Bool {
        try withState { state in
            let user = UserKey(applicationID, userID)
            guard state.factors[user]?.contains(where: { $0.status == .active }) == true else { return false }
            var set: [Int: RecoveryCodeRecord] = [:]
            for code in codes {
                guard set.updateValue(AsStored.record(code), forKey: code.index) == nil else {
                    throw TwofoldError(.unavailable, "the in-memory store could not replace recovery codes: index \(code.index) appears twice")
                }
            }
            let event = try state.chained(audit)
            state.recoveryCodes[user] = set.isEmpty ? nil : set
            state.record(event)
            return true
        }
    }

    /// By index.
    public func recoveryCodes(applicationID: ApplicationID, userID: UserID) async throws -> [RecoveryCodeRecord] {
        try withState { state in
            state.recoveryCodes(of: UserKey(applicationID, userID))
        }
    }
}

extension InMemoryStore.State {
    /// The user's factors, oldest first (creation time, then insertion order).
    func factors(of user: InMemoryStore.UserKey) -> [FactorRecord] {
        (factors[user] ?? []).enumerated()
            .sorted { ($0.element.createdAt, $0.offset) < ($1.element.createdAt, $1.offset) }
            .map(\.element)
    }

    /// The user's recovery codes, by index.
    func recoveryCodes(of user: InMemoryStore.UserKey) -> [RecoveryCodeRecord] {
        (recoveryCodes[user] ?? [:]).values.sorted { $0.index < $1.index }
    }

    /// Deletes the user's factors that `shouldDelete` picks, freeing their ids, and their push
    /// devices.
    /// - Returns: how many factors it deleted.
    @discardableResult
    mutating func deleteFactors(of user: InMemoryStore.UserKey, where shouldDelete: (FactorRecord) -> Bool) -> Int {
        guard let held = factors[user] else { return 0 }
        var kept: [FactorRecord] = []
        var deleted = Set<InMemoryStore.ExactText>()
        for factor in held {
            if shouldDelete(factor) {
                let id = InMemoryStore.ExactText(factor.id.rawValue)
                factorOwners[id] = nil
                deleted.insert(id)
                returnHardwareToken(of: factor)
            } else {
                kept.append(factor)
            }
        }
        factors[user] = kept.isEmpty ? nil : kept
        deletePushDevices(ofFactors: deleted)
        deleteSecurityKeys(ofFactors: deleted)
        return held.count - kept.count
    }
}
