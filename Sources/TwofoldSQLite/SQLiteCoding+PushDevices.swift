import Foundation
import TwofoldCore

/// Push devices as rows: what ``SQLiteStore``'s push device methods read and write.
extension SQLiteCoding {
    /// Read by position by ``pushDevice(_:)``.
    static let pushDeviceColumns = "id, app_id, user_id, factor_id, activation_hash, activation_expires_at, public_key, "
        + "sealed_transport, transport_kind, created_at, activated_at, last_used_at, suspended_until"

    /// A row of ``pushDeviceColumns``.
    static func pushDevice(_ row: DirectRow) throws -> PushDeviceRecord {
        PushDeviceRecord(
            id: try rawValue(row, 0, "device id"),
            applicationID: try applicationID(try row.text(1)),
            userID: try userID(try row.text(2)),
            factorID: try rawValue(row, 3, "factor id"),
            activationHash: try row.optionalBytes(4),
            activationExpiresAt: try optionalDate(row, 5),
            publicKey: try row.optionalBytes(6),
            sealedTransport: try row.optionalBytes(7),
            transportKind: try row.optionalText(8).map { text in
                guard let kind = PushTransportKind(rawValue: text) else { throw invalid("push transport kind", text) }
                return kind
            },
            createdAt: StoredTime.date(milliseconds: try row.int64(9)),
            activatedAt: try optionalDate(row, 10),
            lastUsedAt: try optionalDate(row, 11),
            suspendedUntil: try optionalDate(row, 12))
    }

    /// The values of a new row, in the order of ``pushDeviceColumns``.
    static func values(_ device: PushDeviceRecord) -> [SQLiteValue] {
        [.text(device.id.rawValue), .text(device.applicationID.rawValue), .text(device.userID.rawValue),
         .text(device.factorID.rawValue), .optional(device.activationHash),
         .optional(device.activationExpiresAt.map(StoredTime.milliseconds)), .optional(device.publicKey),
         .optional(device.sealedTransport), .optional(device.transportKind?.rawValue),
         .integer(StoredTime.milliseconds(device.createdAt)), .optional(device.activatedAt.map(StoredTime.milliseconds)),
         .optional(device.lastUsedAt.map(StoredTime.milliseconds)), .optional(device.suspendedUntil.map(StoredTime.milliseconds))]
    }
}
