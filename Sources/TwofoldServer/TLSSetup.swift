import Foundation
import HummingbirdTLS
import NIOSSL
import TwofoldCore

/// The server's TLS configuration from PEM files.
enum TLSSetup {
    /// Loads the certificate chain and the private key, and checks that the key is the
    /// certificate's: the checks `twofold serve` makes before it creates or opens anything, and
    /// again when it builds the server.
    /// - Throws: `configuration` naming the setting (`TWOFOLD_TLS_CERT` or `TWOFOLD_TLS_KEY`),
    ///   the file and what is wrong with it; never key material.
    static func serverConfiguration(_ files: TwofoldConfiguration.TLSFiles) throws(TwofoldError) -> TLSConfiguration {
        try checkReadable(files.certificateChain, setting: "TWOFOLD_TLS_CERT", holding: "certificate chain")
        try checkReadable(files.privateKey, setting: "TWOFOLD_TLS_KEY", holding: "private key")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain)
        } catch {
            throw TwofoldError(.configuration, "TWOFOLD_TLS_CERT=\(files.certificateChain) holds no certificate Twofold can read (\(error)): use a PEM file of the certificate and its chain")
        }
        guard !chain.isEmpty else {
            throw TwofoldError(.configuration, "TWOFOLD_TLS_CERT=\(files.certificateChain) holds no PEM certificate: use a PEM file of the certificate and its chain")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        } catch {
            // The error names the file and the parse failure, never key material.
            throw TwofoldError(.configuration, "TWOFOLD_TLS_KEY=\(files.privateKey) holds no private key Twofold can read (\(error)): use an unencrypted PEM private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            // Both files parsed, so a context that refuses them refuses the pair: BoringSSL checks
            // that the private key belongs to the first certificate's public key.
            _ = try NIOSSLContext(configuration: configuration)
        } catch NIOSSLError.failedToLoadPrivateKey {
            throw TwofoldError(.configuration, "TWOFOLD_TLS_KEY=\(files.privateKey) is not the private key of the certificate in TWOFOLD_TLS_CERT=\(files.certificateChain): set the key the certificate was issued for")
        } catch {
            throw TwofoldError(.configuration, "TWOFOLD_TLS_CERT=\(files.certificateChain) and TWOFOLD_TLS_KEY=\(files.privateKey) cannot be used together: \(error)")
        }
        return configuration
    }

    /// Checks that `path` can be read, so that a missing or forbidden file is reported with the
    /// system's reason rather than as a parse failure.
    private static func checkReadable(_ path: String, setting: String, holding: String) throws(TwofoldError) {
        guard access(path, R_OK) == 0 else {
            throw TwofoldError(.configuration, "\(setting)=\(path): cannot read the \(holding): \(String(cString: strerror(errno)))")
        }
    }
}
