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

    /// A change to one optional setting: keep it, set it, or clear it (back to the default).
    public enum SettingChange: Sendable, Equatable {
        case keep
        case set(String)
        case clear
    }

    /// A change to the WebAuthn relying party: keep it, clear it, or set its id and origins
    /// (`nil` keeps that part; the result is checked whole).
    public enum RelyingPartyChange: Sendable, Equatable {
        case keep
        case clear
        case set(id: String?, origins: [String]?)
    }

    /// Changes the application's SMS template, domain and push number matching (`nil` keeps it).
    /// - Throws: `invalid_request` naming the field; `not_found`.
    @discardableResult
    public func updateSettings(named name: String, smsTemplate: SettingChange, domain: SettingChange, pushNumberMatching: Bool? = nil,
                               relyingParty: RelyingPartyChange = .keep, actor: String) async throws -> Application {
        try await updateSettings(of: try await application(named: name), smsTemplate: smsTemplate, domain: domain,
                                 pushNumberMatching: pushNumberMatching, relyingParty: relyingParty, actor: actor)
    }

    /// The application with this id.
    /// - Throws: `not_found`.
    public func application(id: ApplicationID) async throws -> Application {
        guard let application = try await store.application(id: id) else {
            throw TwofoldError.notFound("application \(id)")
        }
        return application
    }

    /// ``updateSettings(named:smsTemplate:domain:actor:)`` for the application with this id.
    @discardableResult
    public func updateSettings(id: ApplicationID, smsTemplate: SettingChange, domain: SettingChange, pushNumberMatching: Bool? = nil,
                               relyingParty: RelyingPartyChange = .keep, actor: String) async throws -> Application {
        try await updateSettings(of: try await application(id: id), smsTemplate: smsTemplate, domain: domain,
                                 pushNumberMatching: pushNumberMatching, relyingParty: relyingParty, actor: actor)
    }

    private func updateSettings(of found: Application, smsTemplate: SettingChange, domain: SettingChange, pushNumberMatching: Bool?,
                                relyingParty: RelyingPartyChange, actor: String) async throws -> Application {
        var application = found
        let name = found.name
        switch smsTemplate {
        case .keep: break
        case .clear: application.smsTemplate = nil
        case .set(let template):
            try Application.validateSMSTemplate(template, field: "sms_template")
            application.smsTemplate = template
        }
        switch domain {
        case .keep: break
        case .clear: application.domain = nil
        case .set(let domain):
            try Application.validateDomain(domain, field: "domain")
            application.domain = domain
        }
        if let pushNumberMatching { application.pushNumberMatching = pushNumberMatching }
        switch relyingParty {
        case .keep: break
        case .clear:
            application.relyingPartyID = nil
            application.origins = []
        case .set(let id, let origins):
            if let id { application.relyingPartyID = id }
            if let origins { application.origins = origins }
            try Application.validateRelyingParty(id: application.relyingPartyID, origins: application.origins, field: "rp_id/origins")
        }
        var details: [String: String] = [:]
        if relyingParty != .keep {
            details["rp_id"] = application.relyingPartyID ?? "none"
            details["origins"] = application.origins.joined(separator: " ")
        }
        if let pushNumberMatching { details["push_number_matching"] = pushNumberMatching ? "on" : "off" }
        if smsTemplate != .keep { details["sms_template"] = application.smsTemplate == nil ? "default" : "set" }
        if domain != .keep { details["domain"] = application.domain ?? "none" }
        guard try await store.updateApplicationSettings(application, audit: audit(.applicationUpdated, application.id, nil, actor: actor,
                                                                                 details: details)) else {
            throw TwofoldError.notFound("application \"\(name)\"")
        }
        return application
    }
}
