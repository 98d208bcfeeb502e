/// What a token looks like in logs and messages: everything but the secret, whose length
/// alone is shown, so a token that reaches a log line by accident leaks nothing.
extension HardwareToken: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        let how = switch kind {
        case .hotp(let counter): "hotp, counter \(counter)"
        case .totp(let period): "totp, period \(period) s"
        }
        let maker = manufacturer.map { ", manufacturer \($0.debugDescription)" } ?? ""
        return "HardwareToken(serial \(serial.debugDescription), \(how), \(digits) digits, \(algorithm)\(maker), secret \(secret.count) bytes redacted)"
    }

    public var debugDescription: String { description }
}
