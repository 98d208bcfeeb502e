import Foundation

/// Wrapped data keys (one per user) and system keys (audit MAC and pseudonym keys), and their
/// re-wrapping under a new master key.
public protocol KeyStore: Sendable {
    func wrappedDataKey(applicationID: ApplicationID, userID: UserID) async throws -> WrappedKey?
    /// Stores `key` unless the user already has one, and returns the one stored.
    func insertDataKeyIfAbsent(applicationID: ApplicationID, userID: UserID, key: WrappedKey) async throws -> WrappedKey
    func systemKey(named name: String) async throws -> WrappedKey?
    /// Stores `key` unless one by that name exists, and returns the one stored.
    func insertSystemKeyIfAbsent(named name: String, key: WrappedKey) async throws -> WrappedKey
    /// Up to `limit` keys wrapped under another master key than `keyID`.
    func keysNotWrapped(by keyID: String, limit: Int) async throws -> [StoredKey]
    /// Replaces `old` with `new` only if the stored value is still `old`; returns whether it did.
    func rewrap(_ owner: StoredKey.Owner, from old: WrappedKey, to new: WrappedKey) async throws -> Bool
    /// How many keys each master key id wraps.
    func keyUsage() async throws -> [String: Int]
}

/// A wrapped key and what it belongs to.
public struct StoredKey: Sendable, Equatable {
    public enum Owner: Sendable, Equatable {
        case user(ApplicationID, UserID)
        case system(String)
    }

    public var owner: Owner
    public var key: WrappedKey

    public init(owner: Owner, key: WrappedKey) {
        self.owner = owner
        self.key = key
    }
}
