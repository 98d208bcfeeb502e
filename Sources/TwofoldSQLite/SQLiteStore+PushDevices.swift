import Foundation
import GRDB
import TwofoldCore

extension SQLiteStore {
    /// Inserts the factor, the device and the event in one write transaction.
    /// - Throws: `conflict` when the device id, factor id or activation hash is taken (and then
    ///   nothing was written).
    public func insertPushDevice(_ device: PushDeviceRecord, factor: FactorRecord, audit: AuditAppend) async throws {
        try await write("insert a push device") { db in
            try Self.insert(factor, db)
            do {
                try db.directRun("INSERT INTO push_devices (\(SQLiteCoding.pushDeviceColumns)) VALUES (\(Self.pushDeviceParameters))",
                                 SQLiteCoding.values(device))
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw TwofoldError(.conflict, "a push device with id \(device.id) exists")
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                throw (error.message ?? "").contains("push_devices.factor_id")
                    ? TwofoldError(.conflict, "a push device of factor \(device.factorID) exists")
                    : TwofoldError(.conflict, "a push device waits with that activation hash")
            }
            try Self.appendAudit(audit, db)
        }
    }

    private static let pushDeviceParameters = Array(repeating: "?", count: 13).joined(separator: ", ")

    public func pushDevice(id: DeviceID) async throws -> PushDeviceRecord? {
        try await read("read a push device") { db in
            try db.directFetchOne("SELECT \(SQLiteCoding.pushDeviceColumns) FROM push_devices WHERE id = ?", [.text(id.rawValue)],
                                  SQLiteCoding.pushDevice)
        }
    }

    public func pushDevice(activationHash: [UInt8]) async throws -> PushDeviceRecord? {
        try await read("find a waiting push device") { db in
            try db.directFetchOne("SELECT \(SQLiteCoding.pushDeviceColumns) FROM push_devices WHERE activation_hash = ?",
                                  [.blob(activationHash)], SQLiteCoding.pushDevice)
        }
    }

    /// Oldest first: creation time, then id in byte order.
    public func pushDevices(applicationID: ApplicationID, userID: UserID) async throws -> [PushDeviceRecord] {
        try await read("list push devices") { db in
            try db.directFetchAll("""
                SELECT \(SQLiteCoding.pushDeviceColumns) FROM push_devices WHERE app_id = ? AND user_id = ? ORDER BY created_at, id
                """, [.text(applicationID.rawValue), .text(userID.rawValue)], SQLiteCoding.pushDevice)
        }
    }

    /// One compare-and-set `UPDATE` of the device (its hash, its token's expiry and its factor's
    /// status, tested in the statement that writes), then the factor and the event, in one write
    /// transaction: of concurrent callers the first to reach the writer wins, and the others
    /// find the hash gone.
    public func activatePushDevice(_ id: DeviceID, activationHash: [UInt8], publicKey: [UInt8], sealedTransport: [UInt8]?,
                                   transportKind: PushTransportKind, at date: Date, audit: AuditAppend) async throws -> Bool {
        try await write("activate a push device") { db in
            let at = StoredTime.milliseconds(date)
            try db.directRun("""
                UPDATE push_devices
                SET public_key = ?1, sealed_transport = ?2, transport_kind = ?3, activated_at = ?4,
                    activation_hash = NULL, activation_expires_at = NULL
                WHERE id = ?5 AND activation_hash = ?6 AND activation_expires_at > ?4
                  AND EXISTS (SELECT 1 FROM factors AS f
                              WHERE f.app_id = push_devices.app_id AND f.user_id = push_devices.user_id
                                AND f.id = push_devices.factor_id AND f.status = 'pending')
                """, [.blob(publicKey), .optional(sealedTransport), .text(transportKind.rawValue), .integer(at),
                      .text(id.rawValue), .blob(activationHash)])
            guard db.changesCount == 1 else { return false }
            try db.directRun("""
                UPDATE factors SET status = 'active', activated_at = ?1, expires_at = NULL
                WHERE status = 'pending' AND (app_id, user_id, id) = (SELECT app_id, user_id, factor_id FROM push_devices WHERE id = ?2)
                """, [.integer(at), .text(id.rawValue)])
            guard db.changesCount == 1 else {
                // The device's update saw the factor pending in this very transaction.
                throw TwofoldError(.unavailable, "the SQLite store could not activate push device \(id): its factor changed meanwhile")
            }
            try Self.appendAudit(audit, db)
            return true
        }
    }

    /// One `UPDATE` keeping the later time: `last_used_at` never moves back.
    public func touchPushDevice(_ id: DeviceID, at date: Date) async throws {
        try await write("record a push device's use") { db in
            try db.directRun("UPDATE push_devices SET last_used_at = MAX(COALESCE(last_used_at, ?1), ?1) WHERE id = ?2",
                             [.integer(StoredTime.milliseconds(date)), .text(id.rawValue)])
        }
    }

    /// One `UPDATE` keeping the later time.
    public func suspendPushDevice(_ id: DeviceID, until date: Date) async throws {
        try await write("suspend a push device") { db in
            try db.directRun("UPDATE push_devices SET suspended_until = MAX(COALESCE(suspended_until, ?1), ?1) WHERE id = ?2",
                             [.integer(StoredTime.milliseconds(date)), .text(id.rawValue)])
        }
    }

    /// One insert that does nothing on a remembered digest; the count of rows it changed tells.
    public func rememberDeviceSignature(_ digest: [UInt8], expiresAt: Date) async throws -> Bool {
        try await write("remember a device signature") { db in
            try db.directRun("INSERT INTO device_signatures (digest, expires_at) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING",
                             [.blob(digest), .integer(StoredTime.milliseconds(expiresAt))])
            return db.changesCount == 1
        }
    }

    public func purgeDeviceSignatures(expiredBefore date: Date) async throws -> Int {
        try await write("purge device signatures") { db in
            try db.directRun("DELETE FROM device_signatures WHERE expires_at < ?", [.integer(StoredTime.milliseconds(date))])
            return db.changesCount
        }
    }
}
