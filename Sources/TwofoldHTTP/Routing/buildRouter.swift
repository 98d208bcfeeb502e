import Hummingbird
import TwofoldCore

/// The HTTP API over the domain services: every route and middleware, ready for a Hummingbird
/// application (which `TwofoldServer` builds).
/// - Parameters:
///   - services: The services the controllers call.
///   - clock: The services' clock, for `Retry-After`.
///   - metrics: Where the middleware counts requests and `/metrics` reads from.
public func buildRouter(services: TwofoldServices, clock: any WallClock, metrics: TwofoldMetrics) -> Router<TwofoldRequestContext> {
    buildRoutes(services: services, clock: clock, metrics: metrics).router
}

/// ``buildRouter(services:clock:metrics:)``, and the table of routes registered (which the
/// OpenAPI test compares with the document).
func buildRoutes(services: TwofoldServices, clock: any WallClock, metrics: TwofoldMetrics)
    -> (router: Router<TwofoldRequestContext>, table: RouteTable) {
    let table = RouteTable()
    let router = Router(context: TwofoldRequestContext.self)
    let routes = RouteRecorder(router: router, table: table)
    // Outermost first: every answer, errors included, gets an id, a log line and metrics.
    routes.add(middleware: RequestIDMiddleware())
    routes.add(middleware: RequestLogMiddleware())
    routes.add(middleware: MetricsMiddleware(metrics: metrics))
    routes.add(middleware: NoStoreMiddleware())
    routes.add(middleware: ErrorMiddleware(routes: table))
    routes.add(middleware: CanonicalPathMiddleware())
    routes.add(middleware: BodyLimitMiddleware())

    routes.addRoutes(OperationsController(health: services.health, challenges: services.challenges, metrics: metrics).endpoints)
    routes.addRoutes(CallbacksController(challenges: services.challenges).endpoints, atPath: "v1/callbacks")
    routes.addRoutes(DevicesController(push: services.push).endpoints, atPath: "v1/devices")

    let lockouts = LockoutWatch(clock: clock, metrics: metrics)
    let v1 = routes.group("v1")
        .add(middleware: APIKeyAuthenticationMiddleware(apiKeys: services.apiKeys, cache: APIKeyCache(),
                                                        revalidatedInStore: [VerificationController<AuthenticatedContext>.routePattern]))
        .group(context: AuthenticatedContext.self)
    v1.addRoutes(FactorsController(enrollment: services.enrollment, verification: services.verification, challenges: services.challenges,
                                   push: services.push, securityKeys: services.securityKeys, lockouts: lockouts).endpoints,
                 atPath: "users/{user_id}")
    let challenges = ChallengesController<AuthenticatedContext>(challenges: services.challenges, push: services.push,
                                                                  securityKeys: services.securityKeys, lockouts: lockouts,
                                                                metrics: metrics)
    v1.addRoutes(challenges.userEndpoints, atPath: "users/{user_id}")
    v1.addRoutes(challenges.challengeEndpoints, atPath: "challenges")
    v1.addRoutes(VerificationController(verification: services.verification, lockouts: lockouts, metrics: metrics).endpoints,
                 atPath: "users/{user_id}")
    v1.addRoutes(UserAdministrationController(administration: services.administration, applications: services.applications).endpoints,
                 atPath: "users/{user_id}")
    v1.addRoutes(AuditController(auditService: services.audit).endpoints, atPath: "audit")
    v1.addRoutes(ApplicationController(applications: services.applications).endpoints, atPath: "application")
    v1.addRoutes(TokensController(tokens: services.hardwareTokens).endpoints, atPath: "tokens")
    return (router, table)
}
