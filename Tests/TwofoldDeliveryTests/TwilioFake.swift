import Foundation

/// Twilio's REST API as far as Twofold uses it: checks the path, basic authentication, the
/// content type and the required form fields, and answers as Twilio does (201 with the
/// resource, or an error body `{code, message, more_info, status}`).
enum TwilioFake {
    static func error(_ status: Int, code: Int, message: String, headers: [String: String] = [:]) -> FakeResponse {
        .json(status, #"{"code": \#(code), "message": "\#(message)", "more_info": "https://www.twilio.com/docs/errors/\#(code)", "status": \#(status)}"#,
              headers: headers)
    }

    /// The answer of a well-behaved Twilio to `request`.
    static func answer(_ request: RecordedRequest, accountSID: String, authToken: String) -> FakeResponse {
        let expected = "Basic " + Data("\(accountSID):\(authToken)".utf8).base64EncodedString()
        guard request.headers["authorization"] == expected else {
            return error(401, code: 20003, message: "Authenticate")
        }
        guard request.method == "POST", request.headers["content-type"] == "application/x-www-form-urlencoded" else {
            return error(400, code: 20001, message: "wrong method or content type")
        }
        let fields = Dictionary(decodeForm(request.text), uniquingKeysWith: { first, _ in first })
        let prefix = "/2010-04-01/Accounts/\(accountSID)/"
        switch request.path {
        case prefix + "Messages.json":
            guard fields["To"] != nil, fields["Body"] != nil, (fields["From"] != nil) != (fields["MessagingServiceSid"] != nil) else {
                return error(400, code: 21604, message: "A 'To', 'Body' and 'From' or 'MessagingServiceSid' are required")
            }
            return .json(201, #"{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": "\#(fields["To"]!)", "body": "…"}"#)
        case prefix + "Calls.json":
            guard fields["To"] != nil, fields["From"] != nil, fields["Twiml"] != nil else {
                return error(400, code: 21205, message: "'To', 'From' and 'Twiml' are required")
            }
            return .json(201, #"{"sid": "CA0123456789abcdef0123456789abcdef", "status": "queued"}"#)
        default:
            return error(404, code: 20404, message: "The requested resource was not found")
        }
    }
}
