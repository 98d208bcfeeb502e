import Testing
@testable import TwofoldQR

@Suite("Galois field and Reed-Solomon")
struct QRReedSolomonTests {
    @Test("α generates the whole field under the polynomial 0x11D")
    func fieldTablesAreConsistent() {
        #expect(GaloisField.exponentials[0] == 1)
        #expect(GaloisField.exponentials[8] == 0x1D)  // α⁸ = x⁴ + x³ + x² + 1
        #expect(Set(GaloisField.exponentials[0..<255]).count == 255)
        for value in 1...255 {
            #expect(GaloisField.exponentials[Int(GaloisField.logarithms[value])] == UInt8(value))
        }
        let exponentials = GaloisField.exponentials
        #expect(GaloisField.multiply(exponentials[100], exponentials[200]) == exponentials[45])
        #expect(GaloisField.multiply(0, 0x35) == 0)
    }

    @Test("the degree-7 generator's error correction of a single 1 is the generator itself")
    func generatorPolynomial() {
        // x⁷ mod g(x) = g(x) − x⁷, and (Annex A)
        // g(x) = x⁷ + α⁸⁷x⁶ + α²²⁹x⁵ + α¹⁴⁶x⁴ + α¹⁴⁹x³ + α²³⁸x² + α¹⁰²x + α²¹.
        let expected = [87, 229, 146, 149, 238, 102, 21].map { GaloisField.exponentials[$0] }
        #expect(ReedSolomonEncoder(degree: 7).errorCorrection(for: [1]) == expected)
    }

    @Test("reproduces the ISO/IEC 18004 Annex I codewords for 01234567 at 1-M")
    func isoAnnexExample() {
        let version = QRVersion(1)
        let data = QRCodewordEncoder.dataCodewords(
            for: Array("01234567".utf8),
            segments: [QRSegment(mode: .numeric, start: 0, count: 8)],
            version: version,
            level: .medium
        )
        #expect(data == [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11])
        let final = QRCodewordEncoder.finalSequence(dataCodewords: data, version: version, level: .medium)
        #expect(final.suffix(10) == [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
    }

    @Test("reproduces the HELLO WORLD 1-Q data and error correction codewords")
    func helloWorldExample() {
        let version = QRVersion(1)
        let data = QRCodewordEncoder.dataCodewords(
            for: Array("HELLO WORLD".utf8),
            segments: [QRSegment(mode: .alphanumeric, start: 0, count: 11)],
            version: version,
            level: .quartile
        )
        #expect(data == [0x20, 0x5B, 0x0B, 0x78, 0xD1, 0x72, 0xDC, 0x4D, 0x43, 0x40, 0xEC, 0x11, 0xEC])
        #expect(ReedSolomonEncoder(degree: 13).errorCorrection(for: data)
            == [168, 72, 22, 82, 217, 54, 156, 0, 46, 15, 180, 122, 16])
    }

    @Test("interleaves blocks of unequal length: group 2 blocks give their extra codeword last")
    func interleavesTwoGroups() {
        // 5-Q: 2 blocks of 15 and 2 of 16 data codewords, 18 error correction codewords each.
        let version = QRVersion(5)
        #expect(version.dataCodewords(.quartile) == 62)
        let data = (0..<62).map { UInt8($0) }
        let final = QRCodewordEncoder.finalSequence(dataCodewords: data, version: version, level: .quartile)
        #expect(final.count == 134)
        #expect(Array(final[0..<8]) == [0, 15, 30, 46, 1, 16, 31, 47])
        #expect(Array(final[56..<62]) == [14, 29, 44, 60, 45, 61])
        let firstBlockErrorCorrection = ReedSolomonEncoder(degree: 18).errorCorrection(for: data[0..<15])
        #expect(final[62] == firstBlockErrorCorrection[0])
        #expect(final[66] == firstBlockErrorCorrection[1])
    }
}
