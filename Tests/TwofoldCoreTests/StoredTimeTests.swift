import Foundation
import Testing
import TwofoldCore

@Suite("Stored times and steps")
struct StoredTimeTests {
    @Test("a stored time of 1900 to 2200 read back stores again as the same milliseconds")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        var values: [Int64] = [0, 1, 999, 1_000, -1, -999, -1_001, 1_700_000_000_999, 4_102_444_799_999, -2_208_988_800_001]
        for _ in 0..<10_000 { values.append(Int64.random(in: -2_208_988_800_000...7_258_118_399_999, using: &generator)) }
        let changed = values.filter { StoredTime.milliseconds(StoredTime.date(milliseconds: $0)) != $0 }
        #expect(changed.isEmpty, "\(changed.prefix(5))")
    }

    @Test("rounds down to the millisecond, and saturates instead of trapping at the edges")
    func edges() {
        #expect(StoredTime.milliseconds(Date(timeIntervalSince1970: 1.2345)) == 1_234)
        #expect(StoredTime.milliseconds(Date(timeIntervalSince1970: -0.0005)) == -1)
        #expect(StoredTime.milliseconds(Date(timeIntervalSince1970: 1e300)) == .max)
        #expect(StoredTime.milliseconds(Date(timeIntervalSince1970: -1e300)) == .min)
        #expect(StoredTime.milliseconds(Date(timeIntervalSince1970: .infinity)) == .max)
        #expect(StoredTime.milliseconds(Date(timeIntervalSince1970: -.infinity)) == .min)
        #expect(StoredTime.milliseconds(Date(timeIntervalSince1970: .nan)) == 0)
        #expect(StoredTime.milliseconds(.max, plus: 1) == .max)
        #expect(StoredTime.milliseconds(.min, plus: -1) == .min)
        #expect(StoredTime.milliseconds(1_000, plus: 2.5) == 3_500)
    }

    @Test("steps keep their unsigned order in a signed column", arguments: [
        (UInt64(0), UInt64(1)), (1 << 63 - 1, 1 << 63), (UInt64.max - 1, .max), (0, .max),
    ])
    func stepOrder(_ lower: UInt64, _ higher: UInt64) {
        #expect(StoredStep.stored(lower) < StoredStep.stored(higher))
        #expect(StoredStep.step(stored: StoredStep.stored(lower)) == lower)
        #expect(StoredStep.step(stored: StoredStep.stored(higher)) == higher)
    }
}
