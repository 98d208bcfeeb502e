import Foundation
import GRDB
import Testing
import TwofoldCore
import TwofoldOTP
import TwofoldTesting

@Suite("Tamper-evident audit log")
struct AuditTests {
    let alice = try! UserID("alice")

    /// A harness with some history: enrollments, verifications, a reset.
    func history() async throws -> EngineHarness {
        let h = try await EngineHarness.make()
        for index in 0..<6 {
            let user = try UserID("user\(index)")
            let (totp, _) = try await h.enrollTOTP(user)
            _ = try await h.engine.verify(h.app, user, code: totp.code(at: h.now), actor: "api:key_1")
            _ = try await h.engine.verify(h.app, user, code: "000000", actor: "api:key_1")
        }
        try await h.engine.reset(h.app, try UserID("user2"), actor: "cli:root")
        return h
    }

    func execute(_ h: EngineHarness, _ sql: String, _ arguments: StatementArguments = []) throws {
        let queue = try DatabaseQueue(path: h.databasePath)
        try queue.write { try $0.execute(sql: sql, arguments: arguments) }
    }

    func sampleEvent(_ h: EngineHarness) async throws -> AuditEvent {
        let events = try await h.engine.auditEvents(AuditQuery(applicationID: h.app, userID: try UserID("user1"), limit: 100))
        return try #require(events.dropFirst().first)
    }

    @Test("every operation is recorded, without codes or secrets, and the log verifies")
    func recorded() async throws {
        let h = try await history()
        defer { h.remove() }
        let events = try await h.engine.auditEvents(AuditQuery(limit: 1_000))
        let actions = Set(events.map(\.action))
        #expect(actions.isSuperset(of: ["application.created", "factor.enrolled", "factor.activated", "verification", "user.reset"]))
        #expect(events.contains { $0.action == "verification" && $0.outcome == "deny" && $0.reason == "invalid_code" })
        #expect(events.allSatisfy { !$0.details.contains("000000") })
        let report = try await h.engine.verifyAudit()
        #expect(report.isIntact, "\(report.problems)")
        #expect(report.eventsChecked == events.count)
    }

    @Test("an edited event is pinpointed")
    func edited() async throws {
        let h = try await history()
        defer { h.remove() }
        let target = try await sampleEvent(h)
        try execute(h, "UPDATE audit_events SET actor = 'cli:mallory' WHERE id = ?", [target.id])
        let report = try await h.engine.verifyAudit()
        #expect(report.problems.map(\.kind) == [.edited])
        #expect(report.problems.first?.eventID == target.id)
    }

    @Test("a deleted event is pinpointed")
    func deleted() async throws {
        let h = try await history()
        defer { h.remove() }
        let target = try await sampleEvent(h)
        try execute(h, "DELETE FROM audit_events WHERE id = ?", [target.id])
        let report = try await h.engine.verifyAudit()
        #expect(!report.isIntact)
        #expect(report.problems.contains { $0.kind == .deleted && $0.shard == target.shard && $0.sequence == target.sequence })
    }

    @Test("an inserted event is pinpointed, also when later events are renumbered to make room")
    func inserted() async throws {
        let h = try await history()
        defer { h.remove() }
        let target = try await sampleEvent(h)
        try execute(h, "UPDATE audit_events SET seq = seq + 1000000 WHERE shard = ? AND seq >= ?", [target.shard, target.sequence])
        try execute(h, "UPDATE audit_events SET seq = seq - 1000000 + 1 WHERE shard = ? AND seq >= 1000000", [target.shard])
        try execute(h, """
            INSERT INTO audit_events (shard, seq, time, app_id, user_id, user_ref, actor, action, outcome, reason, factor_id, details, prev_mac, mac)
            SELECT shard, ?, time, app_id, user_id, user_ref, 'cli:mallory', 'user.unlocked', 'success', NULL, NULL, '{}', prev_mac, mac
            FROM audit_events WHERE id = ?
            """, [target.sequence, target.id])
        try execute(h, "UPDATE audit_shards SET head_seq = head_seq + 1 WHERE shard = ?", [target.shard])
        let report = try await h.engine.verifyAudit()
        #expect(report.problems.contains { $0.kind == .inserted && $0.sequence == target.sequence })
        #expect(report.problems.contains { $0.kind == .head })
    }

    @Test("truncating the newest events and rolling the head back is detected")
    func truncated() async throws {
        let h = try await history()
        defer { h.remove() }
        let target = try await h.engine.auditEvents(AuditQuery(limit: 1)).first!
        try execute(h, "DELETE FROM audit_events WHERE id = ?", [target.id])
        var report = try await h.engine.verifyAudit()
        #expect(report.problems.contains { $0.kind == .deleted && $0.shard == target.shard })
        try execute(h, "UPDATE audit_shards SET head_seq = head_seq - 1, head_mac = ? WHERE shard = ?", [Data(target.previousMAC), target.shard])
        report = try await h.engine.verifyAudit()
        #expect(report.problems.contains { $0.kind == .head && $0.shard == target.shard })
        // Appending onto the doctored head would give it a valid tag again: writes fail closed.
        let user = try UserID(try #require(target.userID))
        await #expect {
            try await h.engine.unlock(h.app, user, actor: "cli:root")
        } throws: { isCode($0, .auditTampered) }
        #expect(try await h.engine.verifyAudit().problems.contains { $0.kind == .head && $0.shard == target.shard })
    }

    @Test("purging old events keeps the remaining chain verifiable")
    func purge() async throws {
        let h = try await history()
        defer { h.remove() }
        let before = try await h.engine.auditEvents(AuditQuery(limit: 1_000)).count
        h.clock.advance(by: 91 * 86_400)
        _ = try await h.engine.verify(h.app, alice, code: "123456", actor: "test")
        let deleted = try await h.engine.purgeAudit(olderThan: 90 * 86_400, actor: "cli:root")
        #expect(deleted == before)
        let report = try await h.engine.verifyAudit()
        #expect(report.isIntact, "\(report.problems)")
        #expect(try await h.engine.auditEvents(AuditQuery(limit: 1_000)).map(\.action).sorted() == ["audit.purged", "verification"])
    }
}
