import Testing
import TwofoldCore

@Suite("Following the audit log")
struct AuditFollowCursorTests {
    static func event(_ id: Int64, shard: Int, sequence: Int64) -> AuditEvent {
        AuditEvent(id: id, shard: shard, sequence: sequence, timeMilliseconds: 0, applicationID: nil, userID: nil, userReference: nil,
                   actor: "test", action: "verification", outcome: "allow", reason: nil, factorID: nil, details: "{}",
                   previousMAC: [], mac: [])
    }

    @Test("an event that commits after one with a higher id is still shown, once")
    func lateCommit() {
        var cursor = AuditFollowCursor()
        cursor.mark([Self.event(9, shard: 0, sequence: 4)])
        // Id 11 (shard 1) is visible; id 10 (shard 0) is still in its transaction.
        #expect(cursor.take([Self.event(11, shard: 1, sequence: 7), Self.event(9, shard: 0, sequence: 4)]).map(\.id) == [11])
        // Id 10 commits: following by "ids above 11" would never show it.
        #expect(cursor.take([Self.event(11, shard: 1, sequence: 7), Self.event(10, shard: 0, sequence: 5),
                             Self.event(9, shard: 0, sequence: 4)]).map(\.id) == [10])
        #expect(cursor.take([Self.event(11, shard: 1, sequence: 7), Self.event(10, shard: 0, sequence: 5)]).isEmpty)
    }

    @Test("new events come out oldest first, across shards")
    func order() {
        var cursor = AuditFollowCursor()
        let page = [Self.event(14, shard: 2, sequence: 1), Self.event(13, shard: 0, sequence: 1), Self.event(12, shard: 2, sequence: 0)]
        #expect(cursor.take(page).map(\.id) == [12, 13, 14])
    }
}
