import Foundation
import PostgresNIO
import TwofoldCore

/// Push devices and the request signatures they were seen to use (``PushDeviceStore``).
///
/// Locks: the activation takes the device's user's advisory lock first, then the factor's row,
/// then the device's, then the event's shard head — the order of a factor's deletion (user,
/// factor, device) and of the purge of lapsed enrollments (factor, device), so that none of them
/// waits for another in the opposite order.
extension PostgresStore {
    /// The factor, the device and the event in one transaction.
    /// - Throws: `conflict` when the device id, factor id or activation hash is taken (a unique
    ///   violation, named by its constraint).
    public func insertPushDevice(_ device: PushDeviceRecord, factor: FactorRecord, audit: AuditAppend) async throws {
        try await transaction("insert push device \(device.id)") { [self] connection in
            try await connection.run(Self.insertFactor(factor), logger: logger)
            try await connection.run("""
                INSERT INTO push_devices (\(unescaped: Self.pushDeviceColumns))
                VALUES (\(device.id.rawValue), \(device.applicationID.rawValue), \(device.userID.rawValue), \(device.factorID.rawValue),
                        \(device.activationHash.map(PostgresColumn.bytes)), \(device.activationExpiresAt.map(StoredTime.milliseconds)),
                        \(device.publicKey.map(PostgresColumn.bytes)), \(device.sealedTransport.map(PostgresColumn.bytes)),
                        \(device.transportKind?.rawValue), \(StoredTime.milliseconds(device.createdAt)),
                        \(device.activatedAt.map(StoredTime.milliseconds)), \(device.lastUsedAt.map(StoredTime.milliseconds)),
                        \(device.suspendedUntil.map(StoredTime.milliseconds)))
                """, logger: logger)
            try await appendAudit(audit, on: connection)
        }
    }

