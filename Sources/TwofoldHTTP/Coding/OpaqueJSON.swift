import Foundation

/// A JSON value passed on as it came, not checked member by member: the browser's WebAuthn
/// `PublicKeyCredential`, whose members browsers extend, goes to the WebAuthn checks whole.
struct OpaqueJSON: Decodable, Sendable {
    /// The value, written out again as compact JSON.
    let bytes: [UInt8]

    init(from decoder: any Decoder) throws {
        let value = try Value(from: decoder)
        guard case .object = value else {
            throw DecodingError.typeMismatch([String: String].self, .init(codingPath: decoder.codingPath, debugDescription: "not an object"))
        }
        bytes = Array(try JSONEncoder().encode(value))
    }

    private enum Value: Codable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([Value])
        case object([String: Value])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Double.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else if let value = try? container.decode([Value].self) { self = .array(value) }
            else { self = .object(try container.decode([String: Value].self)) }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .bool(let value): try container.encode(value)
            case .number(let value): try container.encode(value)
            case .string(let value): try container.encode(value)
            case .array(let value): try container.encode(value)
            case .object(let value): try container.encode(value)
            }
        }
    }
}
