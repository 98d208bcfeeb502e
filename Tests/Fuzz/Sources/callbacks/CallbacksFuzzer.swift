import Crypto
import Foundation
import FuzzSupport
import TwofoldCore
import TwofoldDelivery

// Input: a mode byte, a time byte, the URL, 0x00, a signature header, 0x00, then the body.
//
// Bits 0–1 of the mode say how the Twilio callback is signed: 0 not at all (the header from
// the input is sent as it is), 1 as a form (the body's fields as parameters), 2 through a
// `bodySHA256` query parameter, 3 the same with the hash in upper case. Bit 2 signs the webhook
// callback, at now plus the time byte (a signed byte, times 4 seconds); otherwise its header is
// the one from the input. Signing is done here, so the fuzzer reaches the parsers behind the
// signature checks.
//
// Properties: neither authenticator traps; each fails only with `unauthorized`,
// `invalid_request` or (the webhook's replay memory) `unavailable`; a callback the fuzzer
// signed itself is never accepted; a callback signed here is never refused for its signature
// (the webhook's only when its time is within 300 s), and a webhook callback accepted once is
// refused the second time.

private let authToken = "0123456789abcdef0123456789abcdef"
private let webhookSecret = "fuzzing-webhook-secret-of-at-least-32-bytes"
private let challengeID = ChallengeID(rawValue: "chl_abcdefghijklmnopqrstuvwxyz")!
private let now = Date(timeIntervalSince1970: 1_700_000_000)

@main
enum CallbacksFuzzer {
    static func main() { runLibFuzzer(fuzzCallbacks) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCallbacks(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let offset = TimeInterval(Int8(bitPattern: input.byte())) * 4
    let url = input.text()
    let header = input.text()
    let body = input.rest()
    twilio(mode: mode & 3, url: url, header: header, body: body)
    webhook(signed: mode & 4 != 0, offset: offset, url: url, header: header, body: body)
    return 0
}

private func twilio(mode: UInt8, url: String, header: String, body: [UInt8]) {
    let signer = TwilioRequestSignature(authToken: authToken)
    var url = url
    let signature: String
    var signatureIsGood = false
    switch mode {
    case 0:
        signature = header
    case 1:
        let parameters = formFields(body)
        signature = signer.signature(url: url, parameters: parameters ?? [])
        require(signer.isValid(signature, url: url, parameters: parameters ?? []), "a signature made for \(url) does not check")
        // Good when nothing else in the URL or body keeps the form path from being taken.
        signatureIsGood = parameters != nil && !url.contains("?")
    default:
        let digest = hex(SHA256.hash(data: body))
        let clean = !url.contains("?") && !url.contains("#")
        url += (url.contains("?") ? "&" : "?") + "bodySHA256=" + (mode == 3 ? digest.uppercased() : digest)
        signature = signer.signature(url: url, parameters: [])
        signatureIsGood = clean
    }
    let callback = InboundCallback(provider: "twilio", challengeID: challengeID, url: url, method: "POST",
                                   headers: signature.isEmpty ? [:] : ["x-twilio-signature": signature], body: body)
    do {
        _ = try TwilioCallbackAuthenticator(authToken: authToken).authenticate(callback, now: now)
        require(mode != 0, "a Twilio callback signed by the fuzzer was accepted: \(signature.debugDescription) for \(url)")
    } catch {
        require([.unauthorized, .invalidRequest].contains(error.code), "the Twilio check failed with \(error.code): \(error.message)")
        require(!(signatureIsGood && error.code == .unauthorized), "a Twilio callback signed here was refused: \(error.message)")
    }
}

private func webhook(signed: Bool, offset: TimeInterval, url: String, header: String, body: [UInt8]) {
    let authenticator: WebhookCallbackAuthenticator
    do {
        authenticator = try WebhookCallbackAuthenticator(secret: webhookSecret, capacity: 4)
    } catch {
        fatalError("the webhook secret is refused: \(error.message)")
    }
    let signature = signed ? WebhookSignature(secret: webhookSecret).header(for: body, at: now + offset) : header
    let callback = InboundCallback(provider: "webhook", challengeID: challengeID, url: url, method: "POST",
                                   headers: signature.isEmpty ? [:] : [WebhookSignature.headerName.lowercased(): signature], body: body)
    let inTime = abs(offset) <= WebhookSignature.tolerance
    do {
        _ = try authenticator.authenticate(callback, now: now)
        require(signed, "a webhook callback signed by the fuzzer was accepted: \(signature.debugDescription)")
        require(inTime, "a webhook callback signed \(offset) s from now was accepted")
    } catch {
        require([.unauthorized, .invalidRequest, .unavailable].contains(error.code), "the webhook check failed with \(error.code): \(error.message)")
        if signed {
            require((error.code == .unauthorized) == !inTime, "a webhook callback signed \(offset) s from now: \(error.message)")
        }
        return
    }
    do {
        _ = try authenticator.authenticate(callback, now: now)
        fatalError("property violated: a webhook callback was accepted twice")
    } catch {
        require(error.code == .unauthorized, "a replayed webhook callback failed with \(error.code): \(error.message)")
    }
}

/// The fields of a form body, as Twilio signs them: `name=value` pairs joined by `&`, `+` for a
/// space, `%XX` escapes, UTF-8; `nil` for anything else. Written here from the HTML form
/// encoding, not taken from the code under test, so that the two are compared.
private func formFields(_ body: [UInt8]) -> [(String, String)]? {
    guard !body.isEmpty else { return [] }
    var fields: [(String, String)] = []
    for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
        guard let equals = pair.firstIndex(of: UInt8(ascii: "=")),
              let name = formDecode(pair[..<equals]), !name.isEmpty,
              let value = formDecode(pair[(equals + 1)...]) else { return nil }
        fields.append((name, value))
    }
    return fields
}

private func formDecode(_ bytes: ArraySlice<UInt8>) -> String? {
    var out: [UInt8] = []
    var iterator = bytes.makeIterator()
    while let byte = iterator.next() {
        switch byte {
        case UInt8(ascii: "+"):
            out.append(UInt8(ascii: " "))
        case UInt8(ascii: "%"):
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            out.append(high << 4 | low)
        default:
            out.append(byte)
        }
    }
    return String(validating: out, as: UTF8.self)
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
