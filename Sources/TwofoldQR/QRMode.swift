/// The data encodings a segment can use (ISO/IEC 18004:2015 §7.3 and §7.4.3–7.4.5).
///
/// Numeric packs three digits into 10 bits and alphanumeric two characters into 11 bits, so
/// digits and upper-case text make much smaller symbols than byte mode, which stores every
/// byte in 8 bits. Kanji and ECI are not offered: an otpauth URI is UTF-8 and readers take
/// byte-mode UTF-8 without an ECI header.
public enum QRMode: String, Sendable, CaseIterable {
    /// The digits 0–9.
    case numeric
    /// 0–9, A–Z (upper case only), space and `$ % * + - . / :`.
    case alphanumeric
    /// Any byte.
    case byte

    /// The 4-bit mode indicator (§7.4.2, Table 2).
    var indicator: UInt32 {
        switch self {
        case .numeric: 0b0001
        case .alphanumeric: 0b0010
        case .byte: 0b0100
        }
    }

    /// Width of the character count indicator for versions 1–9, 10–26 and 27–40 (§7.4.2, Table 3).
    func characterCountBits(sizeClass: Int) -> Int {
        switch self {
        case .numeric: [10, 12, 14][sizeClass]
        case .alphanumeric: [9, 11, 13][sizeClass]
        case .byte: [8, 16, 16][sizeClass]
        }
    }

    /// Bits taken by `count` characters in this mode, without the segment header (§7.4.3–7.4.5).
    func dataBits(count: Int) -> Int {
        switch self {
        case .numeric: 10 * (count / 3) + [0, 4, 7][count % 3]
        case .alphanumeric: 11 * (count / 2) + 6 * (count % 2)
        case .byte: 8 * count
        }
    }

    /// Whether `byte` can be written in this mode.
    func canEncode(_ byte: UInt8) -> Bool {
        switch self {
        case .numeric: byte >= 0x30 && byte <= 0x39
        case .alphanumeric: QRMode.alphanumericValues[Int(byte)] >= 0
        case .byte: true
        }
    }

    /// The value of each byte in the 45-character alphanumeric set (§7.4.4, Table 5), or -1.
    static let alphanumericValues: [Int8] = {
        var values = [Int8](repeating: -1, count: 256)
        for (index, byte) in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".utf8.enumerated() {
            values[Int(byte)] = Int8(index)
        }
        return values
    }()
}
