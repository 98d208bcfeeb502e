/// How much of the last moments before a power loss an ``SQLiteStore`` may forget.
///
/// Both settings use the WAL journal, and neither can corrupt the database: they differ only in
/// when the WAL is flushed to stable storage.
public enum SQLiteDurability: String, Sendable, CaseIterable {
    /// `PRAGMA synchronous = FULL`: the WAL is synced at every commit, so an accepted code, its
    /// consumed step and its audit event are on disk before the caller gets the answer. A
    /// replayed code therefore stays refused across a crash or power loss. Group commit
    /// (see ``SQLiteWriteBatcher``) spreads that sync over every write waiting at the same time.
    /// On Apple platforms `fullfsync` is also turned on, since a plain `fsync` there does not
    /// reach the medium.
    case full
    /// `PRAGMA synchronous = NORMAL`: the WAL is synced only at checkpoints. A power loss (not a
    /// process crash) can forget the transactions committed since the last sync, which could
    /// make a code used in those moments acceptable once more. Opt-in, for deployments that
    /// value throughput over that window.
    case normal

    /// The value of `PRAGMA synchronous` this setting applies (2 or 1).
    var synchronousLevel: Int {
        switch self {
        case .full: 2
        case .normal: 1
        }
    }
}
