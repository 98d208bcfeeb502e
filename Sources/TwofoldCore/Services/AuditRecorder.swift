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
        at time: Date? = nil
    ) -> AuditAppend {
        AuditAppend(
            AuditDraft(time: time ?? clock.now(), applicationID: applicationID, userID: userID, actor: actor, action: action,
                       outcome: outcome, reason: reason, factorID: factorID, details: details, keepsUserID: keepsUserID),
            chain: chain)
    }

    /// The event of an attempt's outcome (verification, activation, resynchronisation).
    /// `details` are added to the event's own (a security key's ceremony says which key, or
    /// why WebAuthn refused it).
    func attempt(_ action: AuditAction, _ outcome: AttemptOutcome, _ applicationID: ApplicationID, _ userID: UserID,
                 factorID: FactorID?, actor: String, at time: Date, details extra: [String: String] = [:]) -> AuditAppend {
        let with = { (details: [String: String]) in details.merging(extra) { own, _ in own } }
        switch outcome {
        case .accepted(.step(let step)):
            return self(action, applicationID, userID, actor: actor, outcome: "allow", factorID: step.factorID, details: with([:]), at: time)
        case .accepted(.recoveryCode):
            return self(action, applicationID, userID, actor: actor, outcome: "allow", details: with(["method": "recovery_code"]), at: time)
        case .accepted(.challenge(let challenge)):
            return self(action, applicationID, userID, actor: actor, outcome: "allow", factorID: challenge.factorID,
                        details: with(["method": challenge.factorType.rawValue, "challenge_id": challenge.challengeID.rawValue]), at: time)
        case .denied(let reason, nil):
            return self(action, applicationID, userID, actor: actor, outcome: "deny", reason: reason.rawValue, factorID: factorID,
                        details: with([:]), at: time)
        case .denied(let reason, let lockedUntil?):
            return self(action, applicationID, userID, actor: actor, outcome: "deny", reason: reason.rawValue, factorID: factorID,
                        details: with(["locked_until": Timestamp.text(lockedUntil)]), at: time)
        case .locked:
            return self(action, applicationID, userID, actor: actor, outcome: "deny", reason: DenialReason.locked.rawValue,
                        factorID: factorID, details: with([:]), at: time)
        }
    }

    /// The shard an event about this user goes to.
    func shard(_ applicationID: ApplicationID, _ userID: UserID) -> Int {
        chain.shard(applicationID: applicationID, userID: userID)
    }
}
