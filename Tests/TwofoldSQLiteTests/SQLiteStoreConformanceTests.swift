import Testing
import TwofoldTesting
@testable import TwofoldSQLite

/// The shared store conformance suite, against SQLite files: one test per behaviour.
@Suite("SQLite store conformance")
struct SQLiteStoreConformanceTests {
    @Test func applications() async throws { try await conform { try await $0.applications() } }
    @Test func apiKeys() async throws { try await conform { try await $0.apiKeys() } }
    @Test func dataAndSystemKeys() async throws { try await conform { try await $0.dataAndSystemKeys() } }
    @Test func keyRotationCompareAndSet() async throws { try await conform { try await $0.keyRotationCompareAndSet() } }
    @Test func factors() async throws { try await conform { try await $0.factors() } }
    @Test func acceptStepIsCompareAndSet() async throws { try await conform { try await $0.acceptStepIsCompareAndSet() } }
    @Test func activationTurnsPendingActive() async throws { try await conform { try await $0.activationTurnsPendingActive() } }
    @Test func concurrentAttemptsAcceptOnce() async throws { try await conform { try await $0.concurrentAttemptsAcceptOnce() } }
    @Test func throttleLocksWithoutDeciding() async throws { try await conform { try await $0.throttleLocksWithoutDeciding() } }
    @Test func noFactorsDoesNotCount() async throws { try await conform { try await $0.noFactorsDoesNotCount() } }
    @Test func throwingDecisionChangesNothing() async throws { try await conform { try await $0.throwingDecisionChangesNothing() } }
    @Test func attemptChecksTheAPIKey() async throws { try await conform { try await $0.attemptChecksTheAPIKey() } }
    @Test func recoveryCodesAreSingleUse() async throws { try await conform { try await $0.recoveryCodesAreSingleUse() } }
    @Test func resetUnlockAndUsers() async throws { try await conform { try await $0.resetUnlockAndUsers() } }
    @Test func eraseRemovesEverything() async throws { try await conform { try await $0.eraseRemovesEverything() } }
    @Test func auditQueriesAndChains() async throws { try await conform { try await $0.auditQueriesAndChains() } }
    @Test func auditPurgeReanchors() async throws { try await conform { try await $0.auditPurgeReanchors() } }

    private func conform(_ body: (StoreConformance) async throws -> Void) async throws {
        try await TemporaryStores.with { stores in
            try await body(StoreConformance { try await stores.fresh() })
        }
    }
}
