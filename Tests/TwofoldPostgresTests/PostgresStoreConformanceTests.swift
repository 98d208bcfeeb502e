import Testing
import TwofoldTesting

/// The shared store conformance suite, against PostgreSQL: one test case per behaviour, each on a
/// database of its own.
@Suite("PostgreSQL store conformance")
struct PostgresStoreConformanceTests {
    @Test("every behaviour of the shared suite", arguments: StoreConformance.Check.allCases)
    func conformance(_ check: StoreConformance.Check) async throws {
        try await conform { try await $0.run(check) }
    }

    private func conform(_ body: (StoreConformance) async throws -> Void) async throws {
        try await PostgresTestDatabase.with { database in
            try await body(StoreConformance { try await database.makeStore() })
        }
    }
}
