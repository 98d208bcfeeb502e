import Foundation
import Testing
import TwofoldTesting
@testable import TwofoldWebAuthn

@Suite("CBOR decoder")
struct CBORDecoderTests {
    /// RFC 8949 Appendix A, the examples in the subset Twofold decodes.
    static let appendixA: [(String, CBORValue)] = [
        ("00", .unsigned(0)), ("01", .unsigned(1)), ("0a", .unsigned(10)), ("17", .unsigned(23)), ("1818", .unsigned(24)),
        ("1819", .unsigned(25)), ("1864", .unsigned(100)), ("1903e8", .unsigned(1000)), ("1a000f4240", .unsigned(1_000_000)),
        ("1b000000e8d4a51000", .unsigned(1_000_000_000_000)), ("1bffffffffffffffff", .unsigned(18_446_744_073_709_551_615)),
        ("c249010000000000000000", .tagged(2, .bytes(hex("010000000000000000")))),
        ("3bffffffffffffffff", .negative(18_446_744_073_709_551_615)),  // -18446744073709551616
        ("c349010000000000000000", .tagged(3, .bytes(hex("010000000000000000")))),
        ("20", .negative(0)), ("29", .negative(9)), ("3863", .negative(99)), ("3903e7", .negative(999)),
        ("f90000", .float(0.0)), ("f93c00", .float(1.0)), ("fb3ff199999999999a", .float(1.1)), ("f93e00", .float(1.5)),
        ("f97bff", .float(65504.0)), ("fa47c35000", .float(100_000.0)), ("fa7f7fffff", .float(3.4028234663852886e+38)),
        ("fb7e37e43c8800759c", .float(1.0e+300)), ("f90001", .float(5.960464477539063e-8)), ("f90400", .float(0.00006103515625)),
        ("f9c400", .float(-4.0)), ("fbc010666666666666", .float(-4.1)), ("f97c00", .float(.infinity)),
        ("f9fc00", .float(-.infinity)), ("fa7f800000", .float(.infinity)), ("faff800000", .float(-.infinity)),
        ("fb7ff0000000000000", .float(.infinity)), ("fbfff0000000000000", .float(-.infinity)),
        ("f4", .bool(false)), ("f5", .bool(true)), ("f6", .null), ("f7", .undefined), ("f0", .simple(16)), ("f8ff", .simple(255)),
        ("c074323031332d30332d32315432303a30343a30305a", .tagged(0, .text("2013-03-21T20:04:00Z"))),
        ("c11a514b67b0", .tagged(1, .unsigned(1_363_896_240))), ("c1fb41d452d9ec200000", .tagged(1, .float(1_363_896_240.5))),
        ("d74401020304", .tagged(23, .bytes([1, 2, 3, 4]))), ("d818456449455446", .tagged(24, .bytes(hex("6449455446")))),
        ("d82076687474703a2f2f7777772e6578616d706c652e636f6d", .tagged(32, .text("http://www.example.com"))),
        ("40", .bytes([])), ("4401020304", .bytes([1, 2, 3, 4])),
        ("60", .text("")), ("6161", .text("a")), ("6449455446", .text("IETF")), ("62225c", .text("\"\\")),
        ("62c3bc", .text("\u{00fc}")), ("63e6b0b4", .text("\u{6c34}")), ("64f0908591", .text("\u{10151}")),
        ("80", .array([])), ("83010203", .array([.unsigned(1), .unsigned(2), .unsigned(3)])),
        ("8301820203820405", .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])),
        ("98190102030405060708090a0b0c0d0e0f101112131415161718181819", .array((1...25).map { .unsigned(UInt64($0)) })),
        ("a0", .map([:])), ("a201020304", .map([.unsigned(1): .unsigned(2), .unsigned(3): .unsigned(4)])),
        ("a26161016162820203", .map([.text("a"): .unsigned(1), .text("b"): .array([.unsigned(2), .unsigned(3)])])),
        ("826161a161626163", .array([.text("a"), .map([.text("b"): .text("c")])])),
        ("a56161614161626142616361436164614461656145",
         .map([.text("a"): .text("A"), .text("b"): .text("B"), .text("c"): .text("C"), .text("d"): .text("D"), .text("e"): .text("E")])),
    ]

    @Test("decodes RFC 8949 Appendix A's examples", arguments: appendixA.indices)
    func appendixAExample(index: Int) throws {
        let (encoded, expected) = Self.appendixA[index]
        let decoded = try CBORDecoder.decode(hex(encoded))
        if case .float(let x) = expected, case .float(let y) = decoded {
            #expect(x.bitPattern == y.bitPattern, "\(encoded): \(y), expected \(x)")  // -0.0 is not 0.0 here
        } else {
            #expect(decoded == expected, "\(encoded)")
        }
    }

    @Test("decodes Appendix A's NaNs and signed zero", arguments: ["f97e00", "fa7fc00000", "fb7ff8000000000000"])
    func notANumber(encoded: String) throws {
        let decoded = try CBORDecoder.decode(hex(encoded))
        guard case .float(let x) = decoded else { Issue.record("\(encoded) is \(decoded)"); return }
        #expect(x.isNaN)
        #expect(try CBORDecoder.decode(hex("f98000")) == .float(-0.0))
        if case .float(let zero) = try CBORDecoder.decode(hex("f98000")) { #expect(zero.sign == .minus) }
    }

    @Test("refuses Appendix A's indefinite-length items", arguments: [
        "5f42010243030405ff", "7f657374726561646d696e67ff", "9fff", "9f018202039f0405ffff", "9f01820203820405ff",
        "83018202039f0405ff", "83019f0203ff820405", "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
        "bf61610161629f0203ffff", "826161bf61626163ff", "bf6346756ef563416d7421ff",
    ])
    func refusesIndefiniteLength(encoded: String) {
        let error = webAuthnError { () throws(WebAuthnError) in try CBORDecoder.decode(hex(encoded)) }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("indefinite-length") == true, "\(error?.message ?? "accepted")")
    }

    @Test("refuses malformed items, each with the reason in the message", arguments: [
        ("1c", "reserved"), ("ff", "break"), ("f818", "simple value 24"), ("62c328", "UTF-8"), ("a14100f6", "neither an integer nor text"),
        ("a1f600", "neither an integer nor text"), ("0000", "follow"), ("18", "longer than"), ("19 01", "longer than"), ("", "ends inside"),
    ])
    func refusesMalformed(encoded: String, reason: String) {
        let error = webAuthnError { () throws(WebAuthnError) in try CBORDecoder.decode(hex(encoded)) }
        #expect(error?.code == .malformed, "\(encoded)")
        #expect(error?.message.contains(reason) == true, "\(encoded): \(error?.message ?? "accepted")")
    }

    @Test("refuses duplicate map keys, integer or text")
    func refusesDuplicateKeys() {
        for encoded in ["a2 01 02 01 03", "a2 6161 01 6161 02", "a3 20 00 21 00 20 01"] {
            let error = webAuthnError { () throws(WebAuthnError) in try CBORDecoder.decode(hex(encoded)) }
            #expect(error?.code == .malformed, "\(encoded)")
            #expect(error?.message.contains("twice") == true, "\(encoded): \(error?.message ?? "accepted")")
        }
    }

    @Test("tolerates integers and lengths in a longer encoding than needed")
    func toleratesNonCanonicalIntegers() throws {
        #expect(try CBORDecoder.decode(hex("1b0000000000000001")) == .unsigned(1))
        #expect(try CBORDecoder.decode(hex("3800")) == .negative(0))
        #expect(try CBORDecoder.decode(hex("5a00000002 0102")) == .bytes([1, 2]))
    }

    @Test("decodePrefix returns the item and how many bytes it took, leaving what follows")
    func decodesPrefix() throws {
        let (value, consumed) = try CBORDecoder.decodePrefix(hex("a10102 a0 ff"))
        #expect(value == .map([.unsigned(1): .unsigned(2)]))
        #expect(consumed == 3)
    }

    @Test("refuses nesting 10,000 levels deep without exhausting the stack, for arrays, maps and tags")
    func refusesDeepNesting() {
        for opener in [[UInt8(0x81)], [0xA1, 0x00], [0xC6]] {
            let bytes = Array(Array(repeating: opener, count: 10_000).joined()) + [0x00]
            let error = webAuthnError { () throws(WebAuthnError) in try CBORDecoder.decode(bytes) }
            #expect(error?.code == .malformed)
            #expect(error?.message.contains("deeper than \(CBORDecoder.maximumDepth)") == true, "\(error?.message ?? "accepted")")
        }
        // The limit itself: as many arrays as it allows decode, one more does not.
        let atLimit = Array(repeating: UInt8(0x81), count: CBORDecoder.maximumDepth) + [0x00]
        let overLimit = [0x81] + atLimit
        #expect(webAuthnError { () throws(WebAuthnError) in try CBORDecoder.decode(atLimit) } == nil)
        #expect(webAuthnError { () throws(WebAuthnError) in try CBORDecoder.decode(overLimit) }?.code == .malformed)
    }

    @Test("refuses a byte or text string claiming 2^63 or 2^64 - 1 bytes before allocating anything", arguments: [
        "5b8000000000000000", "5bffffffffffffffff", "7b8000000000000000 6161", "5a ffffffff 00",
    ])
    func refusesHugeLengths(encoded: String) {
        let error = webAuthnError { () throws(WebAuthnError) in try CBORDecoder.decode(hex(encoded)) }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("longer than") == true, "\(error?.message ?? "accepted")")
    }

    @Test("refuses containers claiming 2^32 items, or more items than bytes left", arguments: [
        ("bb0000000100000000", "4294967296 items"), ("9bffffffffffffffff", "items"), ("ba ffffffff 0000", "4294967295 items"),
        ("99 0400 00", "1024 items but only 1 bytes"), ("b9 0200 0000", "512 items but only 2 bytes"), ("99 0401", "1025 items"),
    ])
    func refusesHugeContainers(encoded: String, reason: String) {
        let error = webAuthnError { () throws(WebAuthnError) in try CBORDecoder.decode(hex(encoded)) }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains(reason) == true, "\(encoded): \(error?.message ?? "accepted")")
    }

    @Test("refuses an attestation object cut short at every byte")
    func refusesEveryTruncation() throws {
        let fixture = try #require(CeremonyFixture.committed.first { $0.name == "packed-x5c-es256" })
        let object = try base64URL(#require(fixture.registration.credential["response"]?["attestationObject"]?.string))
        #expect(try CBORDecoder.decode(object).map != nil)
        for count in 0..<object.count {
            let prefix = Array(object[..<count])
            let decoding = webAuthnError { () throws(WebAuthnError) in try CBORDecoder.decode(prefix) }
            let parsing = webAuthnError { () throws(WebAuthnError) in try AttestationObject(prefix) }
            #expect(decoding?.code == .malformed, "cut at \(count)")
            #expect(parsing?.code == .malformed, "cut at \(count)")
        }
    }

    @Test("decodes what it encodes, for 2,000 random items")
    func roundTrip() throws {
        var generator = SeededGenerator(seed: 0x5EED_CB0B)
        for _ in 0..<2_000 {
            let value = Self.randomValue(&generator, depth: 0)
            let encoded = CBOREncoder.encode(value)
            #expect(try CBORDecoder.decode(encoded) == value, "\(value)")
            #expect(try CBORDecoder.decodePrefix(encoded + [0x00, 0xFF]).consumed == encoded.count)
        }
    }

    static func randomValue(_ generator: inout SeededGenerator, depth: Int) -> CBORValue {
        let kinds = depth >= 5 ? 9 : 12
        switch Int.random(in: 0..<kinds, using: &generator) {
        case 0: return .unsigned(randomArgument(&generator))
        case 1: return .negative(randomArgument(&generator))
        case 2: return .bytes((0..<Int.random(in: 0..<40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        case 3: return .text(randomText(&generator))
        case 4: return [.bool(false), .bool(true), .null, .undefined][Int.random(in: 0..<4, using: &generator)]
        case 5: return .simple([0, 19, 32, 255][Int.random(in: 0..<4, using: &generator)])
        case 6: return .float(Double(bitPattern: generator.next() & ~(1 << 62)))  // exponent never all ones: finite
        case 7: return .float([0.5, -2.0, 1e300, .infinity][Int.random(in: 0..<4, using: &generator)])
        case 8: return .unsigned(UInt64.random(in: 0...30, using: &generator))
        case 9: return .array((0..<Int.random(in: 0..<5, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) })
        case 10:
            var entries: [CBORValue.Key: CBORValue] = [:]
            for _ in 0..<Int.random(in: 0..<5, using: &generator) {
                let key: CBORValue.Key = switch Int.random(in: 0..<3, using: &generator) {
                case 0: .unsigned(randomArgument(&generator))
                case 1: .negative(randomArgument(&generator))
                default: .text(randomText(&generator))
                }
                entries[key] = randomValue(&generator, depth: depth + 1)
            }
            return .map(entries)
        default: return .tagged(randomArgument(&generator), randomValue(&generator, depth: depth + 1))
        }
    }

    /// Arguments at every width boundary, where encoders and decoders go wrong.
    static func randomArgument(_ generator: inout SeededGenerator) -> UInt64 {
        let edges: [UInt64] = [0, 23, 24, 255, 256, 65_535, 65_536, 0xFFFF_FFFF, 0x1_0000_0000, .max]
        return Bool.random(using: &generator) ? edges[Int.random(in: 0..<edges.count, using: &generator)] : generator.next() >> (generator.next() % 64)
    }

    static func randomText(_ generator: inout SeededGenerator) -> String {
        let pieces = ["a", "é", "水", "𐅑", "\"", "\u{0}", "fmt", "attStmt"]
        return (0..<Int.random(in: 0..<6, using: &generator)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &generator)] }.joined()
    }
}
