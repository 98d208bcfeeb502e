/// A PNG file split into its chunks, with each chunk's CRC checked by a plain bitwise CRC-32
/// (not the table the renderer uses).
struct PNGFile {
    struct Chunk {
        let type: String
        let data: [UInt8]
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let chunks: [Chunk]

    init(_ bytes: [UInt8]) throws {
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw Failure(description: "missing PNG signature")
        }
        var chunks: [Chunk] = []
        var offset = 8
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw Failure(description: "truncated chunk at \(offset)") }
            let length = Int(PNGFile.bigEndian(bytes, offset))
            let typeBytes = Array(bytes[(offset + 4)..<(offset + 8)])
            guard offset + 12 + length <= bytes.count else { throw Failure(description: "chunk overruns the file") }
            let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            let crc = PNGFile.bigEndian(bytes, offset + 8 + length)
            guard crc == PNGFile.crc32(typeBytes + data) else {
                throw Failure(description: "bad CRC on \(String(decoding: typeBytes, as: UTF8.self))")
            }
            chunks.append(Chunk(type: String(decoding: typeBytes, as: UTF8.self), data: data))
            offset += 12 + length
        }
        self.chunks = chunks
    }

    var header: (width: Int, height: Int, bitDepth: Int, colourType: Int, compression: Int, filter: Int, interlace: Int)? {
        guard let ihdr = chunks.first, ihdr.type == "IHDR", ihdr.data.count == 13 else { return nil }
        let data = ihdr.data
        return (Int(PNGFile.bigEndian(data, 0)), Int(PNGFile.bigEndian(data, 4)),
                Int(data[8]), Int(data[9]), Int(data[10]), Int(data[11]), Int(data[12]))
    }

    /// Grey levels of every pixel, row by row, from the inflated and unfiltered IDAT data.
    func pixels() throws -> [[UInt8]] {
        guard let header, header.filter == 0, header.interlace == 0 else { throw Failure(description: "bad header") }
        let stream = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
        let raw = try Inflater.zlibDecompress(stream)
        let rowBytes = (header.width * header.bitDepth + 7) / 8
        guard raw.count == header.height * (rowBytes + 1) else {
            throw Failure(description: "inflated \(raw.count) bytes for \(header.height) rows of \(rowBytes)")
        }
        return try (0..<header.height).map { row in
            let start = row * (rowBytes + 1)
            guard raw[start] == 0 else { throw Failure(description: "row \(row) uses filter \(raw[start])") }
            let line = raw[(start + 1)..<(start + 1 + rowBytes)]
            return (0..<header.width).map { column in
                if header.bitDepth == 8 { return line[line.startIndex + column] }
                let bit = (line[line.startIndex + column / 8] >> UInt8(7 - column % 8)) & 1
                return bit == 1 ? 255 : 0
            }
        }
    }

    private static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
            }
        }
        return ~crc
    }
}
