import Foundation
import TwofoldOTP

/// What to enroll.
public struct EnrollmentRequest: Sendable {
    public var type: FactorType
    public var issuer: String?
    /// The account name the authenticator app shows; the user id when `nil`.
    public var label: String?
    public var algorithm: OTPAlgorithm
    public var digits: Int
    public var period: Int

    public init(type: FactorType, issuer: String? = nil, label: String? = nil, algorithm: OTPAlgorithm = .sha1, digits: Int = 6, period: Int = 30) {
        self.type = type
        self.issuer = issuer
        self.label = label
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
    }
}

/// Enrolling, activating, resynchronising and deleting a user's factors.
public struct EnrollmentService: Sendable {
    let store: any FactorStore & AttemptStore & PushDeviceStore & SecurityKeyStore
    let sealer: Sealer
    let policy: VerificationPolicy
    let audit: AuditRecorder
    let clock: any WallClock
    let random: any RandomSource
    /// What follows a phone factor's confirmation code accepted here.
    let completion: ChallengeCompletion

    /// Creates a pending TOTP or HOTP factor with a fresh secret. The returned ``Enrollment`` is
    /// the only time the secret leaves the service.
    /// - Throws: `invalid_request` for digits, period, issuer or label that cannot work.
    public func enroll(_ applicationID: ApplicationID, _ userID: UserID, _ request: EnrollmentRequest, actor: String) async throws -> Enrollment {
        guard request.type.hasSecretForCodes else {
            throw TwofoldError(.invalidRequest, "a \(request.type.rawValue) factor is enrolled with ChallengeService.enrollPhone or PushService.enroll")
        }
        let now = clock.now()
        let factorID = FactorID.random(using: random)
        var generator = RandomSourceGenerator(source: random)
        let secret = OTPSecret.generate(for: request.algorithm, using: &generator)
        let method: OTPAuthURI.Method = request.type == .totp ? .totp(period: request.period) : .hotp(counter: 0)
        let uri: OTPAuthURI
        do {
            uri = try OTPAuthURI(method: method, account: request.label ?? userID.rawValue,
                                 issuer: request.issuer ?? policy.defaultIssuer, secret: secret,
                                 algorithm: request.algorithm, digits: request.digits)
        } catch {
            throw TwofoldError(.invalidRequest, error.message)
        }
        _ = try await store.deleteExpiredPendingFactors(before: now)
        guard let dataKey = try await sealer.dataKey(applicationID, userID, create: true) else {
            throw TwofoldError(.sealing, "no data key for the user")
        }
        let record = FactorRecord(
            id: factorID, applicationID: applicationID, userID: userID, type: request.type, status: .pending,
            createdAt: now, expiresAt: now.addingTimeInterval(policy.pendingLifetime), label: uri.account,
            issuer: uri.issuer, algorithm: request.algorithm, digits: request.digits,
            period: request.type == .totp ? request.period : 0,
            sealedSecret: try sealer.sealSecret(secret, dataKey: dataKey, applicationID, userID, factorID))
        try await store.insertFactor(record, audit: audit(
            .factorEnrolled, applicationID, userID, actor: actor, factorID: factorID,
            details: ["type": request.type.rawValue, "algorithm": request.algorithm.rawValue, "digits": String(request.digits)]))
        return Enrollment(factor: record.summary, secret: secret, uri: uri)
    }

    /// The user's factors (pending ones that have not expired, and active ones), never a secret.
    public func factors(_ applicationID: ApplicationID, _ userID: UserID) async throws -> [Factor] {
        let now = clock.now()
        let records = try await store.factors(applicationID: applicationID, userID: userID)
            .filter { $0.status == .active || ($0.expiresAt ?? now) > now }
        let devices = records.contains { $0.type == .push } ? try await store.pushDevices(applicationID: applicationID, userID: userID) : []
        let keys = records.contains { $0.type == .webauthn } ? try await store.securityKeys(applicationID: applicationID, userID: userID) : []
        return records.map { record in
            switch record.type {
            case .push: record.summary.showingDevice(devices.first { $0.factorID == record.id })
            case .webauthn: record.summary.showingSecurityKey(keys.first { $0.factorID == record.id })
            case .totp, .hotp, .sms, .voice: record.summary
            }
        }
    }

    /// The enrollment URI of a pending factor, to draw its QR code again. Nothing once active.
    /// - Throws: `not_found` for an unknown, expired or already active factor.
    public func pendingEnrollmentURI(_ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID) async throws -> OTPAuthURI {
        let now = clock.now()
        guard let record = try await store.factors(applicationID: applicationID, userID: userID).first(where: { $0.id == factorID }),
              record.status == .pending, record.type.hasSecretForCodes, (record.expiresAt ?? now) > now,
              let dataKey = try await sealer.dataKey(applicationID, userID, create: false) else {
            throw TwofoldError.factorNotFound
        }
        let secret = try Sealer.openSecret(record.sealedSecret, dataKey: dataKey, applicationID, userID, factorID)
        return try OTPAuthURI(method: record.type == .totp ? .totp(period: record.period) : .hotp(counter: 0),
                              account: record.label, issuer: record.issuer, secret: secret,
                              algorithm: record.algorithm, digits: record.digits)
    }

