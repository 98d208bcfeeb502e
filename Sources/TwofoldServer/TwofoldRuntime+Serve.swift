import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TwofoldCore

extension TwofoldRuntime {
    /// The longest a graceful shutdown may take before in-flight requests are cancelled.
    public static let maximumShutdownDuration: Duration = .seconds(30)

    /// What `twofold serve` checks before it creates or opens anything: the listen host
    /// resolves and its port is free, and the TLS files can be read and belong together.
    /// - Throws: `configuration` naming the setting (`TWOFOLD_LISTEN`, `TWOFOLD_TLS_CERT`,
    ///   `TWOFOLD_TLS_KEY`) and what to fix.
    public static func checkServing(_ configuration: TwofoldConfiguration) throws(TwofoldError) {
        try ListenAddressCheck.check(configuration.listen)
        if let tls = configuration.tls { _ = try TLSSetup.serverConfiguration(tls) }
    }

    /// Serves the API until SIGTERM or SIGINT, then shuts down gracefully: the listener closes,
    /// requests in flight finish (for up to ``maximumShutdownDuration``), idle connections close.
    /// Returns after that; the caller then closes the runtime.
    /// - Throws: `configuration` naming `TWOFOLD_LISTEN` when the address cannot be listened on;
    ///   whatever else stops the server.
    public func serve(logger: Logger) async throws {
        let application = try buildApplication(runtime: self, logger: logger)
        var configuration = ServiceGroupConfiguration(
            services: [application],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = Self.maximumShutdownDuration
        let maintenance = startMaintenance(logger: logger)
        defer { maintenance.cancel() }
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch let error as IOError where [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode) {
            // Taken since checkServing(_:) found it free.
            throw ListenAddressCheck.bindFailure(self.configuration.listen, errno: error.errnoCode)
        } catch let error as SocketAddressError {
            throw ListenAddressCheck.unresolvable(self.configuration.listen, reason: "\(error)")
        }
        logger.info("server stopped")
    }

    /// Deletes challenges past their retention and device signatures past their window, at start
    /// and then hourly, until cancelled.
    func startMaintenance(logger: Logger) -> Task<Void, Never> {
        let challenges = services.challenges
        let push = services.push
        return Task {
            while !Task.isCancelled {
                do {
                    let purged = try await challenges.purgeExpired()
                    if purged > 0 { logger.info("purged challenges past retention", metadata: ["count": .stringConvertible(purged)]) }
                    _ = try await push.purgeSignatures()
                } catch {
                    logger.warning("could not purge challenges past retention", metadata: [
                        "error": "\((error as? TwofoldError)?.message ?? String(reflecting: type(of: error)))",
                    ])
                }
                try? await Task.sleep(for: .seconds(3600))
            }
        }
    }
}
