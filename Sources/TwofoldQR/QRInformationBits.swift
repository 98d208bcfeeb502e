/// The BCH-protected format and version information words (ISO/IEC 18004:2015 §7.9, §7.10).
enum QRInformationBits {
    /// The 15-bit format information for `level` and `mask`: the 5 data bits, then the
    /// remainder of their division by the (15, 5) BCH generator x¹⁰ + x⁸ + x⁵ + x⁴ + x² + x + 1,
    /// XOR-ed with 101010000010010 so that no valid word is all zeros (§7.9.1, Annex C).
    static func format(level: QRErrorCorrection, mask: Int) -> Int {
        let data = level.formatBits << 3 | mask
        return (data << 10 | remainder(of: data << 10, generator: 0x537, degree: 10)) ^ 0x5412
    }

    /// The 18-bit version information for versions 7 and up: the 6-bit version number, then
    /// the remainder of its division by the (18, 6) Golay generator
    /// x¹² + x¹¹ + x¹⁰ + x⁹ + x⁸ + x⁵ + x² + 1 (§7.10, Annex D).
    static func version(_ number: Int) -> Int {
        number << 12 | remainder(of: number << 12, generator: 0x1F25, degree: 12)
    }

    /// Polynomial long division over GF(2).
    private static func remainder(of dividend: Int, generator: Int, degree: Int) -> Int {
        var value = dividend
        var bit = Int.bitWidth - 1 - value.leadingZeroBitCount
        while bit >= degree {
            if value & (1 << bit) != 0 {
                value ^= generator << (bit - degree)
            }
            bit -= 1
        }
        return value
    }
}
