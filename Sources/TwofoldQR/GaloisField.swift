/// Arithmetic in GF(2⁸) with the QR Code field polynomial x⁸ + x⁴ + x³ + x² + 1 (0x11D),
/// ISO/IEC 18004:2015 §7.5.2.
///
/// Multiplication goes through logarithm and antilogarithm tables built once, so a product
/// is two loads and an add instead of a shift-and-reduce loop.
enum GaloisField {
    /// `exponentials[i]` is αⁱ (α = 2). Twice the period long, so `exponentials[log a + log b]`
    /// needs no reduction modulo 255.
    static let exponentials: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 512)
        var value = 1
        for power in 0..<255 {
            table[power] = UInt8(value)
            table[power + 255] = UInt8(value)
            value <<= 1
            if value & 0x100 != 0 {
                value ^= 0x11D
            }
        }
        table[510] = table[0]
        table[511] = table[1]
        return table
    }()

    /// `logarithms[a]` is the power i with αⁱ = a, for a ≠ 0 (entry 0 is unused).
    static let logarithms: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for power in 0..<255 {
            table[Int(exponentials[power])] = UInt8(power)
        }
        return table
    }()

    /// The product of two field elements.
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        if a == 0 || b == 0 { return 0 }
        return exponentials[Int(logarithms[Int(a)]) + Int(logarithms[Int(b)])]
    }
}
