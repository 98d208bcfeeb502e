import ArgumentParser
import Foundation
import TwofoldOTP

/// Reading a secret (or a URI or text that holds one) from a file or standard input, so that it
/// never has to be on the command line: every user of the machine can read the arguments of
/// every process (`ps`, `/proc/PID/cmdline`), and shells keep them in their history.
enum OTPSecretInput {
    /// The most a secret file is read: far more than any Base32 secret, URI or QR payload, and
    /// a bound when the file turns out to be a device or a stream that never ends.
    static let maximumSize = 64 * 1024

    /// The warning for a secret given as an argument.
    /// - Parameter what: What was given, as the warning names it: "--secret", "the URI".
    static func commandLineWarning(_ what: String, use option: String) -> String {
        "Warning: \(what) is on the command line, visible to other users in the process list and kept in shell history; use \(option) FILE, or \(option) - to read it from standard input"
    }

    /// Warns on standard error that a secret was given as an argument.
    static func warnCommandLine(_ what: String, use option: String) {
        StandardError.write(commandLineWarning(what, use: option))
    }

    /// Reads `path` (`-` for standard input) strictly: the bytes as they are, valid UTF-8, with
    /// one trailing newline (`\n`) removed and nothing else trimmed, so that what is used is
    /// exactly what the file holds. A regular file that other users or its group can read is
    /// warned about, as ssh does with private keys; it is still read.
    /// - Parameters:
    ///   - option: The option that named the file, for messages (`--secret-file`).
    ///   - singleLine: Refuse content with a line break left after the trailing newline is
    ///     removed (a secret or a URI is one line; a QR payload may be several).
    /// - Throws: `ValidationError` (exit status 2) naming the option, the file and what is wrong.
    static func read(_ path: String, option: String, singleLine: Bool = true) throws -> String {
        let name = path == "-" ? "standard input" : path
        let bytes: [UInt8]
        if path == "-" {
            bytes = try readAll(STDIN_FILENO, option: option, name: name)
        } else {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw ValidationError("\(option) \(path): cannot open it: \(String(cString: strerror(errno)))")
            }
            defer { close(descriptor) }
            var info = stat()
            if fstat(descriptor, &info) == 0 {
                if info.st_mode & S_IFMT == S_IFDIR {
                    throw ValidationError("\(option) \(path) is a folder: name the file that holds the secret")
                }
                if info.st_mode & S_IFMT == S_IFREG {
                    warnIfShared(path, mode: info.st_mode, option: option)
                }
            }
            bytes = try readAll(descriptor, option: option, name: name)
        }
        // Bytes, not characters: "\r\n" is one Character, and removing it would hide a CRLF file.
        let content = bytes.last == UInt8(ascii: "\n") ? bytes.dropLast() : bytes[...]
        guard let text = String(validating: content, as: UTF8.self) else {
            throw ValidationError("\(option): \(name) is not UTF-8 text")
        }
        guard !text.isEmpty else {
            throw ValidationError("\(option): \(name) is empty")
        }
        if singleLine {
            if content.contains(UInt8(ascii: "\n")) {
                throw ValidationError("\(option): \(name) holds more than one line: it must hold exactly one, optionally ending with a newline")
            }
            if content.contains(UInt8(ascii: "\r")) {
                throw ValidationError("\(option): \(name) holds a carriage return (a file saved with Windows line endings?): it must hold one line ending with a newline (\\n) or nothing")
            }
            if content.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                throw ValidationError("\(option): \(name) holds a control character (a tab?): nothing but the value and one trailing newline is allowed")
            }
        }
        return text
    }

    /// Reads a Base32 secret with ``read(_:option:singleLine:)`` and parses it as `--secret`
    /// does (lower case, spaces, hyphens and missing padding accepted).
    static func secret(fromFile path: String) throws -> OTPSecret {
        let text = try read(path, option: "--secret-file")
        do {
            return try OTPSecret(base32: text)
        } catch {
            // The message names the offending character, never the secret.
            throw ValidationError("--secret-file \(path == "-" ? "-" : path): \(error.message)")
        }
    }

    /// The secret of `--secret-file` or of `--secret` (warning that it is on the command
    /// line), or `nil` when neither was given.
    static func secret(file: String?, argument: OTPSecret?) throws -> OTPSecret? {
        if let file { return try secret(fromFile: file) }
        if argument != nil { warnCommandLine("the secret given with --secret", use: "--secret-file") }
        return argument
    }

    /// Refuses `--secret` and `--secret-file` together.
    static func validate(file: String?, argument: OTPSecret?) throws {
        if file != nil, argument != nil {
            throw ValidationError("give the secret once: --secret-file FILE (or - for standard input), or --secret")
        }
    }

    /// Whether `text` is an otpauth URI that carries a secret.
    static func holdsSecret(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return lowered.hasPrefix("otpauth://") && lowered.contains("secret=")
    }

    private static func warnIfShared(_ path: String, mode: mode_t, option: String) {
        let permissions = mode & 0o777
        guard permissions & 0o044 != 0 else { return }
        let who = permissions & 0o004 != 0 ? "other users" : "its group"
        StandardError.write("Warning: \(option) \(path) is readable by \(who) (mode 0\(String(permissions, radix: 8))): anyone who can read it can compute this factor's codes; make it private with `chmod 600 \(path)`")
    }

    private static func readAll(_ descriptor: Int32, option: String, name: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw ValidationError("\(option): cannot read \(name): \(String(cString: strerror(errno)))")
            }
            bytes += buffer[..<count]
            guard bytes.count <= maximumSize else {
                throw ValidationError("\(option): \(name) holds more than \(maximumSize / 1024) KiB: that is not a secret")
            }
        }
        return bytes
    }
}
