import Foundation

/// The applications (tenants) of a deployment.
public protocol ApplicationStore: Sendable {
    /// - Throws: `conflict` when the name is taken.
    func insertApplication(_ application: Application, audit: AuditAppend) async throws
    func application(named name: String) async throws -> Application?
    /// The application with this id (every push device request and challenge names one).
    func application(id: ApplicationID) async throws -> Application?
    /// Every application, by name in byte order (not the database's collation).
    func applications() async throws -> [Application]
    /// Replaces the SMS template, the domain, push number matching, the WebAuthn relying party id
    /// and its origins of the application with `application`'s id (each exactly: a `nil` or an
    /// empty list clears it).
    /// - Returns: `false` when there is no such application; then nothing was written, not even `audit`.
    func updateApplicationSettings(_ application: Application, audit: AuditAppend) async throws -> Bool
}
