import Foundation
import PostgresNIO
import Testing
import TwofoldCore
@testable import TwofoldPostgres
import TwofoldPostgresTesting
import TwofoldTesting

/// Migration 8 on a database of the previous version.
@Suite("PostgreSQL: migration 8, security keys")
struct PostgresSecurityKeyMigrationTests: PostgresFixtures {
    @Test("migration 8 applies to a database at version 7: its applications and challenges stay, with no relying party, and keys work")
    func migratesFromVersion7() async throws {
        try await PostgresTestDatabase.with { database in
            try await database.migrateSchema(through: PostgresMigration.securityKeys.version - 1)
            _ = try await database.query("""
                INSERT INTO applications (id, name, created_at, sms_template, domain, push_number_matching)
                VALUES (\(app.rawValue), 'default', 5, 'Code {code}', 'shop.example.com', FALSE)
                """) { _ in () }
            let phone = aliceFactor("p", type: .voice, lastAcceptedStep: 0)
            let answered = ChallengeRecord(
                id: ChallengeID(rawValue: "chl_bbbbbbbbbbbbbbbbbbbbbbbbbb")!, applicationID: app, userID: alice, factorID: phone.id,
                type: .voice, mode: .approve, purpose: .login, status: .approved, createdAt: start,
                expiresAt: start.addingTimeInterval(300), finishedAt: start.addingTimeInterval(20), codeHash: [1, 2],
                failedAttempts: 1, maxAttempts: 3, context: ChallengeContext(ip: "192.0.2.1"),
                delivery: ChallengeDelivery(provider: "twilio", status: "completed", providerReference: "CA1", attempt: 0))
            let delivery = try #require(answered.delivery)
            let context = try PostgresColumn.context(answered.context)
            _ = try await database.query("""
                INSERT INTO challenges (id, app_id, user_id, factor_id, type, mode, purpose, status, reason, created_at, expires_at,
                                        finished_at, code_hash, failed_attempts, max_attempts, context, delivery_provider,
                                        delivery_status, delivery_reference, delivery_attempt)
                VALUES (\(answered.id.rawValue), \(app.rawValue), \(alice.rawValue), \(phone.id.rawValue), 'voice', 'approve', 'login',
                        'approved', NULL, \(StoredTime.milliseconds(answered.createdAt)), \(StoredTime.milliseconds(answered.expiresAt)),
                        \(StoredTime.milliseconds(start.addingTimeInterval(20))), \(PostgresColumn.bytes([1, 2])), 1, 3,
                        \(context), \(delivery.provider), \(delivery.status),
                        \(delivery.providerReference), \(delivery.attempt))
                """) { _ in () }
            let store = try await database.makeStore(migrated: false)

            #expect(try await store.migrate() == PostgresMigration.all.map(\.version).filter { $0 >= PostgresMigration.securityKeys.version })
            let application = try #require(try await store.application(named: "default"))
            #expect(application == Application(id: app, name: "default", createdAt: StoredTime.date(milliseconds: 5),
                                               smsTemplate: "Code {code}", domain: "shop.example.com", pushNumberMatching: false))
            #expect(application.relyingPartyID == nil && application.origins.isEmpty)
            #expect(try await store.challenge(id: answered.id) == answered)

            // Neither `type` has a CHECK (so `webauthn` fits), and the key table has its constraints.
            let typeChecks = try await database.query("""
                SELECT count(*) FROM pg_constraint
                WHERE contype = 'c' AND conrelid IN ('challenges'::regclass, 'factors'::regclass)
                  AND pg_get_constraintdef(oid) LIKE '%type%'
                """) { try $0.decode(Int.self) }
            #expect(typeChecks == [0])
            let keyConstraints = try await database.query("""
                SELECT conname::TEXT FROM pg_constraint WHERE conrelid = 'security_keys'::regclass ORDER BY conname
                """) { try $0.decode(String.self) }
            #expect(keyConstraints == ["security_keys_app_id_credential_id_key", "security_keys_pkey", "security_keys_sign_count_check"])

            // A webauthn factor takes its key, and a webauthn challenge is stored.
            var factor = aliceFactor("k", type: .webauthn, lastAcceptedStep: 0)
            factor.status = .pending
            factor.lastAcceptedStep = nil
            factor.expiresAt = start.addingTimeInterval(600)
            let registered = AuditAppend(AuditDraft(time: start, applicationID: app, userID: alice, actor: "test", action: .factorEnrolled,
                                                    outcome: "success"), chain: chain)
            try await store.insertFactor(factor, audit: registered)
            let key = SecurityKeyRecord(factorID: factor.id, applicationID: app, userID: alice, credentialID: [0xCA, 0xFE],
                                        aaguid: Array(repeating: 0, count: 16), transports: ["usb"], attestationFormat: "none",
                                        signCount: 0, createdAt: start)
            #expect(try await store.attachSecurityKey(key, sealedSecret: [9], audit: registered))
            #expect(try await store.securityKeys(applicationID: app, userID: alice) == [key])
            var ceremony = answered
            ceremony.id = ChallengeID(rawValue: "chl_cccccccccccccccccccccccccc")!
            ceremony.type = .webauthn
            ceremony.factorID = factor.id
            #expect(try await store.insertChallenge(ceremony, spending: [], audit: registered) == nil)
            #expect(try await store.challenge(id: ceremony.id) == ceremony)
        }
    }
}
