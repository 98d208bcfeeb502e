import SwiftASN1
import X509

extension AttestationObject {
    /// The id-fido-gen-ce-aaguid extension (WebAuthn §8.2.1): the authenticator model's AAGUID.
    static let aaguidExtension: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 45724, 1, 1, 4]

    /// Verifies a "packed" statement (WebAuthn §8.2): `alg` and `sig`, and either a certificate
    /// chain `x5c` (basic attestation) or none (self attestation, signed by the credential key).
    func verifyPacked(clientDataHash: [UInt8]) throws(WebAuthnError) -> AttestationType {
        guard let algValue = statement[.text("alg")]?.int64 else {
            throw WebAuthnError(.badAttestation, "the packed statement has no integer alg")
        }
        guard let signature = statement[.text("sig")]?.bytes else {
            throw WebAuthnError(.badAttestation, "the packed statement has no sig byte string")
        }
        if statement[.text("ecdaaKeyId")] != nil {
            throw WebAuthnError(.unsupported, "ECDAA attestation is not supported (WebAuthn Level 3 removed it)")
        }
        guard let algorithm = Int(exactly: algValue).flatMap(COSEAlgorithm.init(rawValue:)) else {
            throw WebAuthnError(.unsupported, "the packed statement's algorithm \(algValue) is not supported")
        }
        let signed = authenticatorData.bytes + clientDataHash
        guard let x5c = statement[.text("x5c")] else {
            // Self attestation: the statement's algorithm is the credential's, and so is the key.
            guard algorithm == credential.algorithm else {
                throw WebAuthnError(.badAttestation, "the self attestation names \(algorithm) but the credential key is \(credential.algorithm)")
            }
            guard credential.publicKey.isValidSignature(signature, for: signed) else {
                throw WebAuthnError(.badAttestation, "the self attestation's signature does not verify with the credential key")
            }
            return .self
        }
        let leaf = try Self.leafCertificate(x5c)
        let key = try VerifyingKey(certificateKey: leaf.publicKey)
        guard key.algorithm == algorithm else {
            throw WebAuthnError(.badAttestation, "the packed statement names \(algorithm) but its certificate's key is for \(key.algorithm)")
        }
        guard key.isValidSignature(signature, for: signed) else {
            throw WebAuthnError(.badAttestation, "the packed statement's signature does not verify with its certificate's key")
        }
        try Self.checkPackedCertificate(leaf, aaguid: credential.aaguid)
        return .basic
    }

    /// The first certificate of an `x5c` array, the one that signed.
    static func leafCertificate(_ x5c: CBORValue) throws(WebAuthnError) -> Certificate {
        guard let chain = x5c.array, let first = chain.first else {
            throw WebAuthnError(.badAttestation, "x5c is not a non-empty array")
        }
        guard chain.allSatisfy({ $0.bytes != nil }), let der = first.bytes else {
            throw WebAuthnError(.badAttestation, "x5c holds something other than DER certificates")
        }
        do {
            return try Certificate(derEncoded: der)
        } catch {
            throw WebAuthnError(.badAttestation, "the first x5c certificate is not a DER X.509 certificate")
        }
    }

    /// The requirements of §8.2.1 for a packed attestation certificate.
    static func checkPackedCertificate(_ certificate: Certificate, aaguid: [UInt8]) throws(WebAuthnError) {
        guard certificate.version == .v3 else {
            throw WebAuthnError(.badAttestation, "the attestation certificate is not X.509 version 3")
        }
        let country = subjectAttribute(certificate, .RDNAttributeType.countryName)
        guard let country, country.utf8.count == 2, country.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) else {
            throw WebAuthnError(.badAttestation, "the attestation certificate's subject needs C, a two-letter ISO 3166 country code")
        }
        guard let organization = subjectAttribute(certificate, .RDNAttributeType.organizationName), !organization.isEmpty else {
            throw WebAuthnError(.badAttestation, "the attestation certificate's subject needs O, the authenticator vendor")
        }
        let unit = subjectAttribute(certificate, .RDNAttributeType.organizationalUnitName)
        guard unit == "Authenticator Attestation" else {
            throw WebAuthnError(.badAttestation, "the attestation certificate's subject OU is \(unit.map { "\"\($0)\"" } ?? "missing"), not \"Authenticator Attestation\"")
        }
        guard let commonName = subjectAttribute(certificate, .RDNAttributeType.commonName), !commonName.isEmpty else {
            throw WebAuthnError(.badAttestation, "the attestation certificate's subject needs CN")
        }
        let constraints: BasicConstraints?
        do {
            constraints = try certificate.extensions.basicConstraints
        } catch {
            throw WebAuthnError(.badAttestation, "the attestation certificate's basic constraints cannot be read")
        }
        // §8.2.1 asks for the extension itself, with CA false (python-fido2 insists too).
        switch constraints {
        case .notCertificateAuthority?:
            break
        case .isCertificateAuthority?:
            throw WebAuthnError(.badAttestation, "the attestation certificate is a CA (basic constraints CA true)")
        case nil:
            throw WebAuthnError(.badAttestation, "the attestation certificate has no basic constraints; it needs them with CA false")
        }
        if let extensionValue = certificate.extensions[oid: aaguidExtension] {
            guard !extensionValue.critical else {
                throw WebAuthnError(.badAttestation, "the attestation certificate's AAGUID extension must not be critical")
            }
            let inner: ASN1OctetString
            do {
                inner = try ASN1OctetString(derEncoded: extensionValue.value)
            } catch {
                throw WebAuthnError(.badAttestation, "the attestation certificate's AAGUID extension is not an OCTET STRING")
            }
            guard Array(inner.bytes) == aaguid else {
                throw WebAuthnError(.badAttestation, "the attestation certificate's AAGUID \(hex(Array(inner.bytes))) is not the authenticator data's \(hex(aaguid))")
            }
        }
    }

    /// The first value of an attribute in the certificate's subject, as text.
    private static func subjectAttribute(_ certificate: Certificate, _ type: ASN1ObjectIdentifier) -> String? {
        for name in certificate.subject {
            for attribute in name where attribute.type == type {
                return String(attribute.value)
            }
        }
        return nil
    }

    /// Lower-case hexadecimal, for AAGUIDs in messages (they name a model, not a secret).
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] }, as: UTF8.self)
    }
}
