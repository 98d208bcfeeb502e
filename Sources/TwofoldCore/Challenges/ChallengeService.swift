import Crypto
import Foundation

/// What to challenge the user with.
public struct ChallengeRequest: Sendable {
    public var type: ChallengeType
    /// The factor to use; the user's first active factor of `type` when `nil`. A pending factor
    /// of `type` gets its confirmation code again.
    public var factorID: FactorID?
    public var mode: ChallengeMode
    public var context: ChallengeContext

    public init(type: ChallengeType, factorID: FactorID? = nil, mode: ChallengeMode = .code, context: ChallengeContext = ChallengeContext()) {
        self.type = type
        self.factorID = factorID
        self.mode = mode
        self.context = context
    }
}

/// A phone factor just enrolled, and the challenge that sent its confirmation code.
public struct PhoneEnrollment: Sendable {
    public let factor: Factor
    public let challenge: Challenge
}

/// Challenges: codes and calls delivered to a user's phone factors, their answers and their
/// providers' callbacks.
public struct ChallengeService: Sendable {
    let store: any ChallengeStore & FactorStore & AttemptStore & AuditStore & ApplicationStore
    let sealer: Sealer
    let policy: ChallengePolicy
    let verification: VerificationPolicy
    let audit: AuditRecorder
    let clock: any WallClock
    let random: any RandomSource
    let dispatcher: ChallengeDispatcher
    let watch: ChallengeWatch
    let observer: any ChallengeObserver
    /// Keys the send budgets' names, so that the store never sees whose budget a row is.
    let budgetKey: SymmetricKey
    let completion: ChallengeCompletion

    // MARK: - Phone factors

    /// Creates a pending SMS or voice factor for `phone` (sealed at rest, shown masked) and
    /// sends it a confirmation code; the factor becomes active when that code is presented to
    /// ``EnrollmentService/activate(_:_:_:code:actor:)``.
    /// - Throws: `invalid_request` naming `phone` for a number that is not E.164 or whose
    ///   country the channel does not allow; `rate_limited`; `unavailable` without a provider.
    public func enrollPhone(_ applicationID: ApplicationID, _ userID: UserID, type: FactorType,
                            phone text: String, actor: String) async throws -> PhoneEnrollment {
        guard let channel = type.challengeType else {
            throw TwofoldError(.invalidRequest, "only sms and voice factors have a phone number")
        }
        let phone = try PhoneNumber(text)
        try checkCountry(phone, channel: channel)
        try requireProvider(channel)
        let now = clock.now()
        _ = try await store.deleteExpiredPendingFactors(before: now)
        guard let dataKey = try await sealer.dataKey(applicationID, userID, create: true) else {
            throw TwofoldError(.sealing, "no data key for the user")
        }
        let factorID = FactorID.random(using: random)
        let record = FactorRecord(
            id: factorID, applicationID: applicationID, userID: userID, type: type, status: .pending, createdAt: now,
            expiresAt: now.addingTimeInterval(verification.pendingLifetime), label: phone.masked, issuer: nil, algorithm: .sha1,
            digits: ChallengeCodes.digits, period: 0,
            sealedSecret: try sealer.sealPhone(phone, dataKey: dataKey, applicationID, userID, factorID))
        try await store.insertFactor(record, audit: audit(
            .factorEnrolled, applicationID, userID, actor: actor, factorID: factorID, details: ["type": type.rawValue, "phone": phone.masked]))
        do {
            let challenge = try await send(record, phone: phone, dataKey: dataKey, application: try await application(applicationID),
                                           request: ChallengeRequest(type: channel, factorID: factorID), actor: actor)
            return PhoneEnrollment(factor: record.summary, challenge: challenge)
        } catch {
            // No confirmation code went out: the enrollment did not happen.
            _ = try? await store.deleteFactor(applicationID: applicationID, userID: userID, factorID: factorID,
                                              audit: audit(.factorDeleted, applicationID, userID, actor: actor, factorID: factorID,
                                                           details: ["why": "confirmation code not sent"]))
            throw error
        }
    }

    // MARK: - Challenges

