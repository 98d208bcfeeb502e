import Foundation
import Logging
import TwofoldCore
import TwofoldDelivery

/// Builds each channel's providers, in the configured order, and the authenticators of their
/// callbacks, from ``DeliveryConfiguration``. The one place that knows every provider.
struct ProviderRegistry: Sendable {
    let providers: DeliveryProviderSet
    /// The push transports, one per kind configured.
    let push: [any PushProvider]
    /// The outbound client, when a provider makes outbound calls; closed with the runtime.
    let http: OutboundHTTP?

    /// - Throws: `configuration` naming the setting, should a provider refuse its settings.
    static func build(_ configuration: DeliveryConfiguration, logger: Logger) throws(TwofoldError) -> ProviderRegistry {
        let all = configuration.smsProviders + configuration.voiceProviders
        let http = all.contains(where: { $0 != .console }) || !configuration.pushProviders.isEmpty
            ? OutboundHTTP(policy: OutboundHTTP.Policy(timeout: configuration.timeout), logger: logger)
            : nil
        var sms: [any SMSProvider] = []
        var voice: [any VoiceProvider] = []
        var callbacks: [any CallbackAuthenticator] = []
        var push: [any PushProvider] = []
        do {
            if let settings = configuration.webPush, let http {
                push.append(try WebPushProvider(settings: settings, http: http))
            }
            if let settings = configuration.pushWebhook, let http {
                push.append(try WebhookPushProvider(settings: settings, http: http))
            }
            for name in configuration.smsProviders {
                sms.append(try provider(name, for: .sms, configuration, http: http))
            }
            for name in configuration.voiceProviders {
                voice.append(try provider(name, for: .voice, configuration, http: http))
            }
            if let twilio = configuration.twilio {
                callbacks.append(TwilioCallbackAuthenticator(settings: twilio))
            }
            if let secret = configuration.webhookSecret {
                callbacks.append(try WebhookCallbackAuthenticator(secret: secret))
            }
        } catch {
            if let http { Task { try? await http.shutdown() } }
            throw error
        }
        return ProviderRegistry(providers: DeliveryProviderSet(sms: sms, voice: voice, callbacks: callbacks), push: push, http: http)
    }

    /// Every provider Twofold knows delivers on both channels; `channel` picks its settings.
    private static func provider(_ name: DeliveryConfiguration.ProviderName, for channel: ChallengeType,
                                 _ configuration: DeliveryConfiguration, http: OutboundHTTP?) throws(TwofoldError)
        -> any SMSProvider & VoiceProvider {
        switch name {
        case .console:
            return ConsoleProvider()
        case .twilio:
            guard let settings = configuration.twilio, let http else { throw missing("TWOFOLD_TWILIO_ACCOUNT_SID") }
            return try TwilioProvider(settings: settings, http: http)
        case .webhook:
            let settings = channel == .sms ? configuration.smsWebhook : configuration.voiceWebhook
            guard let settings, let http else { throw missing(channel == .sms ? "TWOFOLD_SMS_WEBHOOK_URL" : "TWOFOLD_VOICE_WEBHOOK_URL") }
            return try WebhookProvider(settings: settings, http: http)
        }
    }

    private static func missing(_ setting: String) -> TwofoldError {
        TwofoldError(.configuration, "\(setting) is required by a configured provider")
    }
}
