import Foundation
import Testing
@testable import TwofoldCore
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

    @Test("a user id removed from events (hiding them from the user's queries and export) is reported; an erasure is not")
    func userIDRemoved() async throws {
        let h = try await history()
        let target = try await sampleEvent(h)
        #expect(try await h.services.administration.erase(h.app, try UserID("user4"), actor: "cli:root"))
        #expect(try await h.services.audit.verifyAudit().isIntact, "an erasure removes the user's id lawfully")
        try h.store.tamperWithAudit { events, _ in
            for index in events.indices where events[index].id == target.id { events[index].userID = nil }
        }
        let report = try await h.services.audit.verifyAudit()
        #expect(report.problems.map(\.kind) == [.edited], "\(report.problems)")
        #expect(report.problems.first?.eventID == target.id)
        #expect(report.problems.first?.message.contains("user id was removed") == true)
    }

    @Test("events appended while verify runs are not tampering; an event past the head that no append wrote is")
    func liveSystem() async throws {
        let h = try await history()
        let appending = AppendsAfterReadingHeads(store: h.store) {
            _ = try await h.services.verification.verify(h.app, try UserID("user1"), code: "000000", actor: "api:key_1")
            _ = try await h.services.verification.verify(h.app, try UserID("user3"), code: "000000", actor: "api:key_1")
        }
        let live = AuditService(store: appending, audit: h.services.audit.audit, clock: h.clock, ids: h.services.audit.ids)
        let report = try await live.verifyAudit()
        #expect(report.isIntact, "\(report.problems)")
        #expect(appending.appended)

        // Someone without the key adds an event after the head and leaves the head as it was.
        let last = try #require(try await h.services.audit.auditEvents(AuditQuery(limit: 1)).first)
        try h.store.tamperWithAudit { events, _ in
            var forged = last
            forged.id = 0
            forged.sequence += 1
            forged.previousMAC = last.mac
            forged.actor = "cli:mallory"
            events.append(forged)
        }
        let tampered = try await h.services.audit.verifyAudit()
        #expect(tampered.problems.contains { $0.kind == .inserted && $0.shard == last.shard && $0.sequence == last.sequence + 1 },
                "\(tampered.problems)")
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

/// An audit store that, the first time the shard heads are read, lets `append` write more
/// events: what a verification of a live system sees.
final class AppendsAfterReadingHeads: AuditStore, @unchecked Sendable {
    let store: InMemoryStore
    let append: @Sendable () async throws -> Void
    private(set) var appended = false

    init(store: InMemoryStore, append: @escaping @Sendable () async throws -> Void) {
        self.store = store
        self.append = append
    }

    func appendAudit(_ audit: AuditAppend) async throws { try await store.appendAudit(audit) }
    func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent] { try await store.auditEvents(query) }
    func auditEvents(shard: Int, fromSequence: Int64, limit: Int) async throws -> [AuditEvent] {
        try await store.auditEvents(shard: shard, fromSequence: fromSequence, limit: limit)
    }
    func purgeAudit(before date: Date, chain: AuditChain) async throws -> Int { try await store.purgeAudit(before: date, chain: chain) }

    func auditShardHeads() async throws -> [AuditShardHead] {
        let heads = try await store.auditShardHeads()
        if !appended {
            appended = true
            try await append()
        }
        return heads
    }
}
