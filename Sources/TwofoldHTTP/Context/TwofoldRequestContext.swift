import Hummingbird
import TwofoldCore

/// The context of every request: Hummingbird's core storage, and the API key once the
/// authentication middleware has checked one (only under `/v1`).
public struct TwofoldRequestContext: RequestContext, APIKeyRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var apiKey: APIKeyRecord?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        apiKey = nil
    }

    public var maxUploadSize: Int { HTTPLimits.maximumBodySize }
}

/// A context the authentication middleware can record the caller's key in.
public protocol APIKeyRequestContext: RequestContext {
    var apiKey: APIKeyRecord? { get set }
}
