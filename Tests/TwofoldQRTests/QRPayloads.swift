@testable import TwofoldQR
import TwofoldTesting

/// Payload makers shared by the comparison and decoding tests.
enum QRPayloads {
    /// The most characters of `mode` that one segment can carry in `version` at `level`.
    static func capacity(version: Int, level: QRErrorCorrection, mode: QRMode) -> Int {
        let qrVersion = QRVersion(version)
        let available = qrVersion.dataCodewords(level) * 8 - 4 - mode.characterCountBits(sizeClass: qrVersion.sizeClass)
        switch mode {
        case .numeric: return available / 10 * 3 + (available % 10 >= 7 ? 2 : available % 10 >= 4 ? 1 : 0)
        case .alphanumeric: return available / 11 * 2 + (available % 11 >= 6 ? 1 : 0)
        case .byte: return available / 8
        }
    }

    /// `count` random characters that `mode` can represent.
    static func random(_ mode: QRMode, count: Int, using generator: inout SeededGenerator) -> [UInt8] {
        let alphabet: [UInt8] = switch mode {
        case .numeric: Array("0123456789".utf8)
        case .alphanumeric: Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".utf8)
        case .byte: Array(0...255)
        }
        return (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
    }
}
