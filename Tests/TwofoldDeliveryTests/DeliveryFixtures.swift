import Foundation
import Logging
import TwofoldCore
import TwofoldDelivery
import TwofoldTesting

/// Values shared by the delivery tests.
enum Fixtures {
    static let accountSID = "AC0123456789abcdef0123456789abcdef"
    static let authToken = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
    static let from = "+15005550006"
    static let messagingServiceSID = "MG00112233445566778899aabbccddeeff"
    static let number = try! PhoneNumber("+447700900123")
    static let challengeID = ChallengeID(rawValue: "chl_abcdefghijklmnopqrstuvwxyz")!
    static let webhookSecret = "0123456789abcdef0123456789abcdef-webhook"
    static let callback = URL(string: "https://twofold.example.com/v1/callbacks/twilio/chl_abcdefghijklmnopqrstuvwxyz?kind=status&x=a%20b")!
    static let digitsCallback = URL(string: "https://twofold.example.com/v1/callbacks/twilio/chl_abcdefghijklmnopqrstuvwxyz?kind=digits&a=1")!

    static func twilioSettings(baseURL: String, authToken: String = authToken, messagingService: Bool = false) -> TwilioSettings {
        TwilioSettings(accountSID: accountSID, authToken: authToken, from: messagingService ? nil : from,
                       messagingServiceSID: messagingService ? messagingServiceSID : nil, baseURL: baseURL)
    }

    /// A client that waits for nothing between attempts, recording the waits.
    static func http(_ policy: OutboundHTTP.Policy = OutboundHTTP.Policy(), sleeps: SleepRecorder = SleepRecorder(),
                     logs: LogCapture? = nil) -> OutboundHTTP {
        OutboundHTTP(policy: policy, logger: logs?.logger(label: "twofold.delivery") ?? quietLogger,
                     sleep: sleeps.sleep, jitter: { 1 })
    }

    static let quietLogger: Logger = {
        var logger = Logger(label: "twofold.delivery")
        logger.logLevel = .critical
        return logger
    }()

    /// The HTTP client for one test, shut down after it.
    static func withHTTP<T: Sendable>(_ http: OutboundHTTP, _ body: (OutboundHTTP) async throws -> T) async throws -> T {
        do {
            let result = try await body(http)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// The `DeliveryFailure` thrown by `body`, or `nil` when it succeeded.
    static func failure<T>(_ body: () async throws(DeliveryFailure) -> T) async -> DeliveryFailure? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error
        }
    }

    /// The `TwofoldError` thrown by `body`, or `nil` when it succeeded.
    static func error<T>(_ body: () throws(TwofoldError) -> T) -> TwofoldError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }
}
