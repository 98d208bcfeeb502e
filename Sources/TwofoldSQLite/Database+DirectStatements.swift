import GRDB
import GRDBSQLite
import TwofoldCore

/// A value bound to a statement parameter by ``Database/directRun(_:_:)`` and its siblings.
enum SQLiteValue {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case real(Double)
    case null

    static func integer(_ value: Int) -> SQLiteValue { .integer(Int64(value)) }
    static func optional(_ value: Int64?) -> SQLiteValue { value.map(SQLiteValue.integer) ?? .null }
    static func optional(_ value: String?) -> SQLiteValue { value.map(SQLiteValue.text) ?? .null }
    static func optional(_ value: [UInt8]?) -> SQLiteValue { value.map(SQLiteValue.blob) ?? .null }
}

/// Statements that bind and read SQLite's values themselves, for the statements every
/// verification runs on the one writer (the attempt's reads and writes, the audit append) and the
/// rows they share with other paths (factors, recovery codes, keys, shard heads).
///
/// Why: GRDB's `Row` builds a dictionary of the statement's lowercased column names for every row
/// it reads, and `StatementArguments` copies each argument through an existential into a
/// `DatabaseValue`; on the one writer that costs more than SQLite's own work on these
/// statements. The statements still come from GRDB's statement cache: GRDB prepares, keeps and
/// finalizes them; only binding, stepping and reading are done here. Transaction control
/// (`BEGIN`, savepoints) stays with GRDB, which tracks it.
extension Database {
    /// Runs a statement that returns no rows; `changesCount` then tells how many it changed.
    func directRun(_ sql: String, _ values: [SQLiteValue] = []) throws {
        let statement = try DirectStatement(self, sql, values)
        while try statement.step() {}
    }

    /// The first row of a query, decoded by `decode`, or nil when there is none.
    func directFetchOne<T>(_ sql: String, _ values: [SQLiteValue], _ decode: (DirectRow) throws -> T) throws -> T? {
        let statement = try DirectStatement(self, sql, values)
        guard try statement.step() else { return nil }
        return try decode(statement.row)
    }

    /// Every row of a query, decoded by `decode`.
    func directFetchAll<T>(_ sql: String, _ values: [SQLiteValue], _ decode: (DirectRow) throws -> T) throws -> [T] {
        let statement = try DirectStatement(self, sql, values)
        var rows: [T] = []
        while try statement.step() {
            rows.append(try decode(statement.row))
        }
        return rows
    }
}

/// One use of a cached statement: bound on creation, reset when it ends, so the next use starts
/// clean whatever happened in this one.
private struct DirectStatement: ~Copyable {
    /// Held so that the handle stays valid whatever happens to GRDB's cache meanwhile.
    private let statement: Statement
    private let handle: OpaquePointer
    private let connection: OpaquePointer?
    private let sql: String

    init(_ db: Database, _ sql: String, _ values: [SQLiteValue]) throws {
        let statement = try db.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        // A cached statement may still hold the last use's bindings and position.
        sqlite3_reset(handle)
        do {
            try Self.bind(values, to: handle)
        } catch {
            throw error.code == SQLITE_RANGE
                ? DatabaseError(resultCode: .SQLITE_RANGE, message: "\(values.count) values for \(sqlite3_bind_parameter_count(handle)) parameters", sql: sql)
                : Self.error(error.code, db.sqliteConnection, sql)
        }
        self.statement = statement
        self.handle = handle
        connection = db.sqliteConnection
        self.sql = sql
    }

    private struct BindFailure: Error {
        let code: Int32
    }

    private static func bind(_ values: [SQLiteValue], to handle: OpaquePointer) throws(BindFailure) {
        guard Int(sqlite3_bind_parameter_count(handle)) == values.count else { throw BindFailure(code: SQLITE_RANGE) }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .integer(let integer):
                code = sqlite3_bind_int64(handle, index, integer)
            case .text(let text):
                code = sqlite3_bind_text(handle, index, text, -1, transient)
            case .blob(let bytes) where bytes.isEmpty:
                code = sqlite3_bind_zeroblob(handle, index, 0)
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), transient) }
            case .real(let real):
                code = sqlite3_bind_double(handle, index, real)
            case .null:
                code = sqlite3_bind_null(handle, index)
            }
            guard code == SQLITE_OK else { throw BindFailure(code: code) }
        }
    }

    deinit {
        sqlite3_reset(handle)
    }

    /// Moves to the next row: true when there is one, false at the end.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        // GRDB interrupts a connection whose reading task was cancelled, and answers its own
        // statements with a cancellation: so do these.
        case SQLITE_INTERRUPT: throw CancellationError()
        case let code: throw Self.error(code, connection, sql)
        }
    }

    /// The current row; valid until the next step.
    var row: DirectRow { DirectRow(handle: handle) }

    private static func error(_ code: Int32, _ connection: OpaquePointer?, _ sql: String) -> DatabaseError {
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
    }

    /// SQLite copies the bound value: the Swift buffer it came from does not outlive the call.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// The columns of the row a statement stands on, read by position. Every read checks the
/// column's type and throws on one Twofold never writes (an edited or damaged file is an
/// `unavailable` store, not a crash or a wrong value).
struct DirectRow {
    fileprivate let handle: OpaquePointer

    func int64(_ column: Int32) throws -> Int64 {
        guard let value = try optionalInt64(column) else { throw mismatch(column, "an integer") }
        return value
    }

    func int(_ column: Int32) throws -> Int {
        guard let value = Int(exactly: try int64(column)) else { throw mismatch(column, "an integer") }
        return value
    }

    func optionalInt64(_ column: Int32) throws -> Int64? {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_NULL: return nil
        case SQLITE_INTEGER: return sqlite3_column_int64(handle, column)
        default: throw mismatch(column, "an integer")
        }
    }

    func text(_ column: Int32) throws -> String {
        guard let value = try optionalText(column) else { throw mismatch(column, "text") }
        return value
    }

    func optionalText(_ column: Int32) throws -> String? {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_NULL:
            return nil
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard let start = sqlite3_column_text(handle, column) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
        default:
            throw mismatch(column, "text")
        }
    }

    func bytes(_ column: Int32) throws -> [UInt8] {
        guard let value = try optionalBytes(column) else { throw mismatch(column, "a blob") }
        return value
    }

    func optionalBytes(_ column: Int32) throws -> [UInt8]? {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_NULL:
            return nil
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let start = sqlite3_column_blob(handle, column) else { return [] }
            return Array(UnsafeRawBufferPointer(start: start, count: count))
        default:
            throw mismatch(column, "a blob")
        }
    }

    /// A REAL column (an INTEGER is not accepted: a `STRICT` REAL column never holds one).
    func double(_ column: Int32) throws -> Double {
        guard sqlite3_column_type(handle, column) == SQLITE_FLOAT else { throw mismatch(column, "a real number") }
        return sqlite3_column_double(handle, column)
    }

    private func mismatch(_ column: Int32, _ expected: String) -> TwofoldError {
        let name = sqlite3_column_name(handle, column).map { String(cString: $0) } ?? "#\(column)"
        return TwofoldError(.unavailable, "the SQLite store holds a value that is not \(expected) in column \(name)")
    }
}