    /// Creates a challenge and starts delivering it; returns at once (`pending`).
    /// - Throws: `not_found` without a factor of the type; `invalid_request` for a mode the
    ///   channel lacks or a country not allowed; `rate_limited` with the time to retry.
    public func create(_ applicationID: ApplicationID, _ userID: UserID, _ request: ChallengeRequest,
                       actor: String) async throws -> Challenge {
        try request.context.validate()
        guard request.type.isPhone else {
            throw TwofoldError(.invalidRequest, "push challenges are created by PushService.challenge")
        }
        guard request.mode == .code || request.type == .voice else {
            throw TwofoldError(.invalidRequest, "mode approve is for voice challenges only")
        }
        try requireProvider(request.type)
        let now = clock.now()
        let factors = try await store.factors(applicationID: applicationID, userID: userID)
        let factor: FactorRecord
        if let factorID = request.factorID {
            guard let named = factors.first(where: { $0.id == factorID }), named.type == request.type.factorType,
                  named.status == .active || (named.expiresAt ?? now) > now else {
                throw TwofoldError.factorNotFound
            }
            guard named.status == .active || request.mode == .code else {
                throw TwofoldError(.invalidState, "a pending factor is confirmed with a code, not a call to approve")
            }
            factor = named
        } else {
            guard let first = factors.first(where: { $0.type == request.type.factorType && $0.status == .active }) else {
                throw TwofoldError(.notFound, "the user has no active \(request.type.rawValue) factor")
            }
            factor = first
        }
        guard let dataKey = try await sealer.dataKey(applicationID, userID, create: false) else {
            throw TwofoldError(.sealing, "the user's data key is missing")
        }
        let phone = try Sealer.openPhone(factor.sealedSecret, dataKey: dataKey, applicationID, userID, factor.id)
        try checkCountry(phone, channel: request.type)
        return try await send(factor, phone: phone, dataKey: dataKey, application: try await application(applicationID),
                              request: request, actor: actor)
    }

    /// The challenge as it stands; with `wait`, returns as soon as it is no longer `pending`, or
    /// after `wait` seconds (at most 30). A change on this node wakes the poll at once; one on
    /// another node is seen by a re-read every half second.
    /// - Throws: `not_found` for another application's challenge, exactly as for none.
    public func status(_ applicationID: ApplicationID, _ id: ChallengeID, wait: TimeInterval = 0) async throws -> Challenge {
        let deadline = ContinuousClock.now + .milliseconds(Int64(min(max(wait, 0), 30) * 1000))
        while true {
            guard let record = try await store.challenge(id: id), record.applicationID == applicationID else {
                throw TwofoldError.challengeNotFound
            }
            let now = clock.now()
            let shown = try await settleExpiry(record, now: now)
            let remaining = deadline - ContinuousClock.now
            if shown.status != .pending || remaining <= .zero { return shown }
            await watch.wait(for: id, timeout: min(remaining, .milliseconds(500)))
            try Task.checkCancellation()
        }
    }

    /// Any application's challenge (administration).
    public func show(_ id: ChallengeID) async throws -> Challenge {
        guard let record = try await store.challenge(id: id) else { throw TwofoldError.challengeNotFound }
        return try await settleExpiry(record, now: clock.now())
    }

    /// The user's challenges, newest first.
    public func challenges(_ applicationID: ApplicationID, _ userID: UserID) async throws -> [Challenge] {
        let now = clock.now()
        return try await store.challenges(applicationID: applicationID, userID: userID).map { Challenge($0, at: now) }
    }

    /// Checks `code` against one login challenge: answers like a verification, counts like one
    /// (a wrong code counts towards the user's lock and the challenge's attempts). Once the
    /// challenge is approved, any code is `replayed`, counted and audited like a replayed TOTP
    /// code (a client that retries after losing the answer counts one too).
    /// - Throws: `not_found`; `invalid_state` when the challenge expired, failed, was denied or
    ///   canceled, or is not answered with a code.
    public func answer(_ applicationID: ApplicationID, _ id: ChallengeID, code: String, actor: String,
                       apiKeyID: String? = nil) async throws -> VerificationResult {
        try await answerReportingLock(applicationID, id, code: code, actor: actor, apiKeyID: apiKeyID).result
    }

