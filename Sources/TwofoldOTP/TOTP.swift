/// A time-based one-time password generator and verifier (RFC 6238).
///
/// Times are whole seconds since the Unix epoch, passed in by the caller: this type never
/// reads a clock, so tests and servers control time.
public struct TOTP: Sendable {
    /// The largest window ``verify(_:at:window:)`` accepts, in steps on each side.
    public static let maximumWindow = 100
    /// Periods from one second to one day.
    public static let allowedPeriods: ClosedRange<Int> = 1...86_400

    public let algorithm: OTPAlgorithm
    public let digits: Int
    /// The time step X in seconds (RFC 6238 §4.1).
    public let period: Int
    /// The Unix time T0 at which step 0 begins.
    public let epoch: UInt64
    private let hotp: HOTP

    /// - Throws: `invalid_digits`, or `invalid_period` for a period outside 1–86 400 seconds.
    public init(
        secret: OTPSecret,
        algorithm: OTPAlgorithm = .sha1,
        digits: Int = 6,
        period: Int = 30,
        epoch: UInt64 = 0
    ) throws(OTPError) {
        guard Self.allowedPeriods.contains(period) else {
            throw OTPError(.invalidPeriod, "period must be 1 to 86400 seconds, not \(period)")
        }
        self.hotp = try HOTP(secret: secret, algorithm: algorithm, digits: digits)
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.epoch = epoch
    }

    /// The time step T = ⌊(time − T0) / X⌋ (RFC 6238 §4.2), as an unsigned 64-bit number, so
    /// that times past 2038 (and up to 2^64 − 1) work.
    /// - Throws: `time_before_epoch` when `time` is earlier than T0.
    public func step(at time: UInt64) throws(OTPError) -> UInt64 {
        guard time >= epoch else {
            throw OTPError(.timeBeforeEpoch, "time \(time) is before the TOTP epoch T0 = \(epoch)")
        }
        return (time - epoch) / UInt64(period)
    }

    /// The code at Unix time `time`.
    public func code(at time: UInt64) throws(OTPError) -> String {
        code(step: try step(at: time))
    }

    /// The code for time step `step`.
    public func code(step: UInt64) -> String {
        hotp.code(counter: step)
    }

    /// Checks `code` against the steps within `window` of the step at `time`.
    /// - Returns: the matching absolute time step, or `nil`. Callers must refuse that step,
    ///   and every step before it, from then on (RFC 6238 §5.2).
    public func verify(_ code: String, at time: UInt64, window: Int = 1) throws(OTPError) -> UInt64? {
        try verify(code, around: step(at: time), window: window)
    }

    /// Checks `code` against steps `centre − window … centre + window` (clamped to 0 … 2^64 − 1),
    /// nearest first, and returns the matching step. A verifier that tracks clock drift passes
    /// the step where the device's clock is expected to be.
    /// - Throws: `malformed_code` before any HMAC when `code` is not exactly ``digits`` ASCII
    ///   digits; `window_too_large` past ``maximumWindow``.
    public func verify(_ code: String, around centre: UInt64, window: Int = 1) throws(OTPError) -> UInt64? {
        guard window >= 0, window <= Self.maximumWindow else {
            throw OTPError(.windowTooLarge, "window must be 0 to \(Self.maximumWindow) steps, not \(window)")
        }
        let expected = try OTPDigits.parse(code, digits: digits)
        return hotp.firstMatch(of: expected, in: StepsAround(centre: centre, radius: UInt64(window)))
    }
}

/// Steps in the order centre, centre − 1, centre + 1, centre − 2, …, skipping those outside
/// 0 … 2^64 − 1, so that the nearest step wins when two in the window share a code.
struct StepsAround: Sequence, IteratorProtocol {
    let centre: UInt64
    let radius: UInt64
    private var distance: UInt64 = 0
    private var belowNext = false

    init(centre: UInt64, radius: UInt64) {
        self.centre = centre
        self.radius = radius
    }

    mutating func next() -> UInt64? {
        while distance <= radius {
            if distance == 0 {
                distance = 1
                belowNext = true
                return centre
            }
            if belowNext {
                belowNext = false
                if centre >= distance { return centre - distance }
            } else {
                belowNext = true
                let (above, overflow) = centre.addingReportingOverflow(distance)
                distance += 1
                if !overflow { return above }
            }
        }
        return nil
    }
}
