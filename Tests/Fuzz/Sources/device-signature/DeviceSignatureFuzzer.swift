import Crypto
import Foundation
import FuzzSupport
import TwofoldCore

// Input: a mode byte, a time byte, a change byte, then fields ended by 0x00: method, path,
// timestamp, signature, public key (SPKI DER; empty for the device's own), and the body.
//
// Mode 0 verifies the fields as they are. Mode 1 signs the method, path and body here with the
// device's key at now plus the time byte (a signed byte, times 4 seconds), as `twofold device`
// does, then verifies them, changed as the change byte says or not.
//
// Properties: verification never traps and fails only with `unauthorized`; a request signed
// by the fuzzer is never accepted; a request signed here is accepted exactly when its time is
// within 300 s, also with its signature re-encoded as (r, n − s) — giving the same replay
// digest — and with an ASCII method in lower case; changing its method, path, body or
// timestamp text makes it fail.

private let deviceKey = try! P256.Signing.PrivateKey(rawRepresentation: (1...32).map { UInt8($0) })
private let devicePublicKey = Array(deviceKey.publicKey.derRepresentation)
private let deviceID = DeviceID(rawValue: "dev_abcdefghijklmnopqrstuvwxyz")!
private let now = Date(timeIntervalSince1970: 1_700_000_000)

/// The order of P-256's group, big-endian (SEC 2 §2.4.2).
private let order: [UInt8] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
]

@main
enum DeviceSignatureFuzzer {
    static func main() { runLibFuzzer(fuzzDeviceSignature) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeviceSignature(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte() % 2
    let offset = TimeInterval(Int8(bitPattern: input.byte())) * 4
    let change = input.byte() % 6
    let method = input.text()
    let path = input.text()
    let timestamp = input.text()
    let signature = input.text()
    let key = input.field()
    let body = input.rest()

    guard mode == 1 else {
        do {
            _ = try DeviceRequestSignature.verify(method: method, path: path, body: body, timestamp: timestamp.isEmpty ? nil : timestamp,
                                                  signature: signature.isEmpty ? nil : signature,
                                                  publicKey: key.isEmpty ? devicePublicKey : key, deviceID: deviceID, now: now)
            fatalError("property violated: a request signed by the fuzzer was accepted")
        } catch {
            require(error.code == .unauthorized, "verification failed with \(error.code): \(error.message)")
        }
        return 0
    }

    let signed: (timestamp: String, signature: String)
    do {
        signed = try DeviceRequestSignature.sign(method: method, path: path, body: body, at: now + offset, with: deviceKey)
    } catch {
        fatalError("cannot sign: \(error)")
    }
    let request = SignedRequest(method: method, path: path, body: body, timestamp: signed.timestamp, signature: signed.signature)
    let inTime = abs(offset) <= DeviceRequestSignature.window

    var changed = request
    switch change {
    case 1:
        changed.method += "X"
        refused(changed.verify(), "another method")
    case 2:
        changed.path += "/"
        refused(changed.verify(), "another path")
    case 3:
        changed.body.append(0)
        refused(changed.verify(), "another body")
    case 4:
        // The same time with a leading zero: another text, so another signed message.
        changed.timestamp = "0" + changed.timestamp
        refused(changed.verify(), "its timestamp written with a leading zero")
    default:
        let result = request.verify()
        guard inTime else {
            refused(result, "a time \(offset) s from now")
            return 0
        }
        guard case .success(let digest) = result else {
            fatalError("property violated: a request signed \(offset) s from now was refused: \(result)")
        }
        changed.signature = highLowTwin(of: request.signature)
        let twin = changed.verify()
        require(twin == .success(digest), "the (r, n − s) twin of a signature gives \(twin), not the same replay digest")
        if method.utf8.allSatisfy({ $0 < 0x80 }) {
            changed = request
            changed.method = method.lowercased()
            require(changed.verify() == .success(digest), "the method \(changed.method) is refused")
        }
    }
    return 0
}

/// A request as the device sends it, checked against the device's own key.
private struct SignedRequest {
    var method: String
    var path: String
    var body: [UInt8]
    var timestamp: String
    var signature: String

    func verify() -> Result<[UInt8], TwofoldError> {
        Result { () throws(TwofoldError) -> [UInt8] in
            try DeviceRequestSignature.verify(method: method, path: path, body: body, timestamp: timestamp, signature: signature,
                                              publicKey: devicePublicKey, deviceID: deviceID, now: now)
        }
    }
}

private func refused(_ result: Result<[UInt8], TwofoldError>, _ what: String) {
    switch result {
    case .success:
        fatalError("property violated: a signed request was accepted with \(what)")
    case .failure(let error):
        require(error.code == .unauthorized, "a request with \(what) failed with \(error.code)")
    }
}

/// The other signature of the same message: (r, n − s) in DER and Base64.
private func highLowTwin(of signature: String) -> String {
    let parsed = try! P256.Signing.ECDSASignature(derRepresentation: Data(base64Encoded: signature)!)
    let raw = Array(parsed.rawRepresentation)
    var s = [UInt8](repeating: 0, count: 32)
    var borrow = 0
    for index in stride(from: 31, through: 0, by: -1) {
        var value = Int(order[index]) - Int(raw[32 + index]) - borrow
        borrow = value < 0 ? 1 : 0
        if value < 0 { value += 256 }
        s[index] = UInt8(value)
    }
    let twin = try! P256.Signing.ECDSASignature(rawRepresentation: raw[0..<32] + s)
    return twin.derRepresentation.base64EncodedString()
}
