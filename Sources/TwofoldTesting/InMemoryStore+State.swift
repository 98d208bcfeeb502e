import TwofoldCore

extension InMemoryStore {
    /// Every table of the store, as plain values, read and changed only under the store's lock.
    /// The methods that apply a rule live beside the store's methods that use them
    /// (`InMemoryStore+Attempt.swift`, `InMemoryStore+Audit.swift`, …).
    struct State {
        /// Set by ``InMemoryStore/close()``, on an emptied state.
        var closed = false

        /// In insertion order.
        var applications: [Application] = []

        /// API keys by id, and their ids in insertion order (the tie-break of the listings).
        var apiKeys: [ExactText: APIKeyRecord] = [:]
        var apiKeyOrder: [ExactText] = []

        var dataKeys: [UserKey: WrappedKey] = [:]
        /// By name.
        var systemKeys: [ExactText: WrappedKey] = [:]

        /// Each user's factors, in insertion order (the tie-break of the listings); a user
        /// without factors has no entry.
        var factors: [UserKey: [FactorRecord]] = [:]
        /// Which user holds each factor id: ids are unique across users, as in the databases.
        var factorOwners: [ExactText: UserKey] = [:]
        /// Each user's recovery codes by index; a user without codes has no entry.
        var recoveryCodes: [UserKey: [Int: RecoveryCodeRecord]] = [:]
        /// Only users with failures or a lock have an entry (see ``AttemptStore``).
        var throttles: [UserKey: Throttle] = [:]

        /// Challenges by id, and their ids in insertion order.
        var challenges: [ExactText: ChallengeRecord] = [:]
        var challengeOrder: [ExactText] = []
        /// Send budgets' token buckets, by key.
        var budgets: [ExactText: Bucket] = [:]

        /// Push devices by id; each goes with its factor (see ``deleteFactors(of:where:)``).
        var pushDevices: [ExactText: PushDeviceRecord] = [:]
        /// Hardware tokens by application and serial; an assigned one goes back to the pool with
        /// its factor (see ``deleteFactors(of:where:)``).
        var hardwareTokens: [TokenKey: HardwareTokenRecord] = [:]
        /// Security keys by factor id; each goes with its factor (see ``deleteFactors(of:where:)``).
        var securityKeys: [ExactText: SecurityKeyRecord] = [:]
        /// Remembered request signatures: each digest's expiry, in stored milliseconds.
        var deviceSignatures: [[UInt8]: Int64] = [:]

        /// Audit events, by id (oldest first); ids are never reused, as with SQLite's AUTOINCREMENT.
        var events: [AuditEvent] = []
        var nextEventID: Int64 = 1
        /// Each shard's head, once the shard has had an event.
        var heads: [Int: AuditShardHead] = [:]

        /// A token's key: its application and its serial, compared exactly.
        struct TokenKey: Hashable {
            let application: ExactText
            let serial: ExactText
        }

        /// A user's consecutive failures and the end of their lock, in stored milliseconds.
        struct Throttle: Equatable {
            var failures: Int
            var lockedUntil: Int64?
        }
    }
}
