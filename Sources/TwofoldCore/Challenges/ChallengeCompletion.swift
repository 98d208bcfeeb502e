import Crypto
import Foundation

/// What follows a challenge's approval, wherever it happened (a code through verify or through
/// the challenge, a key press): the long polls wake, the metrics count it, and the pumping
/// guard of its destination gets its token back.
struct ChallengeCompletion: Sendable {
    static let pumpingGuardLimit = "pumping_guard"

    let store: any ChallengeStore & FactorStore
    let sealer: Sealer
    let policy: ChallengePolicy
    let watch: ChallengeWatch
    let dispatcher: ChallengeDispatcher
    let observer: any ChallengeObserver
    let clock: any WallClock
    let budgetKey: SymmetricKey

    /// The pumping guard's budget for a destination's prefix.
    func pumpingGuard(channel: ChallengeType, phone: PhoneNumber) -> SendBudget {
        SendBudget(limit: Self.pumpingGuardLimit,
                   key: ChallengeService.budgetName(["prefix", channel.rawValue, phone.prefix], key: budgetKey),
                   capacity: Double(policy.pumpingGuard.count), period: policy.pumpingGuard.period)
    }

    /// A challenge's code was accepted.
    func approved(_ acceptance: ChallengeAcceptance, _ applicationID: ApplicationID, _ userID: UserID) async {
        watch.changed(acceptance.challengeID)
        dispatcher.forget(acceptance.challengeID)
        guard let channel = acceptance.factorType.challengeType else { return }
        observer.challengeFinished(type: channel, status: .approved)
        await refund(channel: channel, applicationID, userID, acceptance.factorID)
    }

    /// A key press approved `challenge`.
    func refundPumpingGuard(_ challenge: ChallengeRecord) async {
        await refund(channel: challenge.type, challenge.applicationID, challenge.userID, challenge.factorID)
    }

    /// Gives the destination's pumping-guard token back. Best effort: a refund lost to a store
    /// error only makes the guard stricter for a while.
    private func refund(channel: ChallengeType, _ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID) async {
        guard let factor = try? await store.factors(applicationID: applicationID, userID: userID).first(where: { $0.id == factorID }),
              let dataKey = try? await sealer.dataKey(applicationID, userID, create: false),
              let phone = try? Sealer.openPhone(factor.sealedSecret, dataKey: dataKey, applicationID, userID, factorID) else { return }
        try? await store.refundSendBudget(pumpingGuard(channel: channel, phone: phone), at: clock.now())
    }
}
