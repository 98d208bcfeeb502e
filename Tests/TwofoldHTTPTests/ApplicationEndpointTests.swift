import Foundation
import Testing
import TwofoldCore

@Suite("The application's settings over the API")
struct ApplicationEndpointTests {
    @Test("GET and PATCH /v1/application: admin only, a field left out is kept, null clears, bad values are 400 naming the field")
    func settings() async throws {
        try await TestServer.with { server in
            try await server.test { client in
                let shown = try await client.send(.get, "/v1/application", key: server.keys.admin)
                #expect(shown.status == .ok)
                #expect(shown.json["name"] == "default")
                #expect(shown.json["sms_template"] == .null)
                #expect(shown.json["domain"] == .null)
                #expect(try await client.send(.get, "/v1/application", key: server.keys.verify).status == .forbidden)

                let set = try await client.send(.patch, "/v1/application", key: server.keys.admin,
                                                json: ["sms_template": "{code} for {app}", "domain": "shop.example.com"])
                #expect(set.status == .ok)
                #expect(set.json["sms_template"] == "{code} for {app}")
                let kept = try await client.send(.patch, "/v1/application", key: server.keys.admin, json: ["domain": .null])
                #expect(kept.json["sms_template"] == "{code} for {app}")
                #expect(kept.json["domain"] == .null)

                let bad = try await client.send(.patch, "/v1/application", key: server.keys.admin, json: ["sms_template": "no code"])
                #expect(bad.status == .badRequest)
                #expect(bad.json["error"]?["message"]?.string?.contains("sms_template") == true)
                let unknown = try await client.send(.patch, "/v1/application", key: server.keys.admin, json: ["name": "x"])
                #expect(unknown.status == .badRequest)
                #expect(try await server.services.applications.application(id: server.defaultApplication.id).smsTemplate == "{code} for {app}")
            }
        }
    }
}
