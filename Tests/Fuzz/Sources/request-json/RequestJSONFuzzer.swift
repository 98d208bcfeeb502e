import Foundation
import FuzzSupport
@_spi(Fuzzing) import TwofoldHTTP

// Input: a request body, at most the 16 KiB the server reads.
//
// Properties: for every route that reads JSON, decoding and the handler's checks of the fields
// never trap; a refusal is an `APIError` with a 4xx status (never an unexpected error, which the
// server would answer with 500) and a message; an accepted body is a JSON object whose members
// are all fields of the route's body.

/// `HTTPLimits.maximumBodySize`: the server refuses larger bodies before decoding them.
private let maximumBodySize = 16 * 1024

@main
enum RequestJSONFuzzer {
    static func main() { runLibFuzzer(fuzzRequestJSON) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size <= maximumBodySize else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for outcome in FuzzEntryPoints.decodeEveryRequestBody(bytes) {
        if let error = outcome.error {
            guard let apiError = error as? APIError else {
                fatalError("property violated: \(outcome.route) failed with \(String(reflecting: type(of: error))), which the API answers with 500")
            }
            require((400..<500).contains(apiError.status.code), "\(outcome.route) answered \(apiError.status.code): \(apiError.message)")
            require(!apiError.message.isEmpty, "\(outcome.route) refused the body without a message")
            continue
        }
        // Foundation's other JSON parser reads the members; where the two parsers disagree on
        // the text itself, that is theirs to settle, not Twofold's.
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { continue }
        let unknown = Set(object.keys).subtracting(outcome.fields)
        require(unknown.isEmpty, "\(outcome.route) accepted unknown members \(unknown.sorted())")
    }
    return 0
}
