import Foundation
import Synchronization
import TwofoldCore

/// A push transport for tests: it records each wake-up (as a device would receive it), or
/// fails as scripted. A test double, never configured in a deployment.
public final class RecordingPushProvider: PushProvider, Sendable {
    public let name: String
    public let transport: PushTransportKind
    private let state = Mutex(State())

    private struct State {
        var delivered: [PushNotification] = []
        var failures: [DeliveryFailure] = []
    }

    public init(name: String = "webpush", transport: PushTransportKind = .webPush) {
        self.name = name
        self.transport = transport
    }

    /// The next wake-ups fail with these, in order; later ones succeed.
    public func failNext(_ failures: DeliveryFailure...) {
        state.withLock { $0.failures.append(contentsOf: failures) }
    }

    /// Every wake-up delivered, oldest first.
    public var delivered: [PushNotification] { state.withLock { $0.delivered } }

    /// Refuses an endpoint that is not https, as the real transport does.
    public func validate(_ transport: PushTransport) throws(TwofoldError) {
        if case .webPush(let subscription) = transport, !subscription.endpoint.hasPrefix("https://") {
            throw TwofoldError(.invalidRequest, "transport.endpoint must be an https URL")
        }
    }

    public func notify(_ notification: PushNotification) async throws(DeliveryFailure) -> DeliveryReceipt {
        let failure: DeliveryFailure? = state.withLock { state in
            if !state.failures.isEmpty { return state.failures.removeFirst() }
            state.delivered.append(notification)
            return nil
        }
        if let failure { throw failure }
        return DeliveryReceipt(reference: nil, status: "sent")
    }
}
