import Foundation
import TwofoldCore

/// Values shared by the SQLite store's own tests.
enum Fixtures {
    static let chain = AuditChain(macKeyBytes: Array(repeating: 3, count: 32), pseudonymKeyBytes: Array(repeating: 5, count: 32))
    static let app = ApplicationID(rawValue: "app_aaaaaaaaaaaaaaaaaaaaaaaaaa")!
    static let start = Date(timeIntervalSince1970: 1_700_000_000)
    /// A policy that never locks within a test.
    static let lenient = ThrottlePolicy(freeFailures: 100)

    static func user(_ index: Int) -> UserID {
        try! UserID("user-\(index)")
    }

    /// A factor id made of one repeated Base32 letter (`a`…`z`, `2`…`7`) and a number.
    static func factorID(_ index: Int) -> FactorID {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var digits = ""
        var rest = index
        for _ in 0..<26 {
            digits.append(alphabet[rest % 32])
            rest /= 32
        }
        return FactorID(rawValue: "fac_" + digits)!
    }

    static func factor(_ index: Int, user: UserID, sealedSecret: [UInt8] = Array("opaque".utf8)) -> FactorRecord {
        FactorRecord(id: factorID(index), applicationID: app, userID: user, type: .totp, status: .active, createdAt: start,
                     label: user.rawValue, issuer: "ACME", algorithm: .sha1, digits: 6, period: 30, sealedSecret: sealedSecret)
    }

    static func audit(_ action: AuditAction, _ user: UserID?, at time: Date = start) -> AuditAppend {
        AuditAppend(AuditDraft(time: time, applicationID: app, userID: user, actor: "test", action: action, outcome: "success"),
                    chain: chain)
    }

    static func request(_ user: UserID, purpose: AttemptRequest.Purpose = .verify) -> AttemptRequest {
        AttemptRequest(applicationID: app, userID: user, purpose: purpose, now: start, throttle: lenient)
    }

    /// An attempt whose `decide` returns `decision` without looking at the snapshot.
    static func attempt(_ store: any TwofoldStore, _ user: UserID, _ decision: AttemptDecision) async throws -> AttemptOutcome {
        try await store.attempt(request(user), decide: { _ in decision }, audit: { _ in audit(.verification, user) })
    }
}
