/// Draws a ``QRCode`` as a greyscale PNG image (PNG specification, ISO/IEC 15948).
///
/// The image is colour type 0 (greyscale) with dark modules black (0) and light ones white,
/// no interlacing, filter type 0 on every scanline, and an IDAT compressed by
/// ``ZlibCompressor``. One bit per pixel makes the smallest files; eight bits per pixel suits
/// consumers that cannot read low bit depths.
public struct QRPNGRenderer: Sendable {
    public enum BitDepth: Sendable {
        /// One bit per pixel, eight pixels per byte.
        case one
        /// One byte per pixel.
        case eight
    }

    /// Pixels per module; at least 1.
    public var scale: Int
    /// Light modules around the symbol; negative values count as 0. Keep the default 4
    /// (ISO/IEC 18004:2015 §6.3.8) for codes meant to be scanned.
    public var quietZone: Int
    public var bitDepth: BitDepth

    public init(scale: Int = 8, quietZone: Int = 4, bitDepth: BitDepth = .one) {
        self.scale = scale
        self.quietZone = quietZone
        self.bitDepth = bitDepth
    }

    /// The PNG file for `code`.
    public func render(_ code: QRCode) -> [UInt8] {
        let margin = max(0, quietZone)
        let pixelsPerModule = max(1, scale)
        let modules = code.size + 2 * margin
        let width = modules * pixelsPerModule
        let rowBytes = bitDepth == .one ? (width + 7) / 8 : width
        let stride = rowBytes + 1

        var scanlines: [UInt8] = []
        scanlines.reserveCapacity(stride * width)
        var line = [UInt8](repeating: 0, count: stride)
        for moduleRow in 0..<modules {
            // Byte 0 of each scanline stays 0: filter type None. Pixels start black; each
            // run of light modules is painted white in one pass.
            line.withUnsafeMutableBufferPointer { line in
                line.update(repeating: 0)
                var column = 0
                while column < modules {
                    guard !code[column - margin, moduleRow - margin] else {
                        column += 1
                        continue
                    }
                    var end = column + 1
                    while end < modules && !code[end - margin, moduleRow - margin] {
                        end += 1
                    }
                    paintWhite(pixels: (column * pixelsPerModule)..<(end * pixelsPerModule), in: line)
                    column = end
                }
            }
            for _ in 0..<pixelsPerModule {
                scanlines.append(contentsOf: line)
            }
        }

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header.append(contentsOf: Self.bigEndian(UInt32(width)))
        header.append(contentsOf: Self.bigEndian(UInt32(width)))
        // Bit depth, colour type 0 (greyscale), compression 0, filter method 0, no interlace.
        header.append(contentsOf: [bitDepth == .one ? 1 : 8, 0, 0, 0, 0])
        Self.appendChunk("IHDR", header, to: &png)
        Self.appendChunk("IDAT", ZlibCompressor.compress(scanlines, rowLength: stride), to: &png)
        Self.appendChunk("IEND", [], to: &png)
        return png
    }

    /// Sets `pixels` of a scanline (after its filter byte) to white.
    private func paintWhite(pixels: Range<Int>, in line: UnsafeMutableBufferPointer<UInt8>) {
        switch bitDepth {
        case .eight:
            UnsafeMutableBufferPointer(rebasing: line[(1 + pixels.lowerBound)..<(1 + pixels.upperBound)]).update(repeating: 0xFF)
        case .one:
            // Pixel p is bit 7 − (p mod 8) of byte 1 + p / 8: set the partial bytes at either
            // end bit by bit and the whole bytes between them at once.
            var pixel = pixels.lowerBound
            while pixel < pixels.upperBound && pixel & 7 != 0 {
                line[1 + pixel >> 3] |= 0x80 >> UInt8(pixel & 7)
                pixel += 1
            }
            let wholeEnd = pixels.upperBound & ~7
            if pixel < wholeEnd {
                UnsafeMutableBufferPointer(rebasing: line[(1 + pixel >> 3)..<(1 + wholeEnd >> 3)]).update(repeating: 0xFF)
                pixel = wholeEnd
            }
            while pixel < pixels.upperBound {
                line[1 + pixel >> 3] |= 0x80 >> UInt8(pixel & 7)
                pixel += 1
            }
        }
    }

    /// Length, type, data, and the CRC-32 of type and data (PNG specification §5.3).
    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        png.append(contentsOf: bigEndian(UInt32(data.count)))
        png.append(contentsOf: typeBytes)
        png.append(contentsOf: data)
        let crc = CRC32.checksum(data, continuing: CRC32.checksum(typeBytes))
        png.append(contentsOf: bigEndian(crc))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
