import Foundation

/// A place where the audit log does not verify.
public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The event's fields no longer match its MAC.
        case edited
        /// An event that no one with the key wrote.
        case inserted
        /// Events are missing before this sequence number.
        case deleted
        /// The shard's head or anchor row was changed or rolled back.
        case head
        /// The shard is behind, or other than, what an earlier verification's anchor saw: the
        /// database was rolled back (restored from an older copy, a head put back).
        case rolledBack = "rolled_back"
    }

    public var kind: Kind
    public var shard: Int
    public var sequence: Int64
    public var eventID: Int64?
    public var message: String

    public var description: String { message }
}

/// The result of ``AuditService/verifyAudit(against:)``.
public struct AuditVerification: Sendable, Equatable {
    public var eventsChecked: Int
    public var shardsChecked: Int
    public var problems: [AuditProblem]
    /// The heads this verification read, to keep outside the database for the next one (only
    /// worth keeping when ``isIntact``).
    public var anchor: AuditAnchor
    public var isIntact: Bool { problems.isEmpty }
}

/// Reading, verifying and purging the audit trail.
public struct AuditService: Sendable {
    let store: any AuditStore
    let audit: AuditRecorder
    let clock: any WallClock
    /// How events' ids are shown (`evt_…`) and read back from `before`.
    public let ids: AuditEventIDs
    var chain: AuditChain { audit.chain }

    /// Audit events, newest first.
    public func auditEvents(_ query: AuditQuery) async throws -> [AuditEvent] {
        try await store.auditEvents(query)
    }

    /// Walks every shard's chain and recomputes each MAC, pinpointing edited, inserted and
    /// deleted events; with the `anchor` an earlier verification returned, also tells whether
    /// the database was rolled back since.
    public func verifyAudit(against anchor: AuditAnchor? = nil) async throws -> AuditVerification {
        var problems: [AuditProblem] = []
        var checked = 0
        let read = try await store.auditShardHeads()
        let heads = Dictionary(uniqueKeysWithValues: read.map { ($0.shard, $0) })
        for shard in 0..<AuditChain.shardCount {
            guard let head = heads[shard] else {
                if let stray = try await store.auditEvents(shard: shard, fromSequence: 0, limit: 1).first {
                    problems.append(AuditProblem(kind: .inserted, shard: shard, sequence: stray.sequence, eventID: stray.id,
                                                 message: "shard \(shard): event \(stray.id) (sequence \(stray.sequence)) exists but the shard has no head"))
                }
                continue
            }
            if head.tag != chain.tag(of: head) {
                problems.append(AuditProblem(kind: .head, shard: shard, sequence: head.headSequence, eventID: nil,
                                             message: "shard \(shard): the head row was modified or rolled back"))
            }
            checked += try await verifyShard(head, problems: &problems)
        }
        if let anchor {
            problems += try await rollbacks(since: anchor, heads: heads)
        }
        return AuditVerification(eventsChecked: checked, shardsChecked: heads.count, problems: problems,
                                 anchor: chain.anchor(read, verifiedAt: clock.now()))
    }

    /// An anchor read back from its text (``AuditAnchor/text()``).
    /// - Throws: `invalid_request` for text that is no anchor, `audit_tampered` for one edited or
    ///   written under another audit key.
    public func anchor(parsing data: Data) throws(TwofoldError) -> AuditAnchor {
        try chain.anchor(parsing: data)
    }

