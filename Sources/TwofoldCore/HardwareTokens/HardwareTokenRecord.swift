import Foundation
import TwofoldOTP

/// A hardware OATH token in an application's pool: imported from its vendor's file, then
/// assigned to at most one user, for whom it is an active TOTP or HOTP factor.
///
/// The pool keeps its own copy of the seed, sealed under the deployment's `hardware-tokens`
/// key: erasing a user shreds their copy and hands the token back to the pool.
public struct HardwareTokenRecord: Sendable, Equatable {
    public var applicationID: ApplicationID
    /// The serial printed on the device; unique within the application.
    public var serial: String
    /// `totp` or `hotp`.
    public var type: FactorType
    public var algorithm: OTPAlgorithm
    public var digits: Int
    /// The TOTP period in seconds; 0 for HOTP.
    public var period: Int
    /// HOTP: the counter its next code uses (0 for TOTP). Carried back from the factor when the
    /// token is unassigned, so that a token given to someone else goes on where it stopped.
    public var counter: UInt64
    /// The seed, sealed under the `hardware-tokens` system key, bound to the application and serial.
    public var sealedSecret: [UInt8]
    public var manufacturer: String?
    public var importedAt: Date
    /// The user and factor it is assigned to, and since when; `nil` while in the pool.
    public var userID: UserID?
    public var factorID: FactorID?
    public var assignedAt: Date?

    public init(applicationID: ApplicationID, serial: String, type: FactorType, algorithm: OTPAlgorithm, digits: Int, period: Int,
                counter: UInt64, sealedSecret: [UInt8], manufacturer: String?, importedAt: Date, userID: UserID? = nil,
                factorID: FactorID? = nil, assignedAt: Date? = nil) {
        self.applicationID = applicationID
        self.serial = serial
        self.type = type
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.counter = counter
        self.sealedSecret = sealedSecret
        self.manufacturer = manufacturer
        self.importedAt = importedAt
        self.userID = userID
        self.factorID = factorID
        self.assignedAt = assignedAt
    }
}
