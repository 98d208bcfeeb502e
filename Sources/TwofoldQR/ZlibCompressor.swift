/// Compresses PNG scanlines into a zlib stream holding one fixed-Huffman deflate block
/// (RFC 1950; RFC 1951 §3.2.5–3.2.6).
///
/// A QR image is long runs of equal bytes, and each module row is repeated `scale` times.
/// So the only back-references tried are the previous byte (distance 1) and the same byte one
/// scanline up (distance = scanline length). That captures nearly all of such an image's
/// redundancy for two byte comparisons per input byte, with no hash chains, and the fixed
/// Huffman code needs no code tables in the stream: a version 7 code at 8 pixels per module
/// and 1 bit per pixel shrinks from 23 KB of scanlines to under 2 KB. Scanlines longer than
/// deflate's 32 KB window (only in images over a gigabyte raw) fall back to runs alone.
enum ZlibCompressor {
    private static let minimumMatch = 3
    private static let maximumMatch = 258
    private static let maximumDistance = 32768

    /// The zlib stream for `data`, whose scanlines are `rowLength` bytes apart.
    static func compress(_ data: [UInt8], rowLength: Int) -> [UInt8] {
        var writer = BitWriter()
        writer.output.reserveCapacity(data.count / 16 + 64)
        // CMF 0x78: deflate with a 32 KB window; FLG 0x01: no dictionary, fastest level,
        // and (0x78 · 256 + 0x01) is a multiple of 31 as the header check requires.
        writer.output.append(0x78)
        writer.output.append(0x01)
        // BFINAL = 1, BTYPE = 01 (fixed Huffman codes).
        writer.write(0b011, width: 3)
        let rowDistance = rowLength <= maximumDistance ? rowLength : 0
        data.withUnsafeBufferPointer { bytes in
            let count = bytes.count
            var index = 0
            while index < count {
                let limit = min(maximumMatch, count - index)
                var length = 0
                var distance = 0
                if rowDistance > 0 && index >= rowDistance {
                    (length, distance) = (matchLength(bytes, at: index, distance: rowDistance, limit: limit), rowDistance)
                }
                if index >= 1 && length < limit {
                    let run = matchLength(bytes, at: index, distance: 1, limit: limit)
                    if run > length {
                        (length, distance) = (run, 1)
                    }
                }
                if length >= minimumMatch {
                    writer.writeLength(length)
                    writer.writeDistance(distance)
                    index += length
                } else {
                    writer.writeSymbol(Int(bytes[index]))
                    index += 1
                }
            }
        }
        writer.writeSymbol(256)
        writer.flush()
        let adler = Adler32.checksum(data)
        for shift in stride(from: 24, through: 0, by: -8) {
            writer.output.append(UInt8(truncatingIfNeeded: adler >> UInt32(shift)))
        }
        return writer.output
    }

    /// How many bytes from `index` on (at most `limit`) equal those `distance` bytes earlier,
    /// compared eight at a time while possible.
    private static func matchLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, distance: Int, limit: Int) -> Int {
        let base = UnsafeRawPointer(bytes.baseAddress!)
        var length = 0
        while length + 8 <= limit {
            let ahead = base.loadUnaligned(fromByteOffset: index + length, as: UInt64.self)
            let behind = base.loadUnaligned(fromByteOffset: index + length - distance, as: UInt64.self)
            if ahead != behind {
                return length + (ahead ^ behind).littleEndian.trailingZeroBitCount / 8
            }
            length += 8
        }
        while length < limit && bytes[index + length] == bytes[index + length - distance] {
            length += 1
        }
        return length
    }

    /// Fixed literal/length codes (RFC 1951 §3.2.6), bit-reversed for least-significant-bit-first
    /// output, with the code length in the upper half.
    private static let symbolCodes: [UInt32] = (0..<288).map { symbol in
        let (code, width): (Int, Int) = switch symbol {
        case 0...143: (0x30 + symbol, 8)
        case 144...255: (0x190 + symbol - 144, 9)
        case 256...279: (symbol - 256, 7)
        default: (0xC0 + symbol - 280, 8)
        }
        return UInt32(reversed(code, width: width)) | UInt32(width) << 16
    }

    /// Base lengths of the length symbols 257...285 (RFC 1951 §3.2.5).
    private static let lengthBases: [Int] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
        35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]

    private static func reversed(_ code: Int, width: Int) -> Int {
        var result = 0
        for bit in 0..<width where code & (1 << bit) != 0 {
            result |= 1 << (width - 1 - bit)
        }
        return result
    }

    /// Packs bits least significant first, as deflate streams are read (RFC 1951 §3.1.1).
    private struct BitWriter {
        var output: [UInt8] = []
        private var buffer: UInt64 = 0
        private var buffered = 0

        mutating func write(_ value: Int, width: Int) {
            buffer |= UInt64(value) << UInt64(buffered)
            buffered += width
            while buffered >= 8 {
                output.append(UInt8(truncatingIfNeeded: buffer))
                buffer >>= 8
                buffered -= 8
            }
        }

        mutating func writeSymbol(_ symbol: Int) {
            let entry = ZlibCompressor.symbolCodes[symbol]
            write(Int(entry & 0xFFFF), width: Int(entry >> 16))
        }

        /// A match length, as a length symbol and its extra bits.
        mutating func writeLength(_ length: Int) {
            var code = ZlibCompressor.lengthBases.count - 1
            while ZlibCompressor.lengthBases[code] > length {
                code -= 1
            }
            writeSymbol(257 + code)
            let extraBits = code < 8 || code == 28 ? 0 : (code - 4) / 4
            if extraBits > 0 {
                write(length - ZlibCompressor.lengthBases[code], width: extraBits)
            }
        }

        /// A match distance, as a 5-bit distance code and its extra bits. Codes come in
        /// pairs per power of two: distance − 1 = 2^k + r needs code 2k or 2k + 1 by the
        /// bit after the leading one, and k − 1 extra bits.
        mutating func writeDistance(_ distance: Int) {
            let offset = distance - 1
            if offset < 4 {
                write(ZlibCompressor.reversed(offset, width: 5), width: 5)
                return
            }
            let magnitude = Int.bitWidth - 1 - offset.leadingZeroBitCount
            let code = 2 * magnitude + ((offset >> (magnitude - 1)) & 1)
            write(ZlibCompressor.reversed(code, width: 5), width: 5)
            write(offset & ((1 << (magnitude - 1)) - 1), width: magnitude - 1)
        }

        mutating func flush() {
            if buffered > 0 {
                output.append(UInt8(truncatingIfNeeded: buffer))
                buffer = 0
                buffered = 0
            }
        }
    }
}