    /// Where the shards fall short of `anchor`: a shard it saw with events that has no head now,
    /// a head behind the sequence it saw, or another event at that sequence (rolled back, then
    /// written again). A shard purged past the mark is not one: the purge is in the log.
    private func rollbacks(since anchor: AuditAnchor, heads: [Int: AuditShardHead]) async throws -> [AuditProblem] {
        var problems: [AuditProblem] = []
        let when = "the verification of \(Timestamp.text(anchor.verifiedAt))"
        func problem(_ mark: AuditAnchor.Mark, _ eventID: Int64?, _ text: String) {
            problems.append(AuditProblem(kind: .rolledBack, shard: mark.shard, sequence: mark.sequence, eventID: eventID,
                                         message: "shard \(mark.shard): \(text)"))
        }
        for mark in anchor.marks where mark.sequence > 0 {
            guard let head = heads[mark.shard] else {
                problem(mark, nil, "\(when) saw \(mark.sequence) event(s); the shard has no head now (deleted, or the database restored from an older copy)")
                continue
            }
            guard head.headSequence >= mark.sequence else {
                problem(mark, nil, "its head is at sequence \(head.headSequence), but \(when) saw sequence \(mark.sequence): the database was rolled back")
                continue
            }
            guard mark.sequence >= head.firstSequence,
                  let event = try await store.auditEvents(shard: mark.shard, fromSequence: mark.sequence, limit: 1).first,
                  event.sequence == mark.sequence
            else { continue }  // purged since, or missing (which the chain's walk reports)
            if event.mac != mark.mac {
                problem(mark, event.id, "sequence \(mark.sequence) is not the event \(when) saw: the shard was rolled back and written again")
            }
        }
        return problems
    }

    private func verifyShard(_ head: AuditShardHead, problems: inout [AuditProblem]) async throws -> Int {
        var expectedSequence = head.firstSequence
        var previousMAC = head.firstPreviousMAC
        var checked = 0
        // Only as far as the head read: events appended since belong to the next verification,
        // so a live system is never reported as tampered with (see the end of this function).
        var events = ShardEvents(store: store, shard: head.shard, through: head.headSequence)
        // Erasure removes a user's id from their events and writes `user.erased` with the same
        // pseudonym, in the same shard; an id removed any other way hides events from the user's
        // queries and export.
        var withoutUserID: [AuditEvent] = []
        var erased = Set<String>()
        // Ids are the store's insertion order, given while the shard's head is held, so they
        // grow along the chain. The MAC does not cover them (the store gives one only as the
        // row is written); this check does: an id changed to move an event elsewhere in the
        // listings (`audit tail`, `GET /v1/audit`, their pages) breaks the order.
        var previousGenuineID = Int64.min
        func problem(_ kind: AuditProblem.Kind, _ event: AuditEvent?, _ sequence: Int64, _ text: String) {
            problems.append(AuditProblem(kind: kind, shard: head.shard, sequence: sequence, eventID: event?.id,
                                         message: "shard \(head.shard), sequence \(sequence)\(event.map { " (event \($0.id))" } ?? ""): \(text)"))
        }
        while let event = try await events.next() {
            checked += 1
            if let reference = event.userReference, event.userID == nil {
                if event.action == AuditAction.userErased.rawValue { erased.insert(reference) } else { withoutUserID.append(event) }
            }
            if event.sequence < expectedSequence {
                problem(.inserted, event, event.sequence, "an event before the chain's start")
                continue
            }
            if event.sequence > expectedSequence {
                problem(.deleted, event, expectedSequence, "\(event.sequence - expectedSequence) event(s) missing before sequence \(event.sequence)")
                expectedSequence = event.sequence
            }
            let macValid = chain.mac(of: event) == event.mac
            if macValid {
                if event.id <= previousGenuineID {
                    problem(.edited, event, event.sequence, "its id is below the previous event's in the chain: it was renumbered, moving it in listings")
                }
                previousGenuineID = max(previousGenuineID, event.id)
            }
            if macValid, event.previousMAC == previousMAC {
                // The MAC covers the pseudonym, not the id (erasure clears the id), so the id is
                // checked against the pseudonym.
                if event.userID != nil, Self.pseudonym(of: event, chain: chain) != event.userReference {
                    problem(.edited, event, event.sequence, "the user id was changed")
                }
            } else if macValid {
                // A genuine event whose predecessor is gone.
                if !problems.contains(where: { $0.shard == head.shard && $0.kind == .deleted && $0.sequence <= event.sequence }) {
                    problem(.deleted, event, event.sequence, "the event it chains from is missing")
                }
            } else if let next = try await events.peek(), Self.verifiesShifted(next, chain: chain, previousMAC: previousMAC) {
                problem(.inserted, event, event.sequence, "an event no one with the audit key wrote, inserted before the next one")
                // The events after an insertion were renumbered by one; keep checking them as such.
                expectedSequence = event.sequence
                continue
            } else if event.previousMAC == previousMAC {
                problem(.edited, event, event.sequence, "the event's fields do not match its MAC")
            } else {
                problem(.inserted, event, event.sequence, "an event that does not chain from its predecessor")
            }
            previousMAC = event.mac
            expectedSequence = event.sequence + 1
        }
        for event in withoutUserID where !erased.contains(event.userReference ?? "") {
            problem(.edited, event, event.sequence, "the user id was removed, and the user was not erased")
        }
        if let beyond = try await events.firstBeyond() {
            // Appended since the head was read, or written past it by someone without the key:
            // the head as it is now tells which.
            let current = try await store.auditShardHeads().first { $0.shard == head.shard }
            if (current?.headSequence ?? -1) < beyond.sequence {
                problem(.inserted, beyond, beyond.sequence, "an event past the shard's head")
            }
        }
        if expectedSequence - 1 < head.headSequence {
            problem(.deleted, nil, expectedSequence, "\(head.headSequence - expectedSequence + 1) event(s) missing at the end of the shard")
        } else if previousMAC != head.headMAC, problems.allSatisfy({ $0.shard != head.shard }) {
            problem(.inserted, nil, expectedSequence - 1, "the last event is not the one the head records")
        }
        return checked
    }

