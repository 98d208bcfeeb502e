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
        try row.decode(Int64?.self, forColumn: column).map { StoredTime.date(milliseconds: $0) }
    }

    static func optionalDate(_ row: DirectRow, _ column: Int32) throws -> Date? {
        try row.optionalInt64(column).map { StoredTime.date(milliseconds: $0) }
    }

    /// A string-backed value (an identifier, a factor type or status, an OTP algorithm).
    static func rawValue<Value: RawRepresentable>(_ row: DirectRow, _ column: Int32, _ what: String) throws -> Value
    where Value.RawValue == String {
        let text = try row.text(column)
        guard let value = Value(rawValue: text) else { throw invalid(what, text) }
        return value
    }

    // The rows every attempt reads (factors, recovery codes, the data key, the audit shard head)
    // are selected with these column lists and read by position from a ``DirectRow``.

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
                    createdAt: StoredTime.date(milliseconds: try row.decode(Int64.self, forColumn: "created_at")),
                    smsTemplate: try row.decode(String?.self, forColumn: "sms_template"),
                    domain: try row.decode(String?.self, forColumn: "domain"),
                    pushNumberMatching: try row.decode(Bool.self, forColumn: "push_number_matching"),
                    relyingPartyID: try row.decode(String?.self, forColumn: "rp_id"),
                    origins: try row.decode(String?.self, forColumn: "origins").map { try textList($0, "application origin list") } ?? [])
    }

    /// An application's origins as their column: NULL for none, else ``textList(_:)``'s JSON array.
    static func origins(_ origins: [String]) throws -> String? {
        origins.isEmpty ? nil : try textList(origins)
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
                            createdAt: StoredTime.date(milliseconds: try row.decode(Int64.self, forColumn: "created_at")),
                            revokedAt: try optionalDate(row, "revoked_at"),
                            mac: try row.decode(Data?.self, forColumn: "mac").map(Array.init))
    }

    /// A row of ``wrappedKeyColumns``.
    static func wrappedKey(_ row: DirectRow) throws -> WrappedKey {
        WrappedKey(keyID: try row.text(0), bytes: try row.bytes(1))
    }

    /// A row of ``factorColumns``.
    static func factor(_ row: DirectRow) throws -> FactorRecord {
        FactorRecord(
            id: try rawValue(row, 0, "factor id"),
            applicationID: try applicationID(try row.text(1)),
            userID: try userID(try row.text(2)),
            type: try rawValue(row, 3, "factor type"),
            status: try rawValue(row, 4, "factor status"),
            createdAt: StoredTime.date(milliseconds: try row.int64(5)),
            activatedAt: try optionalDate(row, 6),
            expiresAt: try optionalDate(row, 7),
            label: try row.text(8),
            issuer: try row.optionalText(9),
            algorithm: try rawValue(row, 10, "OTP algorithm"),
            digits: try row.int(11),
            period: try row.int(12),
            sealedSecret: try row.bytes(13),
            lastAcceptedStep: try row.optionalInt64(14).map { StoredStep.step(stored: $0) },
            drift: try row.int(15))
    }

    /// A row of ``recoveryCodeColumns``.
    static func recoveryCode(_ row: DirectRow) throws -> RecoveryCodeRecord {
        RecoveryCodeRecord(index: try row.int(0),
                           hash: try row.bytes(1),
                           createdAt: StoredTime.date(milliseconds: try row.int64(2)),
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
    static func head(_ row: DirectRow) throws -> AuditShardHead {
        AuditShardHead(shard: try row.int(0),
                       headSequence: try row.int64(1),
                       headMAC: try row.bytes(2),
                       firstSequence: try row.int64(3),
                       firstPreviousMAC: try row.bytes(4),
                       tag: try row.bytes(5))
    }
}
