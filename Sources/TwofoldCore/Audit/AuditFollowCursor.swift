/// Which audit events a follower (`twofold audit tail --follow`) has shown, by shard.
///
/// Event ids are handed out before commit, so on PostgreSQL a transaction holding id 10 may
/// commit after one holding id 11: a follower that only asked for ids above the last it showed
/// would never show 10. Within a shard, though, appends hold the shard's head until they
/// commit, so sequence numbers become visible in order; remembering the last sequence shown per
/// shard misses nothing.
public struct AuditFollowCursor: Sendable, Equatable {
    private var lastSequence: [Int: Int64] = [:]

    public init() {}

    /// Marks `events` as shown.
    public mutating func mark(_ events: some Sequence<AuditEvent>) {
        for event in events where event.sequence > lastSequence[event.shard, default: -1] {
            lastSequence[event.shard] = event.sequence
        }
    }

    /// The events of `page` not shown yet, oldest first by id, and marks them shown.
    public mutating func take(_ page: some Sequence<AuditEvent>) -> [AuditEvent] {
        let fresh = page.filter { $0.sequence > lastSequence[$0.shard, default: -1] }.sorted { $0.id < $1.id }
        mark(fresh)
        return fresh
    }

    /// Whether `event` is newer than what was shown of its shard.
    public func isFresh(_ event: AuditEvent) -> Bool {
        event.sequence > lastSequence[event.shard, default: -1]
    }
}