    public func pushDevice(id: DeviceID) async throws -> PushDeviceRecord? {
        try await withConnection("read push device \(id)") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.pushDeviceColumns) FROM push_devices WHERE id = \(id.rawValue)
                """, logger: logger).first.map(Self.pushDevice)
        }
    }

    public func pushDevice(activationHash: [UInt8]) async throws -> PushDeviceRecord? {
        try await withConnection("find a waiting push device") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.pushDeviceColumns) FROM push_devices WHERE activation_hash = \(PostgresColumn.bytes(activationHash))
                """, logger: logger).first.map(Self.pushDevice)
        }
    }

    /// Oldest first: creation time, then id in byte order.
    public func pushDevices(applicationID: ApplicationID, userID: UserID) async throws -> [PushDeviceRecord] {
        try await withConnection("list push devices") { [self] connection in
            try await connection.rows("""
                SELECT \(unescaped: Self.pushDeviceColumns) FROM push_devices
                WHERE app_id = \(applicationID.rawValue) AND user_id = \(userID.rawValue)
                ORDER BY created_at, id COLLATE "C"
                """, logger: logger).map(Self.pushDevice)
        }
    }

    /// Under the user's lock (see above), one statement activates the factor and the device, each
    /// a compare-and-set: the factor only while pending and its device still waits with
    /// `activationHash` unlapsed at `date`, the device only with that factor activated. Of
    /// concurrent callers on any node, the first to hold the lock wins, and the others find the
    /// hash gone.
    public func activatePushDevice(_ id: DeviceID, activationHash: [UInt8], publicKey: [UInt8], sealedTransport: [UInt8]?,
                                   transportKind: PushTransportKind, at date: Date, audit: AuditAppend) async throws -> Bool {
        let at = StoredTime.milliseconds(date)
        let hash = PostgresColumn.bytes(activationHash)
        return try await transaction("activate push device \(id)") { [self] connection in
            guard try await lockDeviceUser(id, on: connection) else { return false }
            let (factors, devices) = try await connection.rows("""
                WITH factor AS (
                    UPDATE factors AS f SET status = 'active', activated_at = \(at), expires_at = NULL
                    FROM push_devices AS d
                    WHERE d.id = \(id.rawValue) AND d.activation_hash = \(hash) AND d.activation_expires_at > \(at)
                      AND f.id = d.factor_id AND f.app_id = d.app_id AND f.user_id = d.user_id AND f.status = 'pending'
                    RETURNING f.id
                ), device AS (
                    UPDATE push_devices AS d
                    SET public_key = \(PostgresColumn.bytes(publicKey)), sealed_transport = \(sealedTransport.map(PostgresColumn.bytes)),
                        transport_kind = \(transportKind.rawValue), activated_at = \(at),
                        activation_hash = NULL, activation_expires_at = NULL
                    FROM factor
                    WHERE d.id = \(id.rawValue) AND d.factor_id = factor.id
                      AND d.activation_hash = \(hash) AND d.activation_expires_at > \(at)
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM factor), (SELECT count(*) FROM device)
                """, logger: logger).first.map { try $0.decode((Int, Int).self) } ?? (0, 0)
            switch (factors, devices) {
            case (0, 0):
                return false
            case (1, 1):
                try await appendAudit(audit, on: connection)
                return true
            default:
                // Thrown to roll the factor's activation back.
                throw TwofoldError(.unavailable, "PostgreSQL could not activate push device \(id): it changed during its activation")
            }
        }
    }

    /// One `UPDATE` keeping the later time: `last_used_at` never moves back.
    public func touchPushDevice(_ id: DeviceID, at date: Date) async throws {
        try await withConnection("record the use of push device \(id)") { [self] connection in
            try await connection.run("""
                UPDATE push_devices SET last_used_at = GREATEST(last_used_at, \(StoredTime.milliseconds(date))) WHERE id = \(id.rawValue)
                """, logger: logger)
        }
    }

    /// One `UPDATE` keeping the later time.
    public func suspendPushDevice(_ id: DeviceID, until date: Date) async throws {
        try await withConnection("suspend push device \(id)") { [self] connection in
            try await connection.run("""
                UPDATE push_devices SET suspended_until = GREATEST(suspended_until, \(StoredTime.milliseconds(date))) WHERE id = \(id.rawValue)
                """, logger: logger)
        }
    }

    /// One insert that does nothing on a remembered digest: of concurrent inserts of one digest,
    /// on any node, the others wait for the first and then do nothing.
    public func rememberDeviceSignature(_ digest: [UInt8], expiresAt: Date) async throws -> Bool {
        try await withConnection("remember a device signature") { [self] connection in
            try await connection.rows("""
                INSERT INTO device_signatures (digest, expires_at) VALUES (\(PostgresColumn.bytes(digest)), \(StoredTime.milliseconds(expiresAt)))
                ON CONFLICT (digest) DO NOTHING
                RETURNING 1
                """, logger: logger).count == 1
        }
    }

    public func purgeDeviceSignatures(expiredBefore date: Date) async throws -> Int {
        try await withConnection("purge device signatures") { [self] connection in
            try await connection.rows("""
                WITH deleted AS (
                    DELETE FROM device_signatures WHERE expires_at < \(StoredTime.milliseconds(date)) RETURNING 1
                )
                SELECT count(*) FROM deleted
                """, logger: logger).first.map { try $0.decode(Int.self) } ?? 0
        }
    }

    /// Takes the advisory lock of the device's user (``lockUser(_:_:on:)``'s, from the row's
    /// application and user, which never change); false when there is no such device.
    private func lockDeviceUser(_ id: DeviceID, on connection: PostgresConnection) async throws -> Bool {
        try await connection.rows("""
            SELECT pg_advisory_xact_lock(hashtextextended(app_id || user_id, 0)) FROM push_devices WHERE id = \(id.rawValue)
            """, logger: logger).count == 1
    }

    // MARK: Rows

    static let pushDeviceColumns = """
        id, app_id, user_id, factor_id, activation_hash, activation_expires_at, public_key, sealed_transport, transport_kind,
        created_at, activated_at, last_used_at, suspended_until
        """

    static func pushDevice(_ row: PostgresRow) throws -> PushDeviceRecord {
        let (id, app, user, factor, activationHash, activationExpiresAt, publicKey, sealedTransport, transportKind,
             createdAt, activatedAt, lastUsedAt, suspendedUntil) = try row.decode(
            (String, String, String, String, ByteBuffer?, Int64?, ByteBuffer?, ByteBuffer?, String?, Int64, Int64?, Int64?, Int64?).self)
        return PushDeviceRecord(
            id: try identifier(id), applicationID: try identifier(app), userID: try userID(user), factorID: try identifier(factor),
            activationHash: activationHash.map(PostgresColumn.bytes), activationExpiresAt: PostgresColumn.date(activationExpiresAt),
            publicKey: publicKey.map(PostgresColumn.bytes), sealedTransport: sealedTransport.map(PostgresColumn.bytes),
            transportKind: try transportKind.map { text throws(TwofoldError) in
                try value(PushTransportKind(rawValue: text), "push transport kind", text)
            },
            createdAt: PostgresColumn.date(createdAt), activatedAt: PostgresColumn.date(activatedAt),
            lastUsedAt: PostgresColumn.date(lastUsedAt), suspendedUntil: PostgresColumn.date(suspendedUntil))
    }
}
