import Crypto
import Foundation

/// Makes the audit log tamper-evident: every event carries an HMAC over its fields and the
/// previous event's MAC, under a key that lives sealed by the master key. Someone with write
/// access to the database alone can neither edit, insert nor delete an event, nor rebuild
/// the chain after doing so.
///
/// Not one chain but ``shardCount`` chains: an event goes to the shard of its user's
/// pseudonym. Appending locks only that shard's head row, so verifications of different
/// users do not queue behind one lock for the whole deployment; `audit verify` walks each
/// shard separately.
public struct AuditChain: Sendable {
    public static let shardCount = 64
    private let macKey: KeyedMAC
    private let pseudonymKey: KeyedMAC

    init(macKey: SymmetricKey, pseudonymKey: SymmetricKey) {
        self.macKey = KeyedMAC(key: macKey)
        self.pseudonymKey = KeyedMAC(key: pseudonymKey)
    }

    /// A chain from raw key bytes, for store tests and tools; the engine loads its keys sealed
    /// from the store instead.
    public init(macKeyBytes: [UInt8], pseudonymKeyBytes: [UInt8]) {
        self.init(macKey: SymmetricKey(data: macKeyBytes), pseudonymKey: SymmetricKey(data: pseudonymKeyBytes))
    }

    /// The chain's starting MAC for a shard.
    public func genesis(shard: Int) -> [UInt8] {
        mac(["genesis", String(shard)])
    }

    /// HMAC of (application, user) under the pseudonym key: stable, unlinkable without the key.
    public func pseudonym(applicationID: ApplicationID, userID: UserID) -> String {
        let digest = pseudonymKey.authenticate([applicationID.rawValue, userID.rawValue])
        return "usr_" + Hex.encode(Array(digest.prefix(16)))
    }

    /// The shard of an event: its user's, or a fixed one for deployment-wide events.
    public func shard(applicationID: ApplicationID?, userID: UserID?) -> Int {
        guard let applicationID, let userID else { return 0 }
        let digest = pseudonymKey.authenticate(["shard", applicationID.rawValue, userID.rawValue])
        return Int(digest[0]) % Self.shardCount
    }

    /// The MAC of an event at `sequence` after `previousMAC`.
    public func mac(of event: AuditEvent) -> [UInt8] {
        mac([
            "event", String(event.shard), String(event.sequence), hex(event.previousMAC),
            String(event.timeMilliseconds), event.applicationID ?? "", event.userReference ?? "", event.actor,
            event.action, event.outcome, event.reason ?? "", event.factorID ?? "", event.details,
        ])
    }

    /// `head`, if its tag is valid.
    /// - Throws: `audit_tampered` naming the shard.
    public func checked(_ head: AuditShardHead) throws(TwofoldError) -> AuditShardHead {
        guard head.tag == tag(of: head) else {
            throw TwofoldError(.auditTampered, "the audit log's head for shard \(head.shard) was changed outside Twofold; run `twofold audit verify` and restore the database from a backup")
        }
        return head
    }

    /// The tag that binds a shard's head and anchor.
    public func tag(of head: AuditShardHead) -> [UInt8] {
        mac([
            "head", String(head.shard), String(head.headSequence), hex(head.headMAC),
            String(head.firstSequence), hex(head.firstPreviousMAC),
        ])
    }

    func mac(_ parts: [String]) -> [UInt8] {
        macKey.authenticate(parts)
    }

    private func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }
}

/// An event to append, with the chain that signs it. Stores call ``event(id:sequence:previousMAC:)``
/// inside the transaction that holds the shard's head, then write the event and the new head.
public struct AuditAppend: Sendable {
    public let draft: AuditDraft
    let chain: AuditChain
    /// The shard this event goes to (an HMAC of the user, so computed once here: the stores
    /// read it several times per append).
    public let shard: Int

    public init(_ draft: AuditDraft, chain: AuditChain) {
        self.init(draft, chain: chain, shard: chain.shard(applicationID: draft.applicationID, userID: draft.userID))
    }

    /// With the shard computed already (it must be `chain.shard` of the draft's user).
    init(_ draft: AuditDraft, chain: AuditChain, shard: Int) {
        self.draft = draft
        self.chain = chain
        self.shard = shard
    }

    /// The first head of a shard that has no events yet.
    public func emptyHead() -> AuditShardHead {
        let genesis = chain.genesis(shard: shard)
        var head = AuditShardHead(shard: shard, headSequence: 0, headMAC: genesis,
                                  firstSequence: 1, firstPreviousMAC: genesis, tag: [])
        head.tag = chain.tag(of: head)
        return head
    }

    /// The complete event (without its store id) following `head`, and the head after it.
    /// - Throws: `audit_tampered` when `head` was changed outside Twofold: chaining onto it
    ///   would give a truncated or rolled-back chain a valid tag again.
    public func append(after head: AuditShardHead) throws(TwofoldError) -> (event: AuditEvent, head: AuditShardHead) {
        _ = try chain.checked(head)
        var event = AuditEvent(
            id: 0, shard: head.shard, sequence: head.headSequence + 1,
            timeMilliseconds: Int64((draft.time.timeIntervalSince1970 * 1000).rounded(.down)),
            applicationID: draft.applicationID?.rawValue,
            userID: draft.keepsUserID ? draft.userID?.rawValue : nil,
            userReference: draft.applicationID.flatMap { app in
                draft.userID.map { chain.pseudonym(applicationID: app, userID: $0) }
            },
            actor: draft.actor, action: draft.action.rawValue, outcome: draft.outcome, reason: draft.reason,
            factorID: draft.factorID?.rawValue, details: Self.json(draft.details),
            previousMAC: head.headMAC, mac: []
        )
        event.mac = chain.mac(of: event)
        var next = head
        next.headSequence = event.sequence
        next.headMAC = event.mac
        next.tag = chain.tag(of: next)
        return (event, next)
    }

    static func json(_ details: [String: String]) -> String {
        guard !details.isEmpty,
              let data = try? JSONSerialization.data(withJSONObject: details, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension AuditChain {
    /// The head after a purge removed every event before `firstSequence`; `firstPreviousMAC`
    /// is the `previousMAC` of the event now first.
    /// - Throws: `audit_tampered` when `head` was changed outside Twofold (see ``checked(_:)``).
    public func reanchored(_ head: AuditShardHead, firstSequence: Int64, firstPreviousMAC: [UInt8]) throws(TwofoldError) -> AuditShardHead {
        var next = try checked(head)
        next.firstSequence = firstSequence
        next.firstPreviousMAC = firstPreviousMAC
        next.tag = tag(of: next)
        return next
    }
}
