/// Appends bit fields, most significant bit first, into a zero-filled codeword buffer of
/// fixed capacity (ISO/IEC 18004:2015 §7.4).
///
/// Because the buffer starts zeroed, the terminator and the padding to a codeword boundary
/// (§7.4.9, §7.4.10) are written by moving the position alone.
struct QRBitWriter {
    private(set) var bytes: [UInt8]
    private(set) var bitCount = 0

    init(capacity: Int) {
        bytes = [UInt8](repeating: 0, count: capacity)
    }

    var capacityBits: Int { bytes.count * 8 }

    /// Writes the low `width` bits of `value`.
    mutating func append(_ value: UInt32, width: Int) {
        var remaining = width
        while remaining > 0 {
            let free = 8 - (bitCount & 7)
            let take = min(free, remaining)
            let chunk = (value >> UInt32(remaining - take)) & ((1 << UInt32(take)) - 1)
            bytes[bitCount >> 3] |= UInt8(chunk << UInt32(free - take))
            bitCount += take
            remaining -= take
        }
    }

    /// Moves the position forward over `count` zero bits.
    mutating func skip(_ count: Int) {
        bitCount += count
    }
}
