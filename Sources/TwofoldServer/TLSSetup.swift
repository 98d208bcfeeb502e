import HummingbirdTLS
import TwofoldCore

/// The server's TLS configuration from PEM files.
enum TLSSetup {
    /// - Throws: `configuration` naming the file that cannot be read or parsed.
    static func serverConfiguration(_ files: TwofoldConfiguration.TLSFiles) throws(TwofoldError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain)
        } catch {
            throw TwofoldError(.configuration, "TWOFOLD_TLS_CERT: cannot load the certificate chain \(files.certificateChain): \(error)")
        }
        guard !chain.isEmpty else {
            throw TwofoldError(.configuration, "TWOFOLD_TLS_CERT: \(files.certificateChain) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        } catch {
            // The error names the file and the parse failure, never key material.
            throw TwofoldError(.configuration, "TWOFOLD_TLS_KEY: cannot load the private key \(files.privateKey): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
