import Foundation
import Testing
import TwofoldOTP
import TwofoldTesting

/// The CLI's `--json` and the API answer the same JSON for the same data, field by field.
@Suite("twofold --json and the API: one shape", .serialized)
struct JSONShapeTests {
    static let backends = AdminHarness.Backend.allCases

    /// RFC 3339 in UTC with milliseconds, in both.
    static var timestamp: Regex<Substring> { /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z/ }

    @Test("factors list, users show, export, audit events and API keys: the CLI prints what the API answers", arguments: backends)
    func sameShape(backend: AdminHarness.Backend) async throws {
        let h = try await AdminHarness(backend)
        #expect(try await h.run(["migrate"]).status == 0)
        let token = try await h.adminToken()
        try await h.startServer()
        try await Self.prepareAlice(h, token: token)

        // factors list: the API's answer, byte for byte but the line's end.
        let (factorsStatus, apiFactors) = try await h.http("GET", "/v1/users/alice/factors", token: token)
        #expect(factorsStatus == 200)
        let cliFactors = try await Self.oneLine(h, ["factors", "list", "alice", "--json"])
        Self.expectSame(cli: cliFactors, api: apiFactors, "factors list")
        let factors = (apiFactors as? [String: Any])?["factors"] as? [[String: Any]] ?? []
        #expect(factors.count == 2)
        for factor in factors {
            #expect(factor["activated_at"] != nil && factor["expires_at"] != nil && factor["issuer"] != nil, "null fields are present: \(factor)")
            #expect((factor["created_at"] as? String)?.wholeMatch(of: Self.timestamp) != nil)
        }

        // users show: the export's application, user, factors, recovery codes and throttle.
        let show = try await Self.oneLine(h, ["users", "show", "alice", "--json"]) as? [String: Any]
        let (exportStatus, apiExportBefore) = try await h.http("GET", "/v1/users/alice/export", token: token)
        #expect(exportStatus == 200)
        let exportBefore = apiExportBefore as? [String: Any] ?? [:]
        #expect(Set(show?.keys.map { $0 } ?? []) == ["application", "user_id", "factors", "recovery_codes", "throttle"])
        for key in ["application", "user_id", "factors", "recovery_codes", "throttle"] {
            Self.expectSame(cli: show?[key], api: exportBefore[key], "users show: \(key)")
        }
        let throttle = show?["throttle"] as? [String: Any]
        #expect(throttle?["consecutive_failures"] as? Int == 1)
        #expect(throttle?["locked_until"] is NSNull, "locked_until is present and null when not locked")

        // export: the CLI's export is audited, so the API's next export lists that event first.
        let cliExport = try await Self.oneLine(h, ["users", "export", "alice"]) as? [String: Any] ?? [:]
        let (_, apiExportAfter) = try await h.http("GET", "/v1/users/alice/export", token: token)
        var apiExport = apiExportAfter as? [String: Any] ?? [:]
        #expect(Set(cliExport.keys) == Set(apiExport.keys))
        var apiEvents = apiExport["audit_events"] as? [[String: Any]] ?? []
        #expect(apiEvents.first?["action"] as? String == "user.exported")
        #expect((apiEvents.first?["actor"] as? String)?.hasPrefix("cli:") == true)
        apiEvents.removeFirst(min(1, apiEvents.count))
        apiExport["audit_events"] = apiEvents
        for key in Set(cliExport.keys).subtracting(["exported_at"]) {
            Self.expectSame(cli: cliExport[key], api: apiExport[key], "export: \(key)")
        }
        for export in [cliExport, apiExport] {
            #expect((export["exported_at"] as? String)?.wholeMatch(of: Self.timestamp) != nil)
        }

        // Audit events: the same page, in the same order, byte for byte; and the page after it.
        let cliAudit = try await h.run(["audit", "tail", "--app", "default", "--user", "alice", "--limit", "100", "--json"])
        let (_, apiAudit) = try await h.http("GET", "/v1/audit?user_id=alice&limit=100", token: token)
        Self.expectSame(cli: try JSONSerialization.jsonObject(with: cliAudit.stdout), api: apiAudit, "audit tail --user alice")
        await #expect(try h.rawHTTP("/v1/audit?user_id=alice&limit=100", token: token) + "\n" == cliAudit.standardOutput)
        let cliPage = try await Self.oneLine(h, ["audit", "tail", "--app", "default", "--limit", "3", "--json"]) as? [String: Any]
        let (_, apiPage) = try await h.http("GET", "/v1/audit?limit=3", token: token)
        Self.expectSame(cli: cliPage, api: apiPage, "audit tail --limit 3")
        let next = try #require(cliPage?["next"] as? String)
        let cliNext = try await Self.oneLine(h, ["audit", "tail", "--app", "default", "--limit", "3", "--before", next, "--json"])
        let (_, apiNext) = try await h.http("GET", "/v1/audit?limit=3&before=\(next)", token: token)
        Self.expectSame(cli: cliNext, api: apiNext, "audit tail --before")
        let event = try #require((apiAudit as? [String: Any])?["events"] as? [[String: Any]]).first { $0["action"] as? String == "factor.enrolled" }
        #expect(event?["details"] is [String: Any], "details is an object: \(String(describing: event))")

        // API keys: scopes an array, revoked_at present; the key as the API's audit log names it.
        let created = try await Self.oneLine(h, ["apikey", "create", "--app", "default", "--scopes", "admin,verify", "--json"]) as? [String: Any] ?? [:]
        let listed = try await Self.oneLine(h, ["apikey", "list", "--json"]) as? [String: Any]
        let entry = try #require((listed?["api_keys"] as? [[String: Any]])?.first { $0["id"] as? String == created["id"] as? String })
        #expect(entry["scopes"] as? [String] == ["verify", "admin"])
        #expect(entry["revoked_at"] is NSNull)
        #expect((entry["created_at"] as? String)?.wholeMatch(of: Self.timestamp) != nil)
        var createdWithoutKey = created
        #expect((createdWithoutKey.removeValue(forKey: "key") as? String)?.hasPrefix("tf_key_") == true)
        Self.expectSame(cli: createdWithoutKey, api: entry, "apikey create and apikey list")
        let (_, keyEvents) = try await h.http("GET", "/v1/audit?limit=5", token: token)
        let keyEvent = ((keyEvents as? [String: Any])?["events"] as? [[String: Any]])?.first { $0["action"] as? String == "api_key.created" }
        #expect((keyEvent?["details"] as? [String: Any])?["key_id"] as? String == entry["id"] as? String)
    }

