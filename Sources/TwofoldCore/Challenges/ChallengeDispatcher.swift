import Foundation
import Synchronization

/// Delivers challenges off the request path: tries the channel's providers in order, skipping
/// one whose circuit is open, records what happened on the challenge, and ends it `failed` with
/// a reason when every provider failed. A slow or dead provider delays nothing but its own
/// challenges.
public final class ChallengeDispatcher: Sendable {
    /// What one delivery sends. Kept in memory (never stored: the code is only hashed at rest)
    /// until the challenge ends or expires, so that a provider's later failure report can move
    /// the challenge to the next provider.
    struct Job: Sendable {
        enum Content: Sendable {
            case sms(text: String)
            case say(speech: String)
            case pressKey(prompt: String)
        }

        let challenge: ChallengeRecord
        let phone: PhoneNumber
        let content: Content
    }

    let providers: DeliveryProviderSet
    let policy: ChallengePolicy
    let store: any ChallengeStore & AuditStore
    let audit: AuditRecorder
    let clock: any WallClock
    let observer: any ChallengeObserver
    let watch: ChallengeWatch
    private let breakers = Mutex(CircuitBreakers())
    private let jobs = Mutex([ChallengeID: Job]())
    private let running = BackgroundWork()

    init(providers: DeliveryProviderSet, policy: ChallengePolicy, store: any ChallengeStore & AuditStore, audit: AuditRecorder,
         clock: any WallClock, observer: any ChallengeObserver, watch: ChallengeWatch) {
        self.providers = providers
        self.policy = policy
        self.store = store
        self.audit = audit
        self.clock = clock
        self.observer = observer
        self.watch = watch
    }

    /// Whether the channel has any provider.
    func canDeliver(_ channel: ChallengeType) -> Bool {
        !providers.names(for: channel).isEmpty
    }

    /// Starts delivering `job` and returns at once.
    func dispatch(_ job: Job) {
        remember(job)
        start { await self.deliver(job, from: 0) }
    }

    /// A provider reported, after taking it, that it could not deliver: try the next one, or end
    /// the challenge `failed` when the failure is final, no provider is left, or this node no
    /// longer holds what to send.
    func deliveryFailed(_ challenge: ChallengeRecord, _ failure: DeliveryFailure) async {
        let job = jobs.withLock { $0[challenge.id] }
        let next = (challenge.delivery?.attempt ?? 0) + 1
        guard !failure.isFinal, let job, next < providers.names(for: challenge.type).count else {
            await fail(challenge, reason: failure.challengeReason, detail: failure.kind.rawValue)
            return
        }
        start { await self.deliver(job, from: next) }
    }

    /// Forgets what was kept for a challenge that ended.
    func forget(_ id: ChallengeID) {
        _ = jobs.withLock { $0.removeValue(forKey: id) }
    }

    /// Waits for every delivery in flight; past `grace`, cancels those left (a provider that
    /// hangs must not hold a shutdown for its timeouts and retries). `nil` waits for ever.
    public func drain(grace: Duration? = nil) async {
        await running.drain(grace: grace)
    }

    /// Every provider's state.
    public func health() -> [ProviderHealth] {
        let now = clock.now()
        let states = breakers.withLock { $0 }
        return ChallengeType.allCases.flatMap { channel in
            providers.names(for: channel).map { name in
                let state = states.states[CircuitBreakers.key(channel, name)]
                return ProviderHealth(channel: channel, provider: name,
                                      degradedUntil: state?.openUntil.flatMap { $0 > now ? $0 : nil },
                                      consecutiveFailures: state?.consecutiveFailures ?? 0)
            }
        }
    }

    // MARK: - Delivery

    private func start(_ work: @escaping @Sendable () async -> Void) {
        running.start(work)
    }

    private func remember(_ job: Job) {
        let now = clock.now()
        jobs.withLock { jobs in
            jobs = jobs.filter { $0.value.challenge.expiresAt > now }
            jobs[job.challenge.id] = job
        }
    }

