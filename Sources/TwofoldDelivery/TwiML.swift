import TwofoldCore

/// The TwiML documents Twofold gives Twilio: what a call says, and the answer to a key press.
/// Every text and attribute is XML-escaped, so the speech can never become markup.
enum TwiML {
    /// What a call reads out.
    static func document(for script: VoiceCall.Script) -> String {
        switch script {
        case .say(let speech):
            return "<Response><Say>\(escape(speech))</Say></Response>"
        case .pressKey(let prompt, let digitsCallback):
            // One digit, sent by POST to the callback; without a key press within 10 s Twilio
            // goes on to the next verb and the call ends.
            return "<Response><Gather numDigits=\"1\" action=\"\(escape(digitsCallback.absoluteString))\" method=\"POST\" timeout=\"10\">"
                + "<Say>\(escape(prompt))</Say></Gather>"
                + "<Say>\(escape(noKeyPressed))</Say></Response>"
        }
    }

    static let noKeyPressed = "No key was pressed. Goodbye."

    /// The answer to gathered digits: Twilio reads it and hangs up.
    static let thankYou = "<Response><Say>Thank you. Goodbye.</Say><Hangup/></Response>"

    /// `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attributes. Control
    /// characters XML cannot carry become spaces.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(character)
            // Other control characters are not allowed in XML 1.0 at all, not even as references.
            case "\u{0}"..."\u{1F}", "\u{FFFE}", "\u{FFFF}": out += " "
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
