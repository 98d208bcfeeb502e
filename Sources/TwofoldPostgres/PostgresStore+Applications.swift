import Foundation
import PostgresNIO
import TwofoldCore

extension PostgresStore {
    public func insertApplication(_ application: Application, audit: AuditAppend) async throws {
        try await transaction("create application \"\(application.name)\"") { [self] connection in
            try await connection.run("""
                INSERT INTO applications (id, name, created_at, sms_template, domain, push_number_matching, rp_id, origins)
                VALUES (\(application.id.rawValue), \(application.name), \(StoredTime.milliseconds(application.createdAt)),
                        \(application.smsTemplate), \(application.domain), \(application.pushNumberMatching),
                        \(application.relyingPartyID), \(application.origins))
                """, logger: logger)
            try await appendAudit(audit, on: connection)
        }
    }

    public func application(named name: String) async throws -> Application? {
        try await withConnection("read application \"\(name)\"") { [self] connection in
            try await connection.rows("SELECT \(unescaped: Self.applicationColumns) FROM applications WHERE name = \(name)", logger: logger)
                .first.map(Self.application)
        }
    }

    public func application(id: ApplicationID) async throws -> Application? {
        try await withConnection("read application \(id)") { [self] connection in
            try await connection.rows("SELECT \(unescaped: Self.applicationColumns) FROM applications WHERE id = \(id.rawValue)", logger: logger)
                .first.map(Self.application)
        }
    }

    public func applications() async throws -> [Application] {
        try await withConnection("list applications") { [self] connection in
            try await connection.rows("SELECT \(unescaped: Self.applicationColumns) FROM applications ORDER BY name COLLATE \"C\"", logger: logger)
                .map(Self.application)
        }
    }

    /// Writes the template, the domain, number matching, the relying party id and the origins;
    /// `false`, and nothing written, for an unknown id.
    public func updateApplicationSettings(_ application: Application, audit: AuditAppend) async throws -> Bool {
        try await transaction("update application \(application.id)") { [self] connection in
            let updated = try await connection.rows("""
                UPDATE applications
                SET sms_template = \(application.smsTemplate), domain = \(application.domain),
                    push_number_matching = \(application.pushNumberMatching), rp_id = \(application.relyingPartyID),
                    origins = \(application.origins)
                WHERE id = \(application.id.rawValue) RETURNING 1
                """, logger: logger).count == 1
            if updated {
                try await appendAudit(audit, on: connection)
            }
            return updated
        }
    }

    private static let applicationColumns = "id, name, created_at, sms_template, domain, push_number_matching, rp_id, origins"

    private static func application(_ row: PostgresRow) throws -> Application {
        let (id, name, createdAt, template, domain, numberMatching, relyingPartyID, origins) = try row.decode(
            (String, String, Int64, String?, String?, Bool, String?, [String]).self)
        return Application(id: try identifier(id), name: name, createdAt: PostgresColumn.date(createdAt), smsTemplate: template, domain: domain,
                           pushNumberMatching: numberMatching, relyingPartyID: relyingPartyID, origins: origins)
    }

    // MARK: API keys

    public func insertAPIKey(_ key: APIKeyRecord, audit: AuditAppend) async throws {
        try await transaction("create API key \(key.id)") { [self] connection in
            try await connection.run("""
                INSERT INTO api_keys (id, app_id, scopes, secret_hash, created_at, revoked_at, mac)
                VALUES (\(key.id), \(key.applicationID.rawValue), \(key.scopesText), \(PostgresColumn.bytes(key.secretHash)),
                        \(StoredTime.milliseconds(key.createdAt)), \(key.revokedAt.map(StoredTime.milliseconds)),
                        \(key.mac.map(PostgresColumn.bytes)))
                """, logger: logger)
            try await appendAudit(audit, on: connection)
        }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await withConnection("read API key \(id)") { [self] connection in
            try await connection.rows("SELECT \(unescaped: Self.apiKeyColumns) FROM api_keys WHERE id = \(id)", logger: logger)
                .first.map(Self.apiKey)
        }
    }

    public func apiKeys(applicationID: ApplicationID?) async throws -> [APIKeyRecord] {
        try await withConnection("list API keys") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.apiKeyColumns) FROM api_keys
                WHERE \(applicationID?.rawValue)::TEXT IS NULL OR app_id = \(applicationID?.rawValue)
                ORDER BY created_at, id
                """, logger: logger).map(Self.apiKey)
        }
    }

    public func revokeAPIKey(id: String, at date: Date, mac: [UInt8]?, audit: AuditAppend) async throws -> Bool {
        try await transaction("revoke API key \(id)") { [self] connection in
            let revoked = try await connection.rows("""
                UPDATE api_keys SET revoked_at = \(StoredTime.milliseconds(date)), mac = coalesce(\(mac.map(PostgresColumn.bytes))::BYTEA, mac)
                WHERE id = \(id) AND revoked_at IS NULL RETURNING 1
                """, logger: logger).count == 1
            if revoked {
                try await appendAudit(audit, on: connection)
            }
            return revoked
        }
    }

    public func apiKeysAwaitingMAC() async throws -> [String] {
        migratedAPIKeys.withLock { ids in
            defer { ids = [] }
            return ids
        }
    }

    public func setMissingAPIKeyMAC(id: String, mac: [UInt8]) async throws -> Bool {
        try await withConnection("seal API key \(id)") { [self] connection in
            try await connection.rows("""
                UPDATE api_keys SET mac = \(PostgresColumn.bytes(mac)) WHERE id = \(id) AND mac IS NULL RETURNING 1
                """, logger: logger).count == 1
        }
    }

    private static let apiKeyColumns = "id, app_id, scopes, secret_hash, created_at, revoked_at, mac"

    private static func apiKey(_ row: PostgresRow) throws -> APIKeyRecord {
        let (id, app, scopes, hash, createdAt, revokedAt, mac) = try row.decode((String, String, String, ByteBuffer, Int64, Int64?, ByteBuffer?).self)
        let parsedScopes: Set<APIKeyScope>
        do {
            parsedScopes = try APIKeyRecord.parseScopes(scopes)
        } catch {
            throw TwofoldError(.unavailable, "API key \(id) has unreadable scopes: \(error.message)")
        }
        return APIKeyRecord(id: id, applicationID: try identifier(app), scopes: parsedScopes, secretHash: PostgresColumn.bytes(hash),
                            createdAt: PostgresColumn.date(createdAt), revokedAt: PostgresColumn.date(revokedAt),
                            mac: mac.map(PostgresColumn.bytes))
    }
}
