import Foundation
@testable import TwofoldCore
import TwofoldTesting

extension PostgresFixtures {
    /// What `twofold audit verify` reports of a store's chains, under the fixtures' audit keys:
    /// every head's tag, every event's MAC and link, no gap, and the last event the one its head records.
    func verifyAuditChains(_ store: any AuditStore) async throws -> AuditVerification {
        let clock = FixedClock(start)
        return try await AuditService(store: store, audit: AuditRecorder(clock: clock, chain: chain), clock: clock,
                              ids: AuditEventIDs(keyBytes: Array(repeating: 7, count: 32))).verifyAudit()
    }
}
