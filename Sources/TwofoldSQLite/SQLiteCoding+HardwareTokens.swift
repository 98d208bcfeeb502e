import Foundation
import TwofoldCore
import TwofoldOTP

/// Hardware tokens as rows.
extension SQLiteCoding {
    /// Read by position by ``hardwareToken(_:)``.
    static let hardwareTokenColumns = "app_id, serial, type, algorithm, digits, period, counter, sealed_secret, manufacturer, "
        + "imported_at, user_id, factor_id, assigned_at"

    /// A row of ``hardwareTokenColumns``.
    static func hardwareToken(_ row: DirectRow) throws -> HardwareTokenRecord {
        HardwareTokenRecord(
            applicationID: try applicationID(try row.text(0)),
            serial: try row.text(1),
            type: try rawValue(row, 2, "hardware token type"),
            algorithm: try rawValue(row, 3, "hardware token algorithm"),
            digits: Int(try row.int64(4)),
            period: Int(try row.int64(5)),
            counter: StoredStep.step(stored: try row.int64(6)),
            sealedSecret: try row.bytes(7),
            manufacturer: try row.optionalText(8),
            importedAt: StoredTime.date(milliseconds: try row.int64(9)),
            userID: try row.optionalText(10).map(userID),
            factorID: try row.optionalText(11).map { text in
                guard let id = FactorID(rawValue: text) else { throw invalid("factor id", text) }
                return id
            },
            assignedAt: try optionalDate(row, 12))
    }

    /// The values of a new row, in the order of ``hardwareTokenColumns``; the counter stored as
    /// steps are (``StoredStep``), so that it compares with a factor's last step in SQL.
    static func values(_ token: HardwareTokenRecord) -> [SQLiteValue] {
        [.text(token.applicationID.rawValue), .text(token.serial), .text(token.type.rawValue), .text(token.algorithm.rawValue),
         .integer(token.digits), .integer(token.period), .integer(StoredStep.stored(token.counter)), .blob(token.sealedSecret),
         .optional(token.manufacturer), .integer(StoredTime.milliseconds(token.importedAt)), .optional(token.userID?.rawValue),
         .optional(token.factorID?.rawValue), .optional(token.assignedAt.map(StoredTime.milliseconds))]
    }
}