    /// Activates a pending factor with a code from the user's device. The code's step or counter
    /// is consumed like any accepted code. Wrong codes count towards the user's lock.
    /// - Throws: `invalid_code` (wrong or replayed code), `locked`, `not_found`, `expired`, `invalid_state`.
    public func activate(_ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID, code: String, actor: String) async throws -> Factor {
        let now = clock.now()
        let policy = self.policy
        let sealer = self.sealer
        let shard = audit.shard(applicationID, userID)
        let outcome = try await store.attempt(
            AttemptRequest(applicationID: applicationID, userID: userID, purpose: .activate(factorID), now: now, throttle: policy.throttle,
                           auditShard: shard),
            decide: { snapshot in
                let factor = try Self.namedFactor(factorID, in: snapshot)
                guard factor.status == .pending else {
                    throw TwofoldError(.invalidState, "factor \(factorID) is already active")
                }
                guard let expiry = factor.expiresAt, expiry > now else {
                    throw TwofoldError(.expired, "the enrollment of factor \(factorID) expired; enroll again")
                }
                guard factor.type != .push else {
                    throw TwofoldError(.invalidState, "a push factor is activated by its device (POST /v1/devices/activate), not with a code")
                }
                guard factor.type != .webauthn else {
                    throw TwofoldError(.invalidRequest, "a security key is activated with the browser's `credential`, not with a code")
                }
                let dataKey = try sealer.openDataKey(in: snapshot, applicationID, userID)
                let checker = CodeChecker(policy: policy, now: now)
                if factor.type.isPhone {
                    // The code of the confirmation challenge sent to the number.
                    return checker.matchChallenge(code, in: snapshot.challenges, activeFactors: [], dataKey: dataKey, activate: true)
                        ?? .reject(.invalidCode)
                }
                return try checker.check(code, against: factor, dataKey: dataKey, activate: true) ?? .reject(.invalidCode)
            },
            audit: { outcome in
                self.audit.attempt(.factorActivated, outcome, applicationID, userID, shard: shard, factorID: factorID, actor: actor, at: now)
            })
        switch outcome {
        case .accepted(let acceptance):
            if case .challenge(let challenge) = acceptance {
                await completion.approved(challenge, applicationID, userID)
            }
            guard let factor = try await store.factors(applicationID: applicationID, userID: userID).first(where: { $0.id == factorID }) else {
                throw TwofoldError.factorNotFound
            }
            return factor.summary
        case .denied(let reason, let lockStarted):
            throw TwofoldError(.invalidCode, reason == .replayed ? "that code was already used; wait for the next one" : "the code is not valid for this factor",
                               lockedUntil: lockStarted)
        case .locked(let until):
            throw Self.lockedError(until)
        }
    }

    /// Deletes one factor.
    /// - Throws: `not_found` when the user has no such factor.
    public func deleteFactor(_ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID, actor: String) async throws {
        let deleted = try await store.deleteFactor(applicationID: applicationID, userID: userID, factorID: factorID,
                                                   audit: audit(.factorDeleted, applicationID, userID, actor: actor, factorID: factorID))
        guard deleted else { throw TwofoldError.factorNotFound }
    }

    /// Moves an HOTP factor's counter to where the device is, given two consecutive codes found
    /// within the resynchronisation window (RFC 4226 §7.4).
    /// - Throws: `invalid_code` when the two codes are not consecutive within the window; `invalid_state`
    ///   for a TOTP or pending factor; `not_found`; `locked`.
    public func resynchronize(_ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID, codes: (String, String), actor: String) async throws {
        let now = clock.now()
        let policy = self.policy
        let sealer = self.sealer
        let shard = audit.shard(applicationID, userID)
        let outcome = try await store.attempt(
            AttemptRequest(applicationID: applicationID, userID: userID, purpose: .resynchronize(factorID), now: now, throttle: policy.throttle,
                           auditShard: shard),
            decide: { snapshot in
                let factor = try Self.namedFactor(factorID, in: snapshot)
                guard factor.type == .hotp, factor.status == .active else {
                    throw TwofoldError(.invalidState, "only an active HOTP factor can be resynchronised")
                }
                let dataKey = try sealer.openDataKey(in: snapshot, applicationID, userID)
                return try CodeChecker(policy: policy, now: now).resynchronize(codes, factor: factor, dataKey: dataKey)
            },
            audit: { outcome in
                self.audit.attempt(.factorResynchronized, outcome, applicationID, userID, shard: shard, factorID: factorID, actor: actor, at: now)
            })
        switch outcome {
        case .accepted: return
        case .denied(_, let lockStarted):
            throw TwofoldError(.invalidCode, "the two codes are not consecutive codes of this factor within \(policy.hotpResyncWindow) counters",
                               lockedUntil: lockStarted)
        case .locked(let until):
            throw Self.lockedError(until)
        }
    }

    public static func lockedError(_ until: Date) -> TwofoldError {
        TwofoldError(.locked, "verification is locked until \(Timestamp.text(until)) after repeated failures", lockedUntil: until)
    }

    /// The factor an activation or resynchronisation names, from its snapshot.
    static func namedFactor(_ factorID: FactorID, in snapshot: AttemptSnapshot) throws(TwofoldError) -> FactorRecord {
        guard let factor = snapshot.factors.first(where: { $0.id == factorID }) else { throw TwofoldError.factorNotFound }
        return factor
    }
}
