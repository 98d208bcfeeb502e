extension PostgresMigration {
    /// Version 7: API keys gain a MAC over their row (``APIKeyRecord/mac``), so that a row
    /// written by anyone without the deployment's keys is refused. The keys already there get
    /// theirs from the services, once, right after the node that applied this migration opened
    /// the store (``PostgresStore/apiKeysAwaitingMAC()``).
    static let apiKeyMACs = PostgresMigration(version: 7, name: "API key MACs", statements: [
        "ALTER TABLE api_keys ADD COLUMN mac BYTEA",
    ])
}
