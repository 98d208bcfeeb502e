import Foundation
import Hummingbird
import TwofoldCore

/// JSON responses, in the configuration the CLI's `--json` shares (``TwofoldJSON``): compact,
/// sorted keys, snake_case field names from each body type's own coding keys, times as RFC 3339
/// in UTC with milliseconds.
enum JSONResponse {
    static let contentType = "application/json; charset=utf-8"

    /// A response with `value` as its JSON body.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let data: Data
        do {
            data = try TwofoldJSON.encoder.encode(value)
        } catch {
            // Only our own body types are encoded here, and none can fail.
            preconditionFailure("cannot encode a \(type(of: value)) response: \(error)")
        }
        var fields = headers
        fields[.contentType] = contentType
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// RFC 3339 times in query parameters (answers write them with ``TwofoldJSON/timestamp(_:)``).
enum RFC3339 {
    /// Parses `2024-05-01T12:00:00Z`, `2024-05-01T12:00:00.250+02:00` and the like.
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

