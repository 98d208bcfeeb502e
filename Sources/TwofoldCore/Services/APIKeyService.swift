import Crypto
import Foundation

/// A key just created: `secret` is the whole bearer token, shown once.
public struct CreatedAPIKey: Sendable {
    public let record: APIKeyRecord
    /// `tf_<id>_<secret>`; only its SHA-256 is stored.
    public let token: String
}

/// API keys: creating, authenticating and revoking the bearer tokens callers present.
public struct APIKeyService: Sendable {
    let store: any APIKeyStore
    let audit: AuditRecorder
    let clock: any WallClock
    let random: any RandomSource
    let integrity: APIKeyIntegrity

    /// Creates an API key for an application.
    public func createAPIKey(_ applicationID: ApplicationID, scopes: Set<APIKeyScope>, actor: String) async throws -> CreatedAPIKey {
        guard !scopes.isEmpty else { throw TwofoldError(.invalidRequest, "give at least one scope: verify, enroll or admin") }
        let id = "key_" + IdentifierAlphabet.encode(random.bytes(10))
        let secret = IdentifierAlphabet.encode(random.bytes(16)) + IdentifierAlphabet.encode(random.bytes(16))
        let record = integrity.sealed(APIKeyRecord(id: id, applicationID: applicationID, scopes: scopes,
                                                   secretHash: Self.hashAPIKeySecret(secret), createdAt: clock.now()))
        try await store.insertAPIKey(record, audit: audit(.apiKeyCreated, applicationID, nil, actor: actor,
                                                          details: ["key_id": id, "scopes": record.scopesText]))
        return CreatedAPIKey(record: record, token: "tf_\(id)_\(secret)")
    }

    /// The key a bearer token names, if the token is genuine and the key not revoked.
    public func authenticate(token: String) async throws -> APIKeyRecord? {
        guard let token = APIKeyToken(token[...]) else { return nil }
        return try await authenticate(token)
    }

    /// The key `token` names, read from the store, if the token is genuine, the key not revoked
    /// and its row as Twofold wrote it.
    /// - Throws: `unauthorized` for a row whose MAC does not hold (the database was edited).
    public func authenticate(_ token: APIKeyToken) async throws -> APIKeyRecord? {
        guard let record = try await store.apiKey(id: token.keyID), record.revokedAt == nil, token.matches(record) else { return nil }
        guard integrity.holds(record) else {
            throw TwofoldError(.unauthorized, "API key \(record.id) is refused: its row in the database was not written by Twofold (its MAC does not hold)")
        }
        return record
    }

    /// Whether a key's row is as Twofold wrote it (`twofold apikey list` shows it).
    public func isIntact(_ record: APIKeyRecord) -> Bool {
        integrity.holds(record)
    }

    /// Gives the keys of the previous version their MAC, once, right after the migration that
    /// introduced MACs (``APIKeyStore/apiKeysAwaitingMAC()``); returns how many.
    func sealMigratedKeys() async throws -> Int {
        var sealed = 0
        for id in try await store.apiKeysAwaitingMAC() {
            guard let record = try await store.apiKey(id: id), record.mac == nil else { continue }
            if try await store.setMissingAPIKeyMAC(id: id, mac: integrity.mac(record)) { sealed += 1 }
        }
        return sealed
    }

    public func apiKeys(_ applicationID: ApplicationID?) async throws -> [APIKeyRecord] {
        try await store.apiKeys(applicationID: applicationID)
    }

    /// Revokes a key; effective at once on every node.
    /// - Throws: `not_found` for an unknown or already revoked key.
    public func revokeAPIKey(id: String, actor: String) async throws {
        guard let record = try await store.apiKey(id: id) else { throw TwofoldError.notFound("API key \(id)") }
        var revokedRecord = record
        revokedRecord.revokedAt = StoredTime.date(milliseconds: StoredTime.milliseconds(clock.now()))
        let revoked = try await store.revokeAPIKey(id: id, at: revokedRecord.revokedAt!, mac: integrity.mac(revokedRecord),
                                                   audit: audit(.apiKeyRevoked, record.applicationID, nil, actor: actor, details: ["key_id": id]))
        guard revoked else { throw TwofoldError.notFound("active API key \(id)") }
    }

    /// SHA-256 of a token's secret part, as stored.
    public static func hashAPIKeySecret(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }
}

/// A bearer token taken apart: `tf_key_<16 characters>_<52 characters>` names the key
/// `key_<16 characters>`, and the rest is the secret whose SHA-256 the store holds.
public struct APIKeyToken: Sendable {
    /// The id of the key the token names (not a proof of anything by itself).
    public let keyID: String
    private let secret: Substring

    /// Nil when `text` (without surrounding spaces and tabs) does not have the shape of a
    /// Twofold API key.
    public init?(_ text: Substring) {
        // By byte offsets rather than `split`: this runs on every authenticated request.
        let token = APIKeyRecord.trimmed(text)
        let bytes = token.utf8
        guard bytes.count == Self.length, bytes.starts(with: Self.prefix.utf8) else { return nil }
        let idStart = bytes.index(bytes.startIndex, offsetBy: Self.prefix.utf8.count)
        let idEnd = bytes.index(idStart, offsetBy: 16)
        guard bytes[idEnd] == UInt8(ascii: "_") else { return nil }
        let secretStart = bytes.index(after: idEnd)
        // ASCII only (so these byte offsets are character offsets too), and no other `_`.
        let isPart = { (byte: UInt8) in byte < 0x80 && byte != UInt8(ascii: "_") }
        guard bytes[idStart..<idEnd].allSatisfy(isPart), bytes[secretStart...].allSatisfy(isPart) else { return nil }
        keyID = "key_" + token[idStart..<idEnd]
        secret = token[secretStart...]
    }

    private static let prefix = "tf_key_"
    /// `tf_key_`, the id's 16 characters, `_`, the secret's 52.
    private static let length = 7 + 16 + 1 + 52

    /// Whether this token's secret is `record`'s (constant time), and `record` is the key it names.
    /// Says nothing about revocation.
    public func matches(_ record: APIKeyRecord) -> Bool {
        record.id == keyID && ConstantTime.equal(record.secretHash, APIKeyService.hashAPIKeySecret(String(secret)))
    }
}
