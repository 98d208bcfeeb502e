import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A request as the fake provider received it.
struct RecordedRequest: Sendable {
    var method: String
    var path: String
    var query: String?
    /// Names lower-cased.
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// What the fake answers, after an optional delay.
struct FakeResponse: Sendable {
    var status: Int
    var headers: [String: String] = [:]
    var body: String = ""
    var delay: Duration?

    static func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> FakeResponse {
        FakeResponse(status: status, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a }, body: body)
    }
}

/// A loopback HTTP server (Hummingbird, on a port the system picks) that records every request
/// and answers each with `respond(request, index)`, index counting from 0.
final class FakeServer: Sendable {
    private let recorded = Mutex<[RecordedRequest]>([])
    private let respond: @Sendable (RecordedRequest, Int) async -> FakeResponse

    private init(respond: @escaping @Sendable (RecordedRequest, Int) async -> FakeResponse) {
        self.respond = respond
    }

    var requests: [RecordedRequest] { recorded.withLock { $0 } }

    /// Runs `body` with the server's base URL (`http://127.0.0.1:<port>`), then stops the server.
    static func with<T: Sendable>(
        respond: @escaping @Sendable (RecordedRequest, Int) async -> FakeResponse,
        _ body: (FakeServer, String) async throws -> T
    ) async throws -> T {
        let server = FakeServer(respond: respond)
        let router = Router()
        router.post("/") { request, _ in try await server.handle(request) }
        router.post("**") { request, _ in try await server.handle(request) }
        return try await Loopback.serve(router, label: "fake-provider") { base in try await body(server, base) }
    }

    private func handle(_ request: Request) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName] = field.value
        }
        let recordedRequest = RecordedRequest(method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
                                              headers: headers, body: Array(buffer.readableBytesView))
        let index = recorded.withLock { list in
            list.append(recordedRequest)
            return list.count - 1
        }
        let answer = await respond(recordedRequest, index)
        if let delay = answer.delay {
            try await Task.sleep(for: delay)
        }
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            fields[.init(name)!] = value
        }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: fields,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }
}

enum FakeServerError: Error {
    case didNotStart
}

/// An independent form decoder for the fakes: split, `+` as space, percent-decode.
func decodeForm(_ text: String) -> [(String, String)] {
    text.split(separator: "&").map { pair in
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "<bad encoding>"
        }
        return (parts[0], parts.count > 1 ? parts[1] : "")
    }
}

/// Records the waits between attempts instead of waiting.
final class SleepRecorder: Sendable {
    private let waits = Mutex<[Duration]>([])
    var recorded: [Duration] { waits.withLock { $0 } }
    var sleep: @Sendable (Duration) async throws -> Void {
        { duration in self.waits.withLock { $0.append(duration) } }
    }
}

/// Serves `router` on a loopback port the system picks for as long as `body` runs, and gives
/// `body` the base URL (`http://127.0.0.1:<port>`).
enum Loopback {
    static func serve<T: Sendable>(_ router: Router<BasicRequestContext>, label: String,
                                   _ body: (String) async throws -> T) async throws -> T {
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: label)
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else {
                group.cancelAll()
                throw FakeServerError.didNotStart
            }
            defer { group.cancelAll() }
            return try await body("http://127.0.0.1:\(port)")
        }
    }
}
