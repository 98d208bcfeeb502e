import Foundation
import Logging
import TwofoldCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What ``TwofoldRuntime/open(_:logger:serving:creating:clock:random:)`` checks before it
/// opens the store, and the master keys it loads or generates.
extension TwofoldRuntime {
    // MARK: - The store

    /// Refuses a SQLite store whose file does not exist, saying where it looked and why there:
    /// a command run in the wrong folder, or without the server's configuration, must not
    /// create a second, empty store. (A PostgreSQL database must exist for the connection to
    /// succeed.)
    static func requireExistingStore(_ configuration: TwofoldConfiguration) throws(TwofoldError) {
        guard case .sqlite(let path) = configuration.store, !FileManager.default.fileExists(atPath: path) else { return }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let location = absolute == path ? path : "\(path) (\(absolute))"
        let why = switch configuration.origin(of: "TWOFOLD_STORE") {
        case .environment:
            "as TWOFOLD_STORE in the environment says"
        case .file(let file):
            "as TWOFOLD_STORE in \(file) says"
        case .defaultValue:
            if let file = configuration.configurationFile {
                "the default, as neither \(file) (the configuration file) nor the environment sets TWOFOLD_STORE"
            } else {
                "the default, as TWOFOLD_STORE is not set and no configuration file was given (--config or TWOFOLD_CONFIG)"
            }
        }
        throw TwofoldError(.configuration, """
            no store found: looked for the SQLite database \(location), \(why). Set TWOFOLD_CONFIG to the \
            server's configuration file or TWOFOLD_STORE to its store, or run where the server runs; only \
            `twofold migrate` and `twofold serve` create a store
            """)
    }

