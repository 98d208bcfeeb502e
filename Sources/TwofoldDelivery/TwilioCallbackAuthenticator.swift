import Crypto
import Foundation
import TwofoldCore

/// Checks Twilio's status callbacks and gathered digits: `X-Twilio-Signature` first, then the
/// parameters.
///
/// A form body is signed with its parameters; a JSON body through the `bodySHA256` query
/// parameter, whose signature covers the URL only and whose value must be the body's SHA-256.
public struct TwilioCallbackAuthenticator: CallbackAuthenticator {
    public var provider: String { "twilio" }

    private let signer: TwilioRequestSignature

    /// - Parameter authToken: the account's Auth Token, which signs every callback.
    public init(authToken: String) {
        signer = TwilioRequestSignature(authToken: authToken)
    }

    public init(settings: TwilioSettings) {
        self.init(authToken: settings.authToken)
    }

    public func authenticate(_ callback: InboundCallback, now: Date) throws(TwofoldError) -> DeliveryReport {
        guard let signature = callback.headers["x-twilio-signature"], !signature.isEmpty else {
            throw TwofoldError(.unauthorized, "the Twilio callback has no X-Twilio-Signature")
        }
        let parameters: [(String, String)]
        if let bodyHash = try Self.bodyHash(in: callback.url) {
            guard signer.isValid(signature, url: callback.url, parameters: []) else { throw Self.wrongSignature }
            let actual = Hex.encode(SHA256.hash(data: callback.body))
            guard ConstantTime.equals(Array(actual.utf8), Array(bodyHash.lowercased().utf8)) else {
                throw TwofoldError(.unauthorized, "the Twilio callback's body does not match its bodySHA256")
            }
            parameters = try Self.jsonParameters(callback.body)
        } else {
            // Twilio signs the decoded parameters, so a body that does not decode cannot carry
            // a valid signature.
            guard let form = FormURLEncoding.decode(callback.body) else {
                throw TwofoldError(.unauthorized, "the Twilio callback's body is not a form, so its signature cannot be checked")
            }
            guard signer.isValid(signature, url: callback.url, parameters: form) else { throw Self.wrongSignature }
            parameters = form
        }
        return try Self.report(from: parameters)
    }

    /// TwiML that ends the call after a key press; nothing otherwise.
    public func reply(to report: DeliveryReport) -> CallbackReply {
        switch report {
        case .pressed:
            CallbackReply(contentType: "application/xml", body: TwiML.thankYou)
        case .status, .callEnded:
            .empty
        }
    }

    private static let wrongSignature = TwofoldError(.unauthorized, "the Twilio callback's X-Twilio-Signature is not valid for this URL and body")

    /// The `bodySHA256` query parameter, when the URL has one.
    ///
    /// - Throws: `unauthorized` when it appears twice or is not 64 hex digits.
    static func bodyHash(in url: String) throws(TwofoldError) -> String? {
        guard let question = url.firstIndex(of: "?") else { return nil }
        let query = url[url.index(after: question)...].prefix { $0 != "#" }
        var found: [String] = []
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if FormURLEncoding.decodeComponent(Array(parts[0].utf8)) == "bodySHA256" {
                found.append(parts.count == 2 ? String(parts[1]) : "")
            }
        }
        guard let hash = found.first else { return nil }
        guard found.count == 1, hash.utf8.count == 64, Hex.decode(hash) != nil else {
            throw TwofoldError(.unauthorized, "the Twilio callback's bodySHA256 is not one SHA-256 in hex")
        }
        return hash
    }

    /// The members of a JSON object body with string or number values, as parameters.
    static func jsonParameters(_ body: [UInt8]) throws(TwofoldError) -> [(String, String)] {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw TwofoldError(.invalidRequest, "the Twilio callback's JSON body is not an object")
            }
            object = parsed
        } catch let error as TwofoldError {
            throw error
        } catch {
            throw TwofoldError(.invalidRequest, "the Twilio callback's body is not JSON")
        }
        var parameters: [(String, String)] = []
        for (name, value) in object {
            switch value {
            case let text as String: parameters.append((name, text))
            case let number as NSNumber: parameters.append((name, number.stringValue))
            default: throw TwofoldError(.invalidRequest, "the Twilio callback's field \(name) is neither a string nor a number")
            }
        }
        return parameters
    }

    /// What the parameters report: gathered `Digits`, a `MessageStatus` or a `CallStatus`.
    ///
    /// - Throws: `invalid_request` for a repeated parameter, an unknown status or digits that
    ///   are not one key.
    static func report(from parameters: [(String, String)]) throws(TwofoldError) -> DeliveryReport {
        var values: [String: String] = [:]
        for (name, value) in parameters {
            guard values.updateValue(value, forKey: name) == nil else {
                throw TwofoldError(.invalidRequest, "the Twilio callback has the parameter \(name) twice")
            }
        }
        if let digits = values["Digits"] {
            guard digits.count == 1, let key = digits.first, key.isASCII, key.isNumber || key == "*" || key == "#" else {
                throw TwofoldError(.invalidRequest, "the Twilio callback's Digits is not one key (0-9, * or #)")
            }
            return .pressed(digit: digits)
        }
        if let status = values["MessageStatus"] {
            guard let sid = values["MessageSid"] ?? values["SmsSid"], !sid.isEmpty else {
                throw TwofoldError(.invalidRequest, "the Twilio message callback has no MessageSid")
            }
            switch status {
            case "queued", "accepted", "scheduled", "sending", "sent", "delivered", "read":
                return .status(reference: sid, status: status, failure: nil)
            case "undelivered", "failed", "canceled":
                let code = try errorCode(values["ErrorCode"])
                return .status(reference: sid, status: status, failure: TwilioErrorCode.callbackFailure(status: status, code: code))
            default:
                throw TwofoldError(.invalidRequest, "the Twilio callback's MessageStatus is not one Twofold knows")
            }
        }
        if let status = values["CallStatus"] {
            guard let sid = values["CallSid"], !sid.isEmpty else {
                throw TwofoldError(.invalidRequest, "the Twilio call callback has no CallSid")
            }
            switch status {
            case "queued", "initiated", "ringing", "in-progress", "completed":
                return .status(reference: sid, status: status, failure: nil)
            case "busy":
                return .callEnded(reference: sid, status: status, reason: .busy)
            case "no-answer":
                return .callEnded(reference: sid, status: status, reason: .noAnswer)
            case "failed", "canceled":
                return .callEnded(reference: sid, status: status, reason: .providerError)
            default:
                throw TwofoldError(.invalidRequest, "the Twilio callback's CallStatus is not one Twofold knows")
            }
        }
        throw TwofoldError(.invalidRequest, "the Twilio callback has neither Digits, MessageStatus nor CallStatus")
    }

    private static func errorCode(_ text: String?) throws(TwofoldError) -> Int? {
        guard let text, !text.isEmpty else { return nil }
        guard text.utf8.count <= 9, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let code = Int(text) else {
            throw TwofoldError(.invalidRequest, "the Twilio callback's ErrorCode is not a number")
        }
        return code
    }
}
