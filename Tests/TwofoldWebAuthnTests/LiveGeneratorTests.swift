import Foundation
import Testing
import TwofoldTesting
import TwofoldWebAuthn

/// Fresh ceremonies from make_fixtures.py (soft-webauthn and python-fido2), so that CI checks
/// Twofold against the tools themselves, not only against the committed files. Locally this
/// skips with a printed reason when the modules are missing; with `CI` set it fails.
@Suite("WebAuthn against fresh soft-webauthn and python-fido2 ceremonies")
struct LiveGeneratorTests {
    static let fido2 = ExternalTool.pythonModule("fido2", installHint: "pip install fido2 soft-webauthn")
    static let softWebAuthn = ExternalTool.pythonModule("soft_webauthn", installHint: "pip install fido2 soft-webauthn")

    @Test("verifies every ceremony of a fresh run of make_fixtures.py, and refuses every variant")
    func freshCeremonies() async throws {
        try Self.fido2.require()
        try Self.softWebAuthn.require()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twofold-webauthn-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("Tests/TwofoldWebAuthnTests/Fixtures/make_fixtures.py")
        let result = try await ExternalProcess.run("python3", [script.path, directory.path])
        try #require(result.status == 0, "make_fixtures.py failed: \(result.standardError)")
        let fixtures = try CeremonyFixture.load(from: directory)
        #expect(fixtures.map(\.name) == CeremonyFixture.committed.map(\.name))
        for fixture in fixtures {
            try checkEveryCeremony(fixture)
        }
        #expect(fixtures.reduce(0) { $0 + $1.refusals.count } > 50)
    }
}
