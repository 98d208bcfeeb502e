import Foundation
import Hummingbird
import TwofoldCore

/// The caller's own application (scope `admin`), `/v1/application`: its settings for messages.
struct ApplicationController<Context: CallerRequestContext>: Sendable {
    let applications: ApplicationService

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequireScopeMiddleware(scope: .admin))
        routes.get("", use: show)
        routes.patch("", use: update)
        return routes
    }

    /// `{"sms_template"?, "domain"?, "push_number_matching"?, "rp_id"?, "origins"?}`: a field left
    /// out is kept, `null` goes back to the default (`rp_id: null` turns security keys off).
    struct UpdateRequest: RequestBody {
        var smsTemplate: ApplicationService.SettingChange
        var domain: ApplicationService.SettingChange
        var pushNumberMatching: Bool?
        var relyingParty: ApplicationService.RelyingPartyChange = .keep

        enum CodingKeys: String, CodingKey, CaseIterable {
            case smsTemplate = "sms_template"
            case domain
            case pushNumberMatching = "push_number_matching"
            case rpID = "rp_id"
            case origins
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            smsTemplate = try Self.change(container, .smsTemplate)
            domain = try Self.change(container, .domain)
            if container.contains(.pushNumberMatching) {
                // null is the default, which is on.
                pushNumberMatching = try container.decodeNil(forKey: .pushNumberMatching)
                    ? true : try container.decode(Bool.self, forKey: .pushNumberMatching)
            }
            switch (try Self.change(container, .rpID), try container.decodeIfPresent([String].self, forKey: .origins)) {
            case (.keep, nil): relyingParty = .keep
            case (.clear, let origins):
                guard origins?.isEmpty ?? true else {
                    throw APIError.invalidRequest("field `origins` needs an `rp_id`: give one, or leave origins out when clearing rp_id")
                }
                relyingParty = .clear
            case (.set(let id), let origins): relyingParty = .set(id: id, origins: origins)
            case (.keep, let origins?): relyingParty = .set(id: nil, origins: origins)
            }
        }

        private static func change(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> ApplicationService.SettingChange {
            guard container.contains(key) else { return .keep }
            if try container.decodeNil(forKey: key) { return .clear }
            return .set(try container.decode(String.self, forKey: key))
        }
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.make(ApplicationJSON(try await applications.application(id: context.caller.applicationID)))
    }

    @Sendable func update(_ request: Request, context: Context) async throws -> Response {
        let body = try await request.decodeJSON(UpdateRequest.self)
        let application = try await applications.updateSettings(id: context.caller.applicationID, smsTemplate: body.smsTemplate,
                                                                domain: body.domain, pushNumberMatching: body.pushNumberMatching,
                                                                relyingParty: body.relyingParty, actor: context.caller.actor)
        return JSONResponse.make(ApplicationJSON(application))
    }
}
