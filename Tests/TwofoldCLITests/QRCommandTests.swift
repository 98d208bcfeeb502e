import Foundation
import Testing
import TwofoldTesting

/// `twofold otp qr` and `twofold otp uri --qr` run as a real process.
@Suite("twofold otp qr")
struct QRCommandTests {
    static let zbarimg = ExternalTool.command("zbarimg", installHint: "apt-get install zbar-tools")
    let uri = "otpauth://totp/ACME%20Co:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co"

    func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("twofold-\(UUID().uuidString)-\(name)").path
    }

    @Test("a PNG written with --output decodes back to the exact text")
    func pngFile() async throws {
        try Self.zbarimg.require()
        let path = temporaryFile("enroll.png")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await TwofoldBinary.run(["otp", "qr", uri, "--format", "png", "--ecc", "q", "--output", path])
        #expect(result.status == 0)
        #expect(result.standardOutput.isEmpty)
        let png = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let decoded = try await ExternalProcess.run("zbarimg", ["--raw", "-q", path])
        #expect(decoded.status == 0)
        #expect(decoded.standardOutput == uri + "\n")
    }

    @Test("SVG goes to standard output as one XML document with one path")
    func svgToStdout() async throws {
        let result = try await TwofoldBinary.run(["otp", "qr", uri, "--format", "svg"])
        #expect(result.status == 0)
        let svg = result.standardOutput
        #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))
        #expect(svg.components(separatedBy: "<path").count == 2)
        #expect(svg.contains("crispEdges"))
    }

    @Test("the terminal drawing is black on white half blocks; ascii has no escape codes")
    func terminal() async throws {
        let result = try await TwofoldBinary.run(["otp", "qr", uri])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("\u{1B}[30;47m"))
        #expect(result.standardOutput.contains("▀") || result.standardOutput.contains("▄"))
        let ascii = try await TwofoldBinary.run(["otp", "qr", uri, "--format", "ascii"])
        #expect(!ascii.standardOutput.contains("\u{1B}"))
        #expect(ascii.standardOutput.contains("##"))
    }

    @Test("otp uri --qr prints the URI, then its QR code")
    func uriWithQR() async throws {
        let result = try await TwofoldBinary.run(["otp", "uri", "--issuer", "ACME", "--account", "alice", "--qr"])
        #expect(result.status == 0)
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.first?.hasPrefix("otpauth://totp/ACME:alice?secret=") == true)
        #expect(lines.count > 15)
    }

    @Test("text too long for version 40 fails with status 1; a bad level or format is usage (2)")
    func failures() async throws {
        let tooLong = try await TwofoldBinary.run(["otp", "qr", String(repeating: "x", count: 1_300), "--ecc", "H"])
        #expect(tooLong.status == 1)
        #expect(tooLong.standardOutput.isEmpty)
        #expect(!tooLong.standardError.isEmpty)
        #expect(try await TwofoldBinary.run(["otp", "qr", "x", "--ecc", "Z"]).status == 2)
        #expect(try await TwofoldBinary.run(["otp", "qr", "x", "--format", "gif"]).status == 2)
        let unwritable = try await TwofoldBinary.run(["otp", "qr", "x", "--output", "/nonexistent/dir/q.png", "--format", "png"])
        #expect(unwritable.status == 1)
    }
}
