/// How much of the last moments before a power loss an ``SQLiteStore`` may forget.
///
/// Both settings use the WAL journal with the writer at `PRAGMA synchronous = NORMAL` (SQLite
/// syncs the WAL before every checkpoint), and neither can corrupt the database: they differ only
/// in whether a caller waits for its commit to reach stable storage.
public enum SQLiteDurability: String, Sendable, CaseIterable {
    /// Every commit is synced to stable storage before its callers get their answers, so an
    /// accepted code, its consumed step and its audit event are on disk before the caller hears
    /// "allow", and a replayed code stays refused across a crash or power loss. Group commit
    /// (see ``SQLiteWriteBatcher``) spreads each sync over every write waiting at the same time,
    /// and ``WALFlusher`` runs the sync beside the next batch rather than inside `COMMIT`. On
    /// Apple platforms the sync is `F_FULLFSYNC` (and `fullfsync` is on for checkpoints), since a
    /// plain `fsync` there does not reach the medium.
    case full
    /// The WAL is synced only at checkpoints. A power loss (not a process crash) can forget the
    /// transactions committed since the last sync, which could make a code used in those
    /// moments acceptable once more. Opt-in, for deployments that value throughput over that
    /// window.
    case normal
}