    /// ``answer(_:_:code:actor:apiKeyID:)``, and the end of the lock this refusal started, if it
    /// started one (for a caller counting lockouts).
    public func answerReportingLock(_ applicationID: ApplicationID, _ id: ChallengeID, code: String, actor: String,
                                    apiKeyID: String? = nil) async throws -> (result: VerificationResult, lockStartedUntil: Date?) {
        guard var record = try await store.challenge(id: id), record.applicationID == applicationID else {
            throw TwofoldError.challengeNotFound
        }
        guard record.mode == .code, record.purpose == .login else {
            throw TwofoldError(.invalidState, "challenge \(id) is not answered with a code here")
        }
        // The attempt's snapshot holds the challenge only while it is pending. One that stopped
        // being pending since the read is read again: approved (by an answer racing this one),
        // the attempt runs once more as a replay; anything else is the caller's to hear.
        for _ in 0..<2 {
            let now = clock.now()
            let shown = record.status(at: now)
            guard shown == .pending || shown == .approved else { throw TwofoldError(.invalidState, "challenge \(id) is \(shown.rawValue)") }
            do {
                return try await attemptAnswer(record, code: code, replay: shown == .approved, actor: actor, apiKeyID: apiKeyID, now: now)
            } catch is ChallengeLeftPending {
                guard let reread = try await store.challenge(id: id) else { throw TwofoldError.challengeNotFound }
                record = reread
            }
        }
        throw TwofoldError(.invalidState, "challenge \(id) is no longer pending")
    }

    /// Thrown by an attempt's decision when the challenge is not in the snapshot: nothing is written.
    private struct ChallengeLeftPending: Error {}

    /// One attempt at `record`: its code checked, or (`replay`) refused as replayed, counted and
    /// audited. Throws ``ChallengeLeftPending`` when the snapshot shows what `record` did not:
    /// the challenge no longer pending, or (for a replay) the user's factors gone (an erasure
    /// writes no throttle state or event afterwards).
    private func attemptAnswer(_ record: ChallengeRecord, code: String, replay: Bool, actor: String, apiKeyID: String?,
                               now: Date) async throws -> (result: VerificationResult, lockStartedUntil: Date?) {
        let id = record.id
        let applicationID = record.applicationID
        let policy = self.verification
        let sealer = self.sealer
        let userID = record.userID
        let shard = audit.shard(applicationID, userID)
        let outcome = try await store.attempt(
            AttemptRequest(applicationID: applicationID, userID: userID, purpose: .answerChallenge(id), now: now,
                           throttle: policy.throttle, apiKeyID: apiKeyID, auditShard: shard),
            decide: { snapshot in
                if replay {
                    guard snapshot.factors.contains(where: { $0.id == record.factorID }) else { throw ChallengeLeftPending() }
                    return .reject(.replayed)
                }
                guard !snapshot.challenges.isEmpty else { throw ChallengeLeftPending() }
                let dataKey = try sealer.openDataKey(in: snapshot, applicationID, userID)
                return CodeChecker(policy: policy, now: now)
                    .matchChallenge(code, in: snapshot.challenges, activeFactors: snapshot.factors, dataKey: dataKey, activate: false)
                    ?? .reject(.invalidCode)
            },
            audit: { outcome in
                self.audit.attempt(.challengeAnswered, outcome, applicationID, userID, shard: shard, factorID: record.factorID, actor: actor, at: now)
            })
        watch.changed(id)
        switch outcome {
        case .accepted(.challenge(let accepted)):
            await completion.approved(accepted, applicationID, userID)
            return (.allow(.factor(accepted.factorID, accepted.factorType)), nil)
        case .accepted:
            throw TwofoldError(.unavailable, "challenge \(id) was answered by something other than its code")
        case .denied(let reason, let lockStarted):
            // Only a wrong code counts against the challenge itself (a replay finds it approved).
            if reason == .invalidCode, record.failedAttempts + 1 >= record.maxAttempts {
                observer.challengeFinished(type: record.type, status: .denied)
            }
            return (.deny(reason, retryAfter: nil), lockStarted)
        case .locked(let until):
            return (.deny(.locked, retryAfter: until), nil)
        }
    }

