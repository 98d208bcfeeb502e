import Hummingbird
import TwofoldCore

/// The context of `/v1` handlers: its throwing initialiser guarantees an authenticated caller,
/// so handlers get a non-optional ``APICaller``.
public struct AuthenticatedContext: ChildRequestContext, CallerRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let caller: APICaller

    /// - Throws: `unauthorized` when the authentication middleware recorded no key.
    public init(context: TwofoldRequestContext) throws {
        guard let key = context.apiKey else {
            throw APIError.unauthorized("a valid API key is required: send Authorization: Bearer <key>")
        }
        coreContext = context.coreContext
        caller = APICaller(key: key)
    }

    public var maxUploadSize: Int { HTTPLimits.maximumBodySize }
}

/// A context whose caller is known: what controllers of `/v1` are generic over.
public protocol CallerRequestContext: RequestContext {
    var caller: APICaller { get }
}

/// Who is calling: an API key, its application and its scopes.
public struct APICaller: Sendable {
    public let key: APIKeyRecord

    /// The application the key belongs to: the only one whose users it sees.
    public var applicationID: ApplicationID { key.applicationID }

    /// The actor recorded in audit events: `api:<key id>`.
    public var actor: String { "api:\(key.id)" }

    /// - Throws: `forbidden` unless the key has `scope`. Scopes are independent: `admin` does
    ///   not imply the others.
    public func require(_ scope: APIKeyScope) throws(APIError) {
        guard key.scopes.contains(scope) else {
            throw APIError.forbidden("this API key lacks the \(scope.rawValue) scope")
        }
    }
}
