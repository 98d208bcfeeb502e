import Foundation
import Synchronization
import Testing
import TwofoldCore
@testable import TwofoldSQLite

/// Fresh SQLite files in a temporary directory, closed and removed at the end of a test.
final class TemporaryStores: Sendable {
    let directory: URL
    private let opened = Mutex<[SQLiteStore]>([])

    init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-sqlite-\(UUID().uuidString)")
    }

    func path(_ name: String = "twofold.sqlite") -> String {
        directory.appendingPathComponent(name).path
    }

    /// A store on `name` (a new file unless another store already opened it), not migrated.
    func open(_ name: String = "twofold.sqlite", durability: SQLiteDurability = .full) throws -> SQLiteStore {
        let store = try SQLiteStore(path: path(name), durability: durability)
        opened.withLock { $0.append(store) }
        return store
    }

    /// A migrated store on a file of its own.
    func fresh(durability: SQLiteDurability = .full) async throws -> SQLiteStore {
        let store = try open("\(UUID().uuidString).sqlite", durability: durability)
        try await store.migrate()
        return store
    }

    /// Runs `body`, then closes every store it opened and removes the directory.
    static func with<T>(_ body: (TemporaryStores) async throws -> T) async throws -> T {
        let stores = TemporaryStores()
        do {
            let result = try await body(stores)
            await stores.tearDown()
            return result
        } catch {
            await stores.tearDown()
            throw error
        }
    }

    private func tearDown() async {
        for store in opened.withLock({ $0 }) {
            do {
                try await store.close()
            } catch {
                Issue.record(error, "closing \(store.path)")
            }
        }
        do {
            if FileManager.default.fileExists(atPath: directory.path) {
                try FileManager.default.removeItem(at: directory)
            }
        } catch {
            Issue.record(error, "removing \(directory.path)")
        }
    }
}
