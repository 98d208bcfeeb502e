import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    /// - Throws: `conflict` when an application has that name (or that id).
    public func insertApplication(_ application: Application, audit: AuditAppend) async throws {
        let origins = try SQLiteCoding.origins(application.origins)
        try await write("insert an application") { db in
            do {
                try db.run(sql: """
                    INSERT INTO applications (id, name, created_at, sms_template, domain, push_number_matching, rp_id, origins)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [application.id.rawValue, application.name, StoredTime.milliseconds(application.createdAt),
                                     application.smsTemplate, application.domain, application.pushNumberMatching,
                                     application.relyingPartyID, origins])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
                && (error.message ?? "").contains("applications.name") {
                throw TwofoldError(.conflict, "an application named \"\(application.name)\" exists")
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw TwofoldError(.conflict, "an application with id \(application.id) exists")
            }
            try Self.appendAudit(audit, db)
        }
    }

    public func application(named name: String) async throws -> Application? {
        try await read("read an application") { db in
            try db.fetchRow(sql: "SELECT * FROM applications WHERE name = ?", arguments: [name])
                .map(SQLiteCoding.application)
        }
    }

    public func application(id: ApplicationID) async throws -> Application? {
        try await read("read an application") { db in
            try db.fetchRow(sql: "SELECT * FROM applications WHERE id = ?", arguments: [id.rawValue])
                .map(SQLiteCoding.application)
        }
    }

    /// Writes the template, the domain, number matching, the relying party id and the origins;
    /// `false`, and nothing written, for an unknown id.
    public func updateApplicationSettings(_ application: Application, audit: AuditAppend) async throws -> Bool {
        let origins = try SQLiteCoding.origins(application.origins)
        return try await write("update an application") { db in
            try db.run(sql: """
                UPDATE applications SET sms_template = ?, domain = ?, push_number_matching = ?, rp_id = ?, origins = ? WHERE id = ?
                """, arguments: [application.smsTemplate, application.domain, application.pushNumberMatching, application.relyingPartyID,
                                 origins, application.id.rawValue])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(audit, db)
            return true
        }
    }

    public func applications() async throws -> [Application] {
        try await read("list applications") { db in
            try db.fetchRows(sql: "SELECT * FROM applications ORDER BY name").map(SQLiteCoding.application)
        }
    }
}
