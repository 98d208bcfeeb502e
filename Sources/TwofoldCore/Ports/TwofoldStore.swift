/// Everything Twofold keeps: every port, as one backend (in-memory, SQLite, PostgreSQL)
/// implements them; they pass one conformance suite. Services take only the ports they use.
///
/// Rules every implementation follows:
/// - A method that takes an ``AuditAppend`` writes its change and the audit event in one
///   transaction: both or neither.
/// - State that must change once changes in one conditional statement (compare-and-set),
///   never check-then-act: replay refusal, single use of recovery codes, re-wrapping keys.
/// - Store errors surface as ``TwofoldError`` with code `unavailable` (or `conflict` where
///   stated); nothing fails open.
public typealias TwofoldStore = StoreLifecycle & ApplicationStore & APIKeyStore & KeyStore & FactorStore & UserStore
    & AttemptStore & AuditStore & ChallengeStore & PushDeviceStore & SecurityKeyStore
    & HardwareTokenStore
