/// Readers for the files hardware OATH tokens ship with. Pure functions: bytes in, tokens or
/// an error out, no I/O.
///
/// A file is read whole or not at all: any key that cannot be imported (an unsupported
/// algorithm, a MAC that does not hold, a duplicate serial) refuses the file, so an import
/// never half-succeeds. Nothing decrypted ever appears in an error.
public enum TokenFile {
    /// The largest file either reader accepts: 16 MiB.
    public static let maximumFileSize = 16 * 1024 * 1024
    /// The most tokens one file may hold.
    public static let maximumTokenCount = 100_000

    /// Refuses input past ``maximumFileSize`` before anything is parsed.
    static func checkSize(_ bytes: [UInt8]) throws(TokenFileError) {
        guard bytes.count <= maximumFileSize else {
            throw TokenFileError(.tooLarge, "the file is \(bytes.count) bytes; Twofold reads at most \(maximumFileSize)")
        }
    }
}
