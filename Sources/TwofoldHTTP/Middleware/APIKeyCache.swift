import Synchronization
import TwofoldCore

/// API keys recently read from the store, by id: what lets `POST …/verify`, the endpoint apps
/// call at every login, skip the store read (and its two thread hops) before its attempt.
///
/// A cached key is only ever trusted by a request whose store transaction checks the key again
/// (``AttemptRequest/apiKeyID``), so a key revoked on any node stops working at once all the
/// same; every other request reads the key from the store. Only the key's record is kept (its
/// id, application, scopes and the SHA-256 of its secret), never a token.
final class APIKeyCache: Sendable {
    /// More keys than this and the cache starts over: deployments have a handful of keys, and a
    /// flood of made-up ids never gets in (only keys the store vouched for are remembered).
    static let capacity = 1024

    private let records = Mutex<[String: APIKeyRecord]>([:])

    func record(id: String) -> APIKeyRecord? {
        records.withLock { $0[id] }
    }

    func remember(_ record: APIKeyRecord) {
        records.withLock { records in
            if records.count >= Self.capacity, records[record.id] == nil { records.removeAll() }
            records[record.id] = record
        }
    }

    func forget(id: String) {
        _ = records.withLock { $0.removeValue(forKey: id) }
    }
}
