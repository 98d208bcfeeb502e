import Foundation

/// Push devices (one per push factor) and the signatures of their requests seen recently.
///
/// A device's rows go with its factor: every store deletes a user's push devices wherever it
/// deletes their factors (one factor, a reset, an erasure, the purge of lapsed pending ones),
/// in the same transaction.
public protocol PushDeviceStore: Sendable {
    /// Inserts the pending push `factor` and its waiting `device` with `audit`, in one transaction.
    /// - Throws: `conflict` when the device id, factor id or activation hash is taken.
    func insertPushDevice(_ device: PushDeviceRecord, factor: FactorRecord, audit: AuditAppend) async throws
    func pushDevice(id: DeviceID) async throws -> PushDeviceRecord?
    /// The device waiting with this activation hash (activated devices have none).
    func pushDevice(activationHash: [UInt8]) async throws -> PushDeviceRecord?
    /// The user's devices, oldest first (by creation, then id).
    func pushDevices(applicationID: ApplicationID, userID: UserID) async throws -> [PushDeviceRecord]
    /// Activates a waiting device, compare-and-set: only if it still waits with `activationHash`,
    /// the token has not lapsed at `date` (its expiry is after `date`), and its factor is still
    /// pending. Then the device gets its key and transport and is activated at `date`, forgetting
    /// the hash and its expiry; the factor becomes active (activated at `date`, no expiry); and
    /// `audit` is appended — all in one transaction. Of concurrent calls for one device, at most
    /// one returns `true`.
    /// - Returns: whether this call activated it; when not, nothing was written, not even `audit`.
    func activatePushDevice(_ id: DeviceID, activationHash: [UInt8], publicKey: [UInt8], sealedTransport: [UInt8]?,
                            transportKind: PushTransportKind, at date: Date, audit: AuditAppend) async throws -> Bool
    /// Records that the device answered at `date`, in one statement that never moves
    /// `lastUsedAt` back. An unknown device is left alone.
    func touchPushDevice(_ id: DeviceID, at date: Date) async throws
    /// Refuses push challenges to the device until `date`, or a later time already set (one
    /// statement keeps the later of the two). An unknown device is left alone.
    func suspendPushDevice(_ id: DeviceID, until date: Date) async throws
    /// Remembers a request signature's digest until `expiresAt`, in one conditional insert, so
    /// that of two nodes seeing the same signature one accepts it. A digest counts as remembered
    /// while its row is there, lapsed or not: ``purgeDeviceSignatures(expiredBefore:)`` removes
    /// the lapsed ones.
    /// - Returns: `false` when the digest was already remembered (a replay).
    func rememberDeviceSignature(_ digest: [UInt8], expiresAt: Date) async throws -> Bool
    /// Forgets signatures whose window closed before `date` (`expiresAt` earlier than `date`);
    /// returns how many.
    func purgeDeviceSignatures(expiredBefore date: Date) async throws -> Int
}
