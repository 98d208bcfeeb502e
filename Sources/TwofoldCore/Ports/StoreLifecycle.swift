import Foundation

/// Opening, upgrading and closing a store, and asking whether it answers.
public protocol StoreLifecycle: Sendable {
    /// Creates or upgrades the schema. Safe to run concurrently from several nodes.
    /// - Returns: The versions of the migrations this call applied, in order; empty when the
    ///   schema was already up to date (and always for a store without a schema).
    @discardableResult
    func migrate() async throws -> [Int]
    /// Succeeds when the store answers.
    func ping() async throws
    /// Releases connections; later calls fail.
    func close() async throws
}
