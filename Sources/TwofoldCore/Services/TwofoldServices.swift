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
    public let challenges: ChallengeService
    public let push: PushService
    public let securityKeys: SecurityKeyService
    public let hardwareTokens: HardwareTokenService
    public let policy: VerificationPolicy

    /// Loads (or creates) the deployment's audit keys and returns the services over `store`,
    /// which must be migrated (the runtime migrates it when it opens it).
    /// - Throws: `configuration` for an invalid policy; store and sealing errors.
    public static func start(
        store: any TwofoldStore,
        keyring: Keyring,
        policy: VerificationPolicy = VerificationPolicy(),
        challengePolicy: ChallengePolicy = ChallengePolicy(publicURL: URL(string: "http://127.0.0.1:8080")!),
        providers: DeliveryProviderSet = .none,
        pushPolicy: PushPolicy = PushPolicy(),
        observer: any ChallengeObserver = NoChallengeObserver(),
        clock: any WallClock = SystemWallClock(),
        random: any RandomSource = SystemRandomSource()
    ) async throws -> TwofoldServices {
        try policy.validate()
        try challengePolicy.validate()
        try pushPolicy.validate()
        let sealer = Sealer(store: store, keyring: keyring, random: random)
        let recorder = AuditRecorder(clock: clock, chain: try await sealer.auditChain())
        let watch = ChallengeWatch()
        let dispatcher = ChallengeDispatcher(providers: providers, policy: challengePolicy, store: store, audit: recorder,
                                             clock: clock, observer: observer, watch: watch)
        let budgetKey = try await sealer.systemKey("send-budget")
        let apiKeys = APIKeyService(store: store, audit: recorder, clock: clock, random: random,
                                    integrity: APIKeyIntegrity(key: try await sealer.systemKey("api-key-mac")))
        _ = try await apiKeys.sealMigratedKeys()
        let completion = ChallengeCompletion(store: store, sealer: sealer, policy: challengePolicy, watch: watch, dispatcher: dispatcher,
                                             observer: observer, clock: clock, budgetKey: budgetKey)
        return TwofoldServices(
            applications: ApplicationService(store: store, audit: recorder, clock: clock, random: random),
            apiKeys: apiKeys,
            enrollment: EnrollmentService(store: store, sealer: sealer, policy: policy, audit: recorder, clock: clock, random: random,
                                          completion: completion),
            verification: VerificationService(store: store, sealer: sealer, policy: policy, audit: recorder, clock: clock, random: random,
                                              completion: completion),
            administration: AdministrationService(store: store, sealer: sealer, audit: recorder, clock: clock),
            keyRotation: KeyRotationService(store: store, sealer: sealer, audit: recorder),
            audit: AuditService(store: store, audit: recorder, clock: clock,
                                ids: AuditEventIDs(key: try await sealer.systemKey("audit-event-ids"))),
            health: HealthService(store: store),
            challenges: ChallengeService(store: store, sealer: sealer, policy: challengePolicy, verification: policy, audit: recorder,
                                         clock: clock, random: random, dispatcher: dispatcher, watch: watch, observer: observer,
                                         budgetKey: budgetKey, completion: completion),
            push: PushService(store: store, sealer: sealer, policy: pushPolicy, challengePolicy: challengePolicy, audit: recorder, clock: clock,
                              random: random, watch: watch, observer: observer, budgetKey: budgetKey, background: BackgroundWork()),
            securityKeys: SecurityKeyService(store: store, sealer: sealer, verification: policy, challengePolicy: challengePolicy,
                                             audit: recorder, clock: clock, random: random, watch: watch, observer: observer),
            hardwareTokens: HardwareTokenService(store: store, sealer: sealer, audit: recorder, clock: clock, random: random),
            policy: policy)
    }

    /// Unix seconds for TOTP, never negative.
    static func unixSeconds(_ date: Date) -> UInt64 {
        UInt64(max(0, date.timeIntervalSince1970.rounded(.down)))
    }
}
