import Foundation
import TwofoldCore

extension InMemoryStore {
    /// Checks every key first (the factor id among factors and devices, the device id, the
    /// activation hash), then inserts the factor, the device and the event: a conflict writes nothing.
    /// - Throws: `conflict` when the device id, factor id or activation hash is taken.
    public func insertPushDevice(_ device: PushDeviceRecord, factor: FactorRecord, audit: AuditAppend) async throws {
        try withState { state in
            let factorKey = ExactText(factor.id.rawValue)
            guard state.factorOwners[factorKey] == nil else { throw TwofoldError(.conflict, "a factor with id \(factor.id) exists") }
            guard state.pushDevices[ExactText(device.id.rawValue)] == nil else {
                throw TwofoldError(.conflict, "a push device with id \(device.id) exists")
            }
            guard !state.pushDevices.values.contains(where: { ExactText.same($0.factorID.rawValue, device.factorID.rawValue) }) else {
                throw TwofoldError(.conflict, "a push device of factor \(device.factorID) exists")
            }
            if let hash = device.activationHash, state.pushDevices.values.contains(where: { $0.activationHash == hash }) {
                throw TwofoldError(.conflict, "a push device waits with that activation hash")
            }
            let event = try state.chained(audit)
            let user = UserKey(factor.applicationID, factor.userID)
            state.factors[user, default: []].append(AsStored.record(factor))
            state.factorOwners[factorKey] = user
            state.pushDevices[ExactText(device.id.rawValue)] = AsStored.record(device)
            state.record(event)
        }
    }

    public func pushDevice(id: DeviceID) async throws -> PushDeviceRecord? {
        try withState { state in state.pushDevices[ExactText(id.rawValue)] }
    }

    public func pushDevice(activationHash: [UInt8]) async throws -> PushDeviceRecord? {
        try withState { state in state.pushDevices.values.first { $0.activationHash == activationHash } }
    }

    /// Oldest first: creation time, then id in byte order.
    public func pushDevices(applicationID: ApplicationID, userID: UserID) async throws -> [PushDeviceRecord] {
        try withState { state in
            let user = UserKey(applicationID, userID)
            return state.pushDevices.values.filter { UserKey($0.applicationID, $0.userID) == user }
                .sorted { ($0.createdAt, ExactText($0.id.rawValue)) < ($1.createdAt, ExactText($1.id.rawValue)) }
        }
    }

    /// Tests the device's hash and expiry and its factor's status, then writes the device, the
    /// factor and the event, under the one lock: of concurrent callers exactly one wins.
    public func activatePushDevice(_ id: DeviceID, activationHash: [UInt8], publicKey: [UInt8], sealedTransport: [UInt8]?,
                                   transportKind: PushTransportKind, at date: Date, audit: AuditAppend) async throws -> Bool {
        try withState { state in
            let key = ExactText(id.rawValue)
            let at = StoredTime.milliseconds(date)
            guard let device = state.pushDevices[key], device.activationHash == activationHash,
                  let expiry = device.activationExpiresAt, StoredTime.milliseconds(expiry) > at else { return false }
            let user = UserKey(device.applicationID, device.userID)
            guard let index = state.factors[user]?.firstIndex(where: { ExactText.same($0.id.rawValue, device.factorID.rawValue) }),
                  state.factors[user]?[index].status == .pending else { return false }
            let event = try state.chained(audit)
            let activatedAt = StoredTime.date(milliseconds: at)
            state.pushDevices[key]?.publicKey = publicKey
            state.pushDevices[key]?.sealedTransport = sealedTransport
            state.pushDevices[key]?.transportKind = transportKind
            state.pushDevices[key]?.activatedAt = activatedAt
            state.pushDevices[key]?.activationHash = nil
            state.pushDevices[key]?.activationExpiresAt = nil
            state.factors[user]?[index].status = .active
            state.factors[user]?[index].activatedAt = activatedAt
            state.factors[user]?[index].expiresAt = nil
            state.record(event)
            return true
        }
    }

    /// Keeps the later of the stored time and `date`.
    public func touchPushDevice(_ id: DeviceID, at date: Date) async throws {
        try withState { state in
            let key = ExactText(id.rawValue)
            guard let device = state.pushDevices[key] else { return }
            state.pushDevices[key]?.lastUsedAt = Self.later(device.lastUsedAt, date)
        }
    }

    /// Keeps the later of the stored time and `date`.
    public func suspendPushDevice(_ id: DeviceID, until date: Date) async throws {
        try withState { state in
            let key = ExactText(id.rawValue)
            guard let device = state.pushDevices[key] else { return }
            state.pushDevices[key]?.suspendedUntil = Self.later(device.suspendedUntil, date)
        }
    }

    /// Tests and inserts under the one lock: of concurrent callers with one digest exactly one
    /// gets `true`.
    public func rememberDeviceSignature(_ digest: [UInt8], expiresAt: Date) async throws -> Bool {
        try withState { state in
            guard state.deviceSignatures[digest] == nil else { return false }
            state.deviceSignatures[digest] = StoredTime.milliseconds(expiresAt)
            return true
        }
    }

    public func purgeDeviceSignatures(expiredBefore date: Date) async throws -> Int {
        try withState { state in
            let cutoff = StoredTime.milliseconds(date)
            let before = state.deviceSignatures.count
            state.deviceSignatures = state.deviceSignatures.filter { $0.value >= cutoff }
            return before - state.deviceSignatures.count
        }
    }

    /// The later of a stored time and `date`, as stored (whole milliseconds).
    private static func later(_ stored: Date?, _ date: Date) -> Date {
        let milliseconds = max(stored.map(StoredTime.milliseconds) ?? .min, StoredTime.milliseconds(date))
        return StoredTime.date(milliseconds: milliseconds)
    }
}

extension InMemoryStore.State {
    /// Deletes the push device of each factor in `factorIDs` (a device goes with its factor).
    mutating func deletePushDevices(ofFactors factorIDs: Set<InMemoryStore.ExactText>) {
        guard !factorIDs.isEmpty else { return }
        pushDevices = pushDevices.filter { !factorIDs.contains(InMemoryStore.ExactText($0.value.factorID.rawValue)) }
    }
}

extension InMemoryStore.AsStored {
    static func record(_ device: PushDeviceRecord) -> PushDeviceRecord {
        var device = device
        device.activationExpiresAt = date(device.activationExpiresAt)
        device.createdAt = date(device.createdAt)
        device.activatedAt = date(device.activatedAt)
        device.lastUsedAt = date(device.lastUsedAt)
        device.suspendedUntil = date(device.suspendedUntil)
        return device
    }
}
