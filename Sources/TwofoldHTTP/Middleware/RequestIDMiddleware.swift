import Hummingbird
import Logging

/// Gives every request an id: the caller's `X-Request-Id` when it is a safe token (at most 64
/// characters of `A-Z a-z 0-9 . _ -`), otherwise a new random one. The id goes into every log
/// line's metadata (`request_id`) and back to the caller in `X-Request-Id`.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    static var header: HTTPFields.Element.Name { HTTPFields.Element.Name("X-Request-Id")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = request.headers[Self.header].flatMap(Self.accept) ?? Self.generate()
        var context = context
        // One id per request in the logs: ours replaces the one Hummingbird made up.
        context.logger[metadataKey: "hb.request.id"] = nil
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[Self.header] = id
        return response
    }

    /// The caller's id, if it is safe to log and echo.
    static func accept(_ text: String) -> String? {
        guard (1...64).contains(text.utf8.count), text.utf8.allSatisfy(isTokenByte) else { return nil }
        return text
    }

    /// 16 lower-case hex digits from the system's random generator.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
