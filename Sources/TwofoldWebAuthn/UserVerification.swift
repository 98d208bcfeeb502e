/// Whether the authenticator should check who is using it (PIN, biometrics), as the options ask
/// (WebAuthn §5.8.6). What is *required* is enforced by the ceremonies'
/// `requireUserVerification`, not by this hint.
public enum UserVerification: String, Sendable, Codable {
    case required, preferred, discouraged
}
