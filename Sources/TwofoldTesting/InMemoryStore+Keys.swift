import Foundation
import TwofoldCore

extension InMemoryStore {
    public func wrappedDataKey(applicationID: ApplicationID, userID: UserID) async throws -> WrappedKey? {
        try withState { state in
            state.dataKeys[UserKey(applicationID, userID)]
        }
    }

    public func insertDataKeyIfAbsent(applicationID: ApplicationID, userID: UserID, key: WrappedKey) async throws -> WrappedKey {
        try withState { state in
            let user = UserKey(applicationID, userID)
            if let stored = state.dataKeys[user] { return stored }
            state.dataKeys[user] = key
            return key
        }
    }

    public func systemKey(named name: String) async throws -> WrappedKey? {
        try withState { state in
            state.systemKeys[ExactText(name)]
        }
    }

    public func insertSystemKeyIfAbsent(named name: String, key: WrappedKey) async throws -> WrappedKey {
        try withState { state in
            let name = ExactText(name)
            if let stored = state.systemKeys[name] { return stored }
            state.systemKeys[name] = key
            return key
        }
    }

    /// Data keys first (by application and user), then system keys (by name), as the SQLite store lists them.
    public func keysNotWrapped(by keyID: String, limit: Int) async throws -> [StoredKey] {
        try withState { state in
            guard limit > 0 else { return [] }
            let dataKeys = state.dataKeys
                .filter { !ExactText.same($0.value.keyID, keyID) }
                .sorted { UserKey.byColumns($0.key, $1.key) }
                .map { StoredKey(owner: .user($0.key.applicationID, $0.key.userID), key: $0.value) }
            let systemKeys = state.systemKeys
                .filter { !ExactText.same($0.value.keyID, keyID) }
                .sorted { $0.key < $1.key }
                .map { StoredKey(owner: .system(String(decoding: $0.key.bytes, as: UTF8.self)), key: $0.value) }
            return Array((dataKeys + systemKeys).prefix(limit))
        }
    }

    /// Compare-and-set on the whole stored value (master key id and wrapped bytes).
    public func rewrap(_ owner: StoredKey.Owner, from old: WrappedKey, to new: WrappedKey) async throws -> Bool {
        try withState { state in
            switch owner {
            case .user(let applicationID, let userID):
                let user = UserKey(applicationID, userID)
                guard let stored = state.dataKeys[user], Self.isSame(stored, old) else { return false }
                state.dataKeys[user] = new
            case .system(let name):
                let name = ExactText(name)
                guard let stored = state.systemKeys[name], Self.isSame(stored, old) else { return false }
                state.systemKeys[name] = new
            }
            return true
        }
    }

    /// How many data and system keys each master key id wraps.
    public func keyUsage() async throws -> [String: Int] {
        try withState { state in
            var usage: [String: Int] = [:]
            for key in Array(state.dataKeys.values) + Array(state.systemKeys.values) {
                usage[key.keyID, default: 0] += 1
            }
            return usage
        }
    }

    /// Whether two wrapped keys are the same stored value, as the databases compare the columns.
    private static func isSame(_ stored: WrappedKey, _ expected: WrappedKey) -> Bool {
        ExactText.same(stored.keyID, expected.keyID) && stored.bytes == expected.bytes
    }
}
