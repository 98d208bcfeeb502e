import Foundation
import TwofoldCore
import TwofoldOTP
import TwofoldTesting

/// The services on a fresh in-memory store with a fixed clock, and helpers to act as a user's device.
struct ServicesHarness {
    let services: TwofoldServices
    let store: InMemoryStore
    let clock: FixedClock
    let keyring: Keyring
    let app: ApplicationID

    static func make(policy: VerificationPolicy = VerificationPolicy(), keys: [MasterKey]? = nil,
                     at date: Date = Date(timeIntervalSince1970: 1_700_000_000)) async throws -> ServicesHarness {
        let store = InMemoryStore()
        let keyring = try Keyring(keys ?? [MasterKey.generate()])
        let clock = FixedClock(date)
        let services = try await TwofoldServices.start(store: store, keyring: keyring, policy: policy, clock: clock)
        let app = try await services.applications.ensureApplication(named: "default", actor: "test").id
        return ServicesHarness(services: services, store: store, clock: clock, keyring: keyring, app: app)
    }

    /// The services again on the same store with different master keys (a restarted node).
    func reopened(keys: [MasterKey]) async throws -> TwofoldServices {
        try await TwofoldServices.start(store: store, keyring: try Keyring(keys), policy: services.policy, clock: clock)
    }

    var now: UInt64 { UInt64(clock.now().timeIntervalSince1970) }

    /// Enrolls and activates a TOTP factor; returns the device's generator and the factor id.
    func enrollTOTP(_ user: UserID, algorithm: OTPAlgorithm = .sha1) async throws -> (TOTP, FactorID) {
        let enrollment = try await services.enrollment.enroll(app, user, EnrollmentRequest(type: .totp, algorithm: algorithm), actor: "test")
        let totp = try enrollment.uri.makeTOTP()
        clock.advance(by: 30)
        _ = try await services.enrollment.activate(app, user, enrollment.factor.id, code: try totp.code(at: now), actor: "test")
        clock.advance(by: 30)
        return (totp, enrollment.factor.id)
    }

    func enrollHOTP(_ user: UserID) async throws -> (HOTP, FactorID) {
        let enrollment = try await services.enrollment.enroll(app, user, EnrollmentRequest(type: .hotp), actor: "test")
        let hotp = try enrollment.uri.makeHOTP()
        _ = try await services.enrollment.activate(app, user, enrollment.factor.id, code: hotp.code(counter: 0), actor: "test")
        return (hotp, enrollment.factor.id)
    }
}