    /// A provider's callback: checked (signature first), then applied to the challenge.
    /// - Throws: `not_found` for an unknown provider or challenge; `unauthorized` for a bad
    ///   signature; `invalid_request` for a body that is not a report.
    public func handleCallback(_ callback: InboundCallback) async throws -> CallbackReply {
        guard let authenticator = dispatcher.providers.callbacks[callback.provider] else {
            throw TwofoldError(.notFound, "no provider \(callback.provider) takes callbacks here")
        }
        let now = clock.now()
        let report = try authenticator.authenticate(callback, now: now)
        guard let challenge = try await store.challenge(id: callback.challengeID) else { throw TwofoldError.challengeNotFound }
        guard challenge.status(at: now) == .pending, Self.concernsCurrentDelivery(challenge, provider: callback.provider, report: report) else {
            // A report on a delivery that is over (a provider failed over from, or a repeat):
            // acknowledged, so that the provider stops sending it, and applied to nothing.
            return authenticator.reply(to: report)
        }
        switch report {
        case .status(_, let status, let failure?):
            _ = try await store.recordDelivery(challenge.id, deliveryUpdate(challenge, status: status, provider: callback.provider), audit: nil)
            await dispatcher.deliveryFailed(challenge, failure)
        case .status(_, let status, nil):
            if challenge.mode == .approve, status == "completed" {
                // The call ended and no key reached us.
                try await finish(challenge, as: .failed, reason: .hungUp, at: now, actor: callback.provider)
            } else {
                _ = try await store.recordDelivery(challenge.id, deliveryUpdate(challenge, status: status, provider: callback.provider),
                                                   audit: audit(.challengeDelivery, challenge.applicationID, challenge.userID,
                                                                actor: callback.provider, factorID: challenge.factorID,
                                                                details: ["challenge_id": challenge.id.rawValue, "status": status]))
            }
        case .callEnded(_, _, let reason):
            try await finish(challenge, as: .failed, reason: reason, at: now, actor: callback.provider)
        case .pressed(let digit):
            guard challenge.mode == .approve else {
                throw TwofoldError(.invalidRequest, "challenge \(challenge.id) does not take a key press")
            }
            switch digit {
            case "1":
                if try await finish(challenge, as: .approved, reason: nil, at: now, actor: callback.provider) {
                    await completion.refundPumpingGuard(challenge)
                }
            case "9":
                if try await finish(challenge, as: .denied, reason: .fraud, at: now, actor: callback.provider) {
                    observer.fraudReported(channel: challenge.type)
                }
            default:
                break
            }
        }
        watch.changed(challenge.id)
        return authenticator.reply(to: report)
    }

    /// Whether a report is about the delivery the challenge is on now: from the provider that
    /// has it, and about its message or call when both sides name one.
    static func concernsCurrentDelivery(_ challenge: ChallengeRecord, provider: String, report: DeliveryReport) -> Bool {
        guard let delivery = challenge.delivery, delivery.provider == provider else { return false }
        let reference: String?
        switch report {
        case .status(let named, _, _), .callEnded(let named, _, _): reference = named
        case .pressed: reference = nil
        }
        guard let reference, let current = delivery.providerReference else { return true }
        return reference == current
    }

    /// Deletes challenges past retention; returns how many.
    public func purgeExpired() async throws -> Int {
        try await store.purgeChallenges(createdBefore: clock.now().addingTimeInterval(-policy.retention))
    }

    /// Each provider's state, for `/readyz`.
    public func providerHealth() -> [ProviderHealth] {
        dispatcher.health()
    }

    /// Waits for deliveries in flight; past `grace`, cancels them (graceful shutdown).
    public func drain(grace: Duration? = nil) async {
        await dispatcher.drain(grace: grace)
    }

    /// The base of the URLs providers call back on.
    public var publicURL: URL { policy.publicURL }

    // MARK: - Internals

