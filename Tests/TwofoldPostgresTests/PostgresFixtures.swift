import Foundation
import PostgresNIO
import TwofoldCore
@testable import TwofoldPostgres
import TwofoldPostgresTesting

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

extension PostgresFixtures {
    /// Enrolls an active TOTP factor for each of `users` (its id `fac_`, 24 × `letter`, then the
    /// user's place in `users` in two letters), each with its enrollment event in the audit log.
    func enrollFactors(_ users: [UserID], letter: Character, lastAcceptedStep: UInt64,
                       in store: any TwofoldStore) async throws -> [UserID: FactorRecord] {
        var factors: [UserID: FactorRecord] = [:]
        for (number, user) in users.enumerated() {
            let place = String(UnicodeScalar(UInt8(97 + number / 26))) + String(UnicodeScalar(UInt8(97 + number % 26)))
            let factor = FactorRecord(
                id: FactorID(rawValue: "fac_" + String(repeating: letter, count: 24) + place)!, applicationID: app, userID: user,
                type: .totp, status: .active, createdAt: start, label: user.rawValue, issuer: nil, algorithm: .sha1, digits: 6,
                period: 30, sealedSecret: [1], lastAcceptedStep: lastAcceptedStep)
            try await store.insertFactor(factor, audit: AuditAppend(
                AuditDraft(time: start, applicationID: app, userID: user, actor: "test", action: .factorEnrolled, outcome: "success"),
                chain: chain))
            factors[user] = factor
        }
        return factors
    }
}

private enum PostgresFixtureValues {
    static let app = ApplicationID(rawValue: "app_aaaaaaaaaaaaaaaaaaaaaaaaaa")!
    static let alice = try! UserID("alice@example.com")
    static let start = Date(timeIntervalSince1970: 1_700_000_000)
    static let chain = AuditChain(macKeyBytes: Array(repeating: 7, count: 32), pseudonymKeyBytes: Array(repeating: 9, count: 32))
}

extension PostgresTestDatabase {
    /// Leaves the schema a node of an earlier version leaves: migrations 1 to `version`, recorded
    /// as `migrate()` records them, so that a test can check what the next ones do to it.
    func migrateSchema(through version: Int) async throws {
        _ = try await query("""
            CREATE TABLE schema_migrations (version INT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
            """) { _ in () }
        for migration in PostgresMigration.all where migration.version <= version {
            for statement in migration.statements {
                _ = try await query(PostgresQuery(unsafeSQL: statement)) { _ in () }
            }
            _ = try await query("INSERT INTO schema_migrations VALUES (\(migration.version), \(migration.name), 0)") { _ in () }
        }
    }
}
