import Foundation
import Testing
import TwofoldCore
@testable import TwofoldHTTP

@Suite("The OpenAPI document")
struct OpenAPITests {
    /// (method, path) of every operation in the document.
    static func documentedOperations() throws -> Set<String> {
        let document = try JSON(parsing: OpenAPIDocument.json)
        let paths = try #require(document["paths"]?.object)
        var operations: Set<String> = []
        for (path, item) in paths {
            for method in (item.object ?? [:]).keys where ["get", "put", "post", "delete", "patch", "head", "options"].contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test("every route in the router is in the document, and every operation in the document is a route")
    func routesMatchDocument() async throws {
        try await TestServer.with { server in
            let table = buildRoutes(services: server.services, clock: server.clock, metrics: server.metrics).table
            let routes = Set(table.routes.map(\.description))
            let documented = try Self.documentedOperations()
            #expect(routes.count == table.routes.count, "a route is registered twice")
            #expect(routes.subtracting(documented).isEmpty, "routes missing from the document: \(routes.subtracting(documented).sorted())")
            #expect(documented.subtracting(routes).isEmpty, "documented operations without a route: \(documented.subtracting(routes).sorted())")
            #expect(routes.count == 32)
        }
    }

    @Test("the document is OpenAPI 3.1 with an id, a summary and responses for every operation; /v1 needs the bearer key")
    func wellFormed() throws {
        let document = try JSON(parsing: OpenAPIDocument.json)
        #expect(document["openapi"] == "3.1.0")
        #expect(document["components"]?["securitySchemes"]?["bearerAuth"]?["scheme"] == "bearer")
        var operationIDs: Set<String> = []
        for (path, item) in try #require(document["paths"]?.object) {
            for (method, operation) in item.object ?? [:] where method != "parameters" {
                let id = try #require(operation["operationId"]?.string, "\(method) \(path)")
                #expect(operationIDs.insert(id).inserted, "duplicate operationId \(id)")
                #expect(operation["summary"]?.string != nil)
                let responses = try #require(operation["responses"]?.object)
                #expect(!responses.isEmpty)
                if path.hasPrefix("/v1/callbacks/") || path.hasPrefix("/v1/devices/") {
                    // Providers sign their callbacks instead; devices sign their requests (or
                    // present their activation token).
                    #expect(operation["security"] == [])
                    #expect(responses["401"] != nil, "\(method) \(path)")
                } else if path.hasPrefix("/v1") {
                    #expect(operation["security"] == [["bearerAuth": []]])
                    #expect(responses["401"] != nil && responses["403"] != nil, "\(method) \(path)")
                } else {
                    #expect(operation["security"] == [])
                }
            }
        }
        // Every reference resolves.
        let text = String(decoding: OpenAPIDocument.json, as: UTF8.self)
        let components = try #require(document["components"])
        let references = text.matches(of: /"\$ref":"#\/components\/(\w+)\/(\w+)"/).map { (String($0.1), String($0.2)) }
        #expect(!references.isEmpty)
        for (kind, name) in references {
            #expect(components[kind]?[name] != nil, "dangling reference \(kind)/\(name)")
        }
    }

    @Test("every signed device operation requires both signature headers; activation, which has no key yet, requires neither")
    func deviceSignatureHeaders() throws {
        let document = try JSON(parsing: OpenAPIDocument.json)
        let paths = try #require(document["paths"]?.object)
        let signed = [("get", "/v1/devices/{device_id}/challenges"), ("get", "/v1/devices/{device_id}/challenges/{challenge_id}"),
                      ("post", "/v1/devices/{device_id}/challenges/{challenge_id}")]
        for (method, path) in signed {
            let operation = try #require(paths[path]?[method], "\(method) \(path)")
            let headers = (operation["parameters"]?.array ?? []).filter { $0["in"] == "header" }
            #expect(Set(headers.compactMap { $0["name"]?.string }) == [DeviceRequestSignature.timestampHeader, DeviceRequestSignature.signatureHeader],
                    "\(method) \(path)")
            #expect(headers.allSatisfy { $0["required"] == true }, "\(method) \(path)")
            #expect(operation["tags"] == ["devices"])
        }
        let activate = try #require(paths["/v1/devices/activate"]?["post"])
        #expect(activate["parameters"] == nil)
        #expect(activate["tags"] == ["devices"])
    }
}
