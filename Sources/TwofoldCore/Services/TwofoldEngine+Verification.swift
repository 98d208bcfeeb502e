import Foundation
import Synchronization

extension TwofoldEngine {
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
        // What decide saw, so the answer needs no second read: the matched factor's type and
        // how many recovery codes were unused.
        let seen = Mutex<(types: [FactorID: FactorType], unusedRecoveryCodes: Int)>(([:], 0))
        let outcome = try await store.attempt(
            AttemptRequest(applicationID: applicationID, userID: userID, purpose: .verify, now: now, throttle: policy.throttle,
                           apiKeyID: apiKeyID, auditShard: chain.shard(applicationID: applicationID, userID: userID)),
            decide: { snapshot in
                seen.withLock {
                    $0 = (Dictionary(snapshot.factors.map { ($0.id, $0.type) }, uniquingKeysWith: { first, _ in first }),
                          snapshot.recoveryCodes.count)
                }
                return try CodeChecker(policy: policy, now: now).verify(code, snapshot: snapshot, applicationID, userID, sealer: sealer)
            },
            audit: { outcome in
                self.attemptAudit(.verification, outcome, applicationID, userID, factorID: nil, actor: actor, at: now)
            })
        switch outcome {
        case .accepted(.acceptStep(let factorID, _, _, _)):
            guard let type = seen.withLock({ $0.types[factorID] }) else {
                throw TwofoldError(.invalidState, "the accepted factor \(factorID) was not among the user's factors")
            }
            return (.allow(.factor(factorID, type)), nil)
        case .accepted(.acceptRecoveryCode):
            return (.allow(.recoveryCode(remaining: seen.withLock { $0.unusedRecoveryCodes } - 1)), nil)
        case .accepted(.reject(let reason)):
            return (.deny(reason, retryAfter: nil), nil)
        case .denied(let reason, let lockedUntil):
            return (.deny(reason, retryAfter: nil), lockedUntil)
        case .locked(let until):
            return (.deny(.locked, retryAfter: until), nil)
        }
    }

    /// Replaces the user's recovery codes with a new set of ten, returned once in clear.
    /// Only keyed hashes are stored.
    public func generateRecoveryCodes(_ applicationID: ApplicationID, _ userID: UserID, actor: String) async throws -> [String] {
        let now = clock.now()
        guard let dataKey = try await sealer.dataKey(applicationID, userID, create: true) else {
            throw TwofoldError(.sealing, "no data key for the user")
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
        try await store.replaceRecoveryCodes(applicationID: applicationID, userID: userID, codes: records,
                                             audit: audit(.recoveryCodesGenerated, applicationID, userID, actor: actor,
                                                          details: ["count": String(codes.count)]))
        return codes
    }
}
