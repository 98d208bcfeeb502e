import Foundation
import Hummingbird

extension Request {
    /// Reads the body (at most ``HTTPLimits/maximumBodySize`` bytes, refusing more as soon as
    /// they arrive) and decodes it as a JSON object with no member but `Body`'s fields.
    /// - Throws: ``APIError`` `invalid_request` naming the field that is unknown, missing or has
    ///   the wrong type; `payload_too_large`.
    func decodeJSON<Body: RequestBody>(_ type: Body.Type) async throws -> Body {
        try Self.decodeJSON(type, from: try await collectBody())
    }

    /// The body's bytes, at most ``HTTPLimits/maximumBodySize``.
    /// - Throws: `payload_too_large`.
    func collectBody() async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: HTTPLimits.maximumBodySize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // NIO's "too many bytes": the body went past the limit, and reading stopped there.
            throw APIError.payloadTooLarge
        }
    }

    /// ``decodeJSON(_:)`` of a body already read (a signed request's, whose bytes are checked first).
    static func decodeJSON<Body: RequestBody>(_ type: Body.Type, from buffer: ByteBuffer) throws -> Body {
        guard buffer.readableBytes > 0 else {
            throw APIError.invalidRequest("the request body must be a JSON object")
        }
        do {
            return try JSONDecoder().decode(StrictBody<Body>.self, from: Data(buffer: buffer)).body
        } catch let error as APIError {
            throw error
        } catch let error as DecodingError {
            throw APIError.invalidRequest(Self.describe(error))
        }
    }

    /// Says which field is wrong, without repeating its value.
    static func describe(_ error: DecodingError) -> String {
        func field(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "field `\(field(context.codingPath + [key]))` is required"
        case .valueNotFound(let type, let context):
            return context.codingPath.isEmpty
                ? "the request body must be a JSON object"
                : "field `\(field(context.codingPath))` must be \(JSONTypeName.of(type)), not null"
        case .typeMismatch(let type, let context):
            return context.codingPath.isEmpty
                ? "the request body must be a JSON object"
                : "field `\(field(context.codingPath))` must be \(JSONTypeName.of(type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the request body is not valid JSON" }
            return "field `\(field(context.codingPath))` has a value of the wrong type or range"
        @unknown default:
            return "the request body is invalid"
        }
    }
}

/// JSON type names for messages.
enum JSONTypeName {
    static func of(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is UInt64.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is [String].Type: "an array of strings"
        default: type is any Collection.Type ? "an array" : "an object"
        }
    }
}

/// An integer field that JSON may write as `6` or `6.0`; `6.5` or `"6"` is refused with the
/// field's name (the decoder's own error for a fractional number names no field).
struct WholeNumber: Decodable, Sendable {
    let value: Int

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let number = try? container.decode(Double.self), number.rounded() == number, abs(number) < 1e15 else {
            throw DecodingError.typeMismatch(Int.self, .init(codingPath: decoder.codingPath, debugDescription: "not a whole number"))
        }
        value = Int(number)
    }
}