    /// The application a message speaks for: its name, template and domain.
    private func application(_ id: ApplicationID) async throws -> Application {
        guard let application = try await store.application(id: id) else {
            throw TwofoldError(.notFound, "application not found")
        }
        return application
    }

    private func send(_ factor: FactorRecord, phone: PhoneNumber, dataKey: SymmetricKey, application: Application,
                      request: ChallengeRequest, actor: String) async throws -> Challenge {
        let applicationName = application.name
        let now = clock.now()
        let id = ChallengeID.random(using: random)
        let code = request.mode == .code ? ChallengeCodes.generate(using: random) : nil
        let record = ChallengeRecord(
            id: id, applicationID: factor.applicationID, userID: factor.userID, factorID: factor.id, type: request.type,
            mode: request.mode, purpose: factor.status == .active ? .login : .enrollment, createdAt: now,
            expiresAt: now.addingTimeInterval(policy.codeLifetime),
            codeHash: code.map { Sealer.challengeCodeHash($0, challengeID: id, key: Sealer.challengeCodeKey(dataKey: dataKey)) },
            maxAttempts: policy.maxAttempts, context: request.context)
        var details = ["challenge_id": id.rawValue, "type": request.type.rawValue, "mode": request.mode.rawValue,
                       "purpose": record.purpose.rawValue, "to": phone.masked]
        if let ip = request.context.ip { details["ip"] = ip }
        if let refusal = try await store.insertChallenge(record, spending: budgets(record, phone: phone),
                                                          audit: audit(.challengeCreated, factor.applicationID, factor.userID, actor: actor,
                                                                       factorID: factor.id, details: details)) {
            observer.sendRefused(channel: request.type, limit: refusal.limit)
            var refusedDetails = ["limit": refusal.limit, "type": request.type.rawValue, "to": phone.masked,
                                  "retry_after": Timestamp.text(refusal.retryAfter)]
            if refusal.limit == ChallengeCompletion.pumpingGuardLimit {
                refusedDetails["why"] = "more than \(policy.pumpingGuard.count) challenges to \(phone.prefix)… were not completed within \(Int(policy.pumpingGuard.period)) s: possible SMS pumping"
            }
            try await store.appendAudit(audit(.challengeRefused, factor.applicationID, factor.userID, actor: actor, outcome: "deny",
                                              reason: "rate_limited", factorID: factor.id, details: refusedDetails))
            throw TwofoldError(.rateLimited, "too many \(request.type.rawValue) challenges (\(refusal.limit)); retry after \(Timestamp.text(refusal.retryAfter))",
                               lockedUntil: refusal.retryAfter)
        }
        let content: ChallengeDispatcher.Job.Content
        switch (request.type, code) {
        case (.sms, let code?):
            content = .sms(text: policy.smsText(appName: request.context.appName ?? applicationName, code: code,
                                                template: application.smsTemplate, domain: application.domain))
        case (.voice, let code?):
            content = .say(speech: policy.spokenCode(appName: request.context.appName ?? applicationName, code: code))
        case (.push, _), (.webauthn, _):
            throw TwofoldError(.invalidRequest, "\(request.type.rawValue) challenges are not sent through a phone provider")
        case (_, nil):
            content = .pressKey(prompt: policy.approvalPrompt(appName: applicationName, context: request.context))
        }
        dispatcher.dispatch(ChallengeDispatcher.Job(challenge: record, phone: phone, content: content))
        return Challenge(record, at: now)
    }

    /// The budgets one send spends: per user and channel (short and long), per application and
    /// channel per day, per destination number and channel per day.
    func budgets(_ challenge: ChallengeRecord, phone: PhoneNumber) -> [SendBudget] {
        let channel = challenge.type.rawValue
        let app = challenge.applicationID.rawValue
        let user = challenge.userID.rawValue
        return [
            SendBudget(limit: "user_short", key: budgetName(["user-short", channel, app, user]),
                       capacity: Double(policy.userShortRate.count), period: policy.userShortRate.period),
            SendBudget(limit: "user_long", key: budgetName(["user-long", channel, app, user]),
                       capacity: Double(policy.userLongRate.count), period: policy.userLongRate.period),
            SendBudget(limit: "application_daily", key: budgetName(["application-daily", channel, app]),
                       capacity: Double(policy.applicationDailyLimit), period: 86_400),
            SendBudget(limit: "destination_daily", key: budgetName(["destination-daily", channel, phone.e164]),
                       capacity: Double(policy.destinationDailyLimit), period: 86_400),
            completion.pumpingGuard(channel: challenge.type, phone: phone),
        ]
    }

