import Foundation

/// What a key rotation did.
public struct KeyRotationReport: Sendable, Equatable {
    public var sealingKeyID: String
    public var rewrapped: Int
}

/// Master key rotation: re-wrapping stored keys under the sealing master key.
public struct KeyRotationService: Sendable {
    let store: any KeyStore & AuditStore
    let sealer: Sealer
    let audit: AuditRecorder

    /// Re-wraps every data key and system key that another master key wraps under the sealing
    /// (first) master key. Secrets are not touched. Safe while servers run: each key is replaced
    /// with compare-and-set, and every node holding both master keys opens either wrapping.
    public func rotateKeys(actor: String) async throws -> KeyRotationReport {
        let sealingID = sealer.keyring.sealing.id
        var rewrapped = 0
        while true {
            let batch = try await store.keysNotWrapped(by: sealingID, limit: 256)
            if batch.isEmpty { break }
            // A key whose compare-and-set lost to a concurrent rotation is read again next round.
            for stored in batch where try await sealer.rewrap(stored) {
                rewrapped += 1
            }
        }
        if rewrapped > 0 {
            try await store.appendAudit(audit(.keysRotated, nil, nil, actor: actor,
                                              details: ["key_id": sealingID, "rewrapped": String(rewrapped)]))
        }
        return KeyRotationReport(sealingKeyID: sealingID, rewrapped: rewrapped)
    }

    /// The master key ids this engine holds, the sealing one first.
    public var keyIDs: [String] { sealer.keyring.keyIDs }

    /// How many keys each master key id still wraps.
    public func keyUsage() async throws -> [String: Int] {
        try await store.keyUsage()
    }
}
