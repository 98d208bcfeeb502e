import Foundation

/// The one JSON configuration of the API's bodies and the CLI's `--json`: compact, keys sorted,
/// slashes unescaped, times as RFC 3339 in UTC with milliseconds (`2024-05-01T12:00:00.250Z`).
///
/// Field names are snake_case and come from each type's own coding keys, so that the API and
/// the CLI, given one of the `…JSON` types of this folder, print the same bytes.
public enum TwofoldJSON {
    private static let wholeSecondStyle = Date.ISO8601FormatStyle()

    /// `2024-05-01T12:00:00.250Z`: RFC 3339 in UTC, always with three fractional digits. Stores
    /// keep whole milliseconds (``StoredTime``), so nothing is lost; a finer time is truncated.
    public static func timestamp(_ date: Date) -> String {
        // From the whole milliseconds the stores keep: a formatter given the Double would print
        // 0.999 s (0.99899… in binary) as .998.
        let milliseconds = StoredTime.milliseconds(date)
        var (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        if fraction < 0 {
            seconds -= 1
            fraction += 1000
        }
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(wholeSecondStyle)
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// A new encoder with the shared configuration.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }

    /// One encoder with the shared configuration, for callers that encode often (the API).
    public static let encoder: JSONEncoder = makeEncoder()
}