    /// Tries the providers from `start` on, in order; those whose circuit is open only when
    /// every one is open.
    func deliver(_ job: Job, from start: Int) async {
        let channel = job.challenge.type
        let names = providers.names(for: channel)
        let candidates = Array(names.indices.dropFirst(start))
        let now = clock.now()
        let closed = breakers.withLock { breakers in
            candidates.filter { !breakers.isOpen(CircuitBreakers.key(channel, names[$0]), at: now) }
        }
        var lastFailure: DeliveryFailure?
        for index in closed.isEmpty ? candidates : closed {
            let name = names[index]
            let key = CircuitBreakers.key(channel, name)
            let started = ContinuousClock.now
            do throws(DeliveryFailure) {
                let receipt = try await send(job, provider: index)
                observer.delivery(channel: channel, provider: name, outcome: "sent", seconds: Self.seconds(since: started))
                breakers.withLock { $0.succeeded(key) }
                let delivery = ChallengeDelivery(provider: name, status: receipt.status, providerReference: receipt.reference, attempt: index)
                let recorded = try? await store.recordDelivery(job.challenge.id, delivery, audit: audit(
                    .challengeSent, job.challenge.applicationID, job.challenge.userID, actor: "twofold", factorID: job.challenge.factorID,
                    details: ["challenge_id": job.challenge.id.rawValue, "provider": name, "status": receipt.status, "to": job.phone.masked]))
                if recorded == true { watch.changed(job.challenge.id) }
                return
            } catch {
                observer.delivery(channel: channel, provider: name, outcome: error.kind.rawValue, seconds: Self.seconds(since: started))
                breakers.withLock { $0.failed(key, at: clock.now()) }
                _ = try? await store.appendAudit(audit(
                    .challengeDelivery, job.challenge.applicationID, job.challenge.userID, actor: "twofold", outcome: "failure",
                    reason: error.kind.rawValue, factorID: job.challenge.factorID,
                    details: ["challenge_id": job.challenge.id.rawValue, "provider": name, "to": job.phone.masked]))
                lastFailure = error
                if error.isFinal { break }
            }
        }
        await fail(job.challenge, reason: lastFailure?.challengeReason ?? .providerError, detail: lastFailure?.kind.rawValue ?? "no provider")
    }

    private func send(_ job: Job, provider index: Int) async throws(DeliveryFailure) -> DeliveryReceipt {
        let id = job.challenge.id
        switch job.content {
        case .sms(let text):
            let provider = providers.sms[index]
            return try await provider.send(SMSMessage(
                challengeID: id, to: job.phone, body: text,
                statusCallback: policy.callbackURL(provider: provider.name, challengeID: id, kind: "status")))
        case .say(let speech):
            let provider = providers.voice[index]
            return try await provider.call(VoiceCall(
                challengeID: id, to: job.phone, script: .say(speech: speech),
                statusCallback: policy.callbackURL(provider: provider.name, challengeID: id, kind: "status")))
        case .pressKey(let prompt):
            let provider = providers.voice[index]
            return try await provider.call(VoiceCall(
                challengeID: id, to: job.phone,
                script: .pressKey(prompt: prompt, digitsCallback: policy.callbackURL(provider: provider.name, challengeID: id, kind: "digits")),
                statusCallback: policy.callbackURL(provider: provider.name, challengeID: id, kind: "status")))
        }
    }

    /// Ends the challenge `failed`, if it is still pending.
    func fail(_ challenge: ChallengeRecord, reason: ChallengeReason, detail: String) async {
        forget(challenge.id)
        let finished = try? await store.finishChallenge(
            challenge.id, as: .failed, reason: reason, at: clock.now(),
            audit: audit(.challengeFinished, challenge.applicationID, challenge.userID, actor: "twofold", outcome: ChallengeStatus.failed.rawValue,
                         reason: reason.rawValue, factorID: challenge.factorID,
                         details: ["challenge_id": challenge.id.rawValue, "last_failure": detail]))
        if finished == true {
            observer.challengeFinished(type: challenge.type, status: .failed)
            watch.changed(challenge.id)
        }
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
