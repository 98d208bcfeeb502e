/// What an attestation statement proves about where a credential comes from (WebAuthn §6.5.3).
///
/// Twofold has no metadata service, so a certificate chain (x5c) is verified as a signature by
/// its leaf and reported as `basic`, not traced to a vendor's root: the statement shows that
/// the key signed, not that the authenticator is of a certified model.
public enum AttestationType: String, Sendable {
    /// No statement (format "none").
    case none
    /// Signed by the credential's own key (packed without x5c): proves possession only.
    case `self`
    /// Signed by an attestation key whose certificate (x5c) is included.
    case basic
}
