import TwofoldCore

extension InMemoryStore {
    /// One user of one application, the key of every per-user table: equal when both ids are
    /// equal byte for byte (``ExactText``), as in the databases' primary keys.
    struct UserKey: Hashable, Sendable {
        let applicationID: ApplicationID
        let userID: UserID
        private let exact: [ExactText]

        init(_ applicationID: ApplicationID, _ userID: UserID) {
            self.applicationID = applicationID
            self.userID = userID
            exact = [ExactText(applicationID.rawValue), ExactText(userID.rawValue)]
        }

        static func == (lhs: UserKey, rhs: UserKey) -> Bool {
            lhs.exact == rhs.exact
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(exact)
        }

        /// The order of `ORDER BY app_id, user_id` in SQLite.
        static func byColumns(_ lhs: UserKey, _ rhs: UserKey) -> Bool {
            lhs.exact.lexicographicallyPrecedes(rhs.exact)
        }
    }
}
