import Foundation
import Testing
@testable import TwofoldQR
import TwofoldTesting

@Suite("PNG renderer")
struct QRPNGRendererTests {
    static let uri = "otpauth://totp/Twofold:alice.smith%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Twofold&digits=6&period=30"

    @Test("writes the signature, IHDR, IDAT and IEND with correct CRCs and a greyscale header")
    func chunkStructure() throws {
        let code = try QRCode(text: Self.uri)
        for depth in [QRPNGRenderer.BitDepth.one, .eight] {
            let png = try PNGFile(QRPNGRenderer(scale: 5, bitDepth: depth).render(code))
            #expect(png.chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
            let header = try #require(png.header)
            #expect(header.width == (code.size + 8) * 5)
            #expect(header.height == header.width)
            #expect(header.bitDepth == (depth == .one ? 1 : 8))
            #expect(header.colourType == 0)
            #expect(header.compression == 0 && header.filter == 0 && header.interlace == 0)
            #expect(png.chunks.last?.data.isEmpty == true)
        }
    }

    @Test("every pixel is black for a dark module and white elsewhere, quiet zone included", arguments: [
        (QRPNGRenderer.BitDepth.one, 1, 4), (.one, 3, 4), (.eight, 2, 4), (.one, 7, 6), (.eight, 1, 0),
    ])
    func pixelsMatchModules(depth: QRPNGRenderer.BitDepth, scale: Int, quietZone: Int) throws {
        let code = try QRCode(text: Self.uri, errorCorrection: .high)
        let pixels = try PNGFile(QRPNGRenderer(scale: scale, quietZone: quietZone, bitDepth: depth).render(code)).pixels()
        #expect(pixels.count == (code.size + 2 * quietZone) * scale)
        var wrong = 0
        for (y, row) in pixels.enumerated() {
            for (x, grey) in row.enumerated() {
                let dark = code[x / scale - quietZone, y / scale - quietZone]
                if grey != (dark ? 0 : 255) { wrong += 1 }
            }
        }
        #expect(wrong == 0)
    }

    @Test("clamps the scale to at least 1 and the quiet zone to at least 0")
    func clampsParameters() throws {
        let code = try QRCode(text: "clamp")
        let header = try #require(try PNGFile(QRPNGRenderer(scale: 0, quietZone: -3).render(code)).header)
        #expect(header.width == code.size)
    }

    @Test("compresses repeated scanlines far below their raw size")
    func compresses() throws {
        let code = try QRCode(text: Self.uri)
        let renderer = QRPNGRenderer(scale: 8, bitDepth: .eight)
        let png = renderer.render(code)
        let side = (code.size + 8) * 8
        #expect(png.count * 20 < side * (side + 1))
        #expect(try PNGFile(png).pixels().count == side)
    }

    @Test("the zlib stream round-trips arbitrary data, long runs and row repeats")
    func compressorRoundTrip() throws {
        var random = SeededGenerator(seed: 0x21B)
        var data: [UInt8] = []
        for _ in 0..<300 {
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                data += (0..<Int.random(in: 1...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            case 1:
                let byte = UInt8.random(in: 0...255, using: &random)
                data += [UInt8](repeating: byte, count: Int.random(in: 1...700, using: &random))
            case 2 where data.count >= 97:
                let start = data.count - 97
                data += data[start..<(start + Int.random(in: 1...97, using: &random))]
            default:
                data.append(0xFF)
            }
        }
        for rowLength in [1, 97, 4096] {
            let stream = ZlibCompressor.compress(data, rowLength: rowLength)
            #expect(try Inflater.zlibDecompress(stream) == data, "row length \(rowLength)")
        }
        #expect(try Inflater.zlibDecompress(ZlibCompressor.compress([], rowLength: 1)) == [])
    }

    @Test("pngcheck accepts the images")
    func pngcheckAccepts() async throws {
        try ExternalTool.command("pngcheck", installHint: "apt-get install pngcheck").require()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-pngcheck-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let images = [
            QRPNGRenderer().render(try QRCode(text: Self.uri)),
            QRPNGRenderer(scale: 3, bitDepth: .eight).render(try QRCode(text: Self.uri, errorCorrection: .high)),
            QRPNGRenderer(scale: 2).render(try QRCode(bytes: [UInt8](repeating: 0x5A, count: 2953), errorCorrection: .low)),
            QRPNGRenderer(scale: 1, quietZone: 0).render(try QRCode(text: "1")),
        ]
        var paths: [String] = []
        for (index, image) in images.enumerated() {
            let url = directory.appendingPathComponent("check-\(index).png")
            try Data(image).write(to: url)
            paths.append(url.path)
        }
        let result = try await ExternalProcess.run("pngcheck", ["-v"] + paths)
        #expect(result.status == 0, "\(result.standardOutput)")
        #expect(result.standardOutput.components(separatedBy: "No errors detected").count - 1 == images.count)
        #expect(!result.standardOutput.contains("ERROR"))
    }
}
