import Testing
@testable import TwofoldQR
import TwofoldTesting

@Suite("Encoding: capacity, version choice, segmentation and errors")
struct QREncodingTests {
    /// Byte-mode capacities for versions 1–10 in L, M, Q, H order (ISO/IEC 18004:2015 Table 7).
    static let byteCapacities: [[Int]] = [
        [17, 32, 53, 78, 106, 134, 154, 192, 230, 271],
        [14, 26, 42, 62, 84, 106, 122, 152, 180, 213],
        [11, 20, 32, 46, 60, 74, 86, 108, 130, 151],
        [7, 14, 24, 34, 44, 58, 64, 84, 98, 119],
    ]

    @Test("picks the smallest version that holds the data", arguments: QRErrorCorrection.allCases)
    func picksSmallestVersion(level: QRErrorCorrection) throws {
        for (index, capacity) in Self.byteCapacities[level.tableIndex].enumerated() {
            let version = index + 1
            let full = try QRCode(bytes: [UInt8](repeating: 0x61, count: capacity), errorCorrection: level)
            #expect(full.version == version, "\(capacity) bytes at \(level)")
            let over = try QRCode(bytes: [UInt8](repeating: 0x61, count: capacity + 1), errorCorrection: level)
            #expect(over.version == version + 1, "\(capacity + 1) bytes at \(level)")
        }
    }

