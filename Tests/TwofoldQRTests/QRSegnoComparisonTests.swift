import Testing
import TwofoldQR
import TwofoldTesting

/// segno, an independent and widely used encoder, must produce the same matrices. Each test
/// sends all its cases to one Python process.
@Suite("Agreement with segno")
struct QRSegnoComparisonTests {
    struct Sample {
        let data: [UInt8]
        let level: QRErrorCorrection
        let version: Int?
        let mask: Int?
        let mode: QRMode?

        var segnoCase: SegnoReference.Case {
            SegnoReference.Case(data: data, level: level, version: version, mask: mask, mode: mode)
        }
    }

    @Test("matches segno module for module at every version, level, mode and mask")
    func matchesAtEveryVersion() async throws {
        try SegnoReference.tool.require()
        var random = SeededGenerator(seed: 0x5E6_0001)
        var samples: [Sample] = []
        for version in 1...40 {
            for variant in 0..<2 {
                let level = QRErrorCorrection.allCases[(version + variant) % 4]
                let mode = QRMode.allCases[(version + 2 * variant) % 3]
                let capacity = QRPayloads.capacity(version: version, level: level, mode: mode)
                // Exactly full (the terminator is cut short) and a random fill.
                let count = variant == 0 ? capacity : Int.random(in: (capacity / 2)...capacity, using: &random)
                samples.append(Sample(
                    data: QRPayloads.random(mode, count: count, using: &random),
                    level: level,
                    version: version,
                    mask: (3 * version + variant) % 8,
                    mode: mode
                ))
            }
        }
        try await compare(samples, checkingVersionChoice: false)
    }

    @Test("chooses the same mask as segno's penalty evaluation at every version")
    func choosesTheSameMask() async throws {
        try SegnoReference.tool.require()
        var random = SeededGenerator(seed: 0x5E6_0002)
        var samples: [Sample] = []
        for version in 1...40 {
            let level = QRErrorCorrection.allCases[version % 4]
            let mode = QRMode.allCases[version % 3]
            let capacity = QRPayloads.capacity(version: version, level: level, mode: mode)
            let count = Int.random(in: max(1, capacity / 3)...capacity, using: &random)
            samples.append(Sample(
                data: QRPayloads.random(mode, count: count, using: &random),
                level: level,
                version: version,
                mask: nil,
                mode: mode
            ))
        }
        try await compare(samples, checkingVersionChoice: false)
    }

    @Test("chooses the same version and mask as segno for otpauth URIs in byte mode")
    func choosesTheSameVersionForURIs() async throws {
        try SegnoReference.tool.require()
        var random = SeededGenerator(seed: 0x5E6_0003)
        let samples = (0..<48).map { index in
            Sample(
                data: Array(OTPAuthURIs.random(using: &random).utf8),
                level: QRErrorCorrection.allCases[index % 4],
                version: nil,
                mask: nil,
                mode: .byte
            )
        }
        try await compare(samples, checkingVersionChoice: true)
    }

    private func compare(_ samples: [Sample], checkingVersionChoice: Bool) async throws {
        let references = try await SegnoReference.matrices(for: samples.map(\.segnoCase))
        var mismatches = 0
        for (sample, reference) in zip(samples, references) {
            let code = try QRCode(
                bytes: sample.data,
                errorCorrection: sample.level,
                version: sample.version,
                mask: sample.mask,
                mode: sample.mode
            )
            let label = "\(sample.data.count) bytes, \(sample.mode?.rawValue ?? "auto") mode, version \(reference.version)-\(reference.level)"
            #expect(code.version == reference.version, "\(label)")
            #expect(code.mask == reference.mask, "\(label): mask \(code.mask), segno chose \(reference.mask)")
            #expect(code.errorCorrection.rawValue == reference.level, "\(label)")
            let rows = code.rowStrings
            let differing = zip(rows, reference.rows).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            #expect(rows.count == reference.rows.count && differing.isEmpty, "\(label): rows \(differing.prefix(8)) differ")
            if rows != reference.rows { mismatches += 1 }
        }
        if checkingVersionChoice {
            #expect(Set(references.map(\.version)).count > 3, "the URIs should span several versions")
        }
        #expect(mismatches == 0)
    }
}
