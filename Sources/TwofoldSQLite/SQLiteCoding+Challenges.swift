import Foundation
import TwofoldCore

/// Challenges as rows: what ``SQLiteStore``'s challenge methods and its attempts read and write.
extension SQLiteCoding {
    /// Read by position by ``challenge(_:)``; the attempt's snapshot selects these too.
    static let challengeColumns = "id, app_id, user_id, factor_id, type, mode, purpose, status, reason, created_at, expires_at, "
        + "finished_at, code_hash, failed_attempts, max_attempts, context, delivery_provider, delivery_status, "
        + "delivery_reference, delivery_attempt"

    /// A row of ``challengeColumns``.
    static func challenge(_ row: DirectRow) throws -> ChallengeRecord {
        let delivery: ChallengeDelivery?
        if let provider = try row.optionalText(16) {
            delivery = ChallengeDelivery(provider: provider, status: try row.text(17), providerReference: try row.optionalText(18),
                                         attempt: try row.int(19))
        } else {
            delivery = nil
        }
        return ChallengeRecord(
            id: try rawValue(row, 0, "challenge id"),
            applicationID: try applicationID(try row.text(1)),
            userID: try userID(try row.text(2)),
            factorID: try rawValue(row, 3, "factor id"),
            type: try rawValue(row, 4, "challenge type"),
            mode: try rawValue(row, 5, "challenge mode"),
            purpose: try rawValue(row, 6, "challenge purpose"),
            status: try rawValue(row, 7, "challenge status"),
            reason: try row.optionalText(8).map(ChallengeReason.init(rawValue:)),
            createdAt: StoredTime.date(milliseconds: try row.int64(9)),
            expiresAt: StoredTime.date(milliseconds: try row.int64(10)),
            finishedAt: try optionalDate(row, 11),
            codeHash: try row.optionalBytes(12),
            failedAttempts: try row.int(13),
            maxAttempts: try row.int(14),
            context: try context(try row.text(15)),
            delivery: delivery)
    }

    /// The values of a new row, in the order of ``challengeColumns``.
    static func values(_ challenge: ChallengeRecord) throws -> [SQLiteValue] {
        [.text(challenge.id.rawValue), .text(challenge.applicationID.rawValue), .text(challenge.userID.rawValue),
         .text(challenge.factorID.rawValue), .text(challenge.type.rawValue), .text(challenge.mode.rawValue),
         .text(challenge.purpose.rawValue), .text(challenge.status.rawValue), .optional(challenge.reason?.rawValue),
         .integer(StoredTime.milliseconds(challenge.createdAt)), .integer(StoredTime.milliseconds(challenge.expiresAt)),
         .optional(challenge.finishedAt.map(StoredTime.milliseconds)), .optional(challenge.codeHash),
         .integer(challenge.failedAttempts), .integer(challenge.maxAttempts), .text(try contextText(challenge.context))]
            + deliveryValues(challenge.delivery)
    }

    /// `delivery_provider`, `delivery_status`, `delivery_reference`, `delivery_attempt`.
    static func deliveryValues(_ delivery: ChallengeDelivery?) -> [SQLiteValue] {
        guard let delivery else { return [.null, .null, .null, .null] }
        return [.text(delivery.provider), .text(delivery.status), .optional(delivery.providerReference), .integer(delivery.attempt)]
    }

    /// The context as JSON with sorted keys, as every store writes it (absent fields left out).
    static func contextText(_ context: ChallengeContext) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(context), as: UTF8.self)
    }

    /// - Throws: `unavailable` for text Twofold never writes, without quoting it (it holds the
    ///   login page's IP address and user agent).
    static func context(_ text: String) throws -> ChallengeContext {
        do {
            return try JSONDecoder().decode(ChallengeContext.self, from: Data(text.utf8))
        } catch {
            throw TwofoldError(.unavailable, "the SQLite store holds an invalid challenge context")
        }
    }
}
