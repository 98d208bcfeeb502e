import Foundation
import TwofoldCore

extension InMemoryStore {
    public func throttleState(applicationID: ApplicationID, userID: UserID) async throws -> ThrottleState? {
        try withState { state in
            state.throttles[UserKey(applicationID, userID)].map { throttle in
                ThrottleState(failures: throttle.failures, lockedUntil: throttle.lockedUntil.map { StoredTime.date(milliseconds: $0) })
            }
        }
    }

    /// Deletes the user's factors and recovery codes (not their data key nor throttle state).
    public func resetUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> (factors: Int, recoveryCodes: Int) {
        try withState { state in
            let user = UserKey(applicationID, userID)
            let event = try state.chained(audit)
            let factors = state.deleteFactors(of: user) { _ in true }
            let recoveryCodes = state.recoveryCodes.removeValue(forKey: user)?.count ?? 0
            state.record(event)
            return (factors, recoveryCodes)
        }
    }

    public func unlockUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws {
        try withState { state in
            let event = try state.chained(audit)
            state.throttles[UserKey(applicationID, userID)] = nil
            state.record(event)
        }
    }

    /// Deletes the user's factors, recovery codes, throttle state and data key, removes their id
    /// from audit events (the pseudonym stays), then appends `audit`, all at once.
    public func eraseUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws {
        try withState { state in
            let user = UserKey(applicationID, userID)
            let event = try state.chained(audit)
            state.deleteFactors(of: user) { _ in true }
            state.recoveryCodes[user] = nil
            state.throttles[user] = nil
            state.dataKeys[user] = nil
            for index in state.events.indices
            where ExactText.same(state.events[index].applicationID, applicationID.rawValue)
                && ExactText.same(state.events[index].userID, userID.rawValue) {
                state.events[index].userID = nil
            }
            state.record(event)
        }
    }

    /// Users with a data key, a factor, recovery codes or a throttle state, sorted as ``UserID`` sorts.
    public func users(applicationID: ApplicationID) async throws -> [UserID] {
        try withState { state in
            var users = Set<UserKey>()
            users.formUnion(state.dataKeys.keys)
            users.formUnion(state.factors.keys)
            users.formUnion(state.recoveryCodes.keys)
            users.formUnion(state.throttles.keys)
            return users.filter { ExactText.same($0.applicationID.rawValue, applicationID.rawValue) }.map(\.userID).sorted()
        }
    }
}
