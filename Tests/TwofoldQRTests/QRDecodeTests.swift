import Foundation
import Testing
import TwofoldQR
import TwofoldTesting

/// Independent decoders must read back exactly the bytes that went in.
@Suite("Round trip through independent decoders")
struct QRDecodeTests {
    struct Symbol {
        let payload: [UInt8]
        let code: QRCode
        let renderer: QRPNGRenderer

        var label: String {
            "\(payload.count) bytes at \(code.version)-\(code.errorCorrection.rawValue), mask \(code.mask)"
        }
    }

    @Test("zxing-cpp reads every version at every level, filled with random bytes, byte for byte")
    func everyVersionAndLevel() async throws {
        try ZXingDecoder.tool.require()
        var random = SeededGenerator(seed: 0xDEC0DE)
        var symbols: [Symbol] = []
        for version in 1...40 {
            for (levelIndex, level) in QRErrorCorrection.allCases.enumerated() {
                let count = QRPayloads.capacity(version: version, level: level, mode: .byte)
                let payload = QRPayloads.random(.byte, count: count, using: &random)
                let code = try QRCode(bytes: payload, errorCorrection: level)
                #expect(code.version == version, "a full byte payload for \(version)-\(level.rawValue)")
                let renderer = QRPNGRenderer(
                    scale: version <= 20 ? 4 : 3,
                    bitDepth: (version + levelIndex).isMultiple(of: 5) ? .eight : .one
                )
                symbols.append(Symbol(payload: payload, code: code, renderer: renderer))
            }
        }
        try await checkRoundTrip(symbols)
    }

    @Test("zxing-cpp reads realistic otpauth URIs and mixed-segment payloads byte for byte")
    func otpauthURIs() async throws {
        try ZXingDecoder.tool.require()
        var random = SeededGenerator(seed: 0x07A0_7A)
        var payloads = (0..<240).map { _ in Array(OTPAuthURIs.random(using: &random).utf8) }
        payloads += Self.mixedPayloads.map { Array($0.utf8) }
        let symbols = try payloads.enumerated().map { index, payload in
            let code = try QRCode(bytes: payload, errorCorrection: QRErrorCorrection.allCases[index % 4])
            return Symbol(payload: payload, code: code, renderer: QRPNGRenderer(scale: 4))
        }
        #expect(payloads.contains { $0.count > 250 }, "some URIs should be long")
        #expect(payloads.contains { $0.contains(0xE6) }, "some URIs should carry raw UTF-8")
        try await checkRoundTrip(symbols)
    }

    @Test("zbarimg reads a sample of the same symbols")
    func zbarReadsASample() async throws {
        try ExternalTool.command("zbarimg", installHint: "apt-get install zbar-tools").require()
        var random = SeededGenerator(seed: 0x2BA2)
        let payloads = (0..<16).map { _ in Array(OTPAuthURIs.random(using: &random).utf8) }
            + Self.mixedPayloads.prefix(4).map { Array($0.utf8) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-qr-zbar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (index, payload) in payloads.enumerated() {
            let code = try QRCode(bytes: payload, errorCorrection: QRErrorCorrection.allCases[index % 4])
            let url = directory.appendingPathComponent("zbar-\(index).png")
            try Data(QRPNGRenderer(scale: 4).render(code)).write(to: url)
            let result = try await ExternalProcess.run("zbarimg", ["--quiet", "--raw", "-Sbinary", url.path])
            #expect(result.status == 0, "zbarimg could not read \(String(decoding: payload, as: UTF8.self))")
            // With -Sbinary zbarimg prints the payload bytes unchanged, then a newline.
            var output = [UInt8](result.stdout)
            if output.last == 0x0A { output.removeLast() }
            #expect(output == payload, "zbarimg read \(String(decoding: output, as: UTF8.self))")
        }
    }

    /// Payloads whose best encoding mixes numeric, alphanumeric and byte segments.
    static let mixedPayloads = [
        "a12345678901234567890123456789",
        "HELLO WORLD 0123456789012345678901234567890 hello world",
        "otpauth://hotp/ACME:bob?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&counter=18446744073709551615",
        "0000000000000000000000000000000000000000AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAaaaaaaaaa9",
        "€100 = 314159265358979323846264338327950288 ÷ PI",
        "MIXED:abc:DEF:123:ghi:456789012345:JKL MNO PQR STU VWX YZ",
        String(repeating: "1234567890", count: 30) + "end",
        "x",
        "9",
        "Z",
        "https://example.com/ENROLL/ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGH/0123456789",
        "Ünïcødé ✓ 二要素認証 1234567890123 ABCDEFGHIJKLMNOP",
    ]

    private func checkRoundTrip(_ symbols: [Symbol]) async throws {
        let decoded = try await ZXingDecoder.decode(symbols.map { $0.renderer.render($0.code) })
        var failures = 0
        for (symbol, result) in zip(symbols, decoded) {
            let readBack = result.bytes.flatMap(Hex.bytes)
            #expect(readBack == symbol.payload, "\(symbol.label): decoded \(result.bytes ?? "nothing")")
            #expect(result.version == symbol.code.version, "\(symbol.label)")
            #expect(result.mask == symbol.code.mask, "\(symbol.label)")
            #expect(result.level == symbol.code.errorCorrection.rawValue, "\(symbol.label)")
            let png = result.png
            let side = (symbol.code.size + 8) * symbol.renderer.scale
            #expect(png.signature && png.crc_ok && png.trailing_bytes == 0, "\(symbol.label)")
            #expect(png.chunks == ["IHDR", "IDAT", "IEND"], "\(symbol.label)")
            #expect(png.width == side && png.height == side, "\(symbol.label)")
            #expect(png.bit_depth == (symbol.renderer.bitDepth == .one ? 1 : 8), "\(symbol.label)")
            #expect(png.colour_type == 0 && png.compression == 0 && png.filter_method == 0 && png.interlace == 0)
            #expect(png.inflated_ok == true && png.filters == [0], "\(symbol.label)")
            if readBack != symbol.payload { failures += 1 }
        }
        #expect(failures == 0, "\(failures) of \(symbols.count) symbols did not read back")
    }
}
