import Crypto
import Foundation
import Testing
@testable import TwofoldWebAuthn

/// The committed ceremonies of Fixtures/ (made by make_fixtures.py with soft-webauthn and
/// python-fido2), and each check of §7.1 and §7.2 failing alone.
@Suite("Registration and authentication ceremonies")
struct CeremonyTests {
    static let fixtures = CeremonyFixture.committed

    static func fixture(_ name: String) throws -> CeremonyFixture {
        try #require(fixtures.first { $0.name == name }, "no fixture \(name)")
    }

    /// A copy of `credential` with `response.member` replaced.
    static func replacing(_ member: String, in credential: JSONValue, with value: JSONValue) -> JSONValue {
        var changed = credential
        var response = credential["response"]
        response?[member] = value
        changed["response"] = response
        return changed
    }

    /// A copy of `credential` with one bit of the Base64URL member `response.member` flipped.
    static func flippingBit(_ bit: Int, of member: String, in credential: JSONValue) throws -> JSONValue {
        var bytes = try base64URL(#require(credential["response"]?[member]?.string))
        bytes[bit / 8 % bytes.count] ^= 1 << UInt8(bit % 8)
        return replacing(member, in: credential, with: .string(Base64URL.encode(bytes)))
    }

    @Test("the seven credentials of make_fixtures.py are committed")
    func fixturesAreThere() {
        #expect(Self.fixtures.map(\.name) == [
            "fido-u2f", "none-es256-soft-webauthn", "packed-self-eddsa", "packed-self-es256", "packed-self-rs256",
            "packed-x5c-es256", "packed-x5c-no-aaguid",
        ])
    }

    @Test("registers each credential as recorded, verifies its assertions, and refuses each variant with its code",
          arguments: fixtures)
    func everyCeremony(fixture: CeremonyFixture) throws {
        try checkEveryCeremony(fixture)
    }

    @Test("refuses an origin the relying party does not list, compared as an exact string", arguments: fixtures)
    func refusesOtherOrigins(fixture: CeremonyFixture) throws {
        for origins in [["https://example.com"], ["https://login.example.com/"], ["HTTPS://LOGIN.EXAMPLE.COM"], []] {
            let rp = RelyingParty(id: fixture.rpId, origins: origins)
            #expect(try register(fixture, relyingParty: rp).errorCode == .originMismatch, "\(origins)")
            for assertion in fixture.assertions {
                #expect(try authenticate(fixture, assertion, relyingParty: rp).errorCode == .originMismatch, "\(origins)")
            }
        }
    }

    @Test("refuses authenticator data made for another RP ID", arguments: fixtures)
    func refusesOtherRPIDs(fixture: CeremonyFixture) throws {
        for id in ["login.example.com", "example.net", "Example.com", ""] {
            let rp = RelyingParty(id: id, origins: fixture.origins)
            #expect(try register(fixture, relyingParty: rp).errorCode == .rpIDMismatch, "\(id)")
            for assertion in fixture.assertions {
                #expect(try authenticate(fixture, assertion, relyingParty: rp).errorCode == .rpIDMismatch, "\(id)")
            }
        }
    }

    @Test("refuses a challenge other than the one issued: one bit off, shorter, longer or empty", arguments: fixtures)
    func refusesOtherChallenges(fixture: CeremonyFixture) throws {
        let issued = try base64URL(fixture.registration.challenge)
        var flipped = issued
        flipped[flipped.count - 1] ^= 0x80
        for challenge in [flipped, Array(issued.dropLast()), issued + [0], []] {
            #expect(try register(fixture, challenge: challenge).errorCode == .challengeMismatch)
        }
        for assertion in fixture.assertions {
            #expect(try authenticate(fixture, assertion, challenge: issued).errorCode == .challengeMismatch)
        }
    }

    @Test("refuses an assertion whose signature has any one bit flipped, before looking at the counter", arguments: fixtures)
    func refusesFlippedSignatureBits(fixture: CeremonyFixture) throws {
        guard let assertion = fixture.assertions.first else { return }
        let signature = try base64URL(#require(assertion.credential["response"]?["signature"]?.string))
        for bit in stride(from: 0, to: signature.count * 8, by: 7) {
            let changed = try Self.flippingBit(bit, of: "signature", in: assertion.credential)
            #expect(try authenticate(fixture, assertion, credential: changed).errorCode == .badSignature, "bit \(bit)")
        }
        let changed = try Self.flippingBit(3, of: "signature", in: assertion.credential)
        #expect(try authenticate(fixture, assertion, credential: changed, storedSignCount: .max).errorCode == .badSignature)
    }

    @Test("refuses an assertion whose signed authenticator data or client data changed", arguments: fixtures)
    func refusesChangedSignedData(fixture: CeremonyFixture) throws {
        guard let assertion = fixture.assertions.first else { return }
        // The counter's last bit: still well-formed, still for this RP, but not what was signed.
        let counter = try Self.flippingBit(36 * 8, of: "authenticatorData", in: assertion.credential)
        #expect(try authenticate(fixture, assertion, credential: counter, storedSignCount: 0).errorCode == .badSignature)
        let clientData = try base64URL(#require(assertion.credential["response"]?["clientDataJSON"]?.string))
        let spaced = Self.replacing("clientDataJSON", in: assertion.credential, with: .string(Base64URL.encode(clientData + Array(" ".utf8))))
        #expect(try authenticate(fixture, assertion, credential: spaced).errorCode == .badSignature)
    }

    @Test("refuses an attestation statement whose signature has a bit flipped", arguments: fixtures)
    func refusesFlippedAttestationSignature(fixture: CeremonyFixture) throws {
        guard fixture.registration.expected.attestationFormat != "none" else { return }
        let object = try base64URL(#require(fixture.registration.credential["response"]?["attestationObject"]?.string))
        guard case .map(var entries) = try CBORDecoder.decode(object), case .map(var statement)? = entries[.text("attStmt")],
              case .bytes(var signature)? = statement[.text("sig")] else {
            Issue.record("no attStmt.sig in \(fixture.name)")
            return
        }
        signature[signature.count / 2] ^= 0x10
        statement[.text("sig")] = .bytes(signature)
        entries[.text("attStmt")] = .map(statement)
        let changed = Self.replacing("attestationObject", in: fixture.registration.credential,
                                     with: .string(Base64URL.encode(CBOREncoder.encode(.map(entries)))))
        #expect(try register(fixture, credential: changed).errorCode == .badAttestation)
    }

    @Test("refuses an assertion checked with another credential's public key")
    func refusesAnotherCredentialsKey() throws {
        let keys = try Self.fixtures.map { try base64URL($0.registration.expected.publicKey) }
        for (index, fixture) in Self.fixtures.enumerated() {
            guard let assertion = fixture.assertions.first else { continue }
            for (other, key) in keys.enumerated() where other != index {
                #expect(try authenticate(fixture, assertion, publicKey: key).errorCode == .badSignature,
                        "\(fixture.name) with the key of \(Self.fixtures[other].name)")
            }
        }
    }

    @Test("accepts a counter of 0 while the stored one is 0, and refuses 0 once it is not")
    func zeroCounters() throws {
        let fixture = try Self.fixture("packed-self-es256")
        let assertion = try #require(fixture.assertions.first)
        #expect(try authenticate(fixture, assertion, storedSignCount: 0).get() == VerifiedAssertion(signCount: 0, userVerified: false))
        #expect(try authenticate(fixture, assertion, storedSignCount: 1).errorCode == .signCountNotIncreased)
    }

    @Test("refuses a counter equal to or below the stored one, and accepts one above it")
    func countersMoveForward() throws {
        let fixture = try Self.fixture("packed-self-eddsa")
        let assertion = try #require(fixture.assertions.last)
        let count = assertion.expected.signCount
        #expect(count > 10)
        #expect(try authenticate(fixture, assertion, storedSignCount: count).errorCode == .signCountNotIncreased)
        #expect(try authenticate(fixture, assertion, storedSignCount: count + 1).errorCode == .signCountNotIncreased)
        #expect(try authenticate(fixture, assertion, storedSignCount: .max).errorCode == .signCountNotIncreased)
        #expect(try authenticate(fixture, assertion, storedSignCount: count - 1).get().signCount == count)
        #expect(try authenticate(fixture, assertion, storedSignCount: 0).get().signCount == count)
    }

    @Test("requires user verification only when asked, and passes when the authenticator did it")
    func userVerification() throws {
        let verified = try Self.fixture("packed-self-eddsa")
        #expect(try register(verified, requireUserVerification: true).get().userVerified)
        let assertion = try #require(verified.assertions.first)
        #expect(try authenticate(verified, assertion, requireUserVerification: true).get().userVerified)
        let unverified = try Self.fixture("packed-x5c-es256")
        #expect(try register(unverified, requireUserVerification: true).errorCode == .userNotVerified)
        #expect(try register(unverified, requireUserVerification: false).get().userVerified == false)
    }

    @Test("keeps only the transports WebAuthn defines, each once, in the browser's order")
    func transports() throws {
        let fixture = try Self.fixture("none-es256-soft-webauthn")
        #expect(fixture.registration.credential["response"]?["transports"] == .array(["usb", "nfc", "usb", "carrier-pigeon"].map(JSONValue.string)))
        #expect(try register(fixture).get().transports == ["usb", "nfc"])
    }

    @Test("refuses a rawId that is not the credential id in the authenticator data")
    func refusesForeignRawID() throws {
        let fixture = try Self.fixture("packed-self-es256")
        var credential = fixture.registration.credential
        let other = Base64URL.encode([UInt8](repeating: 9, count: 48))
        credential["id"] = .string(other)
        credential["rawId"] = .string(other)
        let error = try register(fixture, credential: credential)
        #expect(error.errorCode == .malformed)
    }

    @Test("refuses credential JSON that is not a PublicKeyCredential's")
    func refusesMalformedCredentialJSON() throws {
        let fixture = try Self.fixture("packed-self-es256")
        let registration = fixture.registration.credential
        let assertion = try #require(fixture.assertions.first).credential
        var mismatchedID = registration
        mismatchedID["id"] = .string("AAAA")
        var wrongType = registration
        wrongType["type"] = .string("password")
        var padded = registration
        padded["rawId"] = .string((registration["rawId"]?.string ?? "") + "=")
        let registrations: [JSONValue] = [
            mismatchedID, wrongType, padded,
            Self.replacing("clientDataJSON", in: registration, with: .string(Base64URL.encode(Array("not json".utf8)))),
            Self.replacing("clientDataJSON", in: registration, with: .string(Base64URL.encode(Array(#"{"type":"webauthn.create"}"#.utf8)))),
            Self.replacing("attestationObject", in: registration, with: .string("oA")),  // {}
            Self.replacing("attestationObject", in: registration, with: .null),
            .object(["id": .string("AA")]),
            .array([]),
        ]
        for json in registrations {
            let bytes = try json.bytes
            let error = webAuthnError { () throws(WebAuthnError) in try RegistrationCredential(json: bytes) }
            #expect(error?.code == .malformed, "\(json)")
        }
        // An assertion whose authenticator data carries a credential (the AT flag) is a registration's.
        let registrationData = try base64URL(#require(registration["response"]?["attestationObject"]?.string))
        guard case .map(let entries) = try CBORDecoder.decode(registrationData), case .bytes(let authData)? = entries[.text("authData")] else {
            Issue.record("no authData")
            return
        }
        let assertions: [JSONValue] = [
            Self.replacing("authenticatorData", in: assertion, with: .string(Base64URL.encode(authData))),
            Self.replacing("signature", in: assertion, with: .string("***")),
            Self.replacing("authenticatorData", in: assertion, with: .string("AAAA")),
            Self.replacing("userHandle", in: assertion, with: .number(1)),
        ]
        for json in assertions {
            let bytes = try json.bytes
            let error = webAuthnError { () throws(WebAuthnError) in try AuthenticationCredential(json: bytes) }
            #expect(error?.code == .malformed, "\(json)")
        }
    }

    @Test("exposes the challenge client data names, decoded, so the caller can find its ceremony", arguments: fixtures)
    func exposesChallenge(fixture: CeremonyFixture) throws {
        let registration = try RegistrationCredential(json: fixture.registration.credential.bytes)
        #expect(registration.challenge == (try base64URL(fixture.registration.challenge)))
        for assertion in fixture.assertions {
            #expect(try AuthenticationCredential(json: assertion.credential.bytes).challenge == (try base64URL(assertion.challenge)))
        }
    }

    @Test("reads the user handle, and treats an absent, null or empty one as none")
    func userHandle() throws {
        let fixture = try Self.fixture("packed-self-es256")
        let assertion = try #require(fixture.assertions.first).credential
        let handle = try base64URL(#require(assertion["response"]?["userHandle"]?.string))
        #expect(try AuthenticationCredential(json: assertion.bytes).userHandle == handle)
        #expect(handle.count == 16)
        for value in [JSONValue.null, .string("")] {
            #expect(try AuthenticationCredential(json: Self.replacing("userHandle", in: assertion, with: value).bytes).userHandle == nil)
        }
        let withoutHandle = try #require(Self.fixture("fido-u2f").assertions.first).credential
        #expect(withoutHandle["response"]?["userHandle"] == nil)
        #expect(try AuthenticationCredential(json: withoutHandle.bytes).userHandle == nil)
    }

    @Test("refusals never carry key material or signatures in their messages")
    func errorsCarryNoKeys() throws {
        for fixture in Self.fixtures {
            let key = try base64URL(fixture.registration.expected.publicKey)
            let secretLooking = [Base64URL.encode(key), Base64URL.encode(Array(key.prefix(12))),
                                 AttestationObject.hex(Array(key.prefix(8)))]
            var errors: [WebAuthnError] = []
            for refusal in fixture.refusals {
                let json = try refusal.credential.bytes
                let challenge = try base64URL(refusal.challenge)
                let error = webAuthnError { () throws(WebAuthnError) in
                    refusal.ceremony == "registration"
                        ? try WebAuthn.verifyRegistration(try RegistrationCredential(json: json), challenge: challenge,
                                                          relyingParty: fixture.relyingParty, requireUserVerification: true).signCount
                        : try WebAuthn.verifyAssertion(try AuthenticationCredential(json: json), challenge: challenge,
                                                       relyingParty: fixture.relyingParty, publicKey: key, storedSignCount: 0,
                                                       requireUserVerification: true).signCount
                }
                errors += error.map { [$0] } ?? []
            }
            for assertion in fixture.assertions {
                if case .failure(let error) = try authenticate(fixture, assertion, publicKey: Array(key.dropLast())) { errors.append(error) }
            }
            #expect(errors.count >= fixture.refusals.count)
            for error in errors {
                #expect(!secretLooking.contains { error.message.contains($0) }, "\(error)")
                #expect(error.description == "\(error.code): \(error.message)")
            }
        }
    }
}
