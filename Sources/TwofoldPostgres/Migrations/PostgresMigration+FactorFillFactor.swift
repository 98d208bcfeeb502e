extension PostgresMigration {
    /// Version 3: the factors table keeps a fifth of each page free.
    ///
    /// Why: every accepted code updates its factor's row (the step, the drift). PostgreSQL can
    /// write the new version on the same page without touching the table's indexes (a HOT
    /// update) only when that page has room for it; a table filled to the brim by enrolment has
    /// none, so each update would move its row to another page and add an entry to both
    /// indexes. That hits a large table: a small one's few pages are rewritten often enough to
    /// keep room by themselves.
    ///
    /// Pages written before this migration keep their layout until they are rewritten; on a
    /// large existing table, `VACUUM FULL factors` in a quiet moment does it at once
    /// (provisioning/README.md).
    static let factorFillFactor = PostgresMigration(version: 3, name: "factors keep room for updates in place", statements: [
        "ALTER TABLE factors SET (fillfactor = 80)",
    ])
}
