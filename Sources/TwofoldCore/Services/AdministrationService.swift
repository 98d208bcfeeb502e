import Foundation

/// Everything Twofold holds about one user, for a data-subject access request. No secret,
/// no code, no hash.
public struct UserExport: Sendable, Codable, Equatable {
    public struct RecoveryCodeSummary: Sendable, Codable, Equatable {
        public var total: Int
        public var unused: Int
        public var createdAt: Date?

        init(_ codes: [RecoveryCodeRecord]) {
            total = codes.count
            unused = codes.filter { $0.usedAt == nil }.count
            createdAt = codes.map(\.createdAt).min()
        }
    }

    public struct Throttle: Sendable, Codable, Equatable {
        public var consecutiveFailures: Int
        public var lockedUntil: Date?
    }

    public struct Event: Sendable, Codable, Equatable {
        public var time: Date
        public var action: String
        public var outcome: String
        public var reason: String?
        public var actor: String
        public var factorID: String?
    }

    public var application: String
    public var userID: String
    public var exportedAt: Date
    public var factors: [Factor]
    /// The serials of the hardware tokens assigned to the user (never their seeds).
    public var hardwareTokens: [String]
    public var recoveryCodes: RecoveryCodeSummary
    public var throttle: Throttle
    /// The user's challenges, newest first, without their codes' hashes.
    public var challenges: [Challenge]
    public var auditEvents: [Event]
}

/// What an operator does to one user: reset, unlock, export, erase, and listing.
public struct AdministrationService: Sendable {
    let store: any UserStore & FactorStore & KeyStore & AuditStore & ChallengeStore & HardwareTokenStore & SecurityKeyStore
    let sealer: Sealer
    let audit: AuditRecorder
    let clock: any WallClock

    /// Deletes all the user's factors and recovery codes (a lost phone).
    /// - Returns: How many of each were deleted, or `nil` when nothing is stored for the user
    ///   (see ``UserStore``): then nothing was written, not even an audit event.
    @discardableResult
    public func reset(_ applicationID: ApplicationID, _ userID: UserID, actor: String) async throws -> (factors: Int, recoveryCodes: Int)? {
        try await store.resetUser(applicationID: applicationID, userID: userID, audit: audit(.userReset, applicationID, userID, actor: actor))
    }

    /// Clears the user's failures and lock.
    /// - Throws: `not_found` when nothing is stored for the user (see ``UserStore``): unlocking a
    ///   stranger is a mistake (a typo in the id), and nothing is written for it, not even an
    ///   audit event.
    public func unlock(_ applicationID: ApplicationID, _ userID: UserID, actor: String) async throws {
        let unlocked = try await store.unlockUser(applicationID: applicationID, userID: userID,
                                                  audit: audit(.userUnlocked, applicationID, userID, actor: actor))
        guard unlocked else { throw Self.nothingStored(userID) }
    }

    /// Whether the user has a factor, a recovery code, a throttle state or a data key: whether
    /// there is anyone to show, list or act on.
    public func storesAnything(_ applicationID: ApplicationID, _ userID: UserID) async throws -> Bool {
        try await store.storesAnything(applicationID: applicationID, userID: userID)
    }

    /// The error for acting on a user the application holds nothing for.
    static func nothingStored(_ userID: UserID) -> TwofoldError {
        TwofoldError(.notFound, "nothing is stored for user \(userID)")
    }

    /// The user's throttle state, if any failure was ever recorded.
    public func throttleState(_ applicationID: ApplicationID, _ userID: UserID) async throws -> ThrottleState? {
        try await store.throttleState(applicationID: applicationID, userID: userID)
    }

    /// How many of the user's recovery codes are unused, and how many there are.
    public func recoveryCodeSummary(_ applicationID: ApplicationID, _ userID: UserID) async throws -> UserExport.RecoveryCodeSummary {
        let codes = try await store.recoveryCodes(applicationID: applicationID, userID: userID)
        return UserExport.RecoveryCodeSummary(codes)
    }

    /// Everything held about the user, or `nil` when nothing is.
    public func export(_ application: Application, _ userID: UserID, actor: String) async throws -> UserExport? {
        let factors = try await store.factors(applicationID: application.id, userID: userID)
        let tokens = try await store.hardwareTokens(applicationID: application.id, unassignedOnly: false).filter { $0.userID == userID }
        let keys = try await store.securityKeys(applicationID: application.id, userID: userID)
        let codes = try await store.recoveryCodes(applicationID: application.id, userID: userID)
        let throttle = try await store.throttleState(applicationID: application.id, userID: userID)
        let dataKey = try await store.wrappedDataKey(applicationID: application.id, userID: userID)
        let challenges = try await store.challenges(applicationID: application.id, userID: userID)
        var events: [AuditEvent] = []
        var query = AuditQuery(applicationID: application.id, userID: userID, limit: 500)
        while true {
            let page = try await store.auditEvents(query)
            events += page
            guard page.count == query.limit, let last = page.last else { break }
            query.beforeID = last.id
        }
        if factors.isEmpty, codes.isEmpty, throttle == nil, dataKey == nil, events.isEmpty { return nil }
        let now = clock.now()
        // The user's own export is the one place their phone numbers appear in full.
        let opened = try dataKey.map { try sealer.openDataKey($0, application.id, userID) }
        let shown = try factors.map { record -> Factor in
            if record.type == .webauthn { return record.summary.showingSecurityKey(keys.first { $0.factorID == record.id }) }
            guard record.type.isPhone, let opened else { return record.summary }
            let phone = try Sealer.openPhone(record.sealedSecret, dataKey: opened, application.id, userID, record.id)
            return record.summary.showingPhone(phone.e164)
        }
        try await store.appendAudit(audit(.userExported, application.id, userID, actor: actor, at: now))
        return UserExport(
            application: application.name,
            userID: userID.rawValue,
            exportedAt: now,
            factors: shown,
            hardwareTokens: tokens.map(\.serial),
            recoveryCodes: .init(codes),
            throttle: .init(consecutiveFailures: throttle?.failures ?? 0, lockedUntil: throttle?.lockedUntil),
            challenges: challenges.map { Challenge($0, at: now) },
            auditEvents: events.map { .init(time: $0.time, action: $0.action, outcome: $0.outcome, reason: $0.reason, actor: $0.actor, factorID: $0.factorID) }
        )
    }

    /// Erases the user: factors, recovery codes, throttle state and data key are deleted (so
    /// nothing sealed for them can be opened again, wherever a copy survived), and their id is
    /// removed from audit events, which keep only a keyed pseudonym.
    ///
    /// Idempotent: erasing a user with nothing left to erase succeeds and writes nothing.
    /// - Returns: `false` when there was nothing to erase (nothing stored, and no audit event
    ///   naming the user).
    @discardableResult
    public func erase(_ applicationID: ApplicationID, _ userID: UserID, actor: String) async throws -> Bool {
        try await store.eraseUser(applicationID: applicationID, userID: userID,
                                  audit: audit(.userErased, applicationID, userID, actor: actor, keepsUserID: false))
    }

    /// Users with anything stored in the application.
    public func users(_ applicationID: ApplicationID) async throws -> [UserID] {
        try await store.users(applicationID: applicationID)
    }
}
