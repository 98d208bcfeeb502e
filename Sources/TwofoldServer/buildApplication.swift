import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import TwofoldCore

/// The composition root: the HTTP application over an open runtime, as `twofold serve` runs it
/// and as the tests drive it.
///
/// - Parameters:
///   - runtime: The open store and engine; the application never closes it (the caller does,
///     after the server has stopped).
///   - logger: The server's and the requests' logger; by default `twofold.http` at the
///     configured level.
///   - metrics: Where `/metrics` reads from.
/// - Returns: An application listening on the configured address, over TLS when a certificate
///   and key are configured.
/// - Throws: `configuration` when the TLS files cannot be loaded.
public func buildApplication(
    runtime: TwofoldRuntime,
    logger: Logger? = nil,
    metrics: TwofoldMetrics = TwofoldMetrics()
) throws -> some ApplicationProtocol {
    let configuration = runtime.configuration
    let logger = logger ?? {
        var logger = Logger(label: "twofold.http")
        logger.logLevel = configuration.logLevel
        return logger
    }()
    let (router, _) = buildRouter(runtime: runtime, metrics: metrics)
    let tls = try configuration.tls.map(TLSSetup.serverConfiguration)
    let scheme = configuration.tls == nil ? "http" : "https"
    return Hummingbird.Application(
        router: router,
        server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.listen.host, port: configuration.listen.port),
            serverName: nil
        ),
        onServerRunning: { channel in
            logger.notice("listening", metadata: [
                "address": "\(scheme)://\(configuration.listen)",
                "port": "\(channel.localAddress?.port.map(String.init) ?? "?")",
            ])
        },
        logger: logger
    )
}

/// Every route and middleware, and the table of routes registered (which the OpenAPI test
/// compares with the document).
func buildRouter(runtime: TwofoldRuntime, metrics: TwofoldMetrics) -> (Router<TwofoldRequestContext>, RouteTable) {
    let engine = runtime.engine
    let table = RouteTable()
    let router = Router(context: TwofoldRequestContext.self)
    let routes = RouteRecorder(router: router, table: table)
    // Outermost first: every answer, errors included, gets an id, a log line and metrics.
    routes.add(middleware: RequestIDMiddleware())
    routes.add(middleware: RequestLogMiddleware())
    routes.add(middleware: MetricsMiddleware(metrics: metrics))
    routes.add(middleware: NoStoreMiddleware())
    routes.add(middleware: ErrorMiddleware(routes: table))
    routes.add(middleware: BodyLimitMiddleware())

    routes.addRoutes(OperationsController(store: engine.store, metrics: metrics).endpoints)

    let lockouts = LockoutWatch(engine: engine, clock: runtime.clock, metrics: metrics)
    let v1 = routes.group("v1")
        .add(middleware: APIKeyAuthenticationMiddleware(engine: engine, cache: APIKeyCache(),
                                                        revalidatedInStore: [VerificationController<AuthenticatedContext>.routePattern]))
        .group(context: AuthenticatedContext.self)
    v1.addRoutes(FactorsController(engine: engine, lockouts: lockouts).endpoints, atPath: "users/{user_id}")
    v1.addRoutes(VerificationController(engine: engine, lockouts: lockouts, metrics: metrics).endpoints, atPath: "users/{user_id}")
    v1.addRoutes(UserAdministrationController(engine: engine).endpoints, atPath: "users/{user_id}")
    v1.addRoutes(AuditController(engine: engine).endpoints, atPath: "audit")
    return (router, table)
}
