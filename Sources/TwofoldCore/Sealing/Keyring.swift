import Foundation

/// The master keys a node holds: the first seals, all of them open. Holding old keys after
/// adding a new first one is what lets rotation run while the service serves.
public struct Keyring: Sendable {
    public let sealing: MasterKey
    private let keys: [String: MasterKey]

    /// - Throws: `configuration` for an empty list.
    public init(_ keys: [MasterKey]) throws(TwofoldError) {
        guard let first = keys.first else {
            throw TwofoldError(.configuration, "no master key configured: set TWOFOLD_MASTER_KEY_FILE")
        }
        sealing = first
        var byID: [String: MasterKey] = [:]
        for key in keys where byID[key.id] == nil { byID[key.id] = key }
        self.keys = byID
    }

    /// Reads key files; the first file's key seals.
    /// - Throws: `configuration` naming the file that cannot be read or parsed.
    public static func load(paths: [String]) throws(TwofoldError) -> Keyring {
        var keys: [MasterKey] = []
        for path in paths {
            let contents: String
            do {
                contents = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw TwofoldError(.configuration, "cannot read master key file \(path): \(error.localizedDescription)")
            }
            do {
                keys.append(try MasterKey(fileContents: contents))
            } catch {
                throw TwofoldError(.configuration, "\(path): \(error.message)")
            }
        }
        return try Keyring(keys)
    }

    /// The ids of every key held, the sealing key first.
    public var keyIDs: [String] { [sealing.id] + keys.keys.filter { $0 != sealing.id }.sorted() }

    func key(id: String) throws(TwofoldError) -> MasterKey {
        guard let key = keys[id] else {
            throw TwofoldError(.sealing, "a value is sealed under master key \(id), which this node does not hold; add its file to TWOFOLD_MASTER_KEY_FILE")
        }
        return key
    }
}
