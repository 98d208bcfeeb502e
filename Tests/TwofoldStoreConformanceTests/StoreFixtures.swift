import Foundation
import TwofoldCore
import TwofoldOTP

/// The values and builders every conformance suite shares: two applications, alice and bob, a
/// start time, the audit chain, and factors, requests and audit events built from them.
protocol StoreFixtures: Sendable {}

extension StoreFixtures {
    var app: ApplicationID { StoreFixtureValues.app }
    var otherApp: ApplicationID { StoreFixtureValues.otherApp }
    var alice: UserID { StoreFixtureValues.alice }
    var bob: UserID { StoreFixtureValues.bob }
    var start: Date { StoreFixtureValues.start }
    var chain: AuditChain { StoreFixtureValues.chain }

    /// An event by the test actor, at `start` unless told otherwise.
    func audit(_ action: AuditAction = .verification, _ application: ApplicationID? = nil, _ user: UserID? = nil,
               at time: Date? = nil, keepsUserID: Bool = true) -> AuditAppend {
        AuditAppend(AuditDraft(time: time ?? start, applicationID: application, userID: user, actor: "test", action: action,
                               outcome: "success", keepsUserID: keepsUserID), chain: chain)
    }

    /// A TOTP factor (of alice's in `app`, active, unless told otherwise) whose id is `fac_` and
    /// 26 × `id`, created at `start`.
    func factor(_ id: String, user: UserID? = nil, status: FactorStatus = .active, last: UInt64? = nil, expiresAt: Date? = nil,
                application: ApplicationID? = nil, type: FactorType = .totp) -> FactorRecord {
        FactorRecord(
            id: FactorID(rawValue: "fac_" + String(repeating: id, count: 26))!, applicationID: application ?? app,
            userID: user ?? alice, type: type, status: status, createdAt: start, expiresAt: expiresAt, label: "alice",
            issuer: "ACME", algorithm: .sha256, digits: 8, period: 30, sealedSecret: Array("opaque-\(id)".utf8),
            lastAcceptedStep: last)
    }

    /// A challenge id ending in `name` (letters `a`…`z`, digits `2`…`7`), padded with `a`.
    func challengeID(_ name: String) -> ChallengeID {
        ChallengeID(rawValue: "chl_" + String(repeating: "a", count: 26 - name.count) + name)!
    }

    /// A pending SMS login challenge for a code (of alice's in `app` unless told otherwise),
    /// created at `start` and expiring 5 minutes later unless told otherwise, 5 attempts allowed.
    func challenge(_ name: String, factor factorID: FactorID, user: UserID? = nil, application: ApplicationID? = nil,
                   mode: ChallengeMode = .code, purpose: ChallengePurpose = .login, createdAt: Date? = nil,
                   expiresAt: Date? = nil, codeHash: [UInt8]? = [0xC0, 0xDE], maxAttempts: Int = 5) -> ChallengeRecord {
        let created = createdAt ?? start
        return ChallengeRecord(id: challengeID(name), applicationID: application ?? app, userID: user ?? alice, factorID: factorID,
                               type: .sms, mode: mode, purpose: purpose, createdAt: created,
                               expiresAt: expiresAt ?? created.addingTimeInterval(300), codeHash: mode == .code ? codeHash : nil,
                               maxAttempts: maxAttempts)
    }

    /// An attempt of alice's (unless told otherwise) in `app`, at `start` unless told otherwise,
    /// naming its event's shard.
    func request(_ purpose: AttemptRequest.Purpose = .verify, user: UserID? = nil, at time: Date? = nil,
                 throttle: ThrottlePolicy = ThrottlePolicy()) -> AttemptRequest {
        AttemptRequest(applicationID: app, userID: user ?? alice, purpose: purpose, now: time ?? start, throttle: throttle,
                       auditShard: chain.shard(applicationID: app, userID: user ?? alice))
    }

    /// An attempt whose `decide` returns `decision` without looking at the snapshot.
    func attempt(_ store: any TwofoldStore, _ request: AttemptRequest, _ decision: AttemptDecision) async throws -> AttemptOutcome {
        try await store.attempt(request, decide: { _ in decision }, audit: { _ in audit(.verification, app, request.userID) })
    }

    /// The ten recovery codes 0…9, each hashed to its own index, created at `start`.
    var tenRecoveryCodes: [RecoveryCodeRecord] {
        (0..<10).map { RecoveryCodeRecord(index: $0, hash: [UInt8($0)], createdAt: start) }
    }
}

private enum StoreFixtureValues {
    static let app = ApplicationID(rawValue: "app_aaaaaaaaaaaaaaaaaaaaaaaaaa")!
    static let otherApp = ApplicationID(rawValue: "app_bbbbbbbbbbbbbbbbbbbbbbbbbb")!
    static let alice = try! UserID("alice@example.com")
    static let bob = try! UserID("bob")
    static let start = Date(timeIntervalSince1970: 1_700_000_000)
    static let chain = AuditChain(macKeyBytes: Array(repeating: 7, count: 32), pseudonymKeyBytes: Array(repeating: 9, count: 32))
}
