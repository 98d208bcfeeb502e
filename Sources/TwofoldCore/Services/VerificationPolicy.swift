import Foundation

/// How codes are accepted. The defaults follow RFC 6238 §5.2 (one step either side) and
/// RFC 4226 §7.4 (a small look-ahead, a wider one only for resynchronisation).
public struct VerificationPolicy: Sendable, Equatable, Codable {
    /// TOTP steps accepted either side of the expected one.
    public var totpWindow: Int
    /// HOTP counters accepted beyond the next expected one.
    public var hotpLookAhead: UInt64
    /// The counters searched for two consecutive codes when resynchronising HOTP.
    public var hotpResyncWindow: UInt64
    /// How long a pending enrollment waits for its activating code, in seconds.
    public var pendingLifetime: TimeInterval
    /// The largest clock drift remembered for a TOTP device, in steps.
    public var maximumDrift: Int
    public var throttle: ThrottlePolicy
    /// The issuer shown in authenticator apps when enrollment names none.
    public var defaultIssuer: String

    public init(
        totpWindow: Int = 1,
        hotpLookAhead: UInt64 = 10,
        hotpResyncWindow: UInt64 = 100,
        pendingLifetime: TimeInterval = 600,
        maximumDrift: Int = 10,
        throttle: ThrottlePolicy = ThrottlePolicy(),
        defaultIssuer: String = "Twofold"
    ) {
        self.totpWindow = totpWindow
        self.hotpLookAhead = hotpLookAhead
        self.hotpResyncWindow = hotpResyncWindow
        self.pendingLifetime = pendingLifetime
        self.maximumDrift = maximumDrift
        self.throttle = throttle
        self.defaultIssuer = defaultIssuer
    }

    /// - Throws: `configuration` naming the setting out of range.
    public func validate() throws(TwofoldError) {
        guard (0...10).contains(totpWindow) else {
            throw TwofoldError(.configuration, "the TOTP window must be 0 to 10 steps, not \(totpWindow)")
        }
        guard hotpLookAhead <= 100 else {
            throw TwofoldError(.configuration, "the HOTP look-ahead must be 0 to 100, not \(hotpLookAhead)")
        }
        guard hotpResyncWindow >= hotpLookAhead, hotpResyncWindow <= 1_000 else {
            throw TwofoldError(.configuration, "the HOTP resynchronisation window must be between the look-ahead and 1000")
        }
        guard pendingLifetime >= 30, pendingLifetime <= 86_400 else {
            throw TwofoldError(.configuration, "the pending enrollment lifetime must be 30 s to 1 day")
        }
        guard (0...100).contains(maximumDrift) else {
            throw TwofoldError(.configuration, "the maximum drift must be 0 to 100 steps")
        }
        try throttle.validate()
    }
}
