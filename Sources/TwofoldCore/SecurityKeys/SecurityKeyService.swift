import Crypto
import Foundation
import TwofoldWebAuthn

/// A security key just enrolled: the pending factor and the options the app hands to the
/// browser's `navigator.credentials.create()`.
public struct SecurityKeyEnrollment: Sendable {
    public let factor: Factor
    /// `PublicKeyCredentialCreationOptions` as JSON (`parseCreationOptionsFromJSON`).
    public let options: any Encodable & Sendable
}

/// A sign-in ceremony just started: the challenge to answer and the options the app hands to
/// `navigator.credentials.get()`.
public struct SecurityKeyChallenge: Sendable {
    public let challenge: Challenge
    /// `PublicKeyCredentialRequestOptions` as JSON (`parseRequestOptionsFromJSON`).
    public let options: any Encodable & Sendable
}

/// Security keys (WebAuthn, U2F keys through it): registration and sign-in ceremonies.
///
/// A ceremony's challenge is a `webauthn` challenge whose code is the random challenge the
/// browser signs (stored as its keyed hash, like every code), so that answering it goes
/// through the attempt store like any code: single use by compare-and-set, throttled, counted
/// and audited in one transaction. The signature is checked before, outside the store; the
/// key's signature counter then moves by its own compare-and-set.
public struct SecurityKeyService: Sendable {
    let store: any SecurityKeyStore & FactorStore & ChallengeStore & AttemptStore & ApplicationStore & AuditStore
    let sealer: Sealer
    let verification: VerificationPolicy
    let challengePolicy: ChallengePolicy
    let audit: AuditRecorder
    let clock: any WallClock
    let random: any RandomSource
    let watch: ChallengeWatch
    let observer: any ChallengeObserver

    /// How long a ceremony may take: WebAuthn's recommended timeout.
    static let ceremonyLifetime: TimeInterval = 300

    // MARK: - Registration

