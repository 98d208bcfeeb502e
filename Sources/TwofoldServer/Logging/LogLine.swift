import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One log event rendered as one line, as text or JSON, by hand.
///
/// Why by hand: the server logs every request, so a line's cost is paid per request. swift-log's
/// `StreamLogHandler` reads the local time zone for every line (glibc's `localtime_r` checks
/// `/etc/localtime` with a `stat` each call unless `TZ` is set), and `JSONSerialization` goes
/// through `Any` and `AnyHashable` to sort keys. Here the time is computed from the system clock
/// in UTC with integer arithmetic, fields are sorted once, and strings are escaped as they are
/// appended.
///
/// Every event is exactly one line: newlines and other control characters inside messages and
/// values are escaped in both formats, so a value cannot forge a second log line.
struct LogLine {
    private(set) var text = ""

    init() {
        text.reserveCapacity(256)
    }

    /// The metadata of an event: the handler's, the provider's and the event's, merged in that
    /// order (the later wins).
    static func fields(_ handler: Logger.Metadata, _ provider: Logger.MetadataProvider?,
                       _ event: Logger.Metadata?) -> Logger.Metadata {
        var merged = handler
        if let provided = provider?.get(), !provided.isEmpty { merged.merge(provided) { $1 } }
        if let event, !event.isEmpty { merged.merge(event) { $1 } }
        return merged
    }

    // MARK: - Text: `TIME LEVEL LABEL: MESSAGE key=value …`

    /// `2026-12-06T02:40:01.123Z info twofold.http: request duration_ms=0.512 method=POST …`.
    /// A value with a space, `=`, a quote or a control character is quoted and escaped.
    static func text(time: UTCTime, level: Logger.Level, label: String, message: String,
                     fields: Logger.Metadata, errorType: String?) -> String {
        var line = LogLine()
        line.text += time.text
        line.text += " "
        line.text += level.rawValue
        line.text += " "
        line.appendTextValue(label)
        line.text += ": "
        line.appendEscaped(message, quoteIfNeeded: false)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line.text += " "
            line.appendTextValue(key)
            line.text += "="
            line.appendTextValue(value.description)
        }
        if let errorType {
            line.text += " error_type="
            line.appendTextValue(errorType)
        }
        line.text += "\n"
        return line.text
    }

    private mutating func appendTextValue(_ value: String) {
        appendEscaped(value, quoteIfNeeded: true)
    }

    /// Appends `value`, with control characters, quotes and backslashes escaped; with
    /// `quoteIfNeeded`, in quotes when it is empty or holds anything beyond printable non-space
    /// characters other than `=`.
    private mutating func appendEscaped(_ value: String, quoteIfNeeded: Bool) {
        let plain = value.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "=") }
        if plain && !value.isEmpty {
            text += value
            return
        }
        if quoteIfNeeded { text += "\"" }
        appendJSONEscaped(value, quotes: quoteIfNeeded)
        if quoteIfNeeded { text += "\"" }
    }

    // MARK: - JSON: one object per line, keys sorted

    /// `{"label":…,"level":…,"message":…,"time":…,…}`: the metadata with the fixed fields added
    /// (they win over metadata of the same name), written as one object with its keys sorted.
    static func json(time: UTCTime, level: Logger.Level, label: String, message: String,
                     fields: Logger.Metadata, errorType: String?) -> String {
        var all = fields
        all["label"] = .string(label)
        all["level"] = .string(level.rawValue)
        all["message"] = .string(message)
        all["time"] = .string(time.text)
        if let errorType { all["error_type"] = .string(errorType) }
        var line = LogLine()
        line.appendJSON(.dictionary(all))
        line.text += "\n"
        return line.text
    }

    private mutating func appendJSONMember(_ key: String, first: Bool, value: (inout LogLine) -> Void) {
        if !first { text += "," }
        appendJSONString(key)
        text += ":"
        value(&self)
    }

    private mutating func appendJSON(_ value: Logger.Metadata.Value) {
        switch value {
        case .string(let string):
            appendJSONString(string)
        case .stringConvertible(let convertible):
            if let literal = Self.jsonLiteral(convertible) {
                text += literal
            } else {
                appendJSONString(convertible.description)
            }
        case .array(let values):
            text += "["
            for (index, element) in values.enumerated() {
                if index > 0 { text += "," }
                appendJSON(element)
            }
            text += "]"
        case .dictionary(let dictionary):
            text += "{"
            for (index, (key, element)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                appendJSONMember(key, first: index == 0) { $0.appendJSON(element) }
            }
            text += "}"
        }
    }

    /// A number or a Bool given as `.stringConvertible` is written as a JSON number or boolean
    /// (`"status":200`, not `"status":"200"`); a value given as `.string`, or interpolated into
    /// one, stays a string whatever it holds (a user id may be all digits). A float that is not
    /// finite has no JSON number and is written as a string.
    static func jsonLiteral(_ value: any CustomStringConvertible & Sendable) -> String? {
        switch value {
        case let integer as any BinaryInteger:
            integer.description
        case let float as any BinaryFloatingPoint & CustomStringConvertible:
            float.isFinite ? float.description : nil
        case let bool as Bool:
            bool ? "true" : "false"
        default:
            nil
        }
    }

    private mutating func appendJSONString(_ string: String) {
        text += "\""
        appendJSONEscaped(string, quotes: true)
        text += "\""
    }

    /// RFC 8259 §7 escaping: quotes and backslashes (when `quotes`), and every control character.
    private mutating func appendJSONEscaped(_ string: String, quotes: Bool) {
        var start = string.unicodeScalars.startIndex
        var index = start
        let scalars = string.unicodeScalars
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar {
            case "\"" where quotes: escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escape = nil
            }
            if let escape {
                text.unicodeScalars.append(contentsOf: scalars[start..<index])
                text += escape
                start = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        text.unicodeScalars.append(contentsOf: scalars[start..<scalars.endIndex])
    }
}

/// A UTC calendar time from the system clock, computed without time zones or formatters.
struct UTCTime: Equatable {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int

    /// Now, from `CLOCK_REALTIME`.
    static func now() -> UTCTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UTCTime(secondsSinceEpoch: Int64(spec.tv_sec), nanoseconds: Int(spec.tv_nsec))
    }

    /// The civil date of a day count (Howard Hinnant's `civil_from_days`, proleptic Gregorian).
    init(secondsSinceEpoch seconds: Int64, nanoseconds: Int) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.year = Int(year)
        self.month = Int(month)
        self.day = Int(day)
        hour = secondOfDay / 3_600
        minute = secondOfDay % 3_600 / 60
        second = secondOfDay % 60
        millisecond = nanoseconds / 1_000_000
    }

    /// `2026-12-06T02:40:01.123Z`: RFC 3339, UTC, milliseconds, written into one buffer.
    var text: String {
        var bytes = Array("0000-00-00T00:00:00.000Z".utf8)
        for (value, end, width) in [(year, 4, 4), (month, 7, 2), (day, 10, 2), (hour, 13, 2), (minute, 16, 2),
                                    (second, 19, 2), (millisecond, 23, 3)] {
            var rest = value
            for position in stride(from: end - 1, through: end - width, by: -1) {
                bytes[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Writes a finished line to standard error in one `write(2)`, so lines from different threads
/// never interleave (one write of a line to a pipe or an appended file is not split).
public enum LogOutput {
    public static let standardError: @Sendable (String) -> Void = { line in
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
