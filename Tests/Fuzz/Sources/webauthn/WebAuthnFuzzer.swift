import FuzzSupport
@_spi(Fuzzing) import TwofoldWebAuthn

// Input: a mode byte, then what the mode reads.
//
// 0: CBOR bytes, decoded as one item and as an item followed by more.
// 1: an attestation object, parsed and its statement verified.
// 2: authenticator data.
// 3: registration credential JSON (PublicKeyCredential.toJSON()), parsed and its ceremony run
//    with the challenge its client data names, so that the fuzzer reaches the attestation.
// 4: two bytes of length (big-endian) and that many bytes of COSE key, then authentication
//    credential JSON, parsed and its ceremony run with that key and its client data's challenge.
// 5: a COSE key, then after 0x00 a signature, checked over the rest.
//
// Properties: nothing traps, allocates past what the input's lengths allow, or fails with a code
// the ceremony does not document; a CBOR item that decodes alone also decodes as a prefix, taking
// every byte, and a prefix takes at least one byte and never more than there are; authenticator
// data holds a credential exactly when its AT flag is set and extensions exactly when ED is.

private let relyingParty = RelyingParty(id: "example.com", origins: ["https://login.example.com"])

private let ceremonyCodes: [WebAuthnError.Code] = [
    .malformed, .unsupported, .typeMismatch, .challengeMismatch, .originMismatch, .rpIDMismatch, .userNotPresent,
    .userNotVerified, .badSignature, .badAttestation, .signCountNotIncreased,
]

@main
enum WebAuthnFuzzer {
    static func main() { runLibFuzzer(fuzzWebAuthn) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebAuthn(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    switch input.byte() % 6 {
    case 0: cbor(input.rest())
    case 1: attestationObject(input.rest())
    case 2: authenticatorData(input.rest())
    case 3: registration(input.rest())
    case 4: authentication(&input)
    default: coseKey(&input)
    }
    return 0
}

private func cbor(_ bytes: [UInt8]) {
    let outcome = FuzzEntryPoints.decodeCBOR(bytes)
    switch outcome.prefix {
    case .success(let consumed):
        require(consumed >= 1 && consumed <= bytes.count, "a CBOR prefix of \(bytes.count) bytes took \(consumed)")
        switch outcome.whole {
        case .success: require(consumed == bytes.count, "\(hex(bytes)) decodes whole but its prefix took \(consumed) bytes")
        case .failure(let error):
            require(error.code == .malformed, "CBOR failed with \(error.code)")
            require(consumed < bytes.count, "\(hex(bytes)) decodes as a prefix taking every byte, but not whole: \(error.message)")
        }
    case .failure(let error):
        require(error.code == .malformed, "CBOR failed with \(error.code)")
        if case .success = outcome.whole { require(false, "\(hex(bytes)) decodes whole but not as a prefix") }
    }
}

private func attestationObject(_ bytes: [UInt8]) {
    do {
        let type = try FuzzEntryPoints.verifyAttestationObject(bytes, clientDataHash: [UInt8](repeating: 0, count: 32))
        require(type == .none, "an attestation statement over a made-up client data hash verified as \(type)")
    } catch {
        require([.malformed, .unsupported, .badAttestation].contains(error.code), "an attestation object failed with \(error.code)")
    }
}

private func authenticatorData(_ bytes: [UInt8]) {
    do {
        let summary = try FuzzEntryPoints.parseAuthenticatorData(bytes)
        require((summary.credentialIDCount != nil) == (summary.flags & 0x40 != 0), "the AT flag disagrees with the data")
        require(summary.hasExtensions == (summary.flags & 0x80 != 0), "the ED flag disagrees with the data")
        require((summary.credentialIDCount ?? 0) <= 1023, "a credential id of \(summary.credentialIDCount ?? 0) bytes")
        require(37 + (summary.credentialIDCount.map { 18 + $0 } ?? 0) + (summary.publicKeyCount ?? 0) <= bytes.count,
                "the parts are longer than the data")
    } catch {
        require([.malformed, .unsupported].contains(error.code), "authenticator data failed with \(error.code)")
    }
}

/// The challenge client data names, so that ceremonies get past the challenge check; a fixed one
/// when it names none that decodes.
private func namedChallenge(_ clientDataJSON: [UInt8]) -> [UInt8] {
    let name = Array("\"challenge\"".utf8)
    guard clientDataJSON.count > name.count,
          let found = (0...(clientDataJSON.count - name.count)).first(where: { clientDataJSON[$0..<$0 + name.count].elementsEqual(name) }),
          let open = clientDataJSON[(found + name.count)...].firstIndex(of: UInt8(ascii: "\"")),
          let close = clientDataJSON[(open + 1)...].firstIndex(of: UInt8(ascii: "\"")) else { return [0x42] }
    return Base64URL.decode(String(decoding: clientDataJSON[(open + 1)..<close], as: UTF8.self)) ?? [0x42]
}

private func registration(_ bytes: [UInt8]) {
    do {
        let credential = try RegistrationCredential(json: bytes)
        let challenge = namedChallenge(credential.clientDataJSON)
        let verified = try WebAuthn.verifyRegistration(credential, challenge: challenge, relyingParty: relyingParty,
                                                       requireUserVerification: false)
        require(verified.credentialID == credential.id, "a registration verified with another credential id")
        require(verified.aaguid.count == 16, "an AAGUID of \(verified.aaguid.count) bytes")
    } catch {
        require(ceremonyCodes.contains(error.code) && error.code != .signCountNotIncreased, "a registration failed with \(error.code)")
    }
}

private func authentication(_ input: inout FuzzInput) {
    let keyCount = Int(input.byte()) << 8 | Int(input.byte())
    let publicKey = (0..<keyCount).map { _ in input.byte() }
    do {
        let credential = try AuthenticationCredential(json: input.rest())
        let verified = try WebAuthn.verifyAssertion(credential, challenge: namedChallenge(credential.clientDataJSON),
                                                    relyingParty: relyingParty, publicKey: publicKey, storedSignCount: 5,
                                                    requireUserVerification: false)
        require(verified.signCount > 5, "an assertion verified with the counter \(verified.signCount) after 5")
    } catch {
        require(ceremonyCodes.contains(error.code) && error.code != .badAttestation, "an assertion failed with \(error.code)")
    }
}

private func coseKey(_ input: inout FuzzInput) {
    let key = input.field()
    let signature = input.field()
    let data = input.rest()
    do {
        _ = try FuzzEntryPoints.verifyWithCOSEKey(key, signature: signature, data: data)
    } catch {
        require([.malformed, .unsupported].contains(error.code), "a COSE key failed with \(error.code)")
    }
}
