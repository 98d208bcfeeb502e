import Foundation
import PostgresNIO
import Testing
import TwofoldCore
@testable import TwofoldPostgres
import TwofoldPostgresTesting
import TwofoldTesting

/// `twofold_record_attempts`, which writes a batch of attempts decided on what one statement read
/// (see `PostgresStore+AttemptBatch.swift`): it writes everything when nothing changed since that
/// read, and nothing at all when a head, a throttle state or a step did.
@Suite("PostgreSQL: recording attempts decided on an earlier read")
struct PostgresAttemptRecordingTests: PostgresFixtures {
    /// What happens between the read and the write.
    enum Change: String, CaseIterable {
        case nothing
        case headMoved = "another event was appended to the shard"
        case throttleChanged = "the user's failure count changed"
        case stepTaken = "another node accepted the step"
    }

    @Test("a batch is written whole when nothing changed since its read, and not at all otherwise", arguments: Change.allCases)
    func writesOnlyWhatWasRead(_ change: Change) async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.makeStore(maximumConnections: 2)
            let factor = aliceFactor("a", lastAcceptedStep: 41)
            try await store.insertFactor(factor, audit: audit("enrolled"))
            let shard = chain.shard(applicationID: app, userID: alice)
            let seen = try #require(try await store.auditShardHeads().first { $0.shard == shard })

            // What a batch's read and decision produce: accept step 42, one event after the head seen.
            let request = AttemptRequest(applicationID: app, userID: alice, purpose: .verify, now: start,
                                         throttle: ThrottlePolicy(), auditShard: shard)
            let loaded = PostgresStore.LoadedAttempt()
            let plan = PostgresStore.AttemptPlan(.acceptStep(factor.id, type: .totp, step: 42, drift: 0, activate: false), request, loaded)
            let (event, next) = try audit("allow").append(after: seen)
            var statement = RecordAttemptsStatement()
            statement.append(0, request, plan, wins: true, seen: loaded)
            statement.append(event)
            statement.append(head: seen, next: next)

            switch change {
            case .nothing:
                break
            case .headMoved:
                try await store.appendAudit(audit("interloper"))
            case .throttleChanged:
                _ = try await database.query("""
                    INSERT INTO user_state (app_id, user_id, failures, locked_until) VALUES (\(app.rawValue), \(alice.rawValue), 1, NULL)
                    """) { _ in () }
            case .stepTaken:
                _ = try await database.query("UPDATE factors SET last_step = \(StoredStep.stored(42))") { _ in () }
            }
            let headBefore = try #require(try await store.auditShardHeads().first { $0.shard == shard })
            let eventsBefore = try await store.auditEvents(AuditQuery(applicationID: app, limit: 100)).count

            let written: Bool
            var lostCompareAndSet = false
            let call = statement
            do {
                let rows = try await store.withConnection("record a batch") { connection in
                    try await connection.rows(call, logger: store.logger)
                }
                #expect(rows.count == 1)
                written = rows == [true]
            } catch {
                // The driver's error is mapped by withConnection: the SQLSTATE stays in its message.
                #expect("\(error)".contains("SQLSTATE \(RecordAttemptsStatement.lostCompareAndSet)"), "\(error)")
                lostCompareAndSet = true
                written = false
            }
            // A lost compare-and-set is an error that rolls the call back; the other changes are seen before any write.
            #expect(lostCompareAndSet == (change == .stepTaken))

