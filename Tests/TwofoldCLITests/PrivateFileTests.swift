import Foundation
import Testing
import TwofoldTesting

@Suite("Files with secrets")
struct PrivateFileTests {
    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("keys generate never writes through a symbolic link, even with --force, and refuses an existing file without it")
    func keysGenerateDoesNotFollowLinks() async throws {
        let sandbox = try Sandbox()
        let victim = sandbox.path("victim")
        try "do not touch".write(toFile: victim, atomically: false, encoding: .utf8)
        let link = sandbox.path("master.key")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)

        let refused = try await sandbox.run(["keys", "generate", link])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("refusing to overwrite"))
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "do not touch")

        let forced = try await sandbox.run(["keys", "generate", link, "--force"])
        #expect(forced.status == 0, "\(forced.standardError)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "do not touch")
        #expect(try FileManager.default.attributesOfItem(atPath: link)[.type] as? FileAttributeType == .typeRegular)
        #expect(try mode(link) == 0o600)
    }

    @Test("a QR code written to a file is readable by its owner only")
    func qrFileIsPrivate() async throws {
        let sandbox = try Sandbox()
        let output = sandbox.path("code.png")
        let uri = "otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME"
        let written = try await sandbox.run(["otp", "qr", uri, "--format", "png", "--output", output])
        #expect(written.status == 0, "\(written.standardError)")
        #expect(try mode(output) == 0o600)
    }
}
