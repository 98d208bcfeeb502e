import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import HummingbirdTLS
import Logging
import TwofoldCore
import TwofoldHTTP

/// The composition root: the HTTP application over an open runtime, as `twofold serve` runs it
/// and as the tests drive it.
///
/// - Parameters:
///   - runtime: The open store and services; the application never closes it (the caller does,
///     after the server has stopped).
///   - logger: The server's and the requests' logger; by default `twofold.http` at the
///     configured level.
///   - metrics: Where `/metrics` reads from; the runtime's, which the challenges report to, by default.
/// - Returns: An application listening on the configured address, over TLS when a certificate
///   and key are configured.
/// - Throws: `configuration` when the TLS files cannot be loaded.
public func buildApplication(
    runtime: TwofoldRuntime,
    logger: Logger? = nil,
    metrics: TwofoldMetrics? = nil
) throws -> some ApplicationProtocol {
    let metrics = metrics ?? runtime.metrics
    let configuration = runtime.configuration
    let logger = {
        var logger = logger ?? {
            var logger = Logger(label: "twofold.http")
            logger.logLevel = configuration.logLevel
            return logger
        }()
        logger.handler = ServerAnnouncementFilter(wrapped: logger.handler)
        return logger
    }()
    let router = buildRouter(services: runtime.services, clock: runtime.clock, metrics: metrics)
    let tls = try configuration.tls.map(TLSSetup.serverConfiguration)
    let scheme = configuration.tls == nil ? "http" : "https"
    let http1 = HTTPServerBuilder.http1(configuration: HTTP1Channel.Configuration(
        idleTimeout: TimeAmount.milliseconds(Int64(configuration.listener.idleTimeout * 1000))))
    return Hummingbird.Application(
        router: router,
        server: try tls.map { try .tls(http1, tlsConfiguration: $0) } ?? http1,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.listen.host, port: configuration.listen.port),
            serverName: nil,
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.listener.maximumConnections, logger: logger)
        ),
        onServerRunning: { channel in
            logger.notice("listening", metadata: [
                "address": "\(scheme)://\(configuration.listen)",
                "port": .stringConvertible(channel.localAddress?.port ?? configuration.listen.port),
            ])
        },
        logger: logger
    )
}
