import Foundation
import Synchronization
import Testing
import TwofoldCore
import TwofoldDelivery

@Suite("Console provider")
struct ConsoleProviderTests {
    final class Lines: Sendable {
        let storage = Mutex<[String]>([])
        var all: [String] { storage.withLock { $0 } }
        var write: @Sendable (String) -> Void { { line in self.storage.withLock { $0.append(line) } } }
    }

    @Test("writes each message as one line, code included, and reports it sent")
    func writesMessages() async throws {
        let lines = Lines()
        let provider = ConsoleProvider(write: lines.write)
        #expect(provider.name == "console")
        let receipt = try await provider.send(SMSMessage(challengeID: Fixtures.challengeID, to: Fixtures.number,
                                                         body: "Your code is 482913\nDo not share it", statusCallback: nil))
        #expect(receipt == DeliveryReceipt(reference: "console-\(Fixtures.challengeID.rawValue)", status: "sent"))
        let call = try await provider.call(VoiceCall(challengeID: Fixtures.challengeID, to: Fixtures.number,
                                                     script: .pressKey(prompt: "Press 1", digitsCallback: Fixtures.digitsCallback), statusCallback: nil))
        #expect(call == receipt)
        _ = try await provider.call(VoiceCall(challengeID: Fixtures.challengeID, to: Fixtures.number, script: .say(speech: "4 8 2 9 1 3"), statusCallback: nil))

        #expect(lines.all.count == 3)
        #expect(lines.all.allSatisfy { !$0.contains("\n") })
        #expect(lines.all[0].contains("482913"))
        #expect(lines.all[0].contains(Fixtures.challengeID.rawValue))
        #expect(lines.all[1].contains("Press 1") && lines.all[1].contains(Fixtures.digitsCallback.absoluteString))
        #expect(lines.all[2].contains("4 8 2 9 1 3"))
    }
}
