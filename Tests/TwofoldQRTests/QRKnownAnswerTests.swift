import Testing
import TwofoldQR

/// Matrices made by segno and committed, so the encoder is checked module for module on
/// every run without any outside tool.
@Suite("Known-answer matrices")
struct QRKnownAnswerTests {
    @Test("the committed fixtures cover numeric, alphanumeric and byte data from version 1 to 40")
    func fixturesCoverTheRange() throws {
        let fixtures = try QRFixture.loadAll()
        #expect(fixtures.count >= 20)
        #expect(Set(fixtures.map(\.mode)) == Set(QRMode.allCases))
        #expect(Set(fixtures.map(\.level)) == Set(QRErrorCorrection.allCases))
        #expect(Set(fixtures.map(\.version)).isSuperset(of: [1, 2, 5, 7, 10, 20, 27, 40]))
        #expect(fixtures.contains { $0.automaticMask })
    }

    @Test("encodes each fixture's data to exactly its matrix")
    func matchesEveryFixture() throws {
        for fixture in try QRFixture.loadAll() {
            let code = try QRCode(
                bytes: fixture.data,
                errorCorrection: fixture.level,
                version: fixture.version,
                mask: fixture.automaticMask ? nil : fixture.mask,
                mode: fixture.mode
            )
            #expect(code.version == fixture.version, "\(fixture)")
            #expect(code.mask == fixture.mask, "\(fixture): chose mask \(code.mask)")
            #expect(code.size == fixture.rows.count, "\(fixture)")
            #expect(differingRows(code, fixture).isEmpty, "\(fixture): rows \(differingRows(code, fixture)) differ")
        }
    }

    @Test("chooses the fixture's mask and smallest version when neither is given")
    func choosesVersionAndMaskLikeSegno() throws {
        for fixture in try QRFixture.loadAll() where fixture.automaticMask {
            let code = try QRCode(bytes: fixture.data, errorCorrection: fixture.level, mode: fixture.mode)
            #expect(code.version == fixture.version, "\(fixture)")
            #expect(code.mask == fixture.mask, "\(fixture)")
            #expect(differingRows(code, fixture).isEmpty, "\(fixture): rows \(differingRows(code, fixture)) differ")
        }
    }

    /// Indices of the first few rows that differ, or of every row when the sizes differ.
    private func differingRows(_ code: QRCode, _ fixture: QRFixture) -> [Int] {
        let rows = code.rowStrings
        guard rows.count == fixture.rows.count else { return Array(0..<max(rows.count, fixture.rows.count)) }
        return Array(zip(rows, fixture.rows).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset).prefix(10))
    }
}
