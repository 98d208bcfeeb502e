import Foundation
import Synchronization
import Testing
import TwofoldCore
import TwofoldTesting
@testable import TwofoldSQLite

@Suite("SQLite group commit")
struct SQLiteGroupCommitTests {
    struct Refused: Error, Equatable {
        let index: Int
    }

    @Test("with full durability a write is answered only after a WAL sync that followed its commit; with normal, never synced")
    func answersWaitForTheSync() async throws {
        try await TemporaryStores.with { stores in
            for durability in SQLiteDurability.allCases {
                let store = try await stores.fresh(durability: durability)
                for index in 0..<5 {
                    let before = store.batcher.flusher?.syncs ?? 0
                    try await store.appendAudit(Fixtures.audit(.verification, Fixtures.user(index)))
                    let after = store.batcher.flusher?.syncs ?? 0
                    if durability == .full {
                        #expect(after > before, "write \(index) was answered before any sync")
                    } else {
                        #expect(store.batcher.flusher == nil)
                    }
                }
                // Concurrent writes share syncs: never more syncs than transactions.
                let transactions = store.batcher.statistics.transactions
                let syncs = store.batcher.flusher?.syncs ?? 0
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<64 {
                        group.addTask { try await store.appendAudit(Fixtures.audit(.verification, Fixtures.user(index))) }
                    }
                    try await group.waitForAll()
                }
                if let flusher = store.batcher.flusher {
                    #expect(flusher.syncs - syncs <= store.batcher.statistics.transactions - transactions)
                    #expect(flusher.syncs > syncs)
                }
                #expect(try await store.auditEvents(AuditQuery(limit: 500)).count == 69)
                try await store.close()
            }
        }
    }

    @Test("a failed WAL sync is final: its waiters and every later one hear unavailable, and the batcher takes no more writes")
    func failedSyncIsFinal() async throws {
        // A WAL that cannot be opened fails the flusher's first sync, as a failed fdatasync would.
        let flusher = WALFlusher(databasePath: "/nonexistent-\(UUID().uuidString)/twofold.sqlite")
        let waitForSync = {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                flusher.resumeWhenDurable([continuation])
            }
        }
        await #expect(throws: TwofoldError.self) { try await waitForSync() }
        let failure = try #require(flusher.failure)
        #expect(failure.code == .unavailable)
        // Later waiters fail at once with the same error, without another sync.
        do {
            try await waitForSync()
            Issue.record("a waiter after the failed sync was answered as durable")
        } catch let error as TwofoldError {
            #expect(error == failure)
        }
        #expect(flusher.syncs == 0)
        try await TemporaryStores.with { stores in
            let store = try await stores.fresh()
            let batcher = SQLiteWriteBatcher(pool: store.pool, flusher: flusher)
            let ran = Mutex(false)
            await #expect(throws: TwofoldError.self) { try await batcher.write { _ in ran.withLock { $0 = true } } }
            #expect(ran.withLock { $0 } == false, "a write ran after the WAL sync had failed")
            try await store.close()
        }
    }

    @Test("100 concurrent attempts with the same step in one transaction: one accepted, 99 replayed")
    func sameStepInOneBatch() async throws {
        try await TemporaryStores.with { stores in
            let store = try await stores.fresh()
            let alice = Fixtures.user(0)
            let factor = Fixtures.factor(0, user: alice)
            try await store.insertFactor(factor, audit: Fixtures.audit(.factorEnrolled, alice))
            let decision = Acceptance.acceptStep(factor.id, type: .totp, step: 1_000, drift: 0, activate: false)
            let before = store.batcher.statistics.transactions
            let (gate, gateTask) = try await WriterGate.close(store)
            let outcomes = try await withThrowingTaskGroup(of: AttemptOutcome.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await Fixtures.attempt(store, alice, .accept(decision)) }
                }
                try await waitUntil("100 attempts are queued") { store.batcher.statistics.queued == 100 }
                gate.open()
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await gateTask.value
            #expect(store.batcher.statistics.transactions - before == 2, "the gate's transaction, then one for all 100")
            #expect(outcomes.filter { $0 == .accepted(decision) }.count == 1)
            #expect(outcomes.filter { $0 == .denied(.replayed, lockedUntil: nil) }.count == 99)
            #expect(try await store.factors(applicationID: Fixtures.app, userID: alice).first?.lastAcceptedStep == 1_000)
            #expect(try await store.throttleState(applicationID: Fixtures.app, userID: alice)?.failures == 99)
            #expect(try await store.auditEvents(AuditQuery(userID: alice, limit: 500)).count == 101)
        }
    }

    @Test("two stores on one file (two processes' worth of connections) accept a step once")
    func sameStepAcrossStores() async throws {
        try await TemporaryStores.with { stores in
            let first = try stores.open("shared.sqlite")
            let second = try stores.open("shared.sqlite")
            try await first.migrate()
            try await second.migrate()
            let alice = Fixtures.user(0)
            let factor = Fixtures.factor(0, user: alice)
            try await first.insertFactor(factor, audit: Fixtures.audit(.factorEnrolled, alice))
            let decision = Acceptance.acceptStep(factor.id, type: .totp, step: 7, drift: 1, activate: false)
            let outcomes = try await withThrowingTaskGroup(of: AttemptOutcome.self) { group in
                for index in 0..<100 {
                    let store = index.isMultiple(of: 2) ? first : second
                    group.addTask { try await Fixtures.attempt(store, alice, .accept(decision)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .accepted(decision) }.count == 1)
            #expect(outcomes.filter { $0 == .denied(.replayed, lockedUntil: nil) }.count == 99)
            #expect(try await second.factors(applicationID: Fixtures.app, userID: alice).first?.drift == 1)
            #expect(try await first.auditEvents(AuditQuery(userID: alice, limit: 500)).count == 101)
            // Both stores extended one chain per shard, without a gap or a fork.
            for head in try await second.auditShardHeads() {
                let events = try await first.auditEvents(shard: head.shard, fromSequence: 0, limit: 1_000)
                #expect(events.map(\.sequence) == Array(1...head.headSequence))
                #expect(zip(events.dropFirst(), events).allSatisfy { $0.previousMAC == $1.mac })
                #expect(head.tag == Fixtures.chain.tag(of: head))
            }
            let report = try await verifyAuditChains(first)
            #expect(report.isIntact, "\(report.problems)")
            #expect(report.eventsChecked == 101)
        }
    }

    @Test("200 concurrent attempts commit in far fewer than 200 transactions")
    func concurrentAttemptsShareTransactions() async throws {
        try await TemporaryStores.with { stores in
            let store = try await stores.fresh(durability: .full)
            let users = (0..<200).map(Fixtures.user)
            for (index, user) in users.enumerated() {
                try await store.insertFactor(Fixtures.factor(index, user: user), audit: Fixtures.audit(.factorEnrolled, user))
            }
            let before = store.batcher.statistics.transactions
            let outcomes = try await withThrowingTaskGroup(of: AttemptOutcome.self) { group in
                for (index, user) in users.enumerated() {
                    let decision = Acceptance.acceptStep(Fixtures.factorID(index), type: .totp, step: 1, drift: 0, activate: false)
                    group.addTask { try await Fixtures.attempt(store, user, .accept(decision)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let transactions = store.batcher.statistics.transactions - before
            #expect(outcomes.allSatisfy { if case .accepted = $0 { true } else { false } })
            #expect(transactions <= 50, "200 attempts took \(transactions) transactions")
            #expect(store.batcher.statistics.largestBatch > 1)
        }
    }

    @Test("a decide that throws inside a batch rolls back only its own attempt")
    func throwingDecisionInBatch() async throws {
        try await TemporaryStores.with { stores in
            let store = try await stores.fresh()
            let users = (0..<20).map(Fixtures.user)
            for (index, user) in users.enumerated() {
                try await store.insertFactor(Fixtures.factor(index, user: user), audit: Fixtures.audit(.factorEnrolled, user))
            }
            let (gate, gateTask) = try await WriterGate.close(store)
            let results = try await withThrowingTaskGroup(of: (Int, Result<AttemptOutcome, any Error>).self) { group in
                for (index, user) in users.enumerated() {
                    group.addTask {
                        do {
                            let outcome = try await store.attempt(Fixtures.request(user), decide: { _ in
                                if index.isMultiple(of: 2) { throw Refused(index: index) }
                                return .acceptStep(Fixtures.factorID(index), type: .totp, step: 9, drift: 0, activate: false)
                            }, audit: { _ in Fixtures.audit(.verification, user) })
                            return (index, .success(outcome))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                try await waitUntil("every attempt is queued") { store.batcher.statistics.queued == users.count }
                gate.open()
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            try await gateTask.value
            #expect(store.batcher.statistics.largestBatch >= users.count)
            for (index, user) in users.enumerated() {
                let stored = try await store.factors(applicationID: Fixtures.app, userID: user)
                let events = try await store.auditEvents(AuditQuery(userID: user))
                switch results[index] {
                case .failure(let error as Refused)?:
                    #expect(index.isMultiple(of: 2))
                    #expect(error == Refused(index: index), "each caller gets its own error")
                    #expect(stored.first?.lastAcceptedStep == nil)
                    #expect(events.count == 1, "only the enrollment")
                case .success(let outcome)?:
                    #expect(!index.isMultiple(of: 2))
                    #expect(outcome == .accepted(.acceptStep(Fixtures.factorID(index), type: .totp, step: 9, drift: 0, activate: false)))
                    #expect(stored.first?.lastAcceptedStep == 9)
                    #expect(events.count == 2)
                default:
                    Issue.record("attempt \(index) ended with \(String(describing: results[index]))")
                }
            }
        }
    }

    @Test("cancelled requests still queued are answered with CancellationError and write nothing")
    func cancellationBeforeCommit() async throws {
        try await TemporaryStores.with { stores in
            let store = try await stores.fresh()
            let (gate, gateTask) = try await WriterGate.close(store)
            let tasks = (0..<10).map { index in
                Task {
                    try await store.appendAudit(Fixtures.audit(.verification, Fixtures.user(index)))
                }
            }
            try await waitUntil("10 writes are queued") { store.batcher.statistics.queued == 10 }
            for task in tasks[..<5] { task.cancel() }
            try await waitUntil("the cancelled writes leave the queue") { store.batcher.statistics.queued == 5 }
            gate.open()
            try await gateTask.value
            for (index, task) in tasks.enumerated() {
                let result = await task.result
                switch result {
                case .failure(let error):
                    #expect(index < 5 && error is CancellationError, "write \(index) failed with \(error)")
                case .success:
                    #expect(index >= 5)
                }
            }
            #expect(try await store.auditEvents(AuditQuery()).count == 5)
        }
    }

    @Test("writes after close fail as unavailable, and reads too")
    func closedStore() async throws {
        try await TemporaryStores.with { stores in
            let store = try await stores.fresh()
            try await store.appendAudit(Fixtures.audit(.verification, nil))
            try await store.close()
            await #expect { try await store.appendAudit(Fixtures.audit(.verification, nil)) } throws: { error in
                (error as? TwofoldError)?.code == .unavailable
            }
            await #expect { try await store.auditShardHeads() } throws: { error in
                (error as? TwofoldError)?.code == .unavailable
            }
        }
    }
}
