/// One HTTP request a provider sends: always a POST of a body it built in full, so that a
/// retry sends exactly the same bytes.
public struct OutboundRequest: Sendable {
    public var url: String
    /// Header names and values, in order; `Content-Length` is added by the client.
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(url: String, headers: [(String, String)], body: [UInt8]) {
        self.url = url
        self.headers = headers
        self.body = body
    }
}
