import Foundation
import TwofoldCore

extension InMemoryStore {
    /// - Throws: `conflict` when an application has that name (or that id).
    public func insertApplication(_ application: Application, audit: AuditAppend) async throws {
        try withState { state in
            if state.applications.contains(where: { ExactText.same($0.name, application.name) }) {
                throw TwofoldError(.conflict, "an application named \"\(application.name)\" exists")
            }
            if state.applications.contains(where: { ExactText.same($0.id.rawValue, application.id.rawValue) }) {
                throw TwofoldError(.conflict, "an application with id \(application.id) exists")
            }
            let event = try state.chained(audit)
            state.applications.append(AsStored.record(application))
            state.record(event)
        }
    }

    public func application(named name: String) async throws -> Application? {
        try withState { state in
            state.applications.first { ExactText.same($0.name, name) }
        }
    }

    public func application(id: ApplicationID) async throws -> Application? {
        try withState { state in
            state.applications.first { ExactText.same($0.id.rawValue, id.rawValue) }
        }
    }

    /// By name, byte for byte.
    public func applications() async throws -> [Application] {
        try withState { state in
            state.applications.sorted { ExactText($0.name) < ExactText($1.name) }
        }
    }

    /// Only the template, the domain and number matching change; `false`, and nothing written,
    /// for an unknown id.
    public func updateApplicationSettings(_ application: Application, audit: AuditAppend) async throws -> Bool {
        try withState { state in
            guard let index = state.applications.firstIndex(where: { ExactText.same($0.id.rawValue, application.id.rawValue) }) else {
                return false
            }
            let event = try state.chained(audit)
            state.applications[index].smsTemplate = application.smsTemplate
            state.applications[index].domain = application.domain
            state.applications[index].pushNumberMatching = application.pushNumberMatching
            state.applications[index].relyingPartyID = application.relyingPartyID
            state.applications[index].origins = application.origins
            state.record(event)
            return true
        }
    }
}
