/// The Adler-32 checksum that ends a zlib stream (RFC 1950 §8).
enum Adler32 {
    /// The largest number of bytes after which the sums, reduced only at the end, still fit
    /// 32 bits (RFC 1950's NMAX).
    private static let blockLength = 5552

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var low: UInt32 = 1
        var high: UInt32 = 0
        var start = 0
        bytes.withUnsafeBufferPointer { bytes in
            while start < bytes.count {
                let end = min(start + blockLength, bytes.count)
                for index in start..<end {
                    low &+= UInt32(bytes[index])
                    high &+= low
                }
                low %= 65521
                high %= 65521
                start = end
            }
        }
        return high << 16 | low
    }
}
