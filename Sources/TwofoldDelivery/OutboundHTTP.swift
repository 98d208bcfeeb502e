import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TwofoldCore

/// The one HTTP client of the delivery providers: a timeout on every request, a few retries
/// with jittered exponential backoff when the provider is unreachable or overloaded, and logs
/// that name the provider, the status and the attempt, never a number, code or message.
///
/// Requests are retried on connection errors, timeouts, 5xx and 429. A timeout may come after
/// the provider took the request, so a retry can deliver twice: the webhook provider sends an
/// `Idempotency-Key` for that; with Twilio the user may get the same code twice, which is
/// better than none.
public final class OutboundHTTP: Sendable {
    /// How long to wait and how often to try again.
    public struct Policy: Sendable, Equatable {
        /// The limit for one attempt, connection included.
        public var timeout: Duration
        /// Attempts after the first.
        public var maxRetries: Int
        /// The wait before the first retry; each further one doubles it, then jitter takes up to half off.
        public var initialBackoff: Duration
        /// The longest wait between attempts, for a `Retry-After` too.
        public var maxBackoff: Duration
        /// Everything, waits included, ends within this: a code that arrives after its
        /// challenge expired is of no use.
        public var budget: Duration

        public init(timeout: Duration = .seconds(5), maxRetries: Int = 2, initialBackoff: Duration = .milliseconds(250),
                    maxBackoff: Duration = .seconds(10), budget: Duration = .seconds(30)) {
            self.timeout = timeout
            self.maxRetries = maxRetries
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.budget = budget
        }

        /// - Throws: `configuration` for a zero or negative time, or a negative retry count.
        public func validate() throws(TwofoldError) {
            guard timeout > .zero else { throw TwofoldError(.configuration, "the delivery timeout must be positive") }
            guard maxRetries >= 0 else { throw TwofoldError(.configuration, "the delivery retry count must not be negative") }
            guard initialBackoff >= .zero, maxBackoff >= initialBackoff else {
                throw TwofoldError(.configuration, "the delivery backoff must be positive and at most its maximum")
            }
            guard budget >= timeout else { throw TwofoldError(.configuration, "the delivery budget must be at least the timeout") }
        }
    }

    /// Connections kept per provider host and port.
    static let connectionsPerHost = 64

    /// The largest answer read from a provider.
    static let maximumResponseBytes = 64 * 1024

    public let policy: Policy
    private let client: HTTPClient
    private let logger: Logger
    private let sleep: @Sendable (Duration) async throws -> Void
    private let jitter: @Sendable () -> Double

