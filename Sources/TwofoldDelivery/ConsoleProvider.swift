import Foundation
import TwofoldCore

/// The development default: writes each message or call as one line, code included, instead
/// of sending it. Never for production: anyone who reads the output can sign in.
public struct ConsoleProvider: SMSProvider, VoiceProvider {
    public var name: String { "console" }

    private let write: @Sendable (String) -> Void

    /// - Parameter write: takes each line, without its newline; standard output by default.
    public init(write: @escaping @Sendable (String) -> Void = ConsoleProvider.standardOutput) {
        self.write = write
    }

    public func send(_ message: SMSMessage) async throws(DeliveryFailure) -> DeliveryReceipt {
        write("[console] SMS to \(message.to.masked) for \(message.challengeID): \(Self.oneLine(message.body))")
        return DeliveryReceipt(reference: "console-\(message.challengeID.rawValue)", status: "sent")
    }

    public func call(_ call: VoiceCall) async throws(DeliveryFailure) -> DeliveryReceipt {
        switch call.script {
        case .say(let speech):
            write("[console] call to \(call.to.masked) for \(call.challengeID) says: \(Self.oneLine(speech))")
        case .pressKey(let prompt, let digitsCallback):
            write("[console] call to \(call.to.masked) for \(call.challengeID) asks: \(Self.oneLine(prompt)) (key presses go to \(digitsCallback.absoluteString))")
        }
        return DeliveryReceipt(reference: "console-\(call.challengeID.rawValue)", status: "sent")
    }

    /// Writes the line and a newline to standard output at once, unbuffered.
    public static let standardOutput: @Sendable (String) -> Void = { line in
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Control characters escaped, so that a message is always one line.
    static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.properties.generalCategory == .control:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
