import Foundation
import Testing
import TwofoldTokenFiles

/// The committed files under Fixtures/, and the constants Fixtures/make_fixtures.py used.
enum Fixture {
    static func bytes(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil), sourceLocation: sourceLocation)
        return [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    static func hex(_ text: String) -> [UInt8] {
        stride(from: 0, to: text.count, by: 2).map { offset in
            let start = text.index(text.startIndex, offsetBy: offset)
            return UInt8(text[start..<text.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    /// The error `body` throws, or `nil` (recorded as an issue) when it returns.
    static func error(
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws(TokenFileError) -> [HardwareToken]
    ) -> TokenFileError? {
        do {
            let tokens = try body()
            Issue.record("expected an error, got \(tokens.count) token(s)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    /// The error reading the fixture `name` as PSKC with `key` throws.
    static func pskcError(_ name: String, key: TokenFileKey = .none, sourceLocation: SourceLocation = #_sourceLocation) throws -> TokenFileError? {
        let bytes = try Fixture.bytes(name, sourceLocation: sourceLocation)
        return error(sourceLocation: sourceLocation) { () throws(TokenFileError) in try TokenFile.readPSKC(bytes, key: key) }
    }

    // make_fixtures.py's constants.
    static let psk128 = Array(0x00...0x0F as ClosedRange<UInt8>)
    static let psk256 = Array(0x20...0x3F as ClosedRange<UInt8>)
    static let hotpSecret = hex("3f5a0c7e19b24d8801c6e3a95b7d20f4c8e1a3b6")
    static let totpSecret = hex("9b1e47c2d0a3f85e6c14b7290ad3e58f1c6b2a47e09d3f8c5b7a1e2d4c6f8a0b")
    static let hotp256Secret = hex(
        "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff00f1e2d3c4b5a69788796a5b4c3d2e1f0"
            + "0112233445566778899aabbccddeeff0")
    static let password = "Twofold import 2024"
    static let pbkdf2Secret = hex("7c2e9a41b3d05f68e1c7a24b93d60e1f58a2c7b4")

    /// The 20-byte ASCII secret of RFC 4226 and most RFC 6030 figures.
    static let rfcSecret = Array("12345678901234567890".utf8)
}
