import Crypto
import Foundation

/// What a `webauthn` factor seals as its secret: the user verification its ceremonies ask for
/// and, once registered, the credential that answers them. Sealed (AES-GCM under the user's
/// data key, bound to the factor) not for secrecy but for integrity: a public key written into
/// the database by someone other than Twofold does not open, so it never verifies a login.
struct WebAuthnKeySecret: Codable, Equatable {
    /// `required`, `preferred` or `discouraged`, as WebAuthn spells them.
    var userVerification: String
    var credentialID: [UInt8]?
    /// The COSE_Key, as the authenticator sent it at registration.
    var publicKey: [UInt8]?

    static func context(_ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID) -> [String] {
        ["webauthn-key", applicationID.rawValue, userID.rawValue, factorID.rawValue]
    }

    func sealed(dataKey: SymmetricKey, _ applicationID: ApplicationID, _ userID: UserID, _ factorID: FactorID,
                random: any RandomSource) throws(TwofoldError) -> [UInt8] {
        let encoded: [UInt8]
        do { encoded = Array(try JSONEncoder().encode(self)) } catch {
            throw TwofoldError(.unavailable, "a security key could not be encoded")
        }
        return try Envelope.seal(encoded, key: dataKey, context: Self.context(applicationID, userID, factorID), random: random)
    }

    static func open(_ factor: FactorRecord, dataKey: SymmetricKey) throws -> WebAuthnKeySecret {
        let bytes = try Envelope.open(factor.sealedSecret, key: dataKey, context: context(factor.applicationID, factor.userID, factor.id))
        do { return try JSONDecoder().decode(WebAuthnKeySecret.self, from: Data(bytes)) } catch {
            throw TwofoldError(.unavailable, "the stored security key of factor \(factor.id) does not decode")
        }
    }
}
