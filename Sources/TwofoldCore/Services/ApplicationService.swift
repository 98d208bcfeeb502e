import Foundation

/// The applications (tenants) of a deployment.
public struct ApplicationService: Sendable {
    let store: any ApplicationStore
    let audit: AuditRecorder
    let clock: any WallClock
    let random: any RandomSource

    /// Creates an application.
    /// - Throws: `invalid_request` for a bad name, `conflict` when it exists.
    public func createApplication(named name: String, actor: String) async throws -> Application {
        try Application.validateName(name)
        let application = Application(id: .random(using: random), name: name, createdAt: clock.now())
        try await store.insertApplication(application, audit: audit(.applicationCreated, application.id, nil, actor: actor,
                                                                    details: ["name": name]))
        return application
    }

    /// The application with this name.
    /// - Throws: `not_found`.
    public func application(named name: String) async throws -> Application {
        guard let application = try await store.application(named: name) else {
            throw TwofoldError.notFound("application \"\(name)\"")
        }
        return application
    }

    /// The application with this name, created if it does not exist yet (the `default` one at first start).
    public func ensureApplication(named name: String, actor: String) async throws -> Application {
        if let existing = try await store.application(named: name) { return existing }
        do {
            return try await createApplication(named: name, actor: actor)
        } catch let error as TwofoldError where error.code == .conflict {
            return try await application(named: name)
        }
    }

    public func applications() async throws -> [Application] {
        try await store.applications()
    }
}
