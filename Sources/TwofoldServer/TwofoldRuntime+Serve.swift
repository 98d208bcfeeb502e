import Hummingbird
import Logging
import ServiceLifecycle

extension TwofoldRuntime {
    /// The longest a graceful shutdown may take before in-flight requests are cancelled.
    public static let maximumShutdownDuration: Duration = .seconds(30)

    /// Serves the API until SIGTERM or SIGINT, then shuts down gracefully: the listener closes,
    /// requests in flight finish (for up to ``maximumShutdownDuration``), idle connections close.
    /// Returns after that; the caller then closes the runtime.
    public func serve(logger: Logger) async throws {
        let application = try buildApplication(runtime: self, logger: logger)
        var configuration = ServiceGroupConfiguration(
            services: [application],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = Self.maximumShutdownDuration
        try await ServiceGroup(configuration: configuration).run()
        logger.info("server stopped")
    }
}