    /// - Parameters:
    ///   - policy: timeouts and retries.
    ///   - logger: where attempts are logged (provider, status, attempt number only).
    ///   - sleep: waits between attempts; tests record the waits instead.
    ///   - jitter: a factor in 0.5...1 applied to each backoff, so that many senders retrying
    ///     at once spread out.
    public init(
        policy: Policy = Policy(),
        logger: Logger = Logger(label: "twofold.delivery"),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0.5...1) }
    ) {
        self.policy = policy
        self.logger = logger
        self.sleep = sleep
        self.jitter = jitter
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: Self.timeAmount(policy.timeout)),
            decompression: .disabled
        )
        configuration.httpVersion = .automatic
        // A provider that hangs holds its connections for a timeout each: with the client's
        // default of 8 per host, sends to another channel on the same gateway would queue
        // behind them.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Self.connectionsPerHost
        // A refused connection fails the attempt at once (`unreachable`); the retries above, with
        // their backoff, decide whether to try again, rather than the client retrying silently
        // until the attempt's deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Closes the connections. Call once, when the server stops; no request may follow.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Sends `request`, retrying as the policy says.
    ///
    /// - Parameter provider: the provider's name, for logs.
    /// - Returns: the last answer, whatever its status (once retries are spent, a 5xx or 429 too):
    ///   only the provider can read its error bodies.
    /// - Throws: `timeout` or `unreachable` when no answer came from the last attempt.
    public func send(_ request: OutboundRequest, provider: String) async throws(DeliveryFailure) -> OutboundResponse {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: policy.budget)
        var attempt = 1
        while true {
            let remaining = clock.now.duration(to: deadline)
            let outcome = await attemptOnce(request, timeout: min(policy.timeout, max(remaining, .milliseconds(1))))
            var metadata: Logger.Metadata = ["provider": .string(provider), "attempt": .stringConvertible(attempt)]
            let retryAfter: Int?
            switch outcome {
            case .success(let response):
                metadata["status"] = .stringConvertible(response.status)
                guard response.isRetryable else {
                    logger.debug("delivery request answered", metadata: metadata)
                    return response
                }
                retryAfter = response.retryAfterSeconds
            case .failure(let failure):
                metadata["failure"] = .string(failure.kind.rawValue)
                retryAfter = nil
            }
            let wait = backoff(afterAttempt: attempt, retryAfter: retryAfter)
            let canRetry = attempt <= policy.maxRetries && clock.now.advanced(by: wait) < deadline && !Task.isCancelled
            if canRetry {
                metadata["retry_in_ms"] = .stringConvertible(Self.milliseconds(wait))
                logger.warning("delivery request failed, retrying", metadata: metadata)
                do {
                    try await sleep(wait)
                } catch {
                    throw DeliveryFailure(.timeout, "\(provider): cancelled while waiting to retry")
                }
                attempt += 1
                continue
            }
            logger.warning("delivery request failed", metadata: metadata)
            return try outcome.get()
        }
    }

    /// The wait before attempt `attempt + 1`: the provider's `Retry-After` when it gave one,
    /// otherwise exponential backoff with jitter; never more than `maxBackoff`.
    func backoff(afterAttempt attempt: Int, retryAfter: Int?) -> Duration {
        if let retryAfter {
            return min(.seconds(retryAfter), policy.maxBackoff)
        }
        let factor = Double(1 << min(attempt - 1, 20)) * min(max(jitter(), 0.5), 1)
        return min(policy.initialBackoff * factor, policy.maxBackoff)
    }

    /// One attempt, answer body included, within `timeout`: the client's deadline, and behind it
    /// a timer of our own, a little later, that cancels the attempt, since the client may notice
    /// its deadline late or not at all (while it reads a body). The timer is later than the
    /// deadline so that on a busy machine it does not overtake an answer the client received
    /// in time.
    private func attemptOnce(_ request: OutboundRequest, timeout: Duration) async -> Result<OutboundResponse, DeliveryFailure> {
        let safetyNet = timeout + max(.seconds(1), timeout / 2)
        return await withTaskGroup(of: Result<OutboundResponse, DeliveryFailure>?.self) { group in
            group.addTask { await self.exchange(request, timeout: timeout) }
            group.addTask {
                try? await Task.sleep(for: safetyNet)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(DeliveryFailure(.timeout, "no answer in time"))
        }
    }

    private func exchange(_ request: OutboundRequest, timeout: Duration) async -> Result<OutboundResponse, DeliveryFailure> {
        var outbound = HTTPClientRequest(url: request.url)
        outbound.method = .POST
        for (name, value) in request.headers {
            outbound.headers.add(name: name, value: value)
        }
        outbound.body = .bytes(request.body)
        do {
            let response = try await client.execute(outbound, deadline: .now() + Self.timeAmount(timeout))
            var body = try await response.body.collect(upTo: Self.maximumResponseBytes)
            var headers: [String: String] = [:]
            for field in response.headers where headers[field.name.lowercased()] == nil {
                headers[field.name.lowercased()] = field.value
            }
            return .success(OutboundResponse(status: Int(response.status.code), headers: headers,
                                             body: body.readBytes(length: body.readableBytes) ?? []))
        } catch {
            return .failure(Self.failure(for: error))
        }
    }

    /// Transport errors as delivery failures: the deadline and the client's own timeouts are
    /// `timeout`; everything else that kept an answer from arriving is `unreachable`.
    static func failure(for error: any Error) -> DeliveryFailure {
        if let error = error as? HTTPClientError {
            let timeouts: [HTTPClientError] = [.deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout,
                                               .tlsHandshakeTimeout, .getConnectionFromPoolTimeout]
            if timeouts.contains(error) {
                return DeliveryFailure(.timeout, "no answer in time")
            }
            if [.invalidURL, .emptyHost, .emptyScheme].contains(error) || error.shortDescription == "Unsupported scheme" {
                return DeliveryFailure(.providerError, "the provider's URL is not usable")
            }
            if error == .alreadyShutdown {
                return DeliveryFailure(.providerError, "the HTTP client was shut down")
            }
            return DeliveryFailure(.unreachable, "connection failed (\(error.shortDescription))")
        }
        if error is NIOTooManyBytesError {
            return DeliveryFailure(.providerError, "the answer was larger than \(maximumResponseBytes) bytes")
        }
        if error is CancellationError {
            return DeliveryFailure(.timeout, "cancelled")
        }
        return DeliveryFailure(.unreachable, "connection failed (\(String(describing: type(of: error))))")
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Int64(milliseconds(duration)) * 1_000_000)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
