import Foundation
import GRDB
import TwofoldCore

/// Decoding rows into Twofold's values. Every decoding throws instead of trapping: a value that
/// Twofold never writes (an edited or damaged file) is an `unavailable` store, not a crash.
extension SQLiteCoding {
    static func bytes(_ row: Row, _ column: String) throws -> [UInt8] {
        Array(try row.decode(Data.self, forColumn: column))
    }

    static func optionalDate(_ row: Row, _ column: String) throws -> Date? {
        try row.decode(Int64?.self, forColumn: column).map { date(milliseconds: $0) }
    }

    static func bytes(_ row: Row, _ index: Int) throws -> [UInt8] {
        Array(try row.decode(Data.self, atIndex: index))
    }

    static func optionalDate(_ row: Row, _ index: Int) throws -> Date? {
        try row.decode(Int64?.self, atIndex: index).map { date(milliseconds: $0) }
    }

    /// A string-backed value (an identifier, a factor type or status, an OTP algorithm).
    static func rawValue<Value: RawRepresentable>(_ row: Row, _ index: Int, _ what: String) throws -> Value
    where Value.RawValue == String {
        let text = try row.decode(String.self, atIndex: index)
        guard let value = Value(rawValue: text) else { throw invalid(what, text) }
        return value
    }

    // The rows every attempt reads (factors, recovery codes, the data key, the audit shard head)
    // are selected with these column lists and decoded by position: a lookup by name is a
    // case-insensitive search of the column names for every value, and it ran on the one writer.

    static let factorColumns = "id, app_id, user_id, type, status, created_at, activated_at, expires_at, label, issuer, "
        + "algorithm, digits, period, sealed_secret, last_step, drift"
    static let recoveryCodeColumns = "idx, hash, created_at, used_at"
    static let wrappedKeyColumns = "key_id, wrapped"
    static let headColumns = "shard, head_seq, head_mac, first_seq, first_prev_mac, tag"

    static func applicationID(_ text: String) throws -> ApplicationID {
        guard let id = ApplicationID(rawValue: text) else { throw invalid("application id", text) }
        return id
    }

    static func userID(_ text: String) throws -> UserID {
        do {
            return try UserID(text)
        } catch {
            throw invalid("user id", text)
        }
    }

    static func application(_ row: Row) throws -> Application {
        Application(id: try applicationID(try row.decode(String.self, forColumn: "id")),
                    name: try row.decode(String.self, forColumn: "name"),
                    createdAt: date(milliseconds: try row.decode(Int64.self, forColumn: "created_at")))
    }

    static func apiKey(_ row: Row) throws -> APIKeyRecord {
        let scopes = try row.decode(String.self, forColumn: "scopes")
        let parsed: Set<APIKeyScope>
        do {
            parsed = try APIKeyRecord.parseScopes(scopes)
        } catch {
            throw invalid("API key scope list", scopes)
        }
        return APIKeyRecord(id: try row.decode(String.self, forColumn: "id"),
                            applicationID: try applicationID(try row.decode(String.self, forColumn: "app_id")),
                            scopes: parsed,
                            secretHash: try bytes(row, "secret_hash"),
                            createdAt: date(milliseconds: try row.decode(Int64.self, forColumn: "created_at")),
                            revokedAt: try optionalDate(row, "revoked_at"))
    }

    /// A row of ``wrappedKeyColumns``.
    static func wrappedKey(_ row: Row) throws -> WrappedKey {
        WrappedKey(keyID: try row.decode(String.self, atIndex: 0), bytes: try bytes(row, 1))
    }

    /// A row of ``factorColumns``.
    static func factor(_ row: Row) throws -> FactorRecord {
        FactorRecord(
            id: try rawValue(row, 0, "factor id"),
            applicationID: try applicationID(try row.decode(String.self, atIndex: 1)),
            userID: try userID(try row.decode(String.self, atIndex: 2)),
            type: try rawValue(row, 3, "factor type"),
            status: try rawValue(row, 4, "factor status"),
            createdAt: date(milliseconds: try row.decode(Int64.self, atIndex: 5)),
            activatedAt: try optionalDate(row, 6),
            expiresAt: try optionalDate(row, 7),
            label: try row.decode(String.self, atIndex: 8),
            issuer: try row.decode(String?.self, atIndex: 9),
            algorithm: try rawValue(row, 10, "OTP algorithm"),
            digits: try row.decode(Int.self, atIndex: 11),
            period: try row.decode(Int.self, atIndex: 12),
            sealedSecret: try bytes(row, 13),
            lastAcceptedStep: try row.decode(Int64?.self, atIndex: 14).map { step(stored: $0) },
            drift: try row.decode(Int.self, atIndex: 15))
    }

    /// A row of ``recoveryCodeColumns``.
    static func recoveryCode(_ row: Row) throws -> RecoveryCodeRecord {
        RecoveryCodeRecord(index: try row.decode(Int.self, atIndex: 0),
                           hash: try bytes(row, 1),
                           createdAt: date(milliseconds: try row.decode(Int64.self, atIndex: 2)),
                           usedAt: try optionalDate(row, 3))
    }

    static func event(_ row: Row) throws -> AuditEvent {
        AuditEvent(
            id: try row.decode(Int64.self, forColumn: "id"),
            shard: try row.decode(Int.self, forColumn: "shard"),
            sequence: try row.decode(Int64.self, forColumn: "seq"),
            timeMilliseconds: try row.decode(Int64.self, forColumn: "time"),
            applicationID: try row.decode(String?.self, forColumn: "app_id"),
            userID: try row.decode(String?.self, forColumn: "user_id"),
            userReference: try row.decode(String?.self, forColumn: "user_ref"),
            actor: try row.decode(String.self, forColumn: "actor"),
            action: try row.decode(String.self, forColumn: "action"),
            outcome: try row.decode(String.self, forColumn: "outcome"),
            reason: try row.decode(String?.self, forColumn: "reason"),
            factorID: try row.decode(String?.self, forColumn: "factor_id"),
            details: try row.decode(String.self, forColumn: "details"),
            previousMAC: try bytes(row, "prev_mac"),
            mac: try bytes(row, "mac"))
    }

    /// A row of ``headColumns``.
    static func head(_ row: Row) throws -> AuditShardHead {
        AuditShardHead(shard: try row.decode(Int.self, atIndex: 0),
                       headSequence: try row.decode(Int64.self, atIndex: 1),
                       headMAC: try bytes(row, 2),
                       firstSequence: try row.decode(Int64.self, atIndex: 3),
                       firstPreviousMAC: try bytes(row, 4),
                       tag: try bytes(row, 5))
    }
}
