import Crypto
import Foundation
import TwofoldWebAuthn

/// A push factor just enrolled: what the enrolling page shows as a QR code. The token is the
/// only credential of the activation and is never stored (only its hash).
public struct PushEnrollment: Sendable {
    public let factor: Factor
    public let deviceID: DeviceID
    public let token: String
    /// `twofold://activate?url=<public URL>&token=<token>[&vapid=<application server key>]`.
    public let uri: String
    public let expiresAt: Date
    /// The key a Web Push subscription must be made with, when Web Push is enabled.
    public let applicationServerKey: String?
}

/// A push challenge just created, with the number the sign-in page shows (when number
/// matching is on), which the device must send back to approve.
public struct PushChallenge: Sendable {
    public let challenge: Challenge
    public let number: Int?
}

/// A request a device made, as received, for ``PushService/authenticate(_:)``.
public struct DeviceRequest: Sendable {
    public var deviceID: DeviceID
    public var method: String
    /// The path as requested, with the query if there is one.
    public var path: String
    public var body: [UInt8]
    public var timestamp: String?
    public var signature: String?

    public init(deviceID: DeviceID, method: String, path: String, body: [UInt8], timestamp: String?, signature: String?) {
        self.deviceID = deviceID
        self.method = method
        self.path = path
        self.body = body
        self.timestamp = timestamp
        self.signature = signature
    }
}

/// A challenge as its device sees it: who asks and from where, never the number.
public struct DeviceChallenge: Sendable, Equatable {
    public let id: ChallengeID
    public let status: ChallengeStatus
    public let reason: ChallengeReason?
    public let applicationName: String
    public let context: ChallengeContext
    public let createdAt: Date
    public let expiresAt: Date
    /// Whether approving needs the number the sign-in page shows.
    public let numberRequired: Bool
}

/// The device's answer.
public enum PushDecision: String, Sendable, CaseIterable {
    case approve
    case deny
}

/// Push approval: devices enroll with a key of their own, challenges wake them through a
/// transport (or wait for them to poll), and each answer is a signed request applied to the
/// challenge by compare-and-set.
public struct PushService: Sendable {
    let store: any PushDeviceStore & FactorStore & ChallengeStore & AuditStore & ApplicationStore
    let sealer: Sealer
    let policy: PushPolicy
    let challengePolicy: ChallengePolicy
    let audit: AuditRecorder
    let clock: any WallClock
    let random: any RandomSource
    let watch: ChallengeWatch
    let observer: any ChallengeObserver
    let budgetKey: SymmetricKey
    let background: BackgroundWork

    // MARK: - Enrollment

