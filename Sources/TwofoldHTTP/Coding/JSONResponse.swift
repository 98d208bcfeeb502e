import Foundation
import Hummingbird

/// JSON responses: snake_case field names come from each body type's own coding keys, times are
/// RFC 3339 in UTC.
enum JSONResponse {
    static let contentType = "application/json; charset=utf-8"

    /// A response with `value` as its JSON body.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            // Only our own body types are encoded here, and none can fail.
            preconditionFailure("cannot encode a \(type(of: value)) response: \(error)")
        }
        var fields = headers
        fields[.contentType] = contentType
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// RFC 3339 timestamps in UTC, with milliseconds only when the time has them.
enum RFC3339 {
    private static let seconds = Date.ISO8601FormatStyle()
    private static let milliseconds = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func format(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        let whole = date.timeIntervalSince1970.rounded(.down)
        return date.formatted(milliseconds == whole * 1000 ? Self.seconds : Self.milliseconds)
    }

    /// Parses `2024-05-01T12:00:00Z`, `2024-05-01T12:00:00.250+02:00` and the like.
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// Writes an optional as JSON `null` rather than leaving the key out, so every response of a
/// type has the same fields.
extension KeyedEncodingContainer {
    mutating func encodeNullable<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}
