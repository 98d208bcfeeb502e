import Foundation
import TwofoldCore

extension InMemoryStore {
    /// Checks the factor (the user's, `webauthn`, pending, without a key) and the credential id
    /// first, then writes the key, the factor's sealed secret and the event together.
    public func attachSecurityKey(_ key: SecurityKeyRecord, sealedSecret: [UInt8], audit: AuditAppend) async throws -> Bool {
        try withState { state in
            let user = UserKey(key.applicationID, key.userID)
            let factorKey = ExactText(key.factorID.rawValue)
            guard let index = state.factors[user]?.firstIndex(where: { ExactText.same($0.id.rawValue, key.factorID.rawValue) }),
                  let factor = state.factors[user]?[index], factor.type == .webauthn, factor.status == .pending,
                  state.securityKeys[factorKey] == nil else {
                return false
            }
            guard !state.securityKeys.values.contains(where: {
                ExactText.same($0.applicationID.rawValue, key.applicationID.rawValue) && $0.credentialID == key.credentialID
            }) else {
                throw TwofoldError(.conflict, "a security key with this credential id is registered in the application")
            }
            let event = try state.chained(audit)
            state.factors[user]?[index].sealedSecret = sealedSecret
            state.securityKeys[factorKey] = AsStored.record(key)
            state.record(event)
            return true
        }
    }

    /// Oldest first (creation time, then factor id in byte order).
    public func securityKeys(applicationID: ApplicationID, userID: UserID) async throws -> [SecurityKeyRecord] {
        try withState { state in
            let user = UserKey(applicationID, userID)
            return state.securityKeys.values.filter { UserKey($0.applicationID, $0.userID) == user }.sorted { a, b in
                a.createdAt != b.createdAt ? a.createdAt < b.createdAt
                    : Array(a.factorID.rawValue.utf8).lexicographicallyPrecedes(Array(b.factorID.rawValue.utf8))
            }
        }
    }

    public func recordSecurityKeyUse(_ factorID: FactorID, expectedSignCount: UInt32, signCount: UInt32, at date: Date) async throws -> Bool {
        try withState { state in
            let key = ExactText(factorID.rawValue)
            guard let stored = state.securityKeys[key], stored.signCount == expectedSignCount else { return false }
            state.securityKeys[key]?.signCount = signCount
            let used = StoredTime.milliseconds(date)
            state.securityKeys[key]?.lastUsedAt = StoredTime.date(milliseconds: max(stored.lastUsedAt.map(StoredTime.milliseconds) ?? .min, used))
            return true
        }
    }

    public func flagSecurityKey(_ factorID: FactorID, at date: Date) async throws {
        try withState { state in
            let key = ExactText(factorID.rawValue)
            guard let stored = state.securityKeys[key] else { return }
            let flagged = StoredTime.milliseconds(date)
            state.securityKeys[key]?.flaggedAt = StoredTime.date(milliseconds: min(stored.flaggedAt.map(StoredTime.milliseconds) ?? .max, flagged))
        }
    }
}

extension InMemoryStore.State {
    /// Deletes the security key of each factor in `factorIDs` (a key goes with its factor).
    mutating func deleteSecurityKeys(ofFactors factorIDs: Set<InMemoryStore.ExactText>) {
        for id in factorIDs { securityKeys[id] = nil }
    }
}

extension InMemoryStore.AsStored {
    static func record(_ key: SecurityKeyRecord) -> SecurityKeyRecord {
        var key = key
        key.createdAt = date(key.createdAt)
        key.lastUsedAt = date(key.lastUsedAt)
        key.flaggedAt = date(key.flaggedAt)
        return key
    }
}
