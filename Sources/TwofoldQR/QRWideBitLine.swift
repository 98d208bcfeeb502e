/// A ``QRBitLine`` of up to 192 modules in three words, for versions 12–40 (65 to 177
/// modules per side). Words past the line's length are zero.
struct QRWideBitLine: QRBitLine {
    var low: UInt64
    var middle: UInt64
    var high: UInt64

    init(low: UInt64, middle: UInt64, high: UInt64) {
        self.low = low
        self.middle = middle
        self.high = high
    }

    init(words: UnsafePointer<UInt64>, count: Int) {
        low = words[0]
        middle = count > 1 ? words[1] : 0
        high = count > 2 ? words[2] : 0
    }

    static var zero: QRWideBitLine { QRWideBitLine(low: 0, middle: 0, high: 0) }

    static func & (lhs: QRWideBitLine, rhs: QRWideBitLine) -> QRWideBitLine {
        QRWideBitLine(low: lhs.low & rhs.low, middle: lhs.middle & rhs.middle, high: lhs.high & rhs.high)
    }

    static func | (lhs: QRWideBitLine, rhs: QRWideBitLine) -> QRWideBitLine {
        QRWideBitLine(low: lhs.low | rhs.low, middle: lhs.middle | rhs.middle, high: lhs.high | rhs.high)
    }

    static func ^ (lhs: QRWideBitLine, rhs: QRWideBitLine) -> QRWideBitLine {
        QRWideBitLine(low: lhs.low ^ rhs.low, middle: lhs.middle ^ rhs.middle, high: lhs.high ^ rhs.high)
    }

    static prefix func ~ (value: QRWideBitLine) -> QRWideBitLine {
        QRWideBitLine(low: ~value.low, middle: ~value.middle, high: ~value.high)
    }

    func shiftedDown(_ k: Int) -> QRWideBitLine {
        let up = UInt64(64 - k), down = UInt64(k)
        return QRWideBitLine(
            low: low >> down | middle << up,
            middle: middle >> down | high << up,
            high: high >> down
        )
    }

    func shiftedUp(_ k: Int) -> QRWideBitLine {
        let up = UInt64(k), down = UInt64(64 - k)
        return QRWideBitLine(
            low: low << up,
            middle: middle << up | low >> down,
            high: high << up | middle >> down
        )
    }

    var population: Int { low.nonzeroBitCount + middle.nonzeroBitCount + high.nonzeroBitCount }

    var isZero: Bool { low | middle | high == 0 }

    var lowestSetBit: Int {
        if low != 0 { return low.trailingZeroBitCount }
        if middle != 0 { return 64 + middle.trailingZeroBitCount }
        return 128 + high.trailingZeroBitCount
    }

    func contains(_ index: Int) -> Bool {
        let word = index < 64 ? low : index < 128 ? middle : high
        return (word >> UInt64(index & 63)) & 1 != 0
    }

    mutating func clearLowestSetBit() {
        if low != 0 {
            low &= low &- 1
        } else if middle != 0 {
            middle &= middle &- 1
        } else {
            high &= high &- 1
        }
    }
}
