import Testing
import TwofoldCore
import TwofoldTesting

/// ``AuditStore``: queries newest first, shards chained from their anchors to their heads, and
/// purges that re-anchor a shard.
@Suite("Audit store conformance")
struct AuditStoreConformance: StoreFixtures {
    /// 30 verification events a minute apart (bob's every third minute, alice's otherwise), then
    /// one deployment-wide event an hour after the first.
    private func appendThirtyOneEvents(to store: any TwofoldStore) async throws {
        for minute in 0..<30 {
            let user = minute.isMultiple(of: 3) ? bob : alice
            try await store.appendAudit(audit(.verification, app, user, at: start.addingTimeInterval(Double(minute) * 60)))
        }
        try await store.appendAudit(audit(.keysRotated, nil, nil, at: start.addingTimeInterval(3_600)))
    }

    @Test("lists events newest first, by application and user, since a time, and page by page", arguments: StoreUnderTest.all)
    func queries(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await appendThirtyOneEvents(to: store)
            let all = try await store.auditEvents(AuditQuery(limit: 100))
            #expect(all.count == 31)
            #expect(all.map(\.id) == all.map(\.id).sorted(by: >), "newest first")
            let aliceOnly = try await store.auditEvents(AuditQuery(applicationID: app, userID: alice, limit: 100))
            #expect(aliceOnly.count == 20)
            #expect(aliceOnly.allSatisfy { $0.userID == alice.rawValue })
            let recent = try await store.auditEvents(AuditQuery(since: start.addingTimeInterval(25 * 60), limit: 100))
            #expect(recent.count == 6)
            let firstPage = try await store.auditEvents(AuditQuery(limit: 10))
            let secondPage = try await store.auditEvents(AuditQuery(beforeID: firstPage.last!.id, limit: 10))
            #expect(firstPage.count == 10 && secondPage.count == 10)
            #expect(Set(firstPage.map(\.id)).isDisjoint(with: secondPage.map(\.id)))
            #expect(secondPage.first!.id < firstPage.last!.id)
        }
    }

    @Test("each shard's events chain from its head's anchor, in sequence order, and end at its head", arguments: StoreUnderTest.all)
    func shardsChain(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await appendThirtyOneEvents(to: store)
            let heads = try await store.auditShardHeads()
            #expect(heads.map(\.shard) == heads.map(\.shard).sorted())
            var total = 0
            for head in heads {
                #expect(head.tag == chain.tag(of: head))
                let events = try await store.auditEvents(shard: head.shard, fromSequence: 0, limit: 1_000)
                total += events.count
                #expect(events.map(\.sequence) == Array(1...head.headSequence))
                var previous = head.firstPreviousMAC
                for event in events {
                    #expect(event.previousMAC == previous)
                    #expect(chain.mac(of: event) == event.mac)
                    previous = event.mac
                }
                #expect(previous == head.headMAC)
                let tail = try await store.auditEvents(shard: head.shard, fromSequence: 2, limit: 1)
                #expect(tail.map(\.sequence) == (head.headSequence >= 2 ? [2] : []))
            }
            #expect(total == 31)
        }
    }

    @Test("a purge deletes the oldest events of each shard and re-anchors its chain", arguments: StoreUnderTest.all)
    func purgeReanchors(_ backend: StoreUnderTest) async throws {
        try await backend.withFreshStore { store in
            for minute in 0..<20 {
                try await store.appendAudit(audit(.verification, app, alice, at: start.addingTimeInterval(Double(minute) * 60)))
            }
            let deleted = try await store.purgeAudit(before: start.addingTimeInterval(12 * 60), chain: chain)
            #expect(deleted == 12)
            let heads = try await store.auditShardHeads()
            let head = try #require(heads.first { $0.headSequence == 20 })
            #expect(head.firstSequence == 13)
            #expect(head.tag == chain.tag(of: head))
            let events = try await store.auditEvents(shard: head.shard, fromSequence: 0, limit: 100)
            #expect(events.map(\.sequence) == Array(13...20))
            #expect(events.first?.previousMAC == head.firstPreviousMAC)
            #expect(try await store.purgeAudit(before: start.addingTimeInterval(12 * 60), chain: chain) == 0)
            #expect(try await store.purgeAudit(before: start.addingTimeInterval(3_600), chain: chain) == 8)
            let emptied = try #require(try await store.auditShardHeads().first { $0.shard == head.shard })
            #expect(emptied.firstSequence == 21)
            #expect(emptied.firstPreviousMAC == emptied.headMAC)
            #expect(emptied.tag == chain.tag(of: emptied))
        }
    }
}
