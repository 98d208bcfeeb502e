import Prometheus
import TwofoldCore

/// The challenge machinery's metrics:
/// - `twofold_challenge_sends_total{channel,provider,outcome}`: each provider's answer to a send
/// - `twofold_challenge_delivery_seconds{channel,provider}` (histogram): how long a provider took to answer
/// - `twofold_challenges_finished_total{type,status}`: challenges by final status
/// - `twofold_challenge_refusals_total{channel,limit}`: sends refused by a limit
/// - `twofold_fraud_reports_total{channel}`: denials reported as fraud
extension TwofoldMetrics: ChallengeObserver {
    public func delivery(channel: ChallengeType, provider: String, outcome: String, seconds: Double) {
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "twofold", subsystem: "challenge", metricName: "sends", unitName: "total",
            helpText: "Sends to providers by channel, provider and outcome."),
            labels: [("channel", channel.rawValue), ("provider", provider), ("outcome", outcome)]).increment()
        registry.makeDurationHistogram(descriptor: MetricNameDescriptor(
            namespace: "twofold", subsystem: "challenge", metricName: "delivery", unitName: "seconds",
            helpText: "How long providers took to take a send."),
            labels: [("channel", channel.rawValue), ("provider", provider)], buckets: Self.latencyBuckets)
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    public func challengeFinished(type: ChallengeType, status: ChallengeStatus) {
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "twofold", metricName: "challenges_finished", unitName: "total",
            helpText: "Challenges by type and final status."),
            labels: [("type", type.rawValue), ("status", status.rawValue)]).increment()
    }

    public func sendRefused(channel: ChallengeType, limit: String) {
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "twofold", subsystem: "challenge", metricName: "refusals", unitName: "total",
            helpText: "Challenge sends refused by a limit."),
            labels: [("channel", channel.rawValue), ("limit", limit)]).increment()
    }

    public func fraudReported(channel: ChallengeType) {
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "twofold", metricName: "fraud_reports", unitName: "total",
            helpText: "Challenges denied as fraud by the user."),
            labels: [("channel", channel.rawValue)]).increment()
    }
}
