import Foundation
import TwofoldCore

extension InMemoryStore {
    /// Values as they read back from a database store, whose times are whole milliseconds
    /// (``StoredTime``): the in-memory store keeps its records so, and so returns what SQLite or
    /// PostgreSQL would return.
    enum AsStored {
        static func date(_ date: Date) -> Date {
            StoredTime.date(milliseconds: StoredTime.milliseconds(date))
        }

        static func date(_ date: Date?) -> Date? {
            date.map { self.date($0) }
        }

        static func record(_ application: Application) -> Application {
            Application(id: application.id, name: application.name, createdAt: date(application.createdAt),
                        smsTemplate: application.smsTemplate, domain: application.domain,
                        pushNumberMatching: application.pushNumberMatching, relyingPartyID: application.relyingPartyID,
                        origins: application.origins)
        }

        static func record(_ key: APIKeyRecord) -> APIKeyRecord {
            var key = key
            key.createdAt = date(key.createdAt)
            key.revokedAt = date(key.revokedAt)
            return key
        }

        static func record(_ factor: FactorRecord) -> FactorRecord {
            var factor = factor
            factor.createdAt = date(factor.createdAt)
            factor.activatedAt = date(factor.activatedAt)
            factor.expiresAt = date(factor.expiresAt)
            return factor
        }

        static func record(_ code: RecoveryCodeRecord) -> RecoveryCodeRecord {
            var code = code
            code.createdAt = date(code.createdAt)
            code.usedAt = date(code.usedAt)
            return code
        }
    }
}
