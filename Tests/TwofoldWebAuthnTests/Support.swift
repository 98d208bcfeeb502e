import Foundation
import Testing
@testable import TwofoldWebAuthn

/// The `WebAuthnError` thrown by `body`, or `nil` when it succeeded.
func webAuthnError<T>(_ body: () throws(WebAuthnError) -> T) -> WebAuthnError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// Bytes from hexadecimal written in a test (spaces allowed).
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
    var bytes: [UInt8] = []
    var index = 0
    while index + 1 < digits.count {
        bytes.append(UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) ?? 0)
        index += 2
    }
    return bytes
}

/// Base64URL from a fixture, which the generator wrote and which must decode.
func base64URL(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    try #require(Base64URL.decode(text), "\(text) is not Base64URL", sourceLocation: sourceLocation)
}

/// Any JSON value, so that a fixture's credential can be decoded, changed and encoded again.
enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
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

    /// The JSON text's bytes, as the application would relay them.
    var bytes: [UInt8] {
        get throws { Array(try JSONEncoder().encode(self)) }
    }

    subscript(key: String) -> JSONValue? {
        get {
            if case .object(let members) = self { members[key] } else { nil }
        }
        set {
            if case .object(var members) = self {
                members[key] = newValue
                self = .object(members)
            }
        }
    }

    var string: String? {
        if case .string(let value) = self { value } else { nil }
    }
}

/// One credential's ceremonies, as Fixtures/make_fixtures.py writes them.
struct CeremonyFixture: Decodable, Sendable {
    struct Registration: Decodable, Sendable {
        var challenge: String
        var requireUserVerification: Bool
        var credential: JSONValue
        var expected: ExpectedRegistration
    }

    struct ExpectedRegistration: Decodable, Sendable {
        var credentialID: String
        var publicKey: String
        var algorithm: Int
        var signCount: UInt32
        var aaguid: String
        var attestationFormat: String
        var attestationType: String
        var transports: [String]
        var userVerified: Bool
        var backupEligible: Bool
        var backedUp: Bool
    }

    struct Assertion: Decodable, Sendable {
        var name: String
        var challenge: String
        var storedSignCount: UInt32
        var requireUserVerification: Bool
        var credential: JSONValue
        var expected: ExpectedAssertion
    }

    struct ExpectedAssertion: Decodable, Sendable {
        var signCount: UInt32
        var userVerified: Bool
    }

    struct Refusal: Decodable, Sendable {
        var name: String
        var ceremony: String
        var challenge: String
        var storedSignCount: UInt32
        var requireUserVerification: Bool
        var credential: JSONValue
        var error: String
    }

    var name: String
    var rpId: String
    var origins: [String]
    var registration: Registration
    var assertions: [Assertion]
    var refusals: [Refusal]

    var relyingParty: RelyingParty { RelyingParty(id: rpId, origins: origins) }

    /// Every fixture in `directory` (the committed ones by default).
    static func load(from directory: URL? = nil) throws -> [CeremonyFixture] {
        let folder = try directory ?? #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map { try decoder.decode(CeremonyFixture.self, from: Data(contentsOf: $0)) }
    }

    /// The committed fixtures; empty if they cannot be read, which `FixtureCeremonyTests` reports.
    static let committed: [CeremonyFixture] = (try? load()) ?? []
}

extension CeremonyFixture: CustomTestStringConvertible {
    var testDescription: String { name }
}

/// Runs a fixture's registration.
func register(_ fixture: CeremonyFixture, credential: JSONValue? = nil, challenge: [UInt8]? = nil,
              relyingParty: RelyingParty? = nil, requireUserVerification: Bool? = nil) throws -> Result<VerifiedRegistration, WebAuthnError> {
    let json = try (credential ?? fixture.registration.credential).bytes
    let issued = try challenge ?? base64URL(fixture.registration.challenge)
    let rp = relyingParty ?? fixture.relyingParty
    let requireUV = requireUserVerification ?? fixture.registration.requireUserVerification
    return Result<VerifiedRegistration, WebAuthnError> { () throws(WebAuthnError) in
        try WebAuthn.verifyRegistration(try RegistrationCredential(json: json), challenge: issued, relyingParty: rp,
                                        requireUserVerification: requireUV)
    }
}

