import Foundation
import TwofoldCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The database file on disk, before SQLite opens it.
enum SQLiteFile {
    /// Creates the parent directories (0700) and an empty database file (0600) unless they exist.
    /// SQLite creates the `-wal` and `-shm` files with the database file's permissions, so the
    /// whole database stays readable by its owner only. An existing file keeps its permissions.
    /// - Throws: `unavailable` naming the path that cannot be created.
    static func createIfAbsent(_ path: String) throws(TwofoldError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw TwofoldError(.unavailable, "cannot create the directory \(directory) for the SQLite database: \(error.localizedDescription)")
        }
        // O_EXCL: never truncate or replace a file that another process may be opening right now.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        let code = errno
        if descriptor >= 0 {
            close(descriptor)
        } else if code != EEXIST {
            throw TwofoldError(.unavailable, "cannot create the SQLite database \(path): \(String(cString: strerror(code)))")
        }
    }
}
