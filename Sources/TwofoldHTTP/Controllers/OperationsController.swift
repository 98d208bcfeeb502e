import Foundation
import Hummingbird
import Synchronization
import TwofoldCore

/// The unauthenticated endpoints for operators and tools: liveness, readiness, metrics and the
/// OpenAPI document.
struct OperationsController<Context: RequestContext>: Sendable {
    let health: HealthService
    let challenges: ChallengeService
    let metrics: TwofoldMetrics
    /// How long `/readyz` waits for the store before calling it unavailable.
    var readinessTimeout: Duration = .seconds(2)

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("healthz", use: health)
        routes.get("readyz", use: ready)
        routes.get("metrics", use: exposition)
        routes.get("openapi.json", use: openAPI)
        return routes
    }

    struct StatusBody: Encodable {
        let status: String
    }

    /// `/readyz`: the store answers; each delivery provider's state, as details (a degraded
    /// provider does not make the service unready: verification does not need it).
    struct ReadyBody: Encodable {
        struct Provider: Encodable {
            let channel: String
            let provider: String
            let status: String
            let degradedUntil: Date?

            enum CodingKeys: String, CodingKey {
                case channel, provider, status
                case degradedUntil = "degraded_until"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(channel, forKey: .channel)
                try container.encode(provider, forKey: .provider)
                try container.encode(status, forKey: .status)
                if let degradedUntil { try container.encode(degradedUntil, forKey: .degradedUntil) } else { try container.encodeNil(forKey: .degradedUntil) }
            }
        }

        let status: String
        let providers: [Provider]
    }

    /// `GET /healthz`: the process answers.
    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.make(StatusBody(status: "ok"))
    }

    /// `GET /readyz`: the store answers within the timeout; 503 `unavailable` otherwise.
    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        let health = self.health
        let logger = context.logger
        // The ping runs in a task of its own, so a store that hangs cannot hold the answer
        // past the timeout.
        let answered = await Self.firstOf(timeout: readinessTimeout) {
            do {
                try await health.checkStore()
                return true
            } catch {
                logger.warning("readiness check failed", metadata: [
                    "error": "\((error as? TwofoldError)?.message ?? String(reflecting: type(of: error)))",
                ])
                return false
            }
        }
        guard answered else { throw APIError.unavailable }
        let providers = challenges.providerHealth().map { health in
            ReadyBody.Provider(channel: health.channel.rawValue, provider: health.provider, status: health.isDegraded ? "degraded" : "ok",
                               degradedUntil: health.degradedUntil)
        }
        return JSONResponse.make(ReadyBody(status: "ready", providers: providers))
    }

    /// The result of `work`, or `false` when `timeout` passes first (`work` then goes on alone).
    static func firstOf(timeout: Duration, _ work: @escaping @Sendable () async -> Bool) async -> Bool {
        let once = Once()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            @Sendable func finish(_ value: Bool) {
                if once.claim() { continuation.resume(returning: value) }
            }
            let worker = Task { finish(await work()) }
            Task {
                try? await Task.sleep(for: timeout)
                worker.cancel()
                finish(false)
            }
        }
    }

    /// `GET /metrics`: Prometheus text exposition.
    @Sendable func exposition(_ request: Request, context: Context) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
    }

    /// `GET /openapi.json`: the OpenAPI 3.1 description of every endpoint.
    @Sendable func openAPI(_ request: Request, context: Context) async throws -> Response {
        Response(status: .ok, headers: [.contentType: JSONResponse.contentType],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
    }
}

/// True for the first caller of ``claim()`` only.
private final class Once: Sendable {
    private let claimed = Mutex(false)

    func claim() -> Bool {
        claimed.withLock { claimed in
            defer { claimed = true }
            return !claimed
        }
    }
}
