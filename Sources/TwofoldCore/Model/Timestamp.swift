import Foundation

/// RFC 3339 text for times in messages and audit details. A value-type format style, so no
/// formatter object is created per call.
enum Timestamp {
    private static let style = Date.ISO8601FormatStyle()

    static func text(_ date: Date) -> String { date.formatted(style) }
}
