import Foundation

/// Every domain service of one deployment, over one store and one keyring: what the HTTP API,
/// the admin commands and the tests call. Each service holds only the ports it uses; they share
/// the sealer, the audit recorder, the clock and the random source as small values.
public struct TwofoldServices: Sendable {
    public let applications: ApplicationService
    public let apiKeys: APIKeyService
    public let enrollment: EnrollmentService
    public let verification: VerificationService
    public let administration: AdministrationService
    public let keyRotation: KeyRotationService
    public let audit: AuditService
    public let health: HealthService
    public let policy: VerificationPolicy

    /// Loads (or creates) the deployment's audit keys and returns the services over `store`,
    /// which must be migrated (the runtime migrates it when it opens it).
    /// - Throws: `configuration` for an invalid policy; store and sealing errors.
    public static func start(
        store: any TwofoldStore,
        keyring: Keyring,
        policy: VerificationPolicy = VerificationPolicy(),
        clock: any WallClock = SystemWallClock(),
        random: any RandomSource = SystemRandomSource()
    ) async throws -> TwofoldServices {
        try policy.validate()
        let sealer = Sealer(store: store, keyring: keyring, random: random)
        let recorder = AuditRecorder(clock: clock, chain: try await sealer.auditChain())
        return TwofoldServices(
            applications: ApplicationService(store: store, audit: recorder, clock: clock, random: random),
            apiKeys: APIKeyService(store: store, audit: recorder, clock: clock, random: random),
            enrollment: EnrollmentService(store: store, sealer: sealer, policy: policy, audit: recorder, clock: clock, random: random),
            verification: VerificationService(store: store, sealer: sealer, policy: policy, audit: recorder, clock: clock, random: random),
            administration: AdministrationService(store: store, audit: recorder, clock: clock),
            keyRotation: KeyRotationService(store: store, sealer: sealer, audit: recorder),
            audit: AuditService(store: store, audit: recorder, clock: clock),
            health: HealthService(store: store),
            policy: policy)
    }

    /// Unix seconds for TOTP, never negative.
    static func unixSeconds(_ date: Date) -> UInt64 {
        UInt64(max(0, date.timeIntervalSince1970.rounded(.down)))
    }
}
