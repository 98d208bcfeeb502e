/// One row or column of a symbol as a bit set, bit c holding module c (1 = dark).
///
/// The mask penalty rules are evaluated with whole-line bit operations: a run of five equal
/// modules is where `x & x>>1 & … & x>>4` has a bit, the finder-like pattern 1011101 is an
/// AND of seven shifted copies. One 64-bit word covers versions 1–11 (up to 61 modules);
/// ``QRWideBitLine`` covers the rest.
protocol QRBitLine: Sendable {
    /// Reads the first `count` words at `words`.
    init(words: UnsafePointer<UInt64>, count: Int)
    static var zero: Self { get }
    static func & (lhs: Self, rhs: Self) -> Self
    static func | (lhs: Self, rhs: Self) -> Self
    static func ^ (lhs: Self, rhs: Self) -> Self
    static prefix func ~ (value: Self) -> Self
    /// Moves every bit toward bit 0: bit c of the result is bit c + k (k in 1...63).
    func shiftedDown(_ k: Int) -> Self
    /// Moves every bit away from bit 0: bit c of the result is bit c − k (k in 1...63).
    func shiftedUp(_ k: Int) -> Self
    /// Number of set bits.
    var population: Int { get }
    var isZero: Bool { get }
    /// The lowest set bit's index, which the caller must know exists.
    var lowestSetBit: Int { get }
    /// Whether bit `index` is set.
    func contains(_ index: Int) -> Bool
    /// Clears the lowest set bit.
    mutating func clearLowestSetBit()
}

extension UInt64: QRBitLine {
    init(words: UnsafePointer<UInt64>, count: Int) {
        self = words[0]
    }

    func shiftedDown(_ k: Int) -> UInt64 { self >> UInt64(k) }

    func shiftedUp(_ k: Int) -> UInt64 { self << UInt64(k) }

    var population: Int { nonzeroBitCount }

    var isZero: Bool { self == 0 }

    var lowestSetBit: Int { trailingZeroBitCount }

    func contains(_ index: Int) -> Bool { (self >> UInt64(index)) & 1 != 0 }

    mutating func clearLowestSetBit() { self &= self &- 1 }
}
