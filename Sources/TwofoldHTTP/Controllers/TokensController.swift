import Foundation
import Hummingbird
import TwofoldCore

/// The caller's application's hardware token pool (scope `admin`), `/v1/tokens`: import, list,
/// assign to a user, hand back, delete. Seeds go in with an import and never come out.
struct TokensController<Context: CallerRequestContext>: Sendable {
    let tokens: HardwareTokenService

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.add(middleware: RequireScopeMiddleware(scope: .admin))
        routes.get("", use: list)
        routes.post("", use: importFile)
        routes.post("{serial}/assign", use: assign)
        routes.post("{serial}/unassign", use: unassign)
        routes.delete("{serial}", use: delete)
        return routes
    }

    /// `{"format": "pskc"|"csv", "file": "<the file's text>", "psk"?: "<hex>", "password"?}`.
    struct ImportRequest: RequestBody {
        var format: String
        var file: String
        var psk: String?
        var password: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case format, file, psk, password }
    }

    struct AssignRequest: RequestBody {
        var userID: String

        enum CodingKeys: String, CodingKey, CaseIterable { case userID = "user_id" }
    }

    struct TokenList: Encodable {
        let tokens: [HardwareTokenJSON]
    }

    struct AssignedResponse: Encodable {
        let token: HardwareTokenJSON
        let factor: FactorJSON
    }

    /// `GET /v1/tokens?unassigned=true`.
    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let unassigned: Bool
        switch request.uri.queryParameters.get("unassigned") {
        case nil, "false": unassigned = false
        case "true": unassigned = true
        default: throw APIError.invalidRequest("query parameter `unassigned` must be true or false")
        }
        let found = try await tokens.tokens(context.caller.applicationID, unassignedOnly: unassigned)
        return JSONResponse.make(TokenList(tokens: found.map(HardwareTokenJSON.init)))
    }

    /// `POST /v1/tokens` → 201 with the tokens imported; a file with anything wrong imports none.
    @Sendable func importFile(_ request: Request, context: Context) async throws -> Response {
        let body = try await request.decodeJSON(ImportRequest.self)
        guard let format = TokenFileFormat(rawValue: body.format) else {
            throw APIError.invalidRequest("field `format` must be pskc or csv")
        }
        let secret: TokenFileSecret
        switch (body.psk, body.password) {
        case (nil, nil): secret = .none
        case (let hex?, nil): secret = try .preSharedKey(hex: hex, field: "field `psk`")
        case (nil, let password?): secret = .password(password)
        case (_?, _?): throw APIError.invalidRequest("give `psk` or `password`, not both")
        }
        let imported = try await tokens.importTokens(context.caller.applicationID, file: Array(body.file.utf8), format: format,
                                                     key: secret, actor: context.caller.actor)
        return JSONResponse.make(TokenList(tokens: imported.map(HardwareTokenJSON.init)), status: .created)
    }

    /// `POST /v1/tokens/{serial}/assign` `{"user_id"}` → the token and the user's new factor.
    @Sendable func assign(_ request: Request, context: Context) async throws -> Response {
        let serial = try Self.serial(context)
        let body = try await request.decodeJSON(AssignRequest.self)
        let userID: UserID
        do { userID = try UserID(body.userID) } catch { throw APIError.invalidRequest("field `user_id`: \(error.message)") }
        let applicationID = context.caller.applicationID
        let factor = try await tokens.assign(applicationID, serial: serial, to: userID, actor: context.caller.actor)
        guard let token = try await tokens.tokens(applicationID).first(where: { $0.serial == serial }) else {
            throw APIError.notFound("hardware token not found")
        }
        return JSONResponse.make(AssignedResponse(token: HardwareTokenJSON(token), factor: FactorJSON(factor)))
    }

    /// `POST /v1/tokens/{serial}/unassign` → the token, back in the pool; the factor is deleted.
    @Sendable func unassign(_ request: Request, context: Context) async throws -> Response {
        let serial = try Self.serial(context)
        try await tokens.unassign(context.caller.applicationID, serial: serial, actor: context.caller.actor)
        guard let token = try await tokens.tokens(context.caller.applicationID).first(where: { $0.serial == serial }) else {
            throw APIError.notFound("hardware token not found")
        }
        return JSONResponse.make(["token": HardwareTokenJSON(token)])
    }

    /// `DELETE /v1/tokens/{serial}` → 204.
    @Sendable func delete(_ request: Request, context: Context) async throws -> Response {
        try await tokens.delete(context.caller.applicationID, serial: try Self.serial(context), actor: context.caller.actor)
        return Response(status: .noContent)
    }

    static func serial(_ context: some RequestContext) throws -> String {
        guard let raw = context.parameters.get("serial"), let serial = PathParameters.decoded(raw), !serial.isEmpty else {
            throw APIError.notFound("hardware token not found")
        }
        return serial
    }
}
