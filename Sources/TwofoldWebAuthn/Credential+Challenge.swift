extension RegistrationCredential {
    /// The challenge the browser says this answers, decoded (parsing refuses one that is not
    /// Base64URL): how a relying party that keeps only a hash of its challenges finds the
    /// ceremony. The ceremony's checks still compare it with the challenge they are given.
    public var challenge: [UInt8] { decodedChallenge }
}

extension AuthenticationCredential {
    /// The challenge the browser says this answers, decoded (parsing refuses one that is not
    /// Base64URL).
    public var challenge: [UInt8] { decodedChallenge }
}