    /// The pseudonym the event's application and user id give, or `nil` when either no longer parses.
    private static func pseudonym(of event: AuditEvent, chain: AuditChain) -> String? {
        guard let app = event.applicationID.flatMap(ApplicationID.init(rawValue:)),
              let text = event.userID, let user = try? UserID(text) else { return nil }
        return chain.pseudonym(applicationID: app, userID: user)
    }

    private static func verifiesShifted(_ event: AuditEvent, chain: AuditChain, previousMAC: [UInt8]) -> Bool {
        var shifted = event
        shifted.sequence -= 1
        return shifted.previousMAC == previousMAC && chain.mac(of: shifted) == event.mac
    }

    /// Deletes audit events older than `age`, keeping the chains verifiable from their new start.
    @discardableResult
    public func purgeAudit(olderThan age: TimeInterval, actor: String) async throws -> Int {
        let cutoff = clock.now().addingTimeInterval(-age)
        let deleted = try await store.purgeAudit(before: cutoff, chain: chain)
        try await store.appendAudit(audit(.auditPurged, nil, nil, actor: actor,
                                          details: ["before": Timestamp.text(cutoff), "deleted": String(deleted)]))
        return deleted
    }
}

/// A shard's events in sequence order up to a sequence, read a page at a time, with one event
/// of look-ahead.
private struct ShardEvents {
    let store: any AuditStore
    let shard: Int
    /// The last sequence returned; later events are left to ``firstBeyond()``.
    let last: Int64
    private var page: [AuditEvent] = []
    private var index = 0
    private var nextSequence: Int64 = 0
    private var exhausted = false

    init(store: any AuditStore, shard: Int, through last: Int64) {
        self.store = store
        self.shard = shard
        self.last = last
    }

    mutating func peek() async throws -> AuditEvent? {
        guard let event = try await peekAny(), event.sequence <= last else { return nil }
        return event
    }

    /// The first event past ``last``, once the others are read.
    mutating func firstBeyond() async throws -> AuditEvent? {
        guard let event = try await peekAny(), event.sequence > last else { return nil }
        return event
    }

    private mutating func peekAny() async throws -> AuditEvent? {
        if index == page.count {
            guard !exhausted else { return nil }
            page = try await store.auditEvents(shard: shard, fromSequence: nextSequence, limit: 1_000)
            index = 0
            guard let last = page.last else {
                exhausted = true
                return nil
            }
            nextSequence = last.sequence + 1
        }
        return page[index]
    }

    mutating func next() async throws -> AuditEvent? {
        guard let event = try await peek() else { return nil }
        index += 1
        return event
    }
}
