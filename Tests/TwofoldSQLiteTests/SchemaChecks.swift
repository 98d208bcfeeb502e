import Foundation
import GRDB
import Testing

/// Checks of a migrated file's schema that fail on anything but the answer they look for.
enum SchemaChecks {
    /// Whether `table` has a rowid (is not a `WITHOUT ROWID` table). Selecting the rowid of a
    /// `WITHOUT ROWID` table fails with "no such column: rowid"; any other failure (no such table,
    /// a file that cannot be read) is thrown, never taken for the answer.
    static func hasRowid(_ table: String, in file: DatabaseQueue) async throws -> Bool {
        try await file.read { db in
            try #require(try db.tableExists(table), "no table \(table)")
            do {
                _ = try Row.fetchAll(db, sql: "SELECT rowid FROM \(table) LIMIT 1")
                return true
            } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR && error.message == "no such column: rowid" {
                return false
            }
        }
    }
}