/// Runs one of a fixture's assertions with the credential key from its registration.
func authenticate(_ fixture: CeremonyFixture, _ assertion: CeremonyFixture.Assertion, credential: JSONValue? = nil,
                  challenge: [UInt8]? = nil, relyingParty: RelyingParty? = nil, publicKey: [UInt8]? = nil,
                  storedSignCount: UInt32? = nil, requireUserVerification: Bool? = nil) throws -> Result<VerifiedAssertion, WebAuthnError> {
    let json = try (credential ?? assertion.credential).bytes
    let issued = try challenge ?? base64URL(assertion.challenge)
    let key = try publicKey ?? base64URL(fixture.registration.expected.publicKey)
    let rp = relyingParty ?? fixture.relyingParty
    let stored = storedSignCount ?? assertion.storedSignCount
    let requireUV = requireUserVerification ?? assertion.requireUserVerification
    return Result<VerifiedAssertion, WebAuthnError> { () throws(WebAuthnError) in
        try WebAuthn.verifyAssertion(try AuthenticationCredential(json: json), challenge: issued, relyingParty: rp,
                                     publicKey: key, storedSignCount: stored, requireUserVerification: requireUV)
    }
}

extension Result where Failure == WebAuthnError {
    /// The error's code, or `nil` on success.
    var errorCode: WebAuthnError.Code? {
        if case .failure(let error) = self { error.code } else { nil }
    }
}

/// Checks everything a fixture records: its registration gives the expected credential, its
/// assertions the expected counters, and each refusal the expected code.
func checkEveryCeremony(_ fixture: CeremonyFixture, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let expected = fixture.registration.expected
    let registered = try register(fixture).get()
    #expect(registered.credentialID == (try base64URL(expected.credentialID)), "\(fixture.name)", sourceLocation: sourceLocation)
    #expect(registered.publicKey == (try base64URL(expected.publicKey)), "\(fixture.name)", sourceLocation: sourceLocation)
    #expect(registered.algorithm.rawValue == expected.algorithm, "\(fixture.name)", sourceLocation: sourceLocation)
    #expect(registered.signCount == expected.signCount, "\(fixture.name)", sourceLocation: sourceLocation)
    #expect(registered.aaguid == (try base64URL(expected.aaguid)), "\(fixture.name)", sourceLocation: sourceLocation)
    #expect(registered.attestationFormat == expected.attestationFormat, "\(fixture.name)", sourceLocation: sourceLocation)
    #expect(registered.attestationType.rawValue == expected.attestationType, "\(fixture.name)", sourceLocation: sourceLocation)
    #expect(registered.transports == expected.transports, "\(fixture.name)", sourceLocation: sourceLocation)
    #expect(registered.userVerified == expected.userVerified, "\(fixture.name)", sourceLocation: sourceLocation)
    #expect(registered.backupEligible == expected.backupEligible, "\(fixture.name)", sourceLocation: sourceLocation)
    #expect(registered.backedUp == expected.backedUp, "\(fixture.name)", sourceLocation: sourceLocation)

    for assertion in fixture.assertions {
        let verified = try authenticate(fixture, assertion, publicKey: registered.publicKey).get()
        #expect(verified == VerifiedAssertion(signCount: assertion.expected.signCount, userVerified: assertion.expected.userVerified),
                "\(fixture.name): \(assertion.name)", sourceLocation: sourceLocation)
    }

    for refusal in fixture.refusals {
        let json = try refusal.credential.bytes
        let challenge = try base64URL(refusal.challenge)
        let error: WebAuthnError?
        switch refusal.ceremony {
        case "registration":
            error = webAuthnError { () throws(WebAuthnError) in
                try WebAuthn.verifyRegistration(try RegistrationCredential(json: json), challenge: challenge,
                                                relyingParty: fixture.relyingParty,
                                                requireUserVerification: refusal.requireUserVerification)
            }
        default:
            error = webAuthnError { () throws(WebAuthnError) in
                try WebAuthn.verifyAssertion(try AuthenticationCredential(json: json), challenge: challenge,
                                             relyingParty: fixture.relyingParty, publicKey: registered.publicKey,
                                             storedSignCount: refusal.storedSignCount,
                                             requireUserVerification: refusal.requireUserVerification)
            }
        }
        #expect(error?.code.rawValue == refusal.error, "\(fixture.name): \(refusal.ceremony) with \(refusal.name): \(error?.description ?? "accepted")",
                sourceLocation: sourceLocation)
    }
}
