import Testing
import TwofoldTesting
@testable import TwofoldSQLite

/// The shared store conformance suite, against SQLite files: one test case per behaviour.
@Suite("SQLite store conformance")
struct SQLiteStoreConformanceTests {
    @Test("every behaviour of the shared suite", arguments: StoreConformance.Check.allCases)
    func conformance(_ check: StoreConformance.Check) async throws {
        try await conform { try await $0.run(check) }
    }

    private func conform(_ body: (StoreConformance) async throws -> Void) async throws {
        try await TemporaryStores.with { stores in
            try await body(StoreConformance { try await stores.fresh() })
        }
    }
}
