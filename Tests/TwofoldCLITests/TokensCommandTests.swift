import Foundation
import Testing
import TwofoldOTP
import TwofoldTesting

/// `twofold tokens` and the security key settings of `twofold apps`, end to end on each store:
/// exit status, output, and the effect seen through the API of a real `twofold serve`.
@Suite("twofold tokens and relying party settings", .serialized)
struct TokensCommandTests {
    static let backends = AdminHarness.Backend.allCases
    static let secretHex = "3132333435363738393031323334353637383930"

    /// An RFC 6030 figure 5 style file: one HOTP key encrypted under a pre-shared AES-128 key,
    /// with HMAC-SHA1 value MACs, taken from the token file reader's fixtures.
    static func fixture(_ name: String) throws -> URL {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return here.deletingLastPathComponent().appendingPathComponent("TwofoldTokenFilesTests/Fixtures/\(name)")
    }

    @Test("tokens import, list, assign (codes verify over the API), unassign and delete", arguments: backends)
    func tokens(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let file = h.directory.appendingPathComponent("tokens.csv")
        try """
            serial, secret, type, digits, period-or-counter
            CLI-1, hex:\(Self.secretHex), hotp, 6, 0
            CLI-2, hex:\(Self.secretHex), totp, 6, 30
            """.write(to: file, atomically: true, encoding: .utf8)
        let imported = try await h.run(["tokens", "import", file.path])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(imported.standardOutput.contains("imported 2 tokens"))
        #expect(!imported.standardOutput.contains(Self.secretHex))
        // The same serials again: nothing is imported, exit 1.
        #expect(try await h.run(["tokens", "import", file.path]).status == 1)
        let listed = try await h.run(["tokens", "list"])
        #expect(listed.standardOutput.hasPrefix("SERIAL"))
        #expect(listed.standardOutput.contains("CLI-1") && listed.standardOutput.contains("CLI-2"))

        let assigned = try await h.json(["tokens", "assign", "CLI-1", "alice"]) as? [String: Any]
        let factor = try #require(assigned?["factor"] as? [String: Any])
        #expect(factor["type"] as? String == "hotp")
        #expect(factor["status"] as? String == "active")
        #expect(try await h.run(["tokens", "assign", "CLI-1", "bob"]).status == 1)
        let unassigned = try await h.json(["tokens", "list", "--unassigned"]) as? [String: Any]
        #expect((unassigned?["tokens"] as? [[String: Any]])?.compactMap { $0["serial"] as? String } == ["CLI-2"])

        try await h.startServer()
        let token = try await h.adminToken()
        let hotp = try HOTP(secret: try OTPSecret(bytes: Array("12345678901234567890".utf8)))
        let (status, body) = try await h.http("POST", "/v1/users/alice/verify", body: ["code": hotp.code(counter: 0)], token: token)
        #expect(status == 200)
        #expect((body as? [String: Any])?["result"] as? String == "allow")

        #expect(try await h.run(["tokens", "unassign", "CLI-1", "--yes"]).status == 0)
        let (_, factors) = try await h.http("GET", "/v1/users/alice/factors", token: token)
        #expect(((factors as? [String: Any])?["factors"] as? [Any])?.isEmpty == true)
        #expect(try await h.run(["tokens", "delete", "CLI-1", "--yes"]).status == 0)
        #expect(try await h.run(["tokens", "delete", "CLI-1", "--yes"]).status == 1)
        #expect(try await h.auditEvents().contains { $0["action"] as? String == "hardware_tokens.imported" })
    }

    @Test("an encrypted PSKC file imports with its key file, and is refused whole without it or with another", arguments: backends)
    func encryptedPSKC(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let pskc = try Self.fixture("rfc6030-figure6.pskcxml").path
        let keyFile = h.directory.appendingPathComponent("psk.hex")
        try "12345678901234567890123456789012\n".write(to: keyFile, atomically: true, encoding: .utf8)
        let wrongKey = h.directory.appendingPathComponent("wrong.hex")
        try "00000000000000000000000000000000\n".write(to: wrongKey, atomically: true, encoding: .utf8)
        let missing = try await h.run(["tokens", "import", pskc])
        #expect(missing.status == 2)
        let wrong = try await h.run(["tokens", "import", pskc, "--psk-file", wrongKey.path])
        #expect(wrong.status == 2)
        #expect(try await h.json(["tokens", "list"]) as? [String: Any] != nil)
        #expect(((try await h.json(["tokens", "list"]) as? [String: Any])?["tokens"] as? [Any])?.isEmpty == true)
        let opened = try await h.run(["tokens", "import", pskc, "--psk-file", keyFile.path])
        #expect(opened.status == 0, "\(opened.standardError)")
        #expect(opened.standardOutput.contains("imported 1 token"))
    }

    @Test("apps create and update set the relying party; bad origins are refused with exit 2", arguments: backends)
    func relyingParty(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        let created = try await h.json(["apps", "create", "shop", "--rp-id", "shop.example", "--origin", "https://login.shop.example"])
            as? [String: Any]
        #expect(created?["rp_id"] as? String == "shop.example")
        #expect(created?["origins"] as? [String] == ["https://login.shop.example"])
        #expect(try await h.run(["apps", "update", "shop", "--origin", "https://evil.example"]).status == 2)
        #expect(try await h.run(["apps", "create", "bad", "--rp-id", "shop.example", "--origin", "http://shop.example"]).status == 2)
        let cleared = try await h.json(["apps", "update", "shop", "--clear-rp"]) as? [String: Any]
        #expect(cleared?["rp_id"] is NSNull)
        #expect(cleared?["origins"] as? [String] == [])
    }
}