            let headAfter = try #require(try await store.auditShardHeads().first { $0.shard == shard })
            let events = try await store.auditEvents(AuditQuery(applicationID: app, limit: 100))
            let step = try await store.factors(applicationID: app, userID: alice).first?.lastAcceptedStep
            if change == .nothing {
                #expect(written)
                #expect(step == 42)
                #expect(headAfter == next)
                #expect(headAfter.tag == chain.tag(of: headAfter))
                #expect(events.count == eventsBefore + 1)
                #expect(events.first?.mac == event.mac)
                #expect(try await store.throttleState(applicationID: app, userID: alice) == nil)
            } else {
                #expect(!written, "\(change.rawValue): the batch was written over it")
                #expect(headAfter == headBefore, "\(change.rawValue): the head moved")
                #expect(events.count == eventsBefore, "\(change.rawValue): an event was written")
                #expect(step == (change == .stepTaken ? 42 : 41))
                #expect(try await store.throttleState(applicationID: app, userID: alice)?.failures == (change == .throttleChanged ? 1 : nil))
            }
        }
    }

    @Test("attempts whose rows changed between their read and their write are recorded again under locks, with the right answers")
    func changedBatchesRunAgainUnderLocks() async throws {
        try await PostgresTestDatabase.with { database in
            // Two pools on one database: their batches for one user race, and each loser runs again under locks.
            let first = try await database.makeStore(maximumConnections: 4)
            let second = try await database.makeStore(maximumConnections: 4)
            let factor = aliceFactor("b", type: .hotp, sealedSecret: [1], lastAcceptedStep: 0)
            try await first.insertFactor(factor, audit: audit("enrolled"))
            let shard = chain.shard(applicationID: app, userID: alice)
            // Counters 1...40, each sent twice (once per pool): each is accepted exactly once.
            let outcomes = try await withThrowingTaskGroup(of: (UInt64, AttemptOutcome).self) { group in
                for counter in UInt64(1)...40 {
                    for store in [first, second] {
                        group.addTask { [app, alice, start, chain] in
                            let request = AttemptRequest(applicationID: app, userID: alice, purpose: .verify, now: start,
                                                         throttle: ThrottlePolicy(freeFailures: 1000), auditShard: shard)
                            let outcome = try await store.attempt(request, decide: { _ in
                                .acceptStep(factor.id, type: .totp, step: counter, drift: 0, activate: false)
                            }, audit: { outcome in
                                AuditAppend(AuditDraft(time: start, applicationID: app, userID: alice, actor: "test", action: .verification,
                                                       outcome: outcome.isAccepted ? "allow" : "deny"), chain: chain)
                            })
                            return (counter, outcome)
                        }
                    }
                }
                return try await group.reduce(into: [(UInt64, AttemptOutcome)]()) { $0.append($1) }
            }
            let accepted = outcomes.filter(\.1.isAccepted).map(\.0)
            #expect(accepted.count == Set(accepted).count, "a counter was accepted twice")
            #expect(try await first.factors(applicationID: app, userID: alice).first?.lastAcceptedStep == accepted.max())
            // Every attempt has its event, and the chain has no gap.
            let events = try await second.auditEvents(AuditQuery(applicationID: app, limit: 500))
            #expect(events.count == 81)
            #expect(events.filter { $0.outcome == "allow" }.count == accepted.count)
            let head = try #require(try await first.auditShardHeads().first { $0.shard == shard })
            #expect(head.headSequence == 81)
            #expect(head.tag == chain.tag(of: head))
            let report = try await verifyAuditChains(second)
            #expect(report.isIntact, "\(report.problems)")
            #expect(report.eventsChecked == 81)
            let statistics = [first.attemptBatchStatistics, second.attemptBatchStatistics]
            #expect(statistics.map(\.recordedAsRead).reduce(0, +) > 0, "no attempt was written as its batch read it")
            // Two pools racing for one user's rows and shard head: some batches always find them changed.
            #expect(statistics.map { $0.recordedUnderLocks + $0.recordedAlone }.reduce(0, +) > 0, "no batch met a change")
        }
    }

    private func audit(_ outcome: String) -> AuditAppend {
        AuditAppend(AuditDraft(time: start, applicationID: app, userID: alice, actor: "test", action: .verification, outcome: outcome),
                    chain: chain)
    }
}

private extension AttemptOutcome {
    var isAccepted: Bool {
        if case .accepted = self { true } else { false }
    }
}
