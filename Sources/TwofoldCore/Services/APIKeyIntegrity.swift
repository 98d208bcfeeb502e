import Crypto
import Foundation

/// The MAC that binds an API key's row: its id, application, scopes, secret hash and
/// revocation, under a key sealed by the master key like the audit keys. Without it, anyone who
/// could write the `api_keys` table could add a key with every scope, or clear a revocation;
/// with it, such a row is refused.
struct APIKeyIntegrity: Sendable {
    let key: SymmetricKey

    func mac(_ record: APIKeyRecord) -> [UInt8] {
        var text = "twofold api key v1\u{0}\(record.id)\u{0}\(record.applicationID.rawValue)\u{0}\(record.scopesText)\u{0}"
        text += record.secretHash.map { String(format: "%02x", $0) }.joined()
        text += "\u{0}" + (record.revokedAt.map { String(StoredTime.milliseconds($0)) } ?? "-")
        return Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
    }

    /// Whether the row is as Twofold wrote it.
    func holds(_ record: APIKeyRecord) -> Bool {
        guard let stored = record.mac else { return false }
        return ConstantTime.equal(stored, mac(record))
    }

    /// The same key with its MAC.
    func sealed(_ record: APIKeyRecord) -> APIKeyRecord {
        var sealed = record
        sealed.mac = mac(record)
        return sealed
    }
}