    /// Creates a pending `webauthn` factor and the registration ceremony that activates it.
    /// - Throws: `invalid_state` when the application has no relying party (`rp_id`, origins);
    ///   `invalid_request` for a bad label or user verification.
    public func enroll(_ applicationID: ApplicationID, _ userID: UserID, label: String?, userVerification: String?,
                       actor: String) async throws -> SecurityKeyEnrollment {
        let label = label ?? "Security key"
        guard (1...128).contains(label.unicodeScalars.count), !label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw TwofoldError(.invalidRequest, "label must be 1 to 128 characters without control characters")
        }
        let verification = try Self.userVerification(userVerification ?? UserVerification.preferred.rawValue)
        let application = try await application(applicationID)
        let relyingParty = try Self.relyingParty(of: application)
        let now = clock.now()
        _ = try await store.deleteExpiredPendingFactors(before: now)
        guard let dataKey = try await sealer.dataKey(applicationID, userID, create: true) else {
            throw TwofoldError(.sealing, "no data key for the user")
        }
        let factorID = FactorID.random(using: random)
        let secret = WebAuthnKeySecret(userVerification: verification.rawValue)
        let factor = FactorRecord(
            id: factorID, applicationID: applicationID, userID: userID, type: .webauthn, status: .pending, createdAt: now,
            expiresAt: now.addingTimeInterval(Self.ceremonyLifetime), label: label, issuer: nil, algorithm: .sha256, digits: 0, period: 0,
            sealedSecret: try secret.sealed(dataKey: dataKey, applicationID, userID, factorID, random: random))
        let existing = try await store.securityKeys(applicationID: applicationID, userID: userID)
        let ceremony = random.bytes(32)
        let challenge = ceremonyRecord(ceremony, applicationID, userID, factorID: factorID, purpose: .enrollment, now: now, dataKey: dataKey)
        try await store.insertFactor(factor, audit: audit(.factorEnrolled, applicationID, userID, actor: actor, factorID: factorID,
                                                          details: ["type": FactorType.webauthn.rawValue]))
        try await insert(challenge, actor: actor)
        let options = CreationOptions(
            relyingParty: relyingParty, rpName: application.name, userHandle: Self.userHandle(dataKey: dataKey),
            userName: userID.rawValue, userDisplayName: userID.rawValue, challenge: ceremony,
            excludeCredentials: existing.map { CredentialDescriptor(id: $0.credentialID, transports: $0.transports) },
            userVerification: verification, timeoutMilliseconds: Int(Self.ceremonyLifetime * 1000))
        return SecurityKeyEnrollment(factor: factor.summary, options: options)
    }

    /// Finishes registration with the browser's answer (`credential`, the JSON of its
    /// `PublicKeyCredential`): checks the ceremony and the attestation, registers the key to the
    /// factor, and activates the factor by consuming the ceremony's challenge.
    /// - Returns: the activation's result (a refused ceremony counts as a wrong code).
    /// - Throws: `not_found` for a factor that is not this user's pending security key;
    ///   `invalid_request` for a credential that is not WebAuthn JSON; `conflict` for a key
    ///   already registered in the application.
    public func activate(_ applicationID: ApplicationID, _ userID: UserID, factorID: FactorID, credential json: [UInt8],
                         actor: String, apiKeyID: String? = nil) async throws -> VerificationResult {
        let credential: RegistrationCredential
        do { credential = try RegistrationCredential(json: json) } catch {
            throw TwofoldError(.invalidRequest, "credential is not a WebAuthn registration response: \(error.message)")
        }
        guard let factor = try await store.factors(applicationID: applicationID, userID: userID).first(where: { $0.id == factorID }),
              factor.type == .webauthn, factor.status == .pending else {
            throw TwofoldError.factorNotFound
        }
        let relyingParty = try Self.relyingParty(of: try await application(applicationID))
        let now = clock.now()
        guard let dataKey = try await sealer.dataKey(applicationID, userID, create: false) else {
            throw TwofoldError(.sealing, "the user's data key is missing")
        }
        let secret = try WebAuthnKeySecret.open(factor, dataKey: dataKey)
        guard let ceremony = try await openCeremony(credential.challenge, applicationID, userID, purpose: .enrollment, factorID: factorID,
                                                    now: now, dataKey: dataKey) else {
            return try await refuse(.activate(factorID), applicationID, userID, factorID: factorID, action: .factorActivated,
                                    error: WebAuthnError(.challengeMismatch, "the credential answers no open ceremony of this factor"),
                                    actor: actor, apiKeyID: apiKeyID, now: now).result
        }
        let verified: VerifiedRegistration
        do {
            verified = try WebAuthn.verifyRegistration(credential, challenge: credential.challenge, relyingParty: relyingParty,
                                                       requireUserVerification: secret.userVerification == UserVerification.required.rawValue)
        } catch {
            return try await refuse(.activate(factorID), applicationID, userID, factorID: factorID, action: .factorActivated,
                                    error: error, actor: actor, apiKeyID: apiKeyID, now: now).result
        }
        var registered = secret
        registered.credentialID = verified.credentialID
        registered.publicKey = verified.publicKey
        let key = SecurityKeyRecord(factorID: factorID, applicationID: applicationID, userID: userID, credentialID: verified.credentialID,
                                    aaguid: verified.aaguid, transports: verified.transports,
                                    attestationFormat: verified.attestationFormat, signCount: verified.signCount, createdAt: now)
        let attached = try await store.attachSecurityKey(
            key, sealedSecret: try registered.sealed(dataKey: dataKey, applicationID, userID, factorID, random: random),
            audit: audit(.securityKeyRegistered, applicationID, userID, actor: actor, factorID: factorID,
                         details: ["aaguid": Self.uuid(verified.aaguid), "attestation": verified.attestationFormat,
                                   "attestation_type": verified.attestationType.rawValue]))
        if !attached {
            // A retry after a registration whose activation did not go through: the same key may
            // finish it; another one may not replace it.
            let current = try await store.securityKeys(applicationID: applicationID, userID: userID).first { $0.factorID == factorID }
            guard let current, current.credentialID == verified.credentialID else {
                throw TwofoldError(.conflict, "factor \(factorID) already has a security key; delete the factor and enroll again")
            }
        }
        return try await consume(ceremony, purpose: .activate(factorID), applicationID, userID, answeredBy: factorID,
                                 action: .factorActivated, actor: actor, apiKeyID: apiKeyID, now: now).result
    }

    // MARK: - Sign-in

    /// Starts a sign-in ceremony for the user's security keys (only `factorID`'s when given).
    /// - Throws: `not_found` when the user has no active security key (or not that one).
    public func challenge(_ applicationID: ApplicationID, _ userID: UserID, factorID: FactorID?, context: ChallengeContext,
                          actor: String) async throws -> SecurityKeyChallenge {
        try context.validate()
        let relyingParty = try Self.relyingParty(of: try await application(applicationID))
        let now = clock.now()
        let active = try await store.factors(applicationID: applicationID, userID: userID).filter { $0.type == .webauthn && $0.status == .active }
        var keys = try await store.securityKeys(applicationID: applicationID, userID: userID)
            .filter { key in key.flaggedAt == nil && active.contains { $0.id == key.factorID } }
        if let factorID {
            keys = keys.filter { $0.factorID == factorID }
            guard !keys.isEmpty else { throw TwofoldError.factorNotFound }
        }
        guard let first = keys.first, let dataKey = try await sealer.dataKey(applicationID, userID, create: false) else {
            throw TwofoldError(.notFound, "the user has no active security key")
        }
        let secrets = try active.filter { factor in keys.contains { $0.factorID == factor.id } }
            .map { try WebAuthnKeySecret.open($0, dataKey: dataKey) }
        let verification: UserVerification = secrets.contains { $0.userVerification == UserVerification.required.rawValue }
            ? .required : .preferred
        let ceremony = random.bytes(32)
        var record = ceremonyRecord(ceremony, applicationID, userID, factorID: first.factorID, purpose: .login, now: now, dataKey: dataKey)
        record.context = context
        try await insert(record, actor: actor)
        let options = RequestOptions(relyingParty: relyingParty, challenge: ceremony,
                                     allowCredentials: keys.map { CredentialDescriptor(id: $0.credentialID, transports: $0.transports) },
                                     userVerification: verification, timeoutMilliseconds: Int(Self.ceremonyLifetime * 1000))
        return SecurityKeyChallenge(challenge: Challenge(record, at: now), options: options)
    }

    /// Answers a sign-in ceremony with the browser's `PublicKeyCredential` JSON: answers like
    /// a verification and counts like one.
    /// - Throws: `not_found`; `invalid_state` when the challenge is no longer pending;
    ///   `invalid_request` for a credential that is not WebAuthn JSON.
    /// - Returns: the result, and the end of the lock this refusal started, if it started one.
    public func answer(_ applicationID: ApplicationID, _ id: ChallengeID, credential json: [UInt8], actor: String,
                       apiKeyID: String? = nil) async throws -> (result: VerificationResult, lockStartedUntil: Date?) {
        guard let record = try await store.challenge(id: id), record.applicationID == applicationID else {
            throw TwofoldError.challengeNotFound
        }
        guard record.type == .webauthn, record.purpose == .login else {
            throw TwofoldError(.invalidRequest, "challenge \(id) is not answered with a security key: send its code")
        }
        let credential: AuthenticationCredential
        do { credential = try AuthenticationCredential(json: json) } catch {
            throw TwofoldError(.invalidRequest, "credential is not a WebAuthn authentication response: \(error.message)")
        }
        let now = clock.now()
        let shown = record.status(at: now)
        if shown == .approved { return (.deny(.replayed, retryAfter: nil), nil) }
        guard shown == .pending else { throw TwofoldError(.invalidState, "challenge \(id) is \(shown.rawValue)") }
        let userID = record.userID
        let relyingParty = try Self.relyingParty(of: try await application(applicationID))
        guard let dataKey = try await sealer.dataKey(applicationID, userID, create: false) else {
            throw TwofoldError(.sealing, "the user's data key is missing")
        }
        let key = try await store.securityKeys(applicationID: applicationID, userID: userID).first { $0.credentialID == credential.id }
        let factor = try await store.factors(applicationID: applicationID, userID: userID)
            .first { $0.id == key?.factorID && $0.type == .webauthn && $0.status == .active }
        let verified: VerifiedAssertion
        do {
            guard try Self.hash(credential.challenge, id, dataKey: dataKey) == record.codeHash ?? [] else {
                throw WebAuthnError(.challengeMismatch, "the credential answers another ceremony")
            }
            guard let key, let factor else {
                throw WebAuthnError(.badSignature, "the credential is not one of the user's active security keys")
            }
            guard key.flaggedAt == nil else {
                throw WebAuthnError(.signCountNotIncreased, "the security key was flagged as possibly cloned; enroll it again")
            }
            let secret = try WebAuthnKeySecret.open(factor, dataKey: dataKey)
            guard let publicKey = secret.publicKey, secret.credentialID == key.credentialID else {
                throw TwofoldError(.sealing, "the security key of factor \(factor.id) does not match its sealed credential")
            }
            verified = try WebAuthn.verifyAssertion(credential, challenge: credential.challenge, relyingParty: relyingParty,
                                                    publicKey: publicKey, storedSignCount: key.signCount,
                                                    requireUserVerification: secret.userVerification == UserVerification.required.rawValue)
        } catch let error as WebAuthnError {
            if error.code == .signCountNotIncreased, let key, key.flaggedAt == nil {
                try await store.flagSecurityKey(key.factorID, at: now)
                observer.fraudReported(channel: .webauthn)
            }
            return try await refuse(.answerChallenge(id), applicationID, userID, factorID: key?.factorID ?? record.factorID,
                                    action: .challengeAnswered, error: error, actor: actor, apiKeyID: apiKeyID, now: now)
        }
        guard let key else { throw TwofoldError(.unavailable, "a key checked above is missing") }
        // The counter moves once: of two assertions presenting counters at once, one wins.
        guard try await store.recordSecurityKeyUse(key.factorID, expectedSignCount: key.signCount, signCount: verified.signCount, at: now) else {
            return try await refuse(.answerChallenge(id), applicationID, userID, factorID: key.factorID, action: .challengeAnswered,
                                    error: WebAuthnError(.signCountNotIncreased, "another use of this key moved its counter first"),
                                    actor: actor, apiKeyID: apiKeyID, now: now)
        }
        return try await consume(record, purpose: .answerChallenge(id), applicationID, userID, answeredBy: key.factorID,
                                 action: .challengeAnswered, actor: actor, apiKeyID: apiKeyID, now: now)
    }

    /// The user's security keys, for listings: what identifies each, never its public key.
    public func keys(_ applicationID: ApplicationID, _ userID: UserID) async throws -> [SecurityKeyRecord] {
        try await store.securityKeys(applicationID: applicationID, userID: userID)
    }

    // MARK: - Ceremonies through the attempt store

    /// Consumes the ceremony's challenge (compare-and-set, throttle, audit in one transaction).
    private func consume(_ ceremony: ChallengeRecord, purpose: AttemptRequest.Purpose, _ applicationID: ApplicationID, _ userID: UserID,
                         answeredBy keyFactorID: FactorID, action: AuditAction, actor: String, apiKeyID: String?,
                         now: Date) async throws -> (result: VerificationResult, lockStartedUntil: Date?) {
        let activate = ceremony.purpose == .enrollment
        let shard = audit.shard(applicationID, userID)
        let outcome = try await store.attempt(
            AttemptRequest(applicationID: applicationID, userID: userID, purpose: purpose, now: now, throttle: verification.throttle,
                           apiKeyID: apiKeyID, auditShard: shard),
            decide: { snapshot in
                // The challenge must still be open, and the key that answered still the user's:
                // deleted meanwhile, it answers nothing.
                guard snapshot.challenges.contains(where: { $0.id == ceremony.id && $0.codeHash == ceremony.codeHash }),
                      snapshot.factors.contains(where: { $0.id == keyFactorID && $0.type == .webauthn }) else {
                    return .reject(.replayed)
                }
                return .accept(.challenge(ChallengeAcceptance(challengeID: ceremony.id, factorID: ceremony.factorID,
                                                              factorType: .webauthn, activate: activate)))
            },
            audit: { outcome in
                self.audit.attempt(action, outcome, applicationID, userID, shard: shard, factorID: keyFactorID, actor: actor, at: now,
                                   details: ["key_factor_id": keyFactorID.rawValue])
            })
        watch.changed(ceremony.id)
        switch outcome {
        case .accepted:
            observer.challengeFinished(type: .webauthn, status: .approved)
            return (.allow(.factor(keyFactorID, .webauthn)), nil)
        case .denied(let reason, let lockStarted):
            return (.deny(reason, retryAfter: nil), lockStarted)
        case .locked(let until):
            return (.deny(.locked, retryAfter: until), nil)
        }
    }

    /// Counts a refused ceremony like a wrong code, with why in the audit event.
    private func refuse(_ purpose: AttemptRequest.Purpose, _ applicationID: ApplicationID, _ userID: UserID, factorID: FactorID,
                        action: AuditAction, error: WebAuthnError, actor: String, apiKeyID: String?,
                        now: Date) async throws -> (result: VerificationResult, lockStartedUntil: Date?) {
        let shard = audit.shard(applicationID, userID)
        let outcome = try await store.attempt(
            AttemptRequest(applicationID: applicationID, userID: userID, purpose: purpose, now: now, throttle: verification.throttle,
                           apiKeyID: apiKeyID, auditShard: shard),
            decide: { _ in .reject(.invalidCode) },
            audit: { outcome in
                self.audit.attempt(action, outcome, applicationID, userID, shard: shard, factorID: factorID, actor: actor, at: now,
                                   details: ["webauthn": error.code.rawValue])
            })
        switch outcome {
        case .accepted:
            throw TwofoldError(.unavailable, "a refused ceremony was accepted")
        case .denied(let reason, let lockStarted):
            return (.deny(reason, retryAfter: nil), lockStarted)
        case .locked(let until):
            return (.deny(.locked, retryAfter: until), nil)
        }
    }

    /// The open ceremony of `purpose` whose challenge is `challenge`, if any.
    private func openCeremony(_ challenge: [UInt8], _ applicationID: ApplicationID, _ userID: UserID, purpose: ChallengePurpose,
                              factorID: FactorID, now: Date, dataKey: SymmetricKey) async throws -> ChallengeRecord? {
        let open = try await store.challenges(applicationID: applicationID, userID: userID).filter {
            $0.type == .webauthn && $0.purpose == purpose && $0.factorID == factorID && $0.acceptsCodes(at: now)
        }
        return try open.first { try Self.hash(challenge, $0.id, dataKey: dataKey) == $0.codeHash ?? [] }
    }

    private func ceremonyRecord(_ ceremony: [UInt8], _ applicationID: ApplicationID, _ userID: UserID, factorID: FactorID,
                                purpose: ChallengePurpose, now: Date, dataKey: SymmetricKey) -> ChallengeRecord {
        let id = ChallengeID.random(using: random)
        return ChallengeRecord(
            id: id, applicationID: applicationID, userID: userID, factorID: factorID, type: .webauthn, mode: .code, purpose: purpose,
            createdAt: now, expiresAt: now.addingTimeInterval(Self.ceremonyLifetime),
            codeHash: Sealer.challengeCodeHash(Base64URL.encode(ceremony), challengeID: id, key: Sealer.challengeCodeKey(dataKey: dataKey)),
            maxAttempts: challengePolicy.maxAttempts)
    }

    private func insert(_ record: ChallengeRecord, actor: String) async throws {
        let details = ["challenge_id": record.id.rawValue, "type": ChallengeType.webauthn.rawValue, "purpose": record.purpose.rawValue]
        if try await store.insertChallenge(record, spending: [], audit: audit(.challengeCreated, record.applicationID, record.userID,
                                                                               actor: actor, factorID: record.factorID, details: details)) != nil {
            throw TwofoldError(.unavailable, "a ceremony with no budget to spend was refused one")
        }
    }

    /// The keyed hash a ceremony stores for its challenge (its code): never the challenge.
    /// Constant-time comparison is not needed to compare hashes of 256 random bits.
    static func hash(_ challenge: [UInt8], _ id: ChallengeID, dataKey: SymmetricKey) throws -> [UInt8] {
        Sealer.challengeCodeHash(Base64URL.encode(challenge), challengeID: id, key: Sealer.challengeCodeKey(dataKey: dataKey))
    }

    /// The user handle the browser stores with the credential: opaque, the same for every key of
    /// the user, and not the user id (which may be an e-mail address).
    static func userHandle(dataKey: SymmetricKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array("twofold webauthn user handle".utf8), using: dataKey))
    }

    static func userVerification(_ text: String) throws(TwofoldError) -> UserVerification {
        guard let value = UserVerification(rawValue: text) else {
            throw TwofoldError(.invalidRequest, "user_verification must be required, preferred or discouraged")
        }
        return value
    }

    static func relyingParty(of application: Application) throws(TwofoldError) -> RelyingParty {
        guard let id = application.relyingPartyID, !application.origins.isEmpty else {
            throw TwofoldError(.invalidState, "application \(application.name) has no WebAuthn relying party: set it with `twofold apps update \(application.name) --rp-id example.com --origin https://example.com` (or PATCH /v1/application rp_id, origins)")
        }
        return RelyingParty(id: id, origins: application.origins)
    }

    /// An AAGUID as a UUID string.
    static func uuid(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return "" }
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }

    private func application(_ id: ApplicationID) async throws -> Application {
        guard let application = try await store.application(id: id) else {
            throw TwofoldError(.unauthorized, "the application of this API key no longer exists")
        }
        return application
    }
}