    private func budgetName(_ parts: [String]) -> String {
        Self.budgetName(parts, key: budgetKey)
    }

    static func budgetName(_ parts: [String], key: SymmetricKey) -> String {
        let text = parts.joined(separator: "\u{1F}")
        return HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key).prefix(16)
            .map { String(format: "%02x", $0) }.joined()
    }

    private func checkCountry(_ phone: PhoneNumber, channel: ChallengeType) throws(TwofoldError) {
        if let allowed = policy.countries(for: channel), !allowed.allows(phone) {
            let setting = channel == .sms ? "TWOFOLD_SMS_COUNTRIES" : "TWOFOLD_VOICE_COUNTRIES"
            throw TwofoldError(.invalidRequest, "phone: \(channel.rawValue) to +\(phone.callingCode) is not allowed (\(setting))")
        }
    }

    private func requireProvider(_ channel: ChallengeType) throws(TwofoldError) {
        guard dispatcher.canDeliver(channel) else {
            let setting = channel == .sms ? "TWOFOLD_SMS_PROVIDERS" : "TWOFOLD_VOICE_PROVIDERS"
            throw TwofoldError(.unavailable, "no \(channel.rawValue) provider is configured (\(setting))")
        }
    }

    private func deliveryUpdate(_ challenge: ChallengeRecord, status: String, provider: String) -> ChallengeDelivery {
        var delivery = challenge.delivery ?? ChallengeDelivery(provider: provider, status: status, attempt: 0)
        delivery.status = status
        return delivery
    }

    /// Ends a challenge with its audit event; returns whether this call ended it.
    @discardableResult
    private func finish(_ challenge: ChallengeRecord, as status: ChallengeStatus, reason: ChallengeReason?, at now: Date,
                        actor: String) async throws -> Bool {
        let finished = try await store.finishChallenge(
            challenge.id, as: status, reason: reason, at: now,
            audit: audit(.challengeFinished, challenge.applicationID, challenge.userID, actor: actor, outcome: status.rawValue,
                         reason: reason?.rawValue, factorID: challenge.factorID, details: ["challenge_id": challenge.id.rawValue]))
        if finished {
            dispatcher.forget(challenge.id)
            observer.challengeFinished(type: challenge.type, status: status)
        }
        return finished
    }

    /// A pending challenge past its expiry is stored as `expired` when first seen so.
    private func settleExpiry(_ record: ChallengeRecord, now: Date) async throws -> Challenge {
        if record.status == .pending, now >= record.expiresAt {
            try await finish(record, as: .expired, reason: nil, at: now, actor: "twofold")
            var expired = record
            expired.status = .expired
            return Challenge(expired, at: now)
        }
        return Challenge(record, at: now)
    }
}

/// A challenge as shown to callers: never its code or hash.
public struct Challenge: Sendable, Equatable, Codable {
    public let id: ChallengeID
    public let type: ChallengeType
    public let mode: ChallengeMode
    public let purpose: ChallengePurpose
    public let status: ChallengeStatus
    public let reason: ChallengeReason?
    public let factorID: FactorID
    public let userID: UserID
    public let createdAt: Date
    public let expiresAt: Date
    public let finishedAt: Date?
    public let failedAttempts: Int
    public let context: ChallengeContext
    public let delivery: ChallengeDelivery?

    init(_ record: ChallengeRecord, at now: Date) {
        id = record.id
        type = record.type
        mode = record.mode
        purpose = record.purpose
        status = record.status(at: now)
        reason = record.reason
        factorID = record.factorID
        userID = record.userID
        createdAt = record.createdAt
        expiresAt = record.expiresAt
        finishedAt = record.finishedAt
        failedAttempts = record.failedAttempts
        context = record.context
        delivery = record.delivery
    }
}