    /// alice: an active TOTP factor, a pending HOTP factor (SHA-256, spelled as the CLI would),
    /// ten recovery codes and one refused code.
    static func prepareAlice(_ h: AdminHarness, token: String) async throws {
        let (enrolled, body) = try await h.http("POST", "/v1/users/alice/factors", body: ["type": "totp", "issuer": "Acme"], token: token)
        #expect(enrolled == 201)
        let enrollment = body as? [String: Any]
        let id = try #require((enrollment?["factor"] as? [String: Any])?["id"] as? String)
        let totp = try OTPAuthURI(parsing: try #require(enrollment?["otpauth_uri"] as? String)).makeTOTP()
        let now = UInt64(Date().timeIntervalSince1970)
        #expect(try await h.http("POST", "/v1/users/alice/factors/\(id)/activate", body: ["code": try totp.code(at: now)], token: token).0 == 200)
        #expect(try await h.http("POST", "/v1/users/alice/factors", body: ["type": "hotp", "algorithm": "SHA256"], token: token).0 == 201)
        #expect(try await h.http("POST", "/v1/users/alice/recovery-codes", token: token).0 == 201)
        let near = try (-2...2).map { try totp.code(at: UInt64(Int(now) + 30 * $0)) }
        let wrong = try #require(["000000", "111111", "222222"].first { !near.contains($0) })
        let (_, verdict) = try await h.http("POST", "/v1/users/alice/verify", body: ["code": wrong], token: token)
        #expect((verdict as? [String: Any])?["result"] as? String == "deny")
    }

    /// Runs a command that must succeed and print exactly one line of JSON, and decodes it.
    static func oneLine(_ h: AdminHarness, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> Any {
        let result = try await h.run(arguments)
        guard result.status == 0 else { throw HarnessError("\(arguments) exited \(result.status): \(result.standardError)") }
        #expect(result.standardOutput.hasSuffix("\n") && result.standardOutput.dropLast().allSatisfy { $0 != "\n" },
                "\(arguments) printed more than one line: \(result.standardOutput)", sourceLocation: sourceLocation)
        return try JSONSerialization.jsonObject(with: result.stdout)
    }

    /// Records every difference between the CLI's value and the API's, by its path.
    static func expectSame(cli: Any?, api: Any?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let differences = JSONDifference.between(cli, api)
        #expect(differences.isEmpty, "\(what): \(differences.joined(separator: "; "))", sourceLocation: sourceLocation)
    }
}

/// Where two decoded JSON values differ, field by field.
enum JSONDifference {
    /// `["factors[0].issuer: the CLI has nothing, the API null", …]`; empty when they are equal.
    static func between(_ cli: Any?, _ api: Any?, path: String = "") -> [String] {
        let place = path.isEmpty ? "(top)" : path
        switch (cli, api) {
        case (let cli as [String: Any], let api as [String: Any]):
            return Set(cli.keys).union(api.keys).sorted().flatMap { key -> [String] in
                let child = path.isEmpty ? key : "\(path).\(key)"
                switch (cli[key], api[key]) {
                case (nil, .some): return ["\(child): missing in the CLI's output"]
                case (.some, nil): return ["\(child): missing in the API's answer"]
                default: return between(cli[key], api[key], path: child)
                }
            }
        case (let cli as [Any], let api as [Any]):
            guard cli.count == api.count else { return ["\(place): \(cli.count) items in the CLI's output, \(api.count) in the API's answer"] }
            return zip(cli, api).enumerated().flatMap { index, pair in between(pair.0, pair.1, path: "\(path)[\(index)]") }
        case (let cli as String, let api as String):
            return cli == api ? [] : ["\(place): the CLI has \"\(cli)\", the API \"\(api)\""]
        case (let cli as NSNumber, let api as NSNumber):
            return cli == api ? [] : ["\(place): the CLI has \(cli), the API \(api)"]
        case (is NSNull, is NSNull):
            return []
        default:
            return cli == nil && api == nil ? [] : ["\(place): the CLI has \(String(describing: cli)), the API \(String(describing: api))"]
        }
    }
}

extension AdminHarness {
    /// The body of a GET request to the server, as it came.
    func rawHTTP(_ path: String, token: String) async throws -> String {
        let result = try await ExternalProcess.run("curl", ["-s", "-S", "-H", "Authorization: Bearer \(token)", "http://127.0.0.1:\(port)\(path)"])
        guard result.status == 0 else { throw HarnessError("curl failed: \(result.standardError)") }
        return result.standardOutput
    }
}
