import Benchmark
import Crypto
import Foundation
import TwofoldOTP
import TwofoldWebAuthn

/// A security key's sign-in check in process: parsing the browser's JSON and verifying the
/// ES256 assertion (client data, authenticator data, signature, counter), beside a TOTP
/// verification measured in the same run. Each iteration runs 1,000 operations (scalingFactor
/// .kilo), so the reported times are per verification.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 10_000
    )

    let relyingParty = RelyingParty(id: "example.com", origins: ["https://login.example.com"])
    let challenge = [UInt8](repeating: 7, count: 32)
    let key = P256.Signing.PrivateKey()
    let assertion = Assertion(key: key, challenge: challenge, relyingParty: relyingParty)

    Benchmark("WebAuthn ES256 assertion: parse and verify") { benchmark in
        for _ in benchmark.scaledIterations {
            let credential = try AuthenticationCredential(json: assertion.json)
            blackHole(try WebAuthn.verifyAssertion(credential, challenge: challenge, relyingParty: relyingParty,
                                                   publicKey: assertion.coseKey, storedSignCount: 0, requireUserVerification: false))
        }
    }

    Benchmark("WebAuthn ES256 assertion: verify (parsed once)") { benchmark in
        let credential = try AuthenticationCredential(json: assertion.json)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try WebAuthn.verifyAssertion(credential, challenge: challenge, relyingParty: relyingParty,
                                                   publicKey: assertion.coseKey, storedSignCount: 0, requireUserVerification: false))
        }
    }

    // The same TOTP measurement as OTPBenchmarks: a code that matches nothing, all three steps
    // of the ±1 window computed.
    Benchmark("TOTP SHA-1 verify, window ±1") { benchmark in
        let totp = try TOTP(secret: try OTPSecret(bytes: Array("12345678901234567890".utf8)))
        var time: UInt64 = 1_700_000_000
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try totp.verify("000000", at: time, window: 1))
            time &+= 30
        }
    }
}

/// One signed sign-in answer, as a browser relays it, and the credential's COSE public key.
struct Assertion {
    let json: [UInt8]
    let coseKey: [UInt8]

    init(key: P256.Signing.PrivateKey, challenge: [UInt8], relyingParty: RelyingParty) {
        let point = Array(key.publicKey.x963Representation)
        // COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
        coseKey = [0xA5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20] + point[1...32] + [0x22, 0x58, 0x20] + point[33...64]
        let clientData = Array(#"{"type":"webauthn.get","challenge":"\#(Base64URL.encode(challenge))","origin":"\#(relyingParty.origins[0])"}"#.utf8)
        // rpIdHash, flags UP|UV, counter 0.
        let authenticatorData = Array(SHA256.hash(data: Array(relyingParty.id.utf8))) + [0x05, 0, 0, 0, 0]
        let signature = try! key.signature(for: authenticatorData + Array(SHA256.hash(data: clientData)))
        let id = Base64URL.encode([UInt8](repeating: 1, count: 32))
        json = Array("""
            {"id":"\(id)","rawId":"\(id)","type":"public-key","response":{"clientDataJSON":"\(Base64URL.encode(clientData))",\
            "authenticatorData":"\(Base64URL.encode(authenticatorData))","signature":"\(Base64URL.encode(Array(signature.derRepresentation)))"},\
            "clientExtensionResults":{}}
            """.utf8)
    }
}
