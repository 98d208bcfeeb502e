import Foundation

/// Opening, upgrading and closing a store, and asking whether it answers.
public protocol StoreLifecycle: Sendable {
    /// Creates or upgrades the schema. Safe to run concurrently from several nodes.
    func migrate() async throws
    /// Succeeds when the store answers.
    func ping() async throws
    /// Releases connections; later calls fail.
    func close() async throws
}
