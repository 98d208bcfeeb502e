extension InMemoryStore {
    /// Text as SQLite and PostgreSQL compare it: byte for byte in UTF-8, and ordered by those bytes.
    ///
    /// Why not `String`: Swift's `==` and hashing equate canonically equivalent spellings ("é"
    /// precomposed and decomposed, "K" and the Kelvin sign), which the databases keep apart; a
    /// store keyed by `String` would merge two user ids that SQLite stores as two users.
    struct ExactText: Hashable, Comparable, Sendable {
        let bytes: [UInt8]

        init(_ text: String) {
            bytes = Array(text.utf8)
        }

        static func < (lhs: ExactText, rhs: ExactText) -> Bool {
            lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
        }

        /// Whether two texts are equal as a database compares them.
        static func same(_ lhs: String, _ rhs: String) -> Bool {
            lhs.utf8.elementsEqual(rhs.utf8)
        }

        /// Whether an optional column holds `text` (a NULL column matches nothing).
        static func same(_ column: String?, _ text: String) -> Bool {
            column.map { same($0, text) } ?? false
        }
    }
}
