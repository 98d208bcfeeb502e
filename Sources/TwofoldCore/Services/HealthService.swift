/// Whether the store answers: what `/readyz` reports.
public struct HealthService: Sendable {
    let store: any StoreLifecycle

    /// Succeeds when the store answers.
    public func checkStore() async throws {
        try await store.ping()
    }
}
