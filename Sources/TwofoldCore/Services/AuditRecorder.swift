import Foundation

/// Builds the audit events that services append: stamped with the clock and chained with the
/// deployment's audit keys. Every service that changes something holds one.
public struct AuditRecorder: Sendable {
    let clock: any WallClock
    let chain: AuditChain

    init(clock: any WallClock, chain: AuditChain) {
        self.clock = clock
        self.chain = chain
    }

    func callAsFunction(
        _ action: AuditAction, _ applicationID: ApplicationID?, _ userID: UserID?, actor: String, outcome: String = "success",
        reason: String? = nil, factorID: FactorID? = nil, details: [String: String] = [:], keepsUserID: Bool = true,
        at time: Date? = nil, shard: Int? = nil
    ) -> AuditAppend {
        let draft = AuditDraft(time: time ?? clock.now(), applicationID: applicationID, userID: userID, actor: actor, action: action,
                               outcome: outcome, reason: reason, factorID: factorID, details: details, keepsUserID: keepsUserID)
        if let shard { return AuditAppend(draft, chain: chain, shard: shard) }
        return AuditAppend(draft, chain: chain)
    }

    /// The event of an attempt's outcome (verification, activation, resynchronisation).
    /// `shard` is ``shard(_:_:)`` of the user, which the attempt's request carries already (one
    /// MAC per attempt, not two). `details` are added to the event's own (a security key's
    /// ceremony says which key, or why WebAuthn refused it).
    func attempt(_ action: AuditAction, _ outcome: AttemptOutcome, _ applicationID: ApplicationID, _ userID: UserID, shard: Int,
                 factorID: FactorID?, actor: String, at time: Date, details extra: [String: String] = [:]) -> AuditAppend {
        let with = { (details: [String: String]) in extra.isEmpty ? details : details.merging(extra) { own, _ in own } }
        switch outcome {
        case .accepted(.step(let step)):
            return self(action, applicationID, userID, actor: actor, outcome: "allow", factorID: step.factorID, details: with([:]),
                        at: time, shard: shard)
        case .accepted(.recoveryCode):
            return self(action, applicationID, userID, actor: actor, outcome: "allow", details: with(["method": "recovery_code"]),
                        at: time, shard: shard)
        case .accepted(.challenge(let challenge)):
            return self(action, applicationID, userID, actor: actor, outcome: "allow", factorID: challenge.factorID,
                        details: with(["method": challenge.factorType.rawValue, "challenge_id": challenge.challengeID.rawValue]),
                        at: time, shard: shard)
        case .denied(let reason, nil):
            return self(action, applicationID, userID, actor: actor, outcome: "deny", reason: reason.rawValue, factorID: factorID,
                        details: with([:]), at: time, shard: shard)
        case .denied(let reason, let lockedUntil?):
            return self(action, applicationID, userID, actor: actor, outcome: "deny", reason: reason.rawValue, factorID: factorID,
                        details: with(["locked_until": Timestamp.text(lockedUntil)]), at: time, shard: shard)
        case .locked:
            return self(action, applicationID, userID, actor: actor, outcome: "deny", reason: DenialReason.locked.rawValue,
                        factorID: factorID, details: with([:]), at: time, shard: shard)
        }
    }

    /// The shard an event about this user goes to.
    func shard(_ applicationID: ApplicationID, _ userID: UserID) -> Int {
        chain.shard(applicationID: applicationID, userID: userID)
    }
}
