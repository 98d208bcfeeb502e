import Foundation
import TwofoldCore

/// Security keys as rows, and lists of strings as columns: what ``SQLiteStore``'s security key
/// methods and applications read and write.
extension SQLiteCoding {
    /// Read by position by ``securityKey(_:)``.
    static let securityKeyColumns = "factor_id, app_id, user_id, credential_id, aaguid, transports, attestation_format, "
        + "sign_count, created_at, last_used_at, flagged_at"

    /// A row of ``securityKeyColumns``.
    static func securityKey(_ row: DirectRow) throws -> SecurityKeyRecord {
        let signCount = try row.int64(7)
        guard let counter = UInt32(exactly: signCount) else { throw invalid("security key signature counter", String(signCount)) }
        return SecurityKeyRecord(
            factorID: try rawValue(row, 0, "factor id"),
            applicationID: try applicationID(try row.text(1)),
            userID: try userID(try row.text(2)),
            credentialID: try row.bytes(3),
            aaguid: try row.bytes(4),
            transports: try textList(try row.text(5), "security key transport list"),
            attestationFormat: try row.text(6),
            signCount: counter,
            createdAt: StoredTime.date(milliseconds: try row.int64(8)),
            lastUsedAt: try optionalDate(row, 9),
            flaggedAt: try optionalDate(row, 10))
    }

    /// The values of a new row, in the order of ``securityKeyColumns``.
    static func values(_ key: SecurityKeyRecord) throws -> [SQLiteValue] {
        [.text(key.factorID.rawValue), .text(key.applicationID.rawValue), .text(key.userID.rawValue), .blob(key.credentialID),
         .blob(key.aaguid), .text(try textList(key.transports)), .text(key.attestationFormat), .integer(Int64(key.signCount)),
         .integer(StoredTime.milliseconds(key.createdAt)), .optional(key.lastUsedAt.map(StoredTime.milliseconds)),
         .optional(key.flaggedAt.map(StoredTime.milliseconds))]
    }

    /// A list of strings as one TEXT column: a JSON array, which keeps every string exactly
    /// (whatever characters it holds) and the order.
    static func textList(_ list: [String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(list), as: UTF8.self)
    }

    /// The list a column written by ``textList(_:)`` holds.
    /// - Throws: `unavailable` for text that is no JSON array of strings.
    static func textList(_ text: String, _ what: String) throws -> [String] {
        do {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        } catch {
            throw invalid(what, text)
        }
    }
}
