import Foundation
import PostgresNIO
import TwofoldCore
import TwofoldOTP

/// Rows to values: the column lists the queries select, and their decoding.
extension PostgresStore {
    static let factorColumns = """
        id, app_id, user_id, type, status, created_at, activated_at, expires_at, label, issuer, algorithm,
        digits, period, sealed_secret, last_step, drift
        """

    static func factor(_ row: PostgresRow) throws -> FactorRecord {
        let (id, app, user, type, status, createdAt, activatedAt, expiresAt, label, issuer, algorithm,
             digits, period, sealed, lastStep, drift) = try row.decode(
            (String, String, String, String, String, Int64, Int64?, Int64?, String, String?, String,
             Int, Int, ByteBuffer, Int64?, Int).self)
        return FactorRecord(
            id: try identifier(id), applicationID: try identifier(app), userID: try userID(user),
            type: try value(FactorType(rawValue: type), "factor type", type),
            status: try value(FactorStatus(rawValue: status), "factor status", status),
            createdAt: PostgresColumn.date(createdAt), activatedAt: PostgresColumn.date(activatedAt),
            expiresAt: PostgresColumn.date(expiresAt), label: label, issuer: issuer,
            algorithm: try value(OTPAlgorithm(rawValue: algorithm), "algorithm", algorithm),
            digits: digits, period: period, sealedSecret: PostgresColumn.bytes(sealed),
            lastAcceptedStep: lastStep.map { StoredStep.step(stored: $0) }, drift: drift)
    }

    static let auditEventColumns = """
        id, shard, seq, time, app_id, user_id, user_ref, actor, action, outcome, reason, factor_id, details, prev_mac, mac
        """

    static func auditEvent(_ row: PostgresRow) throws -> AuditEvent {
        let (id, shard, sequence, time, app, user, reference, actor, action, outcome, reason, factor, details,
             previousMAC, mac) = try row.decode(
            (Int64, Int, Int64, Int64, String?, String?, String?, String, String, String, String?, String?, String,
             ByteBuffer, ByteBuffer).self)
        return AuditEvent(
            id: id, shard: shard, sequence: sequence, timeMilliseconds: time, applicationID: app, userID: user,
            userReference: reference, actor: actor, action: action, outcome: outcome, reason: reason, factorID: factor,
            details: details, previousMAC: PostgresColumn.bytes(previousMAC), mac: PostgresColumn.bytes(mac))
    }

    static let auditHeadColumns = "shard, head_seq, head_mac, first_seq, first_prev_mac, tag"

    static func auditHead(_ row: PostgresRow) throws -> AuditShardHead {
        let (shard, headSequence, headMAC, firstSequence, firstPreviousMAC, tag) = try row.decode(
            (Int, Int64, ByteBuffer, Int64, ByteBuffer, ByteBuffer).self)
        return AuditShardHead(
            shard: shard, headSequence: headSequence, headMAC: PostgresColumn.bytes(headMAC), firstSequence: firstSequence,
            firstPreviousMAC: PostgresColumn.bytes(firstPreviousMAC), tag: PostgresColumn.bytes(tag))
    }

    static func wrappedKey(_ keyID: String, _ bytes: ByteBuffer) -> WrappedKey {
        WrappedKey(keyID: keyID, bytes: PostgresColumn.bytes(bytes))
    }

    /// A `(key_id, wrapped)` row.
    static func wrappedKey(_ row: PostgresRow) throws -> WrappedKey {
        let (keyID, bytes) = try row.decode((String, ByteBuffer).self)
        return wrappedKey(keyID, bytes)
    }

    // MARK: Stored text to typed values

    static func identifier<ID: PrefixedIdentifier>(_ text: String) throws(TwofoldError) -> ID {
        try value(ID(rawValue: text), "identifier", text)
    }

    static func userID(_ text: String) throws(TwofoldError) -> UserID {
        do {
            return try UserID(text)
        } catch {
            throw TwofoldError(.unavailable, "the database holds an invalid user id: \(error.message)")
        }
    }

    static func value<Value>(_ value: Value?, _ what: String, _ text: String) throws(TwofoldError) -> Value {
        guard let value else {
            throw TwofoldError(.unavailable, "the database holds an unknown \(what) \"\(text)\"")
        }
        return value
    }
}

extension PostgresConnection {
    /// All rows of `query`.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }

    /// Runs a statement whose rows, if any, do not matter.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        _ = try await self.query(query, logger: logger).collect()
    }

    /// Runs a prepared statement whose rows, if any, do not matter.
    func run<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws {
        _ = try await rows(statement, logger: logger)
    }

    /// All rows of a prepared statement, decoded.
    func rows<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws -> [Statement.Row] {
        var rows: [Statement.Row] = []
        for try await row in try await execute(statement, logger: logger) {
            rows.append(row)
        }
        return rows
    }
}
