import Testing
@testable import TwofoldQR

@Suite("Format and version information")
struct QRInformationBitsTests {
    @Test(
        "format information matches Annex C, Table C.1",
        arguments: [
            (QRErrorCorrection.medium, 0, 0x5412),
            (.medium, 5, 0x40CE),
            (.low, 0, 0x77C4),
            (.low, 4, 0x662F),
            (.high, 0, 0x1689),
            (.high, 7, 0x083B),
            (.quartile, 0, 0x355F),
            (.quartile, 6, 0x2EDA),
        ]
    )
    func formatInformation(level: QRErrorCorrection, mask: Int, expected: Int) {
        #expect(QRInformationBits.format(level: level, mask: mask) == expected)
    }

    @Test("version information matches Annex D, Table D.1")
    func versionInformation() {
        #expect(QRInformationBits.version(7) == 0x07C94)
        #expect(QRInformationBits.version(8) == 0x085BC)
        #expect(QRInformationBits.version(21) == 0x15683)
        #expect(QRInformationBits.version(40) == 0x28C69)
    }

    @Test("format information is drawn in both copies around the finders")
    func formatInformationPlacement() throws {
        let code = try QRCode(text: "TWOFOLD", errorCorrection: .low, mask: 4)
        let format = QRInformationBits.format(level: .low, mask: 4)
        let size = code.size
        let firstCopy = [
            (8, 0), (8, 1), (8, 2), (8, 3), (8, 4), (8, 5), (8, 7), (8, 8),
            (7, 8), (5, 8), (4, 8), (3, 8), (2, 8), (1, 8), (0, 8),
        ]
        for (bit, position) in firstCopy.enumerated() {
            #expect(code[position.0, position.1] == ((format >> bit) & 1 == 1), "first copy, bit \(bit)")
        }
        for bit in 0..<15 {
            let position = bit < 8 ? (size - 1 - bit, 8) : (8, size - 15 + bit)
            #expect(code[position.0, position.1] == ((format >> bit) & 1 == 1), "second copy, bit \(bit)")
        }
        #expect(code[8, size - 8], "the dark module")
    }

    @Test("version information appears in both 6 × 3 blocks from version 7")
    func versionInformationPlacement() throws {
        let code = try QRCode(text: "TWOFOLD", version: 7)
        let size = code.size
        for bit in 0..<18 {
            let dark = (0x07C94 >> bit) & 1 == 1
            #expect(code[size - 11 + bit % 3, bit / 3] == dark, "upper right, bit \(bit)")
            #expect(code[bit / 3, size - 11 + bit % 3] == dark, "lower left, bit \(bit)")
        }
    }
}
