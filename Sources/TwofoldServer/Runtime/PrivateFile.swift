import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Files only their owner may read: keys, tokens, exports, QR codes of secrets.
public enum PrivateFile {
    /// Writes `contents` to a file created with mode 0600, so it is never readable by others,
    /// not even for an instant, and syncs it and its folder.
    /// - Parameter replacing: Replace an existing file; otherwise fail with `EEXIST`.
    /// - Throws: `POSIXError`.
    public static func create(_ path: String, contents: String, replacing: Bool) throws {
        try create(path, bytes: Array(contents.utf8), replacing: replacing)
    }

    /// ``create(_:contents:replacing:)`` for bytes. The path itself is never followed if it is a
    /// symbolic link (`O_NOFOLLOW`; a replaced link is removed, its target left alone), and the
    /// file is created exclusively (`O_EXCL`), so nothing else is written through it.
    public static func create(_ path: String, bytes: [UInt8], replacing: Bool) throws {
        if replacing, unlink(path) != 0, errno != ENOENT {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        try writeNew(path, bytes: bytes)
        try syncFolder(of: path)
    }

    /// Replaces `path` with `bytes` so that a crash leaves either the old file or the new one,
    /// never none or a part: written (mode 0600) and synced under a temporary name beside it,
    /// renamed over it, then the folder synced.
    public static func replaceAtomically(_ path: String, bytes: [UInt8]) throws {
        let temporary = path + ".tmp-\(UUID().uuidString.prefix(8))"
        do {
            try writeNew(temporary, bytes: bytes)
            guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            unlink(temporary)
            throw error
        }
        try syncFolder(of: path)
    }

    /// Creates `path` exclusively (mode 0600, never through a symbolic link) and writes and syncs `bytes`.
    private static func writeNew(_ path: String, bytes: [UInt8]) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { _ = close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress, buffer.count)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            written += count
        }
        guard fsync(descriptor) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// The file's name is durable only once its folder is synced too.
    private static func syncFolder(of path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let folderDescriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folderDescriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { _ = close(folderDescriptor) }
        guard fsync(folderDescriptor) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }
}
