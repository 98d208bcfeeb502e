import Foundation
import TwofoldCore

/// What the listener holds clients to, so that idle or slow connections cannot exhaust file
/// descriptors: how long a connection may stay without a request in flight (which also bounds
/// the time to complete a TLS handshake and to send a request's head), and how many
/// connections are served at once (more wait in the kernel's backlog).
public struct ListenerConfiguration: Sendable, Equatable {
    public var idleTimeout: TimeInterval = 30
    public var maximumConnections = 4096

    public init() {}

    static let settings: [(name: String, form: String, defaultValue: String)] = [
        ("TWOFOLD_HTTP_IDLE_TIMEOUT", "duration, 1s to 10m: a connection without a request in flight, a TLS handshake or a request head that takes longer is closed", "30s"),
        ("TWOFOLD_MAX_CONNECTIONS", "connections served at once, 16 to 1000000 (keep under the open files limit)", "4096"),
    ]

    /// - Throws: `configuration` naming the setting.
    init(duration: (String, ClosedRange<TimeInterval>) throws(TwofoldError) -> TimeInterval?,
         integer: (String, ClosedRange<Int>) throws(TwofoldError) -> Int?) throws(TwofoldError) {
        if let timeout = try duration("TWOFOLD_HTTP_IDLE_TIMEOUT", 1...600) { idleTimeout = timeout }
        if let count = try integer("TWOFOLD_MAX_CONNECTIONS", 16...1_000_000) { maximumConnections = count }
    }
}
