import Foundation
import TwofoldCore
import TwofoldOTP
import TwofoldSQLite
import TwofoldTesting

/// An engine on a fresh SQLite file with a fixed clock, and helpers to act as a user's device.
struct EngineHarness {
    let engine: TwofoldEngine
    let store: SQLiteStore
    let clock: FixedClock
    let keyring: Keyring
    let directory: URL
    let app: ApplicationID

    static func make(policy: VerificationPolicy = VerificationPolicy(), keys: [MasterKey]? = nil,
                     at date: Date = Date(timeIntervalSince1970: 1_700_000_000)) async throws -> EngineHarness {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("twofold.sqlite").path)
        let keyring = try Keyring(keys ?? [MasterKey.generate()])
        let clock = FixedClock(date)
        let engine = try await TwofoldEngine.start(store: store, keyring: keyring, policy: policy, clock: clock)
        let app = try await engine.ensureApplication(named: "default", actor: "test").id
        return EngineHarness(engine: engine, store: store, clock: clock, keyring: keyring, directory: directory, app: app)
    }

    /// Another engine on the same database with different master keys (a restarted node).
    func reopened(keys: [MasterKey]) async throws -> TwofoldEngine {
        try await TwofoldEngine.start(store: store, keyring: try Keyring(keys), policy: engine.policy, clock: clock)
    }

    var databasePath: String { directory.appendingPathComponent("twofold.sqlite").path }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    var now: UInt64 { UInt64(clock.now().timeIntervalSince1970) }

    /// Enrolls and activates a TOTP factor; returns the device's generator and the factor id.
    func enrollTOTP(_ user: UserID, algorithm: OTPAlgorithm = .sha1) async throws -> (TOTP, FactorID) {
        let enrollment = try await engine.enroll(app, user, EnrollmentRequest(type: .totp, algorithm: algorithm), actor: "test")
        let totp = try enrollment.uri.makeTOTP()
        clock.advance(by: 30)
        _ = try await engine.activate(app, user, enrollment.factor.id, code: try totp.code(at: now), actor: "test")
        clock.advance(by: 30)
        return (totp, enrollment.factor.id)
    }

    func enrollHOTP(_ user: UserID) async throws -> (HOTP, FactorID) {
        let enrollment = try await engine.enroll(app, user, EnrollmentRequest(type: .hotp), actor: "test")
        let hotp = try enrollment.uri.makeHOTP()
        _ = try await engine.activate(app, user, enrollment.factor.id, code: hotp.code(counter: 0), actor: "test")
        return (hotp, enrollment.factor.id)
    }
}
