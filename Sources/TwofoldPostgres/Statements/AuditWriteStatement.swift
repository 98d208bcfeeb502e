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

/// Writes several audit events, in order, and the new heads of their shards, in one statement
/// (the transaction holds the heads). Arrays cannot hold NULL: a missing text is written as
/// U+0001, which no stored value contains (identifiers, pseudonyms, reasons and user ids, which
/// refuse control characters).
struct AuditBatchWriteStatement: PostgresPreparedStatement {
    static let sql = """
        WITH event AS (
            INSERT INTO audit_events (shard, seq, time, app_id, user_id, user_ref, actor, action, outcome, reason, factor_id,
                                      details, prev_mac, mac)
            SELECT shard, seq, time, NULLIF(app, chr(1)), NULLIF(usr, chr(1)), NULLIF(ref, chr(1)), actor, action, outcome,
                   NULLIF(reason, chr(1)), NULLIF(fid, chr(1)), details, prev, mac
            FROM unnest($1::INT[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[],
                        $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::TEXT[], $13::BYTEA[], $14::BYTEA[]) WITH ORDINALITY
                AS e (shard, seq, time, app, usr, ref, actor, action, outcome, reason, fid, details, prev, mac, n)
            ORDER BY n
        )
        UPDATE audit_shards AS s SET head_seq = h.seq, head_mac = h.mac, tag = h.tag
        FROM unnest($15::INT[], $16::BIGINT[], $17::BYTEA[], $18::BYTEA[]) AS h (shard, seq, mac, tag)
        WHERE s.shard = h.shard
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .int4Array, .int8Array, .int8Array, .textArray, .textArray, .textArray, .textArray, .textArray, .textArray, .textArray,
        .textArray, .textArray, .byteaArray, .byteaArray, .int4Array, .int8Array, .byteaArray, .byteaArray,
    ]
    typealias Row = ()

    static let none = "\u{1}"

    let events: [AuditEvent]
    /// The heads after the events, one per shard.
    let heads: [AuditShardHead]

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 18)
        bindings.append(events.map { Int32($0.shard) })
        bindings.append(events.map(\.sequence))
        bindings.append(events.map(\.timeMilliseconds))
        bindings.append(events.map { $0.applicationID ?? Self.none })
        bindings.append(events.map { $0.userID ?? Self.none })
        bindings.append(events.map { $0.userReference ?? Self.none })
        bindings.append(events.map(\.actor))
        bindings.append(events.map(\.action))
        bindings.append(events.map(\.outcome))
        bindings.append(events.map { $0.reason ?? Self.none })
        bindings.append(events.map { $0.factorID ?? Self.none })
        bindings.append(events.map(\.details))
        bindings.append(events.map { PostgresColumn.bytes($0.previousMAC) })
        bindings.append(events.map { PostgresColumn.bytes($0.mac) })
        bindings.append(heads.map { Int32($0.shard) })
        bindings.append(heads.map(\.headSequence))
        bindings.append(heads.map { PostgresColumn.bytes($0.headMAC) })
        bindings.append(heads.map { PostgresColumn.bytes($0.tag) })
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}
