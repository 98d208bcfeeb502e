import Foundation
import TwofoldCore

/// Durations as people type them in configuration and on the command line: a whole number
/// followed by a unit, `d`, `h`, `m` or `s` (`90d`, `12h`, `30m`, `45s`), or several of them in
/// decreasing order (`1h30m`).
public enum DurationText {
    /// Parses `text` into seconds.
    /// - Throws: `configuration` naming the text and the expected form; the caller adds which
    ///   setting it was.
    public static func parse(_ text: String) throws(TwofoldError) -> TimeInterval {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var total: Double = 0
        var number: UInt64?
        var lastUnitRank = Int.max
        for character in trimmed {
            if let digit = character.wholeNumberValue, character.isASCII {
                let (shifted, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(digit))
                guard !overflow1, !overflow2 else { throw invalid(text) }
                number = sum
                continue
            }
            guard let value = number, let unit = unit(character), unit.rank < lastUnitRank else {
                throw invalid(text)
            }
            total += Double(value) * unit.seconds
            lastUnitRank = unit.rank
            number = nil
        }
        guard number == nil, lastUnitRank != Int.max, total.isFinite, total <= 100 * 365 * 86_400 else {
            throw invalid(text)
        }
        return total
    }

    /// Formats seconds the way ``parse(_:)`` reads them, in the largest exact unit (`600` → `10m`).
    public static func format(_ seconds: TimeInterval) -> String {
        let whole = Int(seconds.rounded(.down))
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] where whole >= size && whole % size == 0 {
            return "\(whole / size)\(unit)"
        }
        return "\(whole)s"
    }

    private static func unit(_ character: Character) -> (seconds: Double, rank: Int)? {
        switch character {
        case "d": (86_400, 3)
        case "h": (3_600, 2)
        case "m": (60, 1)
        case "s": (1, 0)
        default: nil
        }
    }

    private static func invalid(_ text: String) -> TwofoldError {
        TwofoldError(.configuration, "\"\(text)\" is not a duration: use a whole number and a unit, d, h, m or s, such as 90d, 12h, 30m or 45s")
    }
}
