import Foundation
import Testing
@testable import TwofoldCore
import TwofoldOTP
import TwofoldTesting

/// Rollback of the audit log to an older genuine state: invisible inside the database, caught
/// against the anchor an earlier verification kept outside it.
@Suite("Audit anchors: rollback past an earlier verification")
struct AuditAnchorTests {
    /// The audit rows as they are now, as a backup or a snapshot of the database holds them.
    struct Copy {
        var events: [AuditEvent] = []
        var heads: [Int: AuditShardHead] = [:]
    }

    static func copy(_ store: InMemoryStore) throws -> Copy {
        var copy = Copy()
        try store.tamperWithAudit { events, heads in copy = Copy(events: events, heads: heads) }
        return copy
    }

    /// Puts `copy` back in place of the audit rows: a restore from that backup.
    static func restore(_ copy: Copy, into store: InMemoryStore) throws {
        try store.tamperWithAudit { events, heads in
            events = copy.events
            heads = copy.heads
        }
    }

    /// Users who each verify a code (one allowed, one refused), spread over several shards.
    static func activity(_ h: ServicesHarness, users: Range<Int>) async throws {
        for index in users {
            let user = try UserID("user\(index)")
            let (totp, _) = try await h.enrollTOTP(user)
            _ = try await h.services.verification.verify(h.app, user, code: totp.code(at: h.now), actor: "api:key_1")
            _ = try await h.services.verification.verify(h.app, user, code: "000000", actor: "api:key_1")
        }
    }

    @Test("a complete older copy verifies on its own, and is reported against the anchor taken since")
    func restoredBackup() async throws {
        let h = try await ServicesHarness.make()
        try await Self.activity(h, users: 0..<4)
        let backup = try Self.copy(h.store)
        try await Self.activity(h, users: 4..<12)
        let verified = try await h.services.audit.verifyAudit()
        #expect(verified.isIntact, "\(verified.problems)")

        try Self.restore(backup, into: h.store)
        let alone = try await h.services.audit.verifyAudit()
        #expect(alone.isIntact, "without an anchor, a complete older copy is indistinguishable: \(alone.problems)")

        let against = try await h.services.audit.verifyAudit(against: verified.anchor)
        #expect(!against.isIntact)
        #expect(against.problems.allSatisfy { $0.kind == .rolledBack }, "\(against.problems)")
        // Every shard that moved on after the backup, and only those, is named.
        let moved = Set(verified.anchor.marks.filter { mark in
            mark.sequence > (backup.heads[mark.shard]?.headSequence ?? 0)
        }.map(\.shard))
        #expect(!moved.isEmpty)
        #expect(Set(against.problems.map(\.shard)) == moved)
        #expect(against.problems.contains { $0.message.contains("the database was rolled back") || $0.message.contains("has no head now") })
    }

    @Test("a shard deleted whole, head and events, is reported against the anchor")
    func deletedShard() async throws {
        let h = try await ServicesHarness.make()
        try await Self.activity(h, users: 0..<6)
        let verified = try await h.services.audit.verifyAudit()
        let target = try #require(verified.anchor.marks.last { $0.shard != 0 && $0.sequence > 0 })
        try h.store.tamperWithAudit { events, heads in
            events.removeAll { $0.shard == target.shard }
            heads[target.shard] = nil
        }
        #expect(try await h.services.audit.verifyAudit().isIntact, "inside the database alone, a missing shard leaves no trace")
        let against = try await h.services.audit.verifyAudit(against: verified.anchor)
        #expect(against.problems.map(\.kind) == [.rolledBack])
        #expect(against.problems.first?.shard == target.shard)
        #expect(against.problems.first?.message.contains("has no head now") == true, "\(against.problems)")
    }

