import Foundation
import Testing
import TwofoldCore
import TwofoldOTP
import TwofoldTesting

@Suite("Tamper-evident audit log")
struct AuditTests {
    let alice = try! UserID("alice")

    /// A harness with some history: enrollments, verifications, a reset.
    func history() async throws -> ServicesHarness {
        let h = try await ServicesHarness.make()
        for index in 0..<6 {
            let user = try UserID("user\(index)")
            let (totp, _) = try await h.enrollTOTP(user)
            _ = try await h.services.verification.verify(h.app, user, code: totp.code(at: h.now), actor: "api:key_1")
            _ = try await h.services.verification.verify(h.app, user, code: "000000", actor: "api:key_1")
        }
        try await h.services.administration.reset(h.app, try UserID("user2"), actor: "cli:root")
        return h
    }


    func sampleEvent(_ h: ServicesHarness) async throws -> AuditEvent {
        let events = try await h.services.audit.auditEvents(AuditQuery(applicationID: h.app, userID: try UserID("user1"), limit: 100))
        return try #require(events.dropFirst().first)
    }

    @Test("every operation is recorded, without codes or secrets, and the log verifies")
    func recorded() async throws {
        let h = try await history()
        let events = try await h.services.audit.auditEvents(AuditQuery(limit: 1_000))
        let actions = Set(events.map(\.action))
        #expect(actions.isSuperset(of: ["application.created", "factor.enrolled", "factor.activated", "verification", "user.reset"]))
        #expect(events.contains { $0.action == "verification" && $0.outcome == "deny" && $0.reason == "invalid_code" })
        #expect(events.allSatisfy { !$0.details.contains("000000") })
        let report = try await h.services.audit.verifyAudit()
        #expect(report.isIntact, "\(report.problems)")
        #expect(report.eventsChecked == events.count)
    }

    @Test("an edited event is pinpointed")
    func edited() async throws {
        let h = try await history()
        let target = try await sampleEvent(h)
        try h.store.tamperWithAudit { events, _ in
            for index in events.indices where events[index].id == target.id { events[index].actor = "cli:mallory" }
        }
        let report = try await h.services.audit.verifyAudit()
        #expect(report.problems.map(\.kind) == [.edited])
        #expect(report.problems.first?.eventID == target.id)
    }

    @Test("a deleted event is pinpointed")
    func deleted() async throws {
        let h = try await history()
        let target = try await sampleEvent(h)
        try h.store.tamperWithAudit { events, _ in events.removeAll { $0.id == target.id } }
        let report = try await h.services.audit.verifyAudit()
        #expect(!report.isIntact)
        #expect(report.problems.contains { $0.kind == .deleted && $0.shard == target.shard && $0.sequence == target.sequence })
    }

    @Test("an inserted event is pinpointed, also when later events are renumbered to make room")
    func inserted() async throws {
        let h = try await history()
        let target = try await sampleEvent(h)
        // Later events renumbered to make room, a forged event (the target's MACs, other fields)
        // put in the gap, and the head moved on by one.
        try h.store.tamperWithAudit { events, heads in
            for index in events.indices where events[index].shard == target.shard && events[index].sequence >= target.sequence {
                events[index].sequence += 1
            }
            var forged = target
            forged.id = 0
            forged.actor = "cli:mallory"
            forged.action = "user.unlocked"
            forged.outcome = "success"
            forged.reason = nil
            forged.factorID = nil
            forged.details = "{}"
            events.append(forged)
            heads[target.shard]?.headSequence += 1
        }
        let report = try await h.services.audit.verifyAudit()
        #expect(report.problems.contains { $0.kind == .inserted && $0.sequence == target.sequence })
        #expect(report.problems.contains { $0.kind == .head })
    }

    @Test("truncating the newest events and rolling the head back is detected")
    func truncated() async throws {
        let h = try await history()
        let target = try await h.services.audit.auditEvents(AuditQuery(limit: 1)).first!
        try h.store.tamperWithAudit { events, _ in events.removeAll { $0.id == target.id } }
        var report = try await h.services.audit.verifyAudit()
        #expect(report.problems.contains { $0.kind == .deleted && $0.shard == target.shard })
        try h.store.tamperWithAudit { _, heads in
            heads[target.shard]?.headSequence -= 1
            heads[target.shard]?.headMAC = target.previousMAC
        }
        report = try await h.services.audit.verifyAudit()
        #expect(report.problems.contains { $0.kind == .head && $0.shard == target.shard })
        // Appending onto the doctored head would give it a valid tag again: writes fail closed.
        let user = try UserID(try #require(target.userID))
        await #expect {
            try await h.services.administration.unlock(h.app, user, actor: "cli:root")
        } throws: { isCode($0, .auditTampered) }
        #expect(try await h.services.audit.verifyAudit().problems.contains { $0.kind == .head && $0.shard == target.shard })
    }

    @Test("purging old events keeps the remaining chain verifiable")
    func purge() async throws {
        let h = try await history()
        let before = try await h.services.audit.auditEvents(AuditQuery(limit: 1_000)).count
        h.clock.advance(by: 91 * 86_400)
        _ = try await h.services.verification.verify(h.app, alice, code: "123456", actor: "test")
        let deleted = try await h.services.audit.purgeAudit(olderThan: 90 * 86_400, actor: "cli:root")
        #expect(deleted == before)
        let report = try await h.services.audit.verifyAudit()
        #expect(report.isIntact, "\(report.problems)")
        #expect(try await h.services.audit.auditEvents(AuditQuery(limit: 1_000)).map(\.action).sorted() == ["audit.purged", "verification"])
    }
}