    /// Makes sure `TWOFOLD_DATA_DIR` is a folder this process can write in, creating it (mode
    /// 0700, with its parents) when it does not exist yet.
    /// - Throws: `configuration` naming `TWOFOLD_DATA_DIR` and the system's reason.
    static func prepareDataDirectory(_ configuration: TwofoldConfiguration) throws(TwofoldError) {
        let path = configuration.dataDirectory
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw TwofoldError(.configuration, "TWOFOLD_DATA_DIR=\(path) is not a folder: set TWOFOLD_DATA_DIR to a folder Twofold may write in (it holds the development master key, the default SQLite store and the initial API key)")
            }
            guard access(path, W_OK | X_OK) == 0 else {
                throw TwofoldError(.configuration, "TWOFOLD_DATA_DIR=\(path): this user (uid \(getuid())) cannot write in it (\(String(cString: strerror(errno)))): give it the folder, or set TWOFOLD_DATA_DIR to one it owns")
            }
            return
        }
        // mkdir -p, component by component, to report the system's reason for the one that fails.
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw TwofoldError(.configuration, "TWOFOLD_DATA_DIR=\(path): cannot create the folder \(prefix): \(String(cString: strerror(errno))): set TWOFOLD_DATA_DIR to a folder Twofold may create or write in")
            }
            prefix += "/"
        }
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw TwofoldError(.configuration, "TWOFOLD_DATA_DIR=\(path) is not a folder: set TWOFOLD_DATA_DIR to a folder Twofold may write in")
        }
    }

    /// Whether the data folder must be usable before the store is opened: a development key is
    /// to be generated in it, or the SQLite store lives in it.
    static func needsDataDirectory(_ configuration: TwofoldConfiguration, generatingKey: Bool) -> Bool {
        if generatingKey { return true }
        guard case .sqlite(let path) = configuration.store else { return false }
        return path.hasPrefix(TwofoldConfiguration.join(configuration.dataDirectory, ""))
    }

    // MARK: - Master keys

    /// The master keys: the configured files, or the development key in the data folder.
    /// - Returns: Nil when a development key is still to be generated, which only happens when
    ///   `creating` (``generateDevelopmentKey(_:checking:logger:random:)`` does it).
    /// - Throws: `configuration` naming `TWOFOLD_MASTER_KEY_FILE`: a file missing or unreadable,
    ///   readable by other users in production, or not a key; no key at all for an admin command.
    static func loadMasterKeys(_ configuration: TwofoldConfiguration, creating: Bool, logger: Logger) throws(TwofoldError) -> Keyring? {
        if !configuration.masterKeyFiles.isEmpty {
            for path in configuration.masterKeyFiles {
                try checkKeyFile(path, deployment: configuration.deployment, logger: logger)
            }
            do {
                return try Keyring.load(paths: configuration.masterKeyFiles)
            } catch {
                throw TwofoldError(.configuration, "TWOFOLD_MASTER_KEY_FILE: \(error.message)")
            }
        }
        guard configuration.deployment == .development else {
            throw TwofoldError(.configuration, "TWOFOLD_MASTER_KEY_FILE is required when TWOFOLD_ENV=production")
        }
        let path = configuration.developmentMasterKeyFile
        guard FileManager.default.fileExists(atPath: path) else {
            guard creating else {
                throw TwofoldError(.configuration, """
                    no master key: TWOFOLD_MASTER_KEY_FILE is not set and there is no development key at \(path); \
                    set TWOFOLD_MASTER_KEY_FILE (or TWOFOLD_CONFIG) as the server has it. Only `twofold serve` and \
                    `twofold migrate` generate a development key
                    """)
            }
            return nil
        }
        try checkKeyFile(path, deployment: configuration.deployment, logger: logger)
        logDevelopmentKey(path, generated: false, logger: logger)
        do {
            return try Keyring.load(paths: [path])
        } catch {
            throw TwofoldError(.configuration, "the development master key: \(error.message)")
        }
    }

    /// Refuses a key file other users can read in production, and warns about one in
    /// development, as ssh does with private keys. Group permissions are left alone: systemd
    /// hands credentials over as root-owned files that its ACL lets the service's user read,
    /// which shows as mode 0440, and a key may be shared with a service group on purpose.
    static func checkKeyFile(_ path: String, deployment: TwofoldConfiguration.Deployment, logger: Logger) throws(TwofoldError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw TwofoldError(.configuration, "TWOFOLD_MASTER_KEY_FILE: cannot read the master key file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw TwofoldError(.configuration, "TWOFOLD_MASTER_KEY_FILE: \(path) is not a file: name the key file `twofold keys generate` wrote")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o007 != 0 else { return }
        let octal = "0" + String(mode, radix: 8)
        let exposure = mode & 0o004 != 0 ? "readable by other users" : "open to other users"
        switch deployment {
        case .production:
            throw TwofoldError(.configuration, "TWOFOLD_MASTER_KEY_FILE: the master key file \(path) is \(exposure) (mode \(octal)), who could open every secret with it: refusing to use it; make it private with `chmod 600 \(path)` (or 640 for a service group)")
        case .development:
            logger.warning("the master key file is \(exposure): anyone on this machine can open every secret with it; make it private with `chmod 600 \(path)`",
                           metadata: ["file": "\(path)", "mode": "\(octal)"])
        }
    }

    /// Generates the development key into the data folder (mode 0600), after checking that
    /// `store`, when one is given, holds nothing sealed under another key: a store whose key
    /// file went missing would otherwise get a new key, and every secret in it would become
    /// unreadable.
    /// - Parameter store: The migrated store, when it existed before this start; nil when it
    ///   is created by this start (nothing can be sealed in it yet).
    static func generateDevelopmentKey(_ configuration: TwofoldConfiguration, checking store: (any TwofoldStore)?,
                                       logger: Logger, random: any RandomSource) async throws -> Keyring {
        let path = configuration.developmentMasterKeyFile
        if let store {
            let sealing = try await store.keyUsage().filter { $0.value > 0 }.keys.sorted()
            guard sealing.isEmpty else {
                throw TwofoldError(.configuration, """
                    the store \(configuration.store) holds secrets sealed under master key \(sealing.joined(separator: ", ")), \
                    but the development key \(path) that opens them is missing: refusing to generate a new key, which \
                    would leave every secret unreadable. Restore \(path) from a backup, or set TWOFOLD_MASTER_KEY_FILE \
                    to the key file that seals this store
                    """)
            }
        }
        var generated = false
        do {
            try PrivateFile.create(path, contents: MasterKey.generate(using: random).fileContents, replacing: false)
            generated = true
        } catch let error as POSIXError where error.code == .EEXIST {
            // Another process made it first: use theirs.
        } catch {
            throw TwofoldError(.configuration, "TWOFOLD_DATA_DIR=\(configuration.dataDirectory): cannot write the development master key \(path): \(error.localizedDescription)")
        }
        logDevelopmentKey(path, generated: generated, logger: logger)
        do {
            return try Keyring.load(paths: [path])
        } catch {
            throw TwofoldError(.configuration, "the development master key: \(error.message)")
        }
    }

    /// The one warning that says a development key is in use.
    static func logDevelopmentKey(_ path: String, generated: Bool, logger: Logger) {
        logger.warning(
            "\(generated ? "generated and using" : "using") a DEVELOPMENT master key: anyone who can read the file can open every secret; for production set TWOFOLD_ENV=production and TWOFOLD_MASTER_KEY_FILE",
            metadata: ["file": "\(path)"])
    }
}
