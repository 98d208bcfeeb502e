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

    public func storesAnything(applicationID: ApplicationID, userID: UserID) async throws -> Bool {
        try withState { state in
            state.storesAnything(UserKey(applicationID, userID))
        }
    }

    /// Deletes the user's factors (with their push devices), recovery codes and challenges (not
    /// their data key nor throttle state);
    /// `nil`, and nothing written, when nothing is stored for the user.
    public func resetUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> (factors: Int, recoveryCodes: Int)? {
        try withState { state in
            let user = UserKey(applicationID, userID)
            guard state.storesAnything(user) else { return nil }
            let event = try state.chained(audit)
            let factors = state.deleteFactors(of: user) { _ in true }
            let recoveryCodes = state.recoveryCodes.removeValue(forKey: user)?.count ?? 0
            state.deleteChallenges(of: user)
            state.record(event)
            return (factors, recoveryCodes)
        }
    }

    /// `false`, and nothing written, when nothing is stored for the user.
    public func unlockUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> Bool {
        try withState { state in
            let user = UserKey(applicationID, userID)
            guard state.storesAnything(user) else { return false }
            let event = try state.chained(audit)
            state.throttles[user] = nil
            state.record(event)
            return true
        }
    }

    /// Deletes the user's factors (with their push devices), challenges, recovery codes, throttle
    /// state and data key, removes their id
    /// from audit events (the pseudonym stays), then appends `audit`, all at once; `false`, and
    /// nothing written, when there is none of that.
    public func eraseUser(applicationID: ApplicationID, userID: UserID, audit: AuditAppend) async throws -> Bool {
        try withState { state in
            let user = UserKey(applicationID, userID)
            let naming = state.events.indices.filter { index in
                ExactText.same(state.events[index].applicationID, applicationID.rawValue)
                    && ExactText.same(state.events[index].userID, userID.rawValue)
            }
            guard state.storesAnything(user) || !naming.isEmpty else { return false }
            let event = try state.chained(audit)
            state.deleteFactors(of: user) { _ in true }
            state.deleteChallenges(of: user)
            state.recoveryCodes[user] = nil
            state.throttles[user] = nil
            state.dataKeys[user] = nil
            for index in naming {
                state.events[index].userID = nil
            }
            state.record(event)
            return true
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

extension InMemoryStore.State {
    /// Whether the user has a factor, a recovery code, a throttle state or a data key (``UserStore``).
    func storesAnything(_ user: InMemoryStore.UserKey) -> Bool {
        factors[user] != nil || recoveryCodes[user] != nil || throttles[user] != nil || dataKeys[user] != nil
    }
}
