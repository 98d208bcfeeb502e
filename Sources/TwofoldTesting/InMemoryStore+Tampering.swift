import TwofoldCore

extension InMemoryStore {
    /// What an attacker with write access to the database (and no key) can do to the audit
    /// trail: edit, delete or insert events and rewrite shard heads, behind the store's back.
    /// For tests of tamper detection; `edit` gets the events by id (oldest first) and the heads
    /// by shard. An inserted event without an id gets the next one, as a database would give it.
    public func tamperWithAudit(_ edit: (inout [AuditEvent], inout [Int: AuditShardHead]) -> Void) throws {
        try withState { state in
            edit(&state.events, &state.heads)
            for index in state.events.indices where state.events[index].id == 0 {
                state.events[index].id = state.nextEventID
                state.nextEventID += 1
            }
            state.events.sort { $0.id < $1.id }
        }
    }

    /// Overwrites a factor's sealed secret, as an attacker with write access to the database
    /// could (copying another row's, say). For tests that sealing binds a secret to its row.
    public func tamperWithSealedSecret(of factorID: FactorID, _ sealedSecret: [UInt8]) throws {
        try withState { state in
            for user in Array(state.factors.keys) {
                guard let position = state.factors[user]?.firstIndex(where: { $0.id == factorID }) else { continue }
                state.factors[user]?[position].sealedSecret = sealedSecret
            }
        }
    }
}
