import Foundation
import PostgresNIO
import Testing
import TwofoldCore
@testable import TwofoldPostgres
import TwofoldPostgresTesting
import TwofoldTesting

/// Migration 5 on a database of the previous version.
@Suite("PostgreSQL: migration 5")
struct PostgresPushMigrationTests: PostgresFixtures {
    @Test("migration 5 applies to a database at version 4: its applications get number matching on, and push devices work")
    func migratesFromVersion4() async throws {
        try await PostgresTestDatabase.with { database in
            try await database.migrateSchema(through: 4)
            _ = try await database.query("""
                INSERT INTO applications (id, name, created_at, sms_template, domain)
                VALUES (\(app.rawValue), 'default', 5, 'Code {code}', NULL)
                """) { _ in () }
            let store = try await database.makeStore(migrated: false)

            #expect(try await store.migrate() == PostgresMigration.all.map(\.version).filter { $0 >= 5 })
            let application = try #require(try await store.application(named: "default"))
            #expect(application.pushNumberMatching)
            #expect(application.smsTemplate == "Code {code}")

            var factor = aliceFactor("p", type: .push, lastAcceptedStep: 0)
            factor.status = .pending
            factor.lastAcceptedStep = nil
            factor.expiresAt = start.addingTimeInterval(600)
            let device = PushDeviceRecord(id: DeviceID(rawValue: "dev_" + String(repeating: "b", count: 26))!, applicationID: app,
                                          userID: alice, factorID: factor.id, activationHash: [1], activationExpiresAt: factor.expiresAt,
                                          createdAt: start)
            try await store.insertPushDevice(device, factor: factor, audit: AuditAppend(
                AuditDraft(time: start, applicationID: app, userID: alice, actor: "test", action: .factorEnrolled, outcome: "success"),
                chain: chain))
            #expect(try await store.pushDevice(id: device.id) == device)
        }
    }
}
