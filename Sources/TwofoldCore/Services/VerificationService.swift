import Foundation

/// Verifying codes at login, and the recovery codes that stand in for a lost device.
public struct VerificationService: Sendable {
    let store: any AttemptStore & FactorStore & UserStore
    let sealer: Sealer
    let policy: VerificationPolicy
    let audit: AuditRecorder
    let clock: any WallClock
    let random: any RandomSource
    /// What follows a challenge's code accepted here: its long poll answers at once, and the
    /// pumping guard gets its token back.
    let completion: ChallengeCompletion

    /// Is `code` good for this user now? Checks the active factors, then unused recovery codes.
    ///
    /// Every answer is audited. A locked user's code is not evaluated at all. An accepted step,
    /// counter or recovery code is consumed atomically: two concurrent requests with the same
    /// code get one `allow` and one `replayed` (or `invalid_code` for a recovery code).
    /// - Parameter apiKeyID: The API key the caller authenticated from a cache, if any: it is
    ///   checked inside the attempt's transaction (see ``AttemptRequest/apiKeyID``).
    /// - Throws: `unauthorized` when `apiKeyID` names a revoked or unknown key; nothing changed then.
    public func verify(_ applicationID: ApplicationID, _ userID: UserID, code: String, actor: String,
                       apiKeyID: String? = nil) async throws -> VerificationResult {
        try await verifyReportingLock(applicationID, userID, code: code, actor: actor, apiKeyID: apiKeyID).result
    }

    /// ``verify(_:_:code:actor:apiKeyID:)``, and the end of the lock this refusal started, if it
    /// started one: the store decided that in the attempt, so a caller counting lockouts needs
    /// no read of its own.
    public func verifyReportingLock(_ applicationID: ApplicationID, _ userID: UserID, code: String, actor: String,
                                    apiKeyID: String? = nil) async throws -> (result: VerificationResult, lockStartedUntil: Date?) {
        let now = clock.now()
        let policy = self.policy
        let sealer = self.sealer
        let shard = audit.shard(applicationID, userID)
        let outcome = try await store.attempt(
            AttemptRequest(applicationID: applicationID, userID: userID, purpose: .verify, now: now, throttle: policy.throttle,
                           apiKeyID: apiKeyID, auditShard: shard),
            decide: { snapshot in
                try CodeChecker(policy: policy, now: now).verify(code, snapshot: snapshot, applicationID, userID, sealer: sealer)
            },
            audit: { outcome in
                self.audit.attempt(.verification, outcome, applicationID, userID, shard: shard, factorID: nil, actor: actor, at: now)
            })
        switch outcome {
        case .accepted(.step(let step)):
            return (.allow(.factor(step.factorID, step.factorType)), nil)
        case .accepted(.recoveryCode(let code)):
            return (.allow(.recoveryCode(remaining: code.remaining)), nil)
        case .accepted(.challenge(let challenge)):
            await completion.approved(challenge, applicationID, userID)
            return (.allow(.factor(challenge.factorID, challenge.factorType)), nil)
        case .denied(let reason, let lockedUntil):
            return (.deny(reason, retryAfter: nil), lockedUntil)
        case .locked(let until):
            return (.deny(.locked, retryAfter: until), nil)
        }
    }

    /// Replaces the user's recovery codes with a new set of ten, returned once in clear.
    /// Only keyed hashes are stored.
    ///
    /// Recovery codes stand in for a lost factor, so only a user with an active factor gets them;
    /// the store checks that in the transaction that writes them.
    /// - Throws: `not_found` when the user has no active factor (the message says whether
    ///   nothing at all is stored for them); nothing is written then, not even an audit event.
    public func generateRecoveryCodes(_ applicationID: ApplicationID, _ userID: UserID, actor: String) async throws -> [String] {
        let now = clock.now()
        // An active factor's secret is sealed under the data key: without one there is no such factor.
        guard let dataKey = try await sealer.dataKey(applicationID, userID, create: false) else {
            throw try await noActiveFactor(applicationID, userID)
        }
        let key = Sealer.recoveryCodeKey(dataKey: dataKey)
        var codes: [String] = []
        var records: [RecoveryCodeRecord] = []
        while codes.count < RecoveryCodes.count {
            let code = RecoveryCodes.generate(using: random)
            guard let normalized = RecoveryCodes.normalize(code), !codes.contains(code) else { continue }
            records.append(RecoveryCodeRecord(index: codes.count, hash: Sealer.recoveryCodeHash(normalized, key: key), createdAt: now))
            codes.append(code)
        }
        let replaced = try await store.replaceRecoveryCodes(applicationID: applicationID, userID: userID, codes: records,
                                                            audit: audit(.recoveryCodesGenerated, applicationID, userID, actor: actor,
                                                                         details: ["count": String(codes.count)]))
        guard replaced else { throw try await noActiveFactor(applicationID, userID) }
        return codes
    }

    /// The refusal of recovery codes to a user without an active factor, saying whether
    /// anything is stored for them at all.
    private func noActiveFactor(_ applicationID: ApplicationID, _ userID: UserID) async throws -> TwofoldError {
        guard try await store.storesAnything(applicationID: applicationID, userID: userID) else {
            return AdministrationService.nothingStored(userID)
        }
        return TwofoldError(.notFound, "user \(userID) has no active factor; recovery codes stand in for a lost one, so enroll and activate a factor first")
    }
}
