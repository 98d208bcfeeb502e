import Foundation
import TwofoldOTP

/// The verification engine: enrollment, verification, recovery codes, administration and
/// audit over one ``Store``. The HTTP API and the CLI both call this, so there is one
/// implementation of every rule.
public struct TwofoldEngine: Sendable {
    public let store: any Store
    public let policy: VerificationPolicy
    let clock: any WallClock
    let random: any RandomSource
    let sealer: Sealer
    let chain: AuditChain

    /// Migrates the store, loads (or creates) the deployment's audit keys, and returns a ready engine.
    /// - Throws: `configuration` for an invalid policy; store and sealing errors.
    public static func start(
        store: any Store,
        keyring: Keyring,
        policy: VerificationPolicy = VerificationPolicy(),
        clock: any WallClock = SystemWallClock(),
        random: any RandomSource = SystemRandomSource()
    ) async throws -> TwofoldEngine {
        try policy.validate()
        try await store.migrate()
        let sealer = Sealer(store: store, keyring: keyring, random: random)
        let chain = try await sealer.auditChain()
        return TwofoldEngine(store: store, policy: policy, clock: clock, random: random, sealer: sealer, chain: chain)
    }

    func audit(
        _ action: AuditAction, _ applicationID: ApplicationID?, _ userID: UserID?, actor: String, outcome: String = "success",
        reason: String? = nil, factorID: FactorID? = nil, details: [String: String] = [:], keepsUserID: Bool = true,
        at time: Date? = nil
    ) -> AuditAppend {
        AuditAppend(
            AuditDraft(time: time ?? clock.now(), applicationID: applicationID, userID: userID, actor: actor, action: action,
                       outcome: outcome, reason: reason, factorID: factorID, details: details, keepsUserID: keepsUserID),
            chain: chain)
    }

    /// Unix seconds for TOTP, never negative.
    static func unixSeconds(_ date: Date) -> UInt64 {
        UInt64(max(0, date.timeIntervalSince1970.rounded(.down)))
    }
}

// MARK: Applications

extension TwofoldEngine {
    /// Creates an application.
    /// - Throws: `invalid_request` for a bad name, `conflict` when it exists.
    public func createApplication(named name: String, actor: String) async throws -> Application {
        try Application.validateName(name)
        let application = Application(id: .random(using: random), name: name, createdAt: clock.now())
        try await store.insertApplication(application, audit: audit(.applicationCreated, application.id, nil, actor: actor,
                                                                    details: ["name": name]))
        return application
    }

    /// The application with this name.
    /// - Throws: `not_found`.
    public func application(named name: String) async throws -> Application {
        guard let application = try await store.application(named: name) else {
            throw TwofoldError.notFound("application \"\(name)\"")
        }
        return application
    }

    /// The application with this name, created if it does not exist yet (the `default` one at first start).
    public func ensureApplication(named name: String, actor: String) async throws -> Application {
        if let existing = try await store.application(named: name) { return existing }
        do {
            return try await createApplication(named: name, actor: actor)
        } catch let error as TwofoldError where error.code == .conflict {
            return try await application(named: name)
        }
    }

    public func applications() async throws -> [Application] {
        try await store.applications()
    }
}
