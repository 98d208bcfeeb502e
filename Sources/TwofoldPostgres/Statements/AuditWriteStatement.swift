import PostgresNIO
import TwofoldCore

/// Writes an audit event and its shard's new head in one statement (the transaction holds the head).
struct AuditWriteStatement: PostgresPreparedStatement {
    static let sql = """
        WITH event AS (
            INSERT INTO audit_events (shard, seq, time, app_id, user_id, user_ref, actor, action, outcome, reason, factor_id,
                                      details, prev_mac, mac)
            VALUES ($1::BIGINT, $2::BIGINT, $3::BIGINT, $4::TEXT, $5::TEXT, $6::TEXT, $7::TEXT, $8::TEXT, $9::TEXT, $10::TEXT,
                    $11::TEXT, $12::TEXT, $13::BYTEA, $14::BYTEA)
        )
        UPDATE audit_shards SET head_seq = $15::BIGINT, head_mac = $16::BYTEA, tag = $17::BYTEA WHERE shard = $1
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .int8, .int8, .int8, .text, .text, .text, .text, .text, .text, .text, .text, .text, .bytea, .bytea, .int8, .bytea, .bytea,
    ]
    typealias Row = ()

    let event: AuditEvent
    /// The head after the event.
    let head: AuditShardHead

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 17)
        bindings.append(Int64(event.shard))
        bindings.append(event.sequence)
        bindings.append(event.timeMilliseconds)
        bindings.append(event.applicationID)
        bindings.append(event.userID)
        bindings.append(event.userReference)
        bindings.append(event.actor)
        bindings.append(event.action)
        bindings.append(event.outcome)
        bindings.append(event.reason)
        bindings.append(event.factorID)
        bindings.append(event.details)
        bindings.append(PostgresColumn.bytes(event.previousMAC))
        bindings.append(PostgresColumn.bytes(event.mac))
        bindings.append(head.headSequence)
        bindings.append(PostgresColumn.bytes(head.headMAC))
        bindings.append(PostgresColumn.bytes(head.tag))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}