    @Test("a shard rolled back and written again to the same length is reported at the anchor's sequence")
    func rewritten() async throws {
        let h = try await ServicesHarness.make()
        let user = try UserID("alice")
        let (totp, _) = try await h.enrollTOTP(user)
        let backup = try Self.copy(h.store)
        _ = try await h.services.verification.verify(h.app, user, code: totp.code(at: h.now), actor: "api:key_1")
        let verified = try await h.services.audit.verifyAudit()

        // Back to before the verification, then another event takes its place in the chain.
        try Self.restore(backup, into: h.store)
        _ = try await h.services.verification.verify(h.app, user, code: "000000", actor: "api:key_1")
        #expect(try await h.services.audit.verifyAudit().isIntact)
        let against = try await h.services.audit.verifyAudit(against: verified.anchor)
        #expect(against.problems.map(\.kind) == [.rolledBack], "\(against.problems)")
        #expect(against.problems.first?.message.contains("rolled back and written again") == true)
        #expect(against.problems.first?.eventID != nil)
    }

    @Test("events appended and purged since the anchor are no rollback; the new anchor covers them")
    func appendsAndPurges() async throws {
        let h = try await ServicesHarness.make()
        try await Self.activity(h, users: 0..<4)
        let first = try await h.services.audit.verifyAudit()
        try await Self.activity(h, users: 4..<8)
        let second = try await h.services.audit.verifyAudit(against: first.anchor)
        #expect(second.isIntact, "\(second.problems)")
        #expect(second.anchor.marks.count >= first.anchor.marks.count)
        for mark in first.anchor.marks {
            #expect((second.anchor.marks.first { $0.shard == mark.shard }?.sequence ?? -1) >= mark.sequence)
        }
        h.clock.advance(by: 91 * 86_400)
        #expect(try await h.services.audit.purgeAudit(olderThan: 90 * 86_400, actor: "cli:root") > 0)
        let purged = try await h.services.audit.verifyAudit(against: second.anchor)
        #expect(purged.isIntact, "\(purged.problems)")
    }

    @Test("an anchor reads back as written; edited, foreign or malformed ones are refused")
    func anchorText() async throws {
        let h = try await ServicesHarness.make()
        try await Self.activity(h, users: 0..<3)
        let anchor = try await h.services.audit.verifyAudit().anchor
        let text = anchor.text()
        #expect(try h.services.audit.anchor(parsing: Data(text.utf8)) == anchor)

        // A sequence lowered, as someone hiding a rollback would edit it.
        let mark = try #require(anchor.marks.last)
        let edited = text.replacingOccurrences(of: #""shard":\#(mark.shard),"sequence":\#(mark.sequence),"#,
                                               with: #""shard":\#(mark.shard),"sequence":\#(mark.sequence - 1),"#)
        #expect(edited != text)
        #expect { try h.services.audit.anchor(parsing: Data(edited.utf8)) } throws: { isCode($0, .auditTampered) }

        // Another deployment's anchor (another audit key).
        let other = try await ServicesHarness.make()
        #expect { try other.services.audit.anchor(parsing: Data(text.utf8)) } throws: { isCode($0, .auditTampered) }

        for malformed in ["", "[]", "{}", #"{"format":"twofold-audit-anchor-1"}"#,
                          text.replacingOccurrences(of: #""mac":""#, with: #""mac":"zz"#)] {
            #expect { try h.services.audit.anchor(parsing: Data(malformed.utf8)) } throws: { isCode($0, .invalidRequest) }
        }
    }

    @Test("an event given another id, to move it in listings, is pinpointed though its MAC holds")
    func renumbered() async throws {
        let h = try await ServicesHarness.make()
        try await Self.activity(h, users: 0..<2)
        let events = try await h.services.audit.auditEvents(AuditQuery(limit: 1_000))
        let shard = try #require(events.first { $0.userID != nil }?.shard)
        let chain = events.filter { $0.shard == shard }.sorted { $0.sequence < $1.sequence }
        try #require(chain.count >= 3)
        let (earlier, later) = (chain[chain.count - 2], chain[chain.count - 1])
        #expect(try await h.services.audit.verifyAudit().isIntact)
        // The newest event of the shard takes an id below its predecessor's: it now lists
        // before it, and pages where it did not happen.
        try h.store.tamperWithAudit { events, _ in
            for index in events.indices where events[index].id == later.id { events[index].id = earlier.id - 1 }
        }
        let report = try await h.services.audit.verifyAudit()
        #expect(report.problems.map(\.kind) == [.edited], "\(report.problems)")
        #expect(report.problems.first?.eventID == earlier.id - 1)
        #expect(report.problems.first?.message.contains("renumbered") == true)
    }
}
