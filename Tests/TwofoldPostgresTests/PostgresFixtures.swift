import Foundation
import TwofoldCore

/// The application, user, time and audit keys the PostgreSQL store's own suites share.
protocol PostgresFixtures {}

extension PostgresFixtures {
    var app: ApplicationID { PostgresFixtureValues.app }
    var alice: UserID { PostgresFixtureValues.alice }
    var start: Date { PostgresFixtureValues.start }
    var chain: AuditChain { PostgresFixtureValues.chain }

    /// An active factor of alice's whose id is `fac_` and 26 × `letter`.
    func aliceFactor(_ letter: Character, type: FactorType = .totp, sealedSecret: [UInt8] = [1, 2, 3],
                     lastAcceptedStep: UInt64) -> FactorRecord {
        FactorRecord(
            id: FactorID(rawValue: "fac_" + String(repeating: letter, count: 26))!, applicationID: app, userID: alice, type: type,
            status: .active, createdAt: start, label: "alice", issuer: nil, algorithm: .sha1, digits: 6, period: 30,
            sealedSecret: sealedSecret, lastAcceptedStep: lastAcceptedStep)
    }
}

private enum PostgresFixtureValues {
    static let app = ApplicationID(rawValue: "app_aaaaaaaaaaaaaaaaaaaaaaaaaa")!
    static let alice = try! UserID("alice@example.com")
    static let start = Date(timeIntervalSince1970: 1_700_000_000)
    static let chain = AuditChain(macKeyBytes: Array(repeating: 7, count: 32), pseudonymKeyBytes: Array(repeating: 9, count: 32))
}