    @Test("holds 2953 bytes at 40-L and refuses 2954 with the capacity in the message")
    func largestBytePayload() throws {
        let largest = try QRCode(bytes: [UInt8](repeating: 0xA5, count: 2953), errorCorrection: .low)
        #expect(largest.version == 40)
        #expect(largest.size == 177)
        let error = #expect(throws: QRError.self) {
            try QRCode(bytes: [UInt8](repeating: 0xA5, count: 2954), errorCorrection: .low)
        }
        #expect(error?.code == "data_too_long")
        #expect(error?.message.contains("2953 bytes") == true)
        #expect(error?.message.contains("version 40-L") == true)
    }

    @Test("refuses input longer than any symbol holds, stating the capacity")
    func refusesHugeInput() {
        let error = #expect(throws: QRError.self) {
            try QRCode(bytes: [UInt8](repeating: 0x31, count: 100_000), errorCorrection: .medium)
        }
        #expect(error?.code == "data_too_long")
        #expect(error?.message == "The data (100000 bytes) does not fit: the largest QR code at level M, version 40-M, "
            + "holds at most 18672 data bits (2331 bytes in byte mode).")
    }

    @Test("numeric and alphanumeric data reach their own 40-L capacities")
    func largestNumericAndAlphanumericPayloads() throws {
        let digits = [UInt8](repeating: 0x37, count: 7089)
        #expect(try QRCode(bytes: digits, errorCorrection: .low).version == 40)
        #expect(throws: QRError.self) { try QRCode(bytes: digits + [0x37], errorCorrection: .low) }
        let text = [UInt8](repeating: 0x41, count: 4296)
        #expect(try QRCode(bytes: text, errorCorrection: .low, mode: .alphanumeric).version == 40)
        #expect(throws: QRError.self) { try QRCode(bytes: text + [0x41], errorCorrection: .low) }
        #expect(try QRCode(bytes: [UInt8](repeating: 0x41, count: 1852), errorCorrection: .high).version == 40)
    }

    @Test("uses numeric and alphanumeric modes where they make the symbol smaller")
    func denserModesShrinkTheSymbol() throws {
        // 41 digits fill 1-L in numeric mode; as bytes they would need version 3.
        #expect(try QRCode(text: String(repeating: "7", count: 41), errorCorrection: .low).version == 1)
        #expect(try QRCode(text: String(repeating: "7", count: 41), errorCorrection: .low, mode: .byte).version == 3)
        // 25 alphanumeric characters fill 1-L.
        #expect(try QRCode(text: "TWOFOLD AUTH $%*+-./: 012", errorCorrection: .low).version == 1)
        // A lower-case byte followed by 40 digits: one byte segment and one numeric segment.
        let mixed = "a" + String(repeating: "1234", count: 10)
        #expect(try QRCode(text: mixed).version == 2)
        #expect(try QRCode(text: mixed, mode: .byte).version == 3)
    }

    @Test("splits mixed input into the segments with the fewest bits")
    func segmentationIsOptimal() {
        var random = SeededGenerator(seed: 4_226)
        let alphabet = Array("0123456789AZ:/ az%?".utf8)
        for _ in 0..<150 {
            let length = Int.random(in: 1...7, using: &random)
            let data = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
            for sizeClass in 0..<3 {
                let segments = QRSegmentPlanner.optimalSegments(data, sizeClass: sizeClass)
                #expect(segments.reduce(0) { $0 + $1.count } == data.count)
                #expect(zip(segments, segments.dropFirst()).allSatisfy { $0.start + $0.count == $1.start && $0.mode != $1.mode })
                for segment in segments {
                    #expect(data[segment.start..<(segment.start + segment.count)].allSatisfy(segment.mode.canEncode))
                }
                let bits = segments.reduce(0) { $0 + $1.bitLength(sizeClass: sizeClass) }
                #expect(bits == Self.fewestBits(data, sizeClass: sizeClass), "\(String(decoding: data, as: UTF8.self))")
            }
        }
    }

    /// The fewest bits over every assignment of a mode to each byte, by exhaustive search.
    static func fewestBits(_ data: [UInt8], sizeClass: Int) -> Int {
        var best = Int.max
        var modes = [QRMode](repeating: .byte, count: data.count)
        func search(_ index: Int) {
            if index == data.count {
                var bits = 0
                var start = 0
                for end in 1...data.count where end == data.count || modes[end] != modes[start] {
                    bits += QRSegment(mode: modes[start], start: start, count: end - start).bitLength(sizeClass: sizeClass)
                    start = end
                }
                best = min(best, bits)
                return
            }
            for mode in QRMode.allCases where mode.canEncode(data[index]) {
                modes[index] = mode
                search(index + 1)
            }
        }
        search(0)
        return best
    }

    @Test("a forced version that is too small is data_too_long naming that version")
    func forcedVersionTooSmall() {
        let error = #expect(throws: QRError.self) {
            try QRCode(text: String(repeating: "x", count: 8), errorCorrection: .high, version: 1)
        }
        #expect(error?.code == "data_too_long")
        #expect(error?.message.contains("version 1-H") == true)
        #expect(error?.message.contains("7 bytes in byte mode") == true)
    }

    @Test("a forced version larger than needed is used")
    func forcedVersionIsKept() throws {
        let code = try QRCode(text: "HI", version: 12)
        #expect(code.version == 12)
        #expect(code.size == 65)
    }

    @Test("rejects versions outside 1...40", arguments: [0, -3, 41])
    func rejectsVersion(version: Int) {
        let expected = QRError(
            code: "invalid_version",
            message: "QR code version \(version) does not exist; versions run from 1 to 40."
        )
        #expect(throws: expected) { try QRCode(text: "x", version: version) }
    }

    @Test("rejects masks outside 0...7", arguments: [-1, 8])
    func rejectsMask(mask: Int) {
        let error = #expect(throws: QRError.self) { try QRCode(text: "x", mask: mask) }
        #expect(error?.code == "invalid_mask")
        #expect(error?.message.contains("\(mask)") == true)
    }

    @Test("rejects data the forced mode cannot represent, naming the byte")
    func rejectsUnrepresentableData() {
        let numeric = #expect(throws: QRError.self) { try QRCode(text: "12a4", mode: .numeric) }
        #expect(numeric?.code == "invalid_mode")
        #expect(numeric?.message.contains("0x61 at offset 2") == true)
        let alphanumeric = #expect(throws: QRError.self) { try QRCode(text: "ABc", mode: .alphanumeric) }
        #expect(alphanumeric?.code == "invalid_mode")
        #expect(alphanumeric?.message.contains("0x63 at offset 2") == true)
        #expect(throws: Never.self) { try QRCode(text: "ABC 12", mode: .alphanumeric) }
        #expect(throws: Never.self) { try QRCode(bytes: [0, 255, 10], mode: .byte) }
    }

    @Test("reports errors as code and message")
    func errorDescription() {
        let error = QRError(code: "data_too_long", message: "too much")
        #expect(error.description == "data_too_long: too much")
    }

    @Test("encodes an empty payload in version 1")
    func emptyPayload() throws {
        let code = try QRCode(bytes: [])
        #expect(code.version == 1)
        #expect(code.errorCorrection == .medium)
    }

    @Test("the same input gives equal codes and a different mask an unequal one")
    func equality() throws {
        let first = try QRCode(text: "otpauth://totp/A?secret=B", mask: 3)
        #expect(first == (try QRCode(text: "otpauth://totp/A?secret=B", mask: 3)))
        #expect(first != (try QRCode(text: "otpauth://totp/A?secret=B", mask: 4)))
        #expect(try QRCode(text: "é") == (try QRCode(bytes: [0xC3, 0xA9])))
    }

    @Test("draws the three finder patterns and reads outside the symbol as light")
    func finderPatternsAndBounds() throws {
        let code = try QRCode(text: "finder", errorCorrection: .high)
        let size = code.size
        for (left, top) in [(0, 0), (size - 7, 0), (0, size - 7)] {
            for dy in 0..<7 {
                for dx in 0..<7 {
                    let ring = max(abs(dx - 3), abs(dy - 3))
                    #expect(code[left + dx, top + dy] == (ring != 2), "finder at \(left),\(top)")
                }
            }
        }
        for index in 8..<(size - 8) {
            #expect(code[index, 6] == index.isMultiple(of: 2), "timing row")
            #expect(code[6, index] == index.isMultiple(of: 2), "timing column")
        }
        #expect(!code[-1, 0])
        #expect(!code[0, size])
        #expect(!code[size, size])
    }
}
