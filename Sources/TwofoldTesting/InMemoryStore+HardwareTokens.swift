import Foundation
import TwofoldCore

extension InMemoryStore {
    /// Checks every serial first (against the pool and within the batch), then inserts them all.
    public func insertHardwareTokens(_ tokens: [HardwareTokenRecord], audit: AuditAppend) async throws {
        try withState { state in
            var seen = Set<State.TokenKey>()
            for token in tokens {
                let key = State.TokenKey(token)
                guard state.hardwareTokens[key] == nil, seen.insert(key).inserted else {
                    throw TwofoldError(.conflict, "a hardware token with serial \(token.serial) is in the application's pool")
                }
            }
            let event = try state.chained(audit)
            for token in tokens { state.hardwareTokens[State.TokenKey(token)] = AsStored.record(token) }
            state.record(event)
        }
    }

    public func hardwareTokens(applicationID: ApplicationID, unassignedOnly: Bool) async throws -> [HardwareTokenRecord] {
        try withState { state in
            state.hardwareTokens.filter { $0.key.application == ExactText(applicationID.rawValue) }
                .sorted { $0.key.serial < $1.key.serial }.map(\.value)
                .filter { !unassignedOnly || $0.factorID == nil }
        }
    }

    public func assignHardwareToken(applicationID: ApplicationID, serial: String, factor: FactorRecord, at date: Date,
                                    audit: AuditAppend) async throws -> Bool {
        try withState { state in
            let key = State.TokenKey(application: ExactText(applicationID.rawValue), serial: ExactText(serial))
            guard let token = state.hardwareTokens[key], token.factorID == nil else { return false }
            let factorKey = ExactText(factor.id.rawValue)
            guard state.factorOwners[factorKey] == nil else { throw TwofoldError(.conflict, "a factor with id \(factor.id) exists") }
            let event = try state.chained(audit)
            let user = UserKey(factor.applicationID, factor.userID)
            state.factors[user, default: []].append(AsStored.record(factor))
            state.factorOwners[factorKey] = user
            state.hardwareTokens[key]?.userID = factor.userID
            state.hardwareTokens[key]?.factorID = factor.id
            state.hardwareTokens[key]?.assignedAt = AsStored.date(date)
            state.record(event)
            return true
        }
    }

    public func unassignHardwareToken(applicationID: ApplicationID, serial: String, audit: AuditAppend) async throws -> Bool {
        try withState { state in
            let key = State.TokenKey(application: ExactText(applicationID.rawValue), serial: ExactText(serial))
            guard let token = state.hardwareTokens[key], let factorID = token.factorID, let userID = token.userID else { return false }
            let event = try state.chained(audit)
            state.deleteFactors(of: UserKey(applicationID, userID)) { ExactText.same($0.id.rawValue, factorID.rawValue) }
            state.hardwareTokens[key]?.factorID = nil  // when the factor had gone already
            state.hardwareTokens[key]?.userID = nil
            state.hardwareTokens[key]?.assignedAt = nil
            state.record(event)
            return true
        }
    }

    public func deleteHardwareToken(applicationID: ApplicationID, serial: String, audit: AuditAppend) async throws -> Bool {
        try withState { state in
            let key = State.TokenKey(application: ExactText(applicationID.rawValue), serial: ExactText(serial))
            guard let token = state.hardwareTokens[key] else { return false }
            let event = try state.chained(audit)
            if let factorID = token.factorID, let userID = token.userID {
                state.deleteFactors(of: UserKey(applicationID, userID)) { ExactText.same($0.id.rawValue, factorID.rawValue) }
            }
            state.hardwareTokens[key] = nil
            state.record(event)
            return true
        }
    }
}

extension InMemoryStore.State.TokenKey {
    init(_ token: HardwareTokenRecord) {
        self.init(application: InMemoryStore.ExactText(token.applicationID.rawValue), serial: InMemoryStore.ExactText(token.serial))
    }
}

extension InMemoryStore.State {
    /// Hands `factor`'s token, if it has one, back to the pool; an HOTP token goes on from one
    /// past the factor's last accepted counter.
    mutating func returnHardwareToken(of factor: FactorRecord) {
        guard let key = hardwareTokens.first(where: {
            $0.value.factorID.map { InMemoryStore.ExactText.same($0.rawValue, factor.id.rawValue) } ?? false
        })?.key else { return }
        if factor.type == .hotp, let last = factor.lastAcceptedStep, last < UInt64.max {
            let counter = hardwareTokens[key]?.counter ?? 0
            hardwareTokens[key]?.counter = max(counter, last + 1)
        }
        hardwareTokens[key]?.userID = nil
        hardwareTokens[key]?.factorID = nil
        hardwareTokens[key]?.assignedAt = nil
    }
}

extension InMemoryStore.AsStored {
    static func record(_ token: HardwareTokenRecord) -> HardwareTokenRecord {
        var token = token
        token.importedAt = date(token.importedAt)
        token.assignedAt = date(token.assignedAt)
        return token
    }
}
