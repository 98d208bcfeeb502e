/// How much of a QR code may be damaged and still read (ISO/IEC 18004:2015 §5.3.8, Table 9).
///
/// Higher levels spend more codewords on Reed–Solomon redundancy, so the same data needs a
/// larger symbol. `medium` (about 15 % recoverable) is the usual choice for codes shown on a
/// screen, such as an authenticator enrolment code.
public enum QRErrorCorrection: String, CaseIterable, Sendable {
    /// About 7 % of codewords can be restored.
    case low = "L"
    /// About 15 % of codewords can be restored.
    case medium = "M"
    /// About 25 % of codewords can be restored.
    case quartile = "Q"
    /// About 30 % of codewords can be restored.
    case high = "H"

    /// Row of this level in the per-version tables (L, M, Q, H order).
    var tableIndex: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .quartile: 2
        case .high: 3
        }
    }

    /// The two error-correction bits of the format information (§7.9.1, Table 12):
    /// the standard numbers the levels L = 01, M = 00, Q = 11, H = 10.
    var formatBits: Int {
        switch self {
        case .low: 0b01
        case .medium: 0b00
        case .quartile: 0b11
        case .high: 0b10
        }
    }
}
