import Foundation
import Synchronization
import TwofoldCore
@testable import TwofoldSQLite

/// Holds the store's writer busy (a write that waits) so that the requests sent meanwhile are
/// queued, and all committed by the next drain, in one transaction.
final class WriterGate: Sendable {
    private let state = Mutex((started: false, released: false))

    /// Starts the blocking write and returns once it runs on the writer.
    static func close(_ store: SQLiteStore) async throws -> (WriterGate, Task<Void, any Error>) {
        let gate = WriterGate()
        let task = Task {
            try await store.write("hold the writer") { _ in gate.hold() }
        }
        try await waitUntil("the gate holds the writer") { gate.state.withLock { $0.started } }
        return (gate, task)
    }

    func open() {
        state.withLock { $0.released = true }
    }

    private func hold() {
        state.withLock { $0.started = true }
        let deadline = Date().addingTimeInterval(30)
        while !state.withLock({ $0.released }), Date() < deadline {
            usleep(1_000)
        }
    }
}

/// Polls `condition` every millisecond for up to 30 s.
func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(30)
    while !condition() {
        guard Date() < deadline else { throw TwofoldError(.unavailable, "timed out waiting until \(what)") }
        try await Task.sleep(for: .milliseconds(1))
    }
}
