import Foundation

/// RFC 3339 text (whole seconds, UTC) for times in messages, audit details and the CLI's
/// tables. A value-type format style, so no formatter object is created per call.
public enum Timestamp {
    private static let style = Date.ISO8601FormatStyle()

    public static func text(_ date: Date) -> String { date.formatted(style) }
}
