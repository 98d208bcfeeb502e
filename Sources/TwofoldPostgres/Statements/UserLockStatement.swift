import PostgresNIO
import TwofoldCore

/// Takes the transaction-scoped advisory lock of one user (see ``PostgresStore/lockUser(_:_:on:)``).
/// Prepared once per connection, like the other statements of an attempt.
struct UserLockStatement: PostgresPreparedStatement {
    static let sql = "SELECT pg_advisory_xact_lock(hashtextextended($1::TEXT, 0))"
    static let bindingDataTypes: [PostgresDataType] = [.text]
    typealias Row = ()

    /// The application id has a fixed length, so the concatenation is unambiguous.
    let key: String

    init(_ applicationID: ApplicationID, _ userID: UserID) {
        key = applicationID.rawValue + userID.rawValue
    }

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(key)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}
