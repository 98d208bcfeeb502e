import Foundation
import Testing
@testable import TwofoldDelivery
import TwofoldWebPush

@Suite("VAPID tokens reused per push service")
struct VAPIDTokenCacheTests {
    static let authorization = try! VAPIDAuthorization(key: VAPIDKey.generate(), subject: "mailto:ops@example.com")
    static let start = Date(timeIntervalSince1970: 1_700_000_000)

    @Test("one token per push service while more than an hour of it remains; then a new one")
    func reuse() throws {
        let cache = VAPIDTokenCache()
        let first = try cache.header(for: "https://push.example.net/wpush/a", at: Self.start, authorization: Self.authorization)
        #expect(try cache.header(for: "https://push.example.net/wpush/b", at: Self.start.addingTimeInterval(600),
                                 authorization: Self.authorization) == first, "another subscription of the same service")
        #expect(try cache.header(for: "https://other.example.org/wpush/a", at: Self.start, authorization: Self.authorization) != first)
        let late = Self.start.addingTimeInterval(VAPIDAuthorization.defaultLifetime - VAPIDTokenCache.renewBefore + 1)
        let renewed = try cache.header(for: "https://push.example.net/wpush/a", at: late, authorization: Self.authorization)
        #expect(renewed != first)
        #expect(try cache.header(for: "https://push.example.net/wpush/c", at: late, authorization: Self.authorization) == renewed)
    }

    @Test("an endpoint that names no push service is refused, not cached")
    func badEndpoint() {
        #expect(throws: WebPushError.self) {
            try VAPIDTokenCache().header(for: "not a url", at: Self.start, authorization: Self.authorization)
        }
    }
}
