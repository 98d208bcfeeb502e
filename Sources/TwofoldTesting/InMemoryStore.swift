import Foundation
import Synchronization
import TwofoldCore

/// A ``TwofoldStore`` held in memory, for tests of the services that need neither a file nor a
/// server. Not a stub: it keeps every rule the SQLite and PostgreSQL stores keep, and passes the
/// same conformance suite (`Tests/TwofoldStoreConformanceTests`), so a test that passes on it
/// passes on them.
///
/// How it keeps the stores' rules:
/// - One lock (a `Mutex` over every table) plays the part of a transaction. A method that takes
///   an ``AuditAppend`` first does everything that can fail (a conflict, `decide`, chaining the
///   event onto its shard's head, which checks the head's tag), and only then writes its change
///   and the event, which cannot fail: both or neither.
/// - A compare-and-set (an accepted step, a used recovery code, a revocation, a re-wrap) tests
///   and writes under that lock, with nothing in between: of concurrent callers exactly one wins.
/// - Times are kept as the databases keep them, in whole milliseconds since the Unix epoch,
///   rounded down (``StoredTime``): a date reads back as SQLite or PostgreSQL would return it.
/// - Text compares byte for byte, as the databases compare it (``ExactText``), not by Swift's
///   canonical equivalence.
/// - ``close()`` drops every table, and every later call fails with `unavailable`.
public final class InMemoryStore: TwofoldStore {
    private let state = Mutex(State())

    /// An empty store, ready for use (``migrate()`` has nothing to create, but may be called).
    public init() {}

    // MARK: - Lifecycle

    /// Nothing to create or upgrade: the tables exist from `init`.
    /// - Returns: No version: there is no schema to migrate.
    /// - Throws: `unavailable` once the store is closed.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try withState { _ in [] }
    }

    /// - Throws: `unavailable` once the store is closed.
    public func ping() async throws {
        try withState { _ in }
    }

    /// Drops every table; later calls fail with `unavailable`. Closing again does nothing.
    public func close() async throws {
        state.withLock { $0 = State(closed: true) }
    }

    // MARK: - Access

    /// Runs `body` on the tables under the store's lock (the in-memory transaction).
    /// - Throws: `unavailable` when the store is closed; whatever `body` throws.
    func withState<Result: Sendable>(_ body: (inout State) throws -> Result) throws -> Result {
        try state.withLock { state in
            guard !state.closed else { throw TwofoldError(.unavailable, "the in-memory store is closed") }
            return try body(&state)
        }
    }
}