    /// Creates a pending push factor and the device slot that waits for it, and returns the
    /// one-time activation token and its URI.
    /// - Throws: `invalid_request` for a label that is empty, longer than 128 characters or
    ///   holds control characters.
    public func enroll(_ applicationID: ApplicationID, _ userID: UserID, label: String?, actor: String) async throws -> PushEnrollment {
        let label = label ?? "Push device"
        // Counted in Unicode scalars, as JSON Schema's maxLength (and the OTP labels' check) counts.
        guard (1...128).contains(label.unicodeScalars.count), !label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw TwofoldError(.invalidRequest, "label must be 1 to 128 characters without control characters")
        }
        let now = clock.now()
        _ = try await store.deleteExpiredPendingFactors(before: now)
        // The data key seals the transport at activation; created now so that activation, which
        // has no user's request behind it, never creates keys.
        guard try await sealer.dataKey(applicationID, userID, create: true) != nil else {
            throw TwofoldError(.sealing, "no data key for the user")
        }
        let factorID = FactorID.random(using: random)
        let deviceID = DeviceID.random(using: random)
        let token = Base64URL.encode(random.bytes(32))
        let expiresAt = now.addingTimeInterval(policy.activationLifetime)
        let factor = FactorRecord(id: factorID, applicationID: applicationID, userID: userID, type: .push, status: .pending, createdAt: now,
                                  expiresAt: expiresAt, label: label, issuer: nil, algorithm: .sha256, digits: 0, period: 0, sealedSecret: [])
        let device = PushDeviceRecord(id: deviceID, applicationID: applicationID, userID: userID, factorID: factorID,
                                      activationHash: Sealer.activationHash(token), activationExpiresAt: expiresAt, createdAt: now)
        try await store.insertPushDevice(device, factor: factor, audit: audit(
            .factorEnrolled, applicationID, userID, actor: actor, factorID: factorID,
            details: ["type": FactorType.push.rawValue, "device_id": deviceID.rawValue]))
        return PushEnrollment(factor: factor.summary.showingDevice(device), deviceID: deviceID, token: token,
                              uri: Self.activationURI(publicURL: challengePolicy.publicURL, token: token,
                                                      applicationServerKey: policy.webPushApplicationServerKey),
                              expiresAt: expiresAt, applicationServerKey: policy.webPushApplicationServerKey)
    }

    /// `twofold://activate?url=…&token=…`: what the device needs to find the server and prove
    /// it scanned this enrollment.
    static func activationURI(publicURL: URL, token: String, applicationServerKey: String?) -> String {
        var components = URLComponents()
        components.scheme = "twofold"
        components.host = "activate"
        components.queryItems = [URLQueryItem(name: "url", value: publicURL.absoluteString), URLQueryItem(name: "token", value: token)]
            + (applicationServerKey.map { [URLQueryItem(name: "vapid", value: $0)] } ?? [])
        // URLComponents leaves ':' and '/' in query values; a scanner's parser should not have
        // to know that they are safe there.
        components.percentEncodedQuery = components.percentEncodedQuery?
            .replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: "/", with: "%2F")
        return components.string ?? ""
    }

    /// A device hands over its public key and transport: the token is its only credential and
    /// works once. The factor becomes active.
    /// - Throws: `invalid_request` naming `public_key` for anything but a P-256 key in SPKI DER,
    ///   or naming the transport's field; `unauthorized` for a token unknown, used or lapsed.
    public func activate(token: String, publicKey: [UInt8], transport: PushTransport) async throws -> DeviceID {
        guard let key = try? P256.Signing.PublicKey(derRepresentation: publicKey) else {
            throw TwofoldError(.invalidRequest, "public_key must be a P-256 public key, SPKI DER in Base64")
        }
        if transport.kind != .polling {
            guard let provider = policy.provider(for: transport.kind) else {
                throw TwofoldError(.invalidRequest, "transport.type \(transport.kind.rawValue) is not enabled here (TWOFOLD_PUSH_PROVIDERS); use polling")
            }
            try provider.validate(transport)
        }
        let hash = Sealer.activationHash(token)
        let now = clock.now()
        let refused = TwofoldError(.unauthorized, "the activation token is unknown, used or expired; enroll the device again")
        guard token.utf8.count <= 128, let device = try await store.pushDevice(activationHash: hash),
              (device.activationExpiresAt ?? now) > now else { throw refused }
        guard let dataKey = try await sealer.dataKey(device.applicationID, device.userID, create: false) else {
            throw TwofoldError(.sealing, "the user's data key is missing")
        }
        let sealed = transport == .polling ? nil
            : try sealer.sealTransport(transport, dataKey: dataKey, device.applicationID, device.userID, device.id)
        let activated = try await store.activatePushDevice(
            device.id, activationHash: hash, publicKey: Array(key.derRepresentation), sealedTransport: sealed, transportKind: transport.kind,
            at: now, audit: audit(.factorActivated, device.applicationID, device.userID, actor: "device:\(device.id.rawValue)",
                                  outcome: "allow", factorID: device.factorID,
                                  details: ["device_id": device.id.rawValue, "transport": transport.kind.rawValue]))
        guard activated else { throw refused }
        return device.id
    }

    // MARK: - Challenges

    /// Sends a push to one of the user's devices: the one named by `factorID`, else the one used
    /// last. A push still open for that device ends `canceled` (`superseded`).
    /// - Throws: `not_found` without an active push factor; `rate_limited` (with the time) for
    ///   a device suspended after a fraud report or a spent budget; `invalid_request` for context.
    public func challenge(_ applicationID: ApplicationID, _ userID: UserID, factorID: FactorID?, context: ChallengeContext,
                          actor: String) async throws -> PushChallenge {
        try context.validate()
        let now = clock.now()
        let active = Set(try await store.factors(applicationID: applicationID, userID: userID)
            .filter { $0.type == .push && $0.status == .active }.map(\.id))
        let devices = try await store.pushDevices(applicationID: applicationID, userID: userID)
            .filter { $0.isActivated && active.contains($0.factorID) }
        let device: PushDeviceRecord
        if let factorID {
            guard let named = devices.first(where: { $0.factorID == factorID }) else { throw TwofoldError.factorNotFound }
            device = named
        } else {
            guard let latest = devices.max(by: { Self.lastSeen($0) < Self.lastSeen($1) }) else {
                throw TwofoldError(.notFound, "the user has no active push factor")
            }
            device = latest
        }
        if let until = device.suspendedUntil, until > now {
            throw TwofoldError(.rateLimited, "push to this device is suspended after a fraud report until \(Timestamp.text(until))",
                               lockedUntil: until)
        }
        guard let dataKey = try await sealer.dataKey(applicationID, userID, create: false) else {
            throw TwofoldError(.sealing, "the user's data key is missing")
        }
        let application = try await application(applicationID)
        let id = ChallengeID.random(using: random)
        let number = application.pushNumberMatching ? Self.matchingNumber(using: random) : nil
        let record = ChallengeRecord(
            id: id, applicationID: applicationID, userID: userID, factorID: device.factorID, type: .push, mode: .approve,
            purpose: .login, createdAt: now, expiresAt: now.addingTimeInterval(policy.answerWindow),
            codeHash: number.map { Sealer.challengeCodeHash(String($0), challengeID: id, key: Sealer.challengeCodeKey(dataKey: dataKey)) },
            maxAttempts: 1, context: context)
        var details = ["challenge_id": id.rawValue, "type": ChallengeType.push.rawValue, "device_id": device.id.rawValue,
                       "number_matching": number == nil ? "off" : "on"]
        if let ip = context.ip { details["ip"] = ip }
        if let refusal = try await store.insertChallenge(record, spending: budgets(applicationID, userID),
                                                          audit: audit(.challengeCreated, applicationID, userID, actor: actor,
                                                                       factorID: device.factorID, details: details)) {
            observer.sendRefused(channel: .push, limit: refusal.limit)
            try await store.appendAudit(audit(.challengeRefused, applicationID, userID, actor: actor, outcome: "deny", reason: "rate_limited",
                                              factorID: device.factorID,
                                              details: ["limit": refusal.limit, "type": ChallengeType.push.rawValue,
                                                        "retry_after": Timestamp.text(refusal.retryAfter)]))
            throw TwofoldError(.rateLimited, "too many push challenges (\(refusal.limit)); retry after \(Timestamp.text(refusal.retryAfter))",
                               lockedUntil: refusal.retryAfter)
        }
        // Only once the new push exists: a refused one leaves the open one as it was.
        try await supersedeOpenPushes(of: device, except: id, at: now, actor: actor)
        if let kind = device.transportKind, kind != .polling, let sealed = device.sealedTransport,
           let provider = policy.provider(for: kind) {
            let transport = try Sealer.openTransport(sealed, dataKey: dataKey, applicationID, userID, device.id)
            let notification = PushNotification(challengeID: id, deviceID: device.id, transport: transport,
                                                applicationName: context.appName ?? application.name, context: context,
                                                expiresAt: record.expiresAt)
            background.start { await self.wake(record, provider: provider, notification: notification) }
        }
        return PushChallenge(challenge: Challenge(record, at: now), number: number)
    }

    /// Hands the wake-up to its transport; a transport that fails ends the challenge `failed`
    /// at once, so that the sign-in page can offer another factor instead of waiting.
    private func wake(_ record: ChallengeRecord, provider: any PushProvider, notification: PushNotification) async {
        let started = ContinuousClock.now
        do throws(DeliveryFailure) {
            let receipt = try await provider.notify(notification)
            observer.delivery(channel: .push, provider: provider.name, outcome: "sent", seconds: Self.seconds(since: started))
            let recorded = try? await store.recordDelivery(
                record.id, ChallengeDelivery(provider: provider.name, status: receipt.status, providerReference: receipt.reference, attempt: 0),
                audit: audit(.challengeSent, record.applicationID, record.userID, actor: "twofold", factorID: record.factorID,
                             details: ["challenge_id": record.id.rawValue, "provider": provider.name, "status": receipt.status]))
            if recorded == true { watch.changed(record.id) }
        } catch {
            observer.delivery(channel: .push, provider: provider.name, outcome: error.kind.rawValue, seconds: Self.seconds(since: started))
            let finished = try? await store.finishChallenge(
                record.id, as: .failed, reason: error.challengeReason, at: clock.now(),
                audit: audit(.challengeFinished, record.applicationID, record.userID, actor: "twofold", outcome: ChallengeStatus.failed.rawValue,
                             reason: error.challengeReason.rawValue, factorID: record.factorID,
                             details: ["challenge_id": record.id.rawValue, "provider": provider.name, "last_failure": error.kind.rawValue]))
            if finished == true {
                observer.challengeFinished(type: .push, status: .failed)
                watch.changed(record.id)
            }
        }
    }

    /// Ends the device's open pushes: one open push per device, so that an old prompt cannot be
    /// approved for a newer sign-in.
    private func supersedeOpenPushes(of device: PushDeviceRecord, except newest: ChallengeID, at now: Date, actor: String) async throws {
        for open in try await store.challenges(applicationID: device.applicationID, userID: device.userID)
        where open.type == .push && open.factorID == device.factorID && open.status == .pending && open.id != newest {
            let expired = now >= open.expiresAt
            let status: ChallengeStatus = expired ? .expired : .canceled
            let finished = try await store.finishChallenge(
                open.id, as: status, reason: expired ? nil : .superseded, at: now,
                audit: audit(.challengeFinished, open.applicationID, open.userID, actor: actor, outcome: status.rawValue,
                             reason: expired ? nil : ChallengeReason.superseded.rawValue, factorID: open.factorID,
                             details: ["challenge_id": open.id.rawValue]))
            if finished {
                observer.challengeFinished(type: .push, status: status)
                watch.changed(open.id)
            }
        }
    }

    /// The budgets a push spends: per user, short and long, like the other channels (a prompt
    /// costs nothing to send, but a flood of them is how push fatigue attacks work).
    private func budgets(_ applicationID: ApplicationID, _ userID: UserID) -> [SendBudget] {
        let names = [("user_short", "user-short", challengePolicy.userShortRate), ("user_long", "user-long", challengePolicy.userLongRate)]
        return names.map { limit, prefix, rate in
            SendBudget(limit: limit, key: ChallengeService.budgetName([prefix, ChallengeType.push.rawValue, applicationID.rawValue, userID.rawValue],
                                                                      key: budgetKey),
                       capacity: Double(rate.count), period: rate.period)
        }
    }

    /// A number from 10 to 99, uniformly.
    static func matchingNumber(using random: any RandomSource) -> Int {
        var generator = RandomSourceGenerator(source: random)
        return Int.random(in: 10...99, using: &generator)
    }

    private static func lastSeen(_ device: PushDeviceRecord) -> Date {
        device.lastUsedAt ?? device.activatedAt ?? device.createdAt
    }

    // MARK: - Device requests

    /// Checks a device request: the device exists and is active, the signature verifies with
    /// its key, the timestamp is within five minutes, and the signature was not seen before on
    /// any node.
    /// - Throws: `unauthorized`, the same for an unknown device as for a wrong signature.
    public func authenticate(_ request: DeviceRequest) async throws -> PushDeviceRecord {
        let now = clock.now()
        guard let device = try await store.pushDevice(id: request.deviceID), let publicKey = device.publicKey else {
            throw TwofoldError(.unauthorized, "unknown device, or a device that is not activated")
        }
        let digest = try DeviceRequestSignature.verify(
            method: request.method, path: request.path, body: request.body, timestamp: request.timestamp, signature: request.signature,
            publicKey: publicKey, deviceID: device.id, now: now)
        guard try await store.rememberDeviceSignature(digest, expiresAt: now.addingTimeInterval(2 * DeviceRequestSignature.window)) else {
            throw TwofoldError(.unauthorized, "this signature was used before; sign every request afresh")
        }
        return device
    }

    /// The device's open challenges, oldest first.
    public func openChallenges(for device: PushDeviceRecord) async throws -> [DeviceChallenge] {
        let now = clock.now()
        let application = try await application(device.applicationID)
        return try await store.challenges(applicationID: device.applicationID, userID: device.userID)
            .filter { $0.type == .push && $0.factorID == device.factorID && $0.status(at: now) == .pending }
            .reversed()
            .map { deviceView($0, application: application, at: now) }
    }

    /// One of the device's challenges, in whatever state.
    /// - Throws: `not_found` for none, and exactly the same for another device's.
    public func challenge(_ id: ChallengeID, for device: PushDeviceRecord) async throws -> DeviceChallenge {
        let record = try await ownChallenge(id, of: device)
        return deviceView(record, application: try await application(device.applicationID), at: clock.now())
    }

    /// Applies the device's answer: approve (with the number, when one is asked) or deny, a
    /// denial possibly reporting fraud. Of concurrent answers exactly one is applied.
    /// - Throws: `not_found`, also for another device's challenge; `invalid_request`
    ///   for an approval without the number asked for; `invalid_state` when it is no longer open.
    public func answer(_ id: ChallengeID, for device: PushDeviceRecord, decision: PushDecision, number: Int?,
                       fraud: Bool) async throws -> DeviceChallenge {
        let record = try await ownChallenge(id, of: device)
        let now = clock.now()
        let shown = record.status(at: now)
        guard shown == .pending else {
            throw TwofoldError(.invalidState, "challenge \(id) is \(shown.rawValue)")
        }
        guard !fraud || decision == .deny else {
            throw TwofoldError(.invalidRequest, "fraud is reported with a denial")
        }
        let status: ChallengeStatus
        let reason: ChallengeReason?
        switch decision {
        case .approve:
            if let expected = record.codeHash {
                guard let number else {
                    throw TwofoldError(.invalidRequest, "number: this sign-in asks for the number shown on its page")
                }
                guard let dataKey = try await sealer.dataKey(device.applicationID, device.userID, create: false) else {
                    throw TwofoldError(.sealing, "the user's data key is missing")
                }
                let presented = Sealer.challengeCodeHash(String(number), challengeID: id, key: Sealer.challengeCodeKey(dataKey: dataKey))
                (status, reason) = ConstantTime.equal(presented, expected) ? (.approved, nil) : (.denied, .wrongNumber)
            } else {
                (status, reason) = (.approved, nil)
            }
        case .deny:
            (status, reason) = (.denied, fraud ? .fraud : .declined)
        }
        var details = ["challenge_id": id.rawValue, "device_id": device.id.rawValue]
        var suspendedUntil: Date?
        if reason == .fraud, policy.fraudSuspension > 0 {
            suspendedUntil = now.addingTimeInterval(policy.fraudSuspension)
            details["suspended_until"] = Timestamp.text(suspendedUntil!)
        }
        let finished = try await store.finishChallenge(
            id, as: status, reason: reason, at: now,
            audit: audit(.challengeFinished, record.applicationID, record.userID, actor: "device:\(device.id.rawValue)",
                         outcome: status.rawValue, reason: reason?.rawValue, factorID: record.factorID, details: details))
        guard finished else {
            let current = try await store.challenge(id: id)?.status(at: clock.now()) ?? .expired
            throw TwofoldError(.invalidState, "challenge \(id) is \(current.rawValue)")
        }
        watch.changed(id)
        observer.challengeFinished(type: .push, status: status)
        try await store.touchPushDevice(device.id, at: now)
        if reason == .fraud {
            observer.fraudReported(channel: .push)
            if let suspendedUntil { try await store.suspendPushDevice(device.id, until: suspendedUntil) }
        }
        var answered = record
        answered.status = status
        answered.reason = reason
        answered.finishedAt = now
        return deviceView(answered, application: try await application(device.applicationID), at: now)
    }

    /// Forgets device signatures whose window closed; returns how many.
    public func purgeSignatures() async throws -> Int {
        try await store.purgeDeviceSignatures(expiredBefore: clock.now())
    }

    /// Waits for wake-ups in flight; past `grace`, cancels them (graceful shutdown).
    public func drain(grace: Duration? = nil) async {
        await background.drain(grace: grace)
    }

    // MARK: - Internals

    /// The challenge if it is this device's. Another device's answers exactly as one that does
    /// not exist, so that a device (of any application) cannot tell which ids are in use.
    private func ownChallenge(_ id: ChallengeID, of device: PushDeviceRecord) async throws -> ChallengeRecord {
        guard let record = try await store.challenge(id: id), record.type == .push, record.applicationID == device.applicationID,
              record.userID == device.userID, record.factorID == device.factorID else {
            throw TwofoldError.challengeNotFound
        }
        return record
    }

    private func deviceView(_ record: ChallengeRecord, application: Application, at now: Date) -> DeviceChallenge {
        DeviceChallenge(id: record.id, status: record.status(at: now), reason: record.reason,
                        applicationName: record.context.appName ?? application.name, context: record.context,
                        createdAt: record.createdAt, expiresAt: record.expiresAt, numberRequired: record.codeHash != nil)
    }

    private func application(_ id: ApplicationID) async throws -> Application {
        guard let application = try await store.application(id: id) else {
            throw TwofoldError(.notFound, "application not found")
        }
        return application
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

