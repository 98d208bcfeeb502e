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

    /// A string-backed value (an identifier, a factor type or status, an OTP algorithm).
    static func rawValue<Value: RawRepresentable>(_ row: Row, _ column: String, _ what: String) throws -> Value
    where Value.RawValue == String {
        let text = try row.decode(String.self, forColumn: column)
        guard let value = Value(rawValue: text) else { throw invalid(what, text) }
        return value
    }

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

    static func wrappedKey(_ row: Row) throws -> WrappedKey {
        WrappedKey(keyID: try row.decode(String.self, forColumn: "key_id"), bytes: try bytes(row, "wrapped"))
    }

    static func factor(_ row: Row) throws -> FactorRecord {
        FactorRecord(
            id: try rawValue(row, "id", "factor id"),
            applicationID: try applicationID(try row.decode(String.self, forColumn: "app_id")),
            userID: try userID(try row.decode(String.self, forColumn: "user_id")),
            type: try rawValue(row, "type", "factor type"),
            status: try rawValue(row, "status", "factor status"),
            createdAt: date(milliseconds: try row.decode(Int64.self, forColumn: "created_at")),
            activatedAt: try optionalDate(row, "activated_at"),
            expiresAt: try optionalDate(row, "expires_at"),
            label: try row.decode(String.self, forColumn: "label"),
            issuer: try row.decode(String?.self, forColumn: "issuer"),
            algorithm: try rawValue(row, "algorithm", "OTP algorithm"),
            digits: try row.decode(Int.self, forColumn: "digits"),
            period: try row.decode(Int.self, forColumn: "period"),
            sealedSecret: try bytes(row, "sealed_secret"),
            lastAcceptedStep: try row.decode(Int64?.self, forColumn: "last_step").map { step(stored: $0) },
            drift: try row.decode(Int.self, forColumn: "drift"))
    }

    static func recoveryCode(_ row: Row) throws -> RecoveryCodeRecord {
        RecoveryCodeRecord(index: try row.decode(Int.self, forColumn: "idx"),
                           hash: try bytes(row, "hash"),
                           createdAt: date(milliseconds: try row.decode(Int64.self, forColumn: "created_at")),
                           usedAt: try optionalDate(row, "used_at"))
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

    static func head(_ row: Row) throws -> AuditShardHead {
        AuditShardHead(shard: try row.decode(Int.self, forColumn: "shard"),
                       headSequence: try row.decode(Int64.self, forColumn: "head_seq"),
                       headMAC: try bytes(row, "head_mac"),
                       firstSequence: try row.decode(Int64.self, forColumn: "first_seq"),
                       firstPreviousMAC: try bytes(row, "first_prev_mac"),
                       tag: try bytes(row, "tag"))
    }
}
