/// Why a QR code could not be made.
///
/// A struct rather than an enum so that new failures can be added without breaking callers;
/// match on ``code``, show ``message``.
///
/// Codes:
/// - `data_too_long`: the data does not fit the requested version, or any version at the level.
/// - `invalid_version`: a version outside 1...40 was requested.
/// - `invalid_mask`: a mask outside 0...7 was requested.
/// - `invalid_mode`: the data holds a byte that the requested mode cannot represent.
public struct QRError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable identifier such as `data_too_long`.
    public let code: String
    /// A sentence for people, naming the offending value.
    public let message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static func invalidVersion(_ version: Int) -> QRError {
        QRError(code: "invalid_version", message: "QR code version \(version) does not exist; versions run from 1 to 40.")
    }

    static func invalidMask(_ mask: Int) -> QRError {
        QRError(code: "invalid_mask", message: "QR code mask \(mask) does not exist; masks run from 0 to 7.")
    }

    static func invalidMode(_ mode: QRMode, byte: UInt8, offset: Int) -> QRError {
        let allowed = mode == .numeric ? "only the digits 0-9" : "only 0-9, A-Z, space and $%*+-./:"
        let hex = String(byte, radix: 16, uppercase: true)
        let value = "0x\(hex.count == 1 ? "0" + hex : hex)"
        return QRError(
            code: "invalid_mode",
            message: "Byte \(value) at offset \(offset) cannot be encoded in \(mode.rawValue) mode, which allows \(allowed)."
        )
    }
}
