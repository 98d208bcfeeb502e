import Hummingbird
import Synchronization

/// Every route registered in the router, as (method, pattern): to tell 405 from 404, and for the
/// test that keeps the OpenAPI document true to the router.
final class RouteTable: Sendable {
    struct Route: Sendable, Hashable, CustomStringConvertible {
        let method: String
        /// `/v1/users/{user_id}/factors`
        let pattern: String

        var description: String { "\(method) \(pattern)" }

        /// Whether a raw request path has this route's shape (a `{…}` segment matches any segment).
        func matches(_ segments: [Substring]) -> Bool {
            let parts = pattern.split(separator: "/")
            guard parts.count == segments.count else { return false }
            return zip(parts, segments).allSatisfy { part, segment in part.hasPrefix("{") || part == segment }
        }
    }

    private let storage = Mutex<[Route]>([])

    var routes: [Route] { storage.withLock { $0 } }

    func add(method: String, pattern: String) {
        storage.withLock { $0.append(Route(method: method, pattern: pattern)) }
    }

    /// The methods some route accepts for this path, sorted; empty when no route has its shape.
    func methods(matching path: String) -> [String] {
        let segments = path.split(separator: "/")
        return Set(routes.filter { $0.matches(segments) }.map(\.method)).sorted()
    }
}

/// A router front that writes down every route added through it, then hands it to the router.
final class RouteRecorder<Context: RequestContext>: RouterMethods {
    let router: Router<Context>
    let table: RouteTable

    init(router: Router<Context>, table: RouteTable) {
        self.router = router
        self.table = table
    }

    @discardableResult
    func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> Self
    where Responder.Context == Context {
        table.add(method: method.rawValue, pattern: path.description)
        router.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult
    func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }
}
