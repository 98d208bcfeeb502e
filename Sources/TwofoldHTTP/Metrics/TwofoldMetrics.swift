import Prometheus
import Synchronization

/// The service's Prometheus metrics, in a registry of its own (so tests never share one).
///
/// - `twofold_http_requests_total{route,method,status}`
/// - `twofold_http_request_duration_seconds{route,method}` (histogram)
/// - `twofold_verifications_total{result,reason}`: verify answers; `reason` is `none` for allow
/// - `twofold_lockouts_total`: failures that locked a user
public final class TwofoldMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]

    private var requests: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "twofold", subsystem: "http", metricName: "requests", unitName: "total",
                             helpText: "HTTP requests by route pattern, method and status.")
    }
    private var latency: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "twofold", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                             helpText: "HTTP request latency by route pattern and method.")
    }
    private var verifications: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "twofold", metricName: "verifications", unitName: "total",
                             helpText: "Verify answers by result and denial reason.")
    }
    private let lockouts: Counter

    /// The registry's series by label values, looked up once: the registry builds a label key
    /// and takes its lock at every `make…` call, and requests come by the thousand per second.
    private struct RequestSeriesKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }
    private let requestSeries = Mutex<[RequestSeriesKey: (count: Counter, latency: DurationHistogram)]>([:])
    private let verificationSeries = Mutex<[String: Counter]>([:])

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        lockouts = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "twofold", metricName: "lockouts", unitName: "total",
            helpText: "Failed attempts that locked a user's verification."))
        // Present from the start, so dashboards see zeros rather than nothing.
        for (result, reason) in [("allow", "none"), ("deny", "invalid_code"), ("deny", "replayed"), ("deny", "locked"), ("deny", "no_factors")] {
            _ = registry.makeCounter(descriptor: verifications, labels: [("result", result), ("reason", reason)])
        }
    }

    /// `route` is a route pattern or `unmatched` (never a raw path), so the series stay few.
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let key = RequestSeriesKey(route: route, method: method, status: status)
        let series = requestSeries.withLock { series in
            if let known = series[key] { return known }
            let made = (count: registry.makeCounter(descriptor: requests, labels: [("route", route), ("method", method), ("status", String(status))]),
                        latency: registry.makeDurationHistogram(descriptor: latency, labels: [("route", route), ("method", method)],
                                                                buckets: Self.latencyBuckets))
            series[key] = made
            return made
        }
        series.count.increment()
        series.latency.record(duration)
    }

    func recordVerification(result: String, reason: String) {
        let counter = verificationSeries.withLock { series in
            if let known = series[result + "/" + reason] { return known }
            let made = registry.makeCounter(descriptor: verifications, labels: [("result", result), ("reason", reason)])
            series[result + "/" + reason] = made
            return made
        }
        counter.increment()
    }

    func recordLockout() {
        lockouts.increment()
    }

    /// The Prometheus text exposition.
    func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}
