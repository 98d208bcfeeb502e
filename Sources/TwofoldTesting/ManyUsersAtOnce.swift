import Foundation
import Testing
import TwofoldCore
import TwofoldOTP

/// Attempts of many users arriving together (which a store may run in one transaction) each get
/// the outcome, the writes and the audit event they would get alone: accepted, replayed,
/// rejected, `no_factors`, locked (not decided), a recovery code, a revoked API key and a
/// throwing decision, side by side, in three rounds.
///
/// Part of the store conformance suite (`AttemptStoreConformance`), and public so that a store's
/// own tests can run it on a store whose batching they then inspect.
public struct ManyUsersAtOnce: Sendable {
    /// The application the users belong to.
    public let application: ApplicationID
    /// The chain that signs the events (and checks them at the end).
    public let chain: AuditChain
    /// The time of the first round; each round is a second later.
    public let start: Date

    public init(application: ApplicationID, chain: AuditChain, start: Date) {
        self.application = application
        self.chain = chain
        self.start = start
    }

    private enum Role: CaseIterable {
        case accepts, replays, rejects, hasNoFactors, isLocked, usesRecoveryCode, revokedKey, throwsInDecide
    }

    private struct Refused: Error {}

    /// Runs the three rounds on `store`, which must be empty, recording an issue for every
    /// outcome, row or event that differs from what the attempt would get alone.
    public func check(on store: any TwofoldStore) async throws {
        let app = application
        let start = start
        let policy = ThrottlePolicy(freeFailures: 2, baseDelay: 600, maximumDelay: 600)
        let key = APIKeyRecord(id: "key_rrrrrrrrrrrrrrrr", applicationID: app, scopes: [.verify], secretHash: [1], createdAt: start)
        try await store.insertAPIKey(key, audit: audit(.apiKeyCreated, nil))
        #expect(try await store.revokeAPIKey(id: key.id, at: start, audit: audit(.apiKeyRevoked, nil)))
        var users: [(UserID, Role, FactorRecord)] = []
        for (number, role) in (0..<48).map({ ($0, Role.allCases[$0 % Role.allCases.count]) }) {
            let user = try UserID("user-\(number)")
            let f = FactorRecord(
                id: FactorID(rawValue: "fac_" + String(repeating: "a", count: 24) + String(UnicodeScalar(UInt8(97 + number / 26))) + String(UnicodeScalar(UInt8(97 + number % 26))))!, applicationID: app, userID: user, type: .totp,
                status: .active, createdAt: start, label: user.rawValue, issuer: nil, algorithm: .sha1, digits: 6, period: 30,
                sealedSecret: [UInt8(number)], lastAcceptedStep: 10)
            if role != .hasNoFactors {
                try await store.insertFactor(f, audit: audit(.factorEnrolled, user))
            }
            if role == .usesRecoveryCode {
                let codes = (0..<3).map { RecoveryCodeRecord(index: $0, hash: [UInt8($0)], createdAt: start) }
                try await store.replaceRecoveryCodes(applicationID: app, userID: user, codes: codes, audit: audit(.recoveryCodesGenerated, user))
            }
            if role == .isLocked {
                for _ in 0..<3 {
                    _ = try await store.attempt(request(user, at: start, policy), decide: { _ in .reject(.invalidCode) },
                                                audit: { _ in audit(.verification, user) })
                }
            }
            users.append((user, role, f))
        }
        let eventsBefore = try await store.auditEvents(AuditQuery(applicationID: app, limit: 10_000)).count
        let lockEnd = start.addingTimeInterval(600)

        for round in 1...3 {
            let now = start.addingTimeInterval(Double(round))
            let results = await withTaskGroup(of: (Int, Result<AttemptOutcome, any Error>).self) { group in
                for (index, (user, role, f)) in users.enumerated() {
                    var attemptRequest = request(user, at: now, policy)
                    if role == .revokedKey { attemptRequest.apiKeyID = key.id }
                    group.addTask {
                        do {
                            return (index, .success(try await store.attempt(attemptRequest, decide: { snapshot in
                                switch role {
                                case .accepts: return .acceptStep(f.id, type: .totp, step: 10 + UInt64(round), drift: 0, activate: false)
                                case .replays: return .acceptStep(f.id, type: .totp, step: 9, drift: 0, activate: false)
                                case .rejects: return .reject(.invalidCode)
                                case .hasNoFactors:
                                    #expect(snapshot.factors.isEmpty)
                                    return .reject(.noFactors)
                                case .isLocked, .revokedKey:
                                    Issue.record("\(role) must not be decided")
                                    return .reject(.invalidCode)
                                case .usesRecoveryCode:
                                    #expect(snapshot.recoveryCodes.count == 4 - round)
                                    return .acceptRecoveryCode(index: round - 1, remaining: 3 - round)
                                case .throwsInDecide: throw Refused()
                                }
                            }, audit: { _ in audit(.verification, user, at: now) })))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [Int: Result<AttemptOutcome, any Error>]()) { $0[$1.0] = $1.1 }
            }
            for (index, (user, role, f)) in users.enumerated() {
                let result = results[index]
                switch role {
                case .accepts:
                    #expect(try result?.get() == .accepted(.acceptStep(f.id, type: .totp, step: 10 + UInt64(round), drift: 0, activate: false)), "\(user)")
                case .replays:
                    let lock: Date? = round == 3 ? now.addingTimeInterval(600) : nil
                    #expect(try result?.get() == .denied(.replayed, lockedUntil: lock), "\(user)")
                case .rejects:
                    let lock: Date? = round == 3 ? now.addingTimeInterval(600) : nil
                    #expect(try result?.get() == .denied(.invalidCode, lockedUntil: lock), "\(user)")
                case .hasNoFactors:
                    #expect(try result?.get() == .denied(.noFactors, lockedUntil: nil), "\(user)")
                case .isLocked:
                    #expect(try result?.get() == .locked(until: lockEnd), "\(user)")
                case .usesRecoveryCode:
                    #expect(try result?.get() == .accepted(.acceptRecoveryCode(index: round - 1, remaining: 3 - round)), "\(user)")
                case .revokedKey:
                    #expect(throws: TwofoldError.self) { try result?.get() }
                case .throwsInDecide:
                    #expect(throws: Refused.self) { try result?.get() }
                }
            }
        }

        for (user, role, _) in users {
            let state = try await store.throttleState(applicationID: app, userID: user)
            let factors = try await store.factors(applicationID: app, userID: user)
            switch role {
            case .accepts: #expect(factors.first?.lastAcceptedStep == 13 && state == nil, "\(user)")
            case .replays, .rejects:
                #expect(factors.first?.lastAcceptedStep == 10 && state == ThrottleState(failures: 3, lockedUntil: start.addingTimeInterval(603)), "\(user)")
            case .hasNoFactors: #expect(factors.isEmpty && state == nil, "\(user)")
            case .isLocked: #expect(state == ThrottleState(failures: 3, lockedUntil: lockEnd), "\(user)")
            case .usesRecoveryCode:
                let used = try await store.recoveryCodes(applicationID: app, userID: user).filter { $0.usedAt != nil }
                #expect(used.map(\.index).sorted() == [0, 1, 2] && factors.first?.lastAcceptedStep == 10 && state == nil, "\(user)")
            case .revokedKey, .throwsInDecide: #expect(factors.first?.lastAcceptedStep == 10 && state == nil, "\(user)")
            }
        }
        // One event per decided or locked attempt (none for a revoked key or a throwing decision),
        // every chain intact.
        let events = try await store.auditEvents(AuditQuery(applicationID: app, limit: 10_000))
        #expect(events.count - eventsBefore == 3 * 36)
        var chained = 0
        for head in try await store.auditShardHeads() {
            #expect(head.tag == chain.tag(of: head))
            var previous = head.firstPreviousMAC
            for event in try await store.auditEvents(shard: head.shard, fromSequence: 0, limit: 10_000) {
                #expect(event.previousMAC == previous && chain.mac(of: event) == event.mac)
                previous = event.mac
                chained += 1
            }
            #expect(previous == head.headMAC)
        }
        #expect(chained == events.count)
    }

    /// An event of the application, about `user` when given, by the test actor.
    private func audit(_ action: AuditAction, _ user: UserID?, at time: Date? = nil) -> AuditAppend {
        AuditAppend(AuditDraft(time: time ?? start, applicationID: application, userID: user, actor: "test", action: action,
                               outcome: "success"), chain: chain)
    }

    /// A verification of `user`'s, naming the shard of its event so that a store may batch it.
    private func request(_ user: UserID, at time: Date, _ throttle: ThrottlePolicy) -> AttemptRequest {
        AttemptRequest(applicationID: application, userID: user, purpose: .verify, now: time, throttle: throttle,
                       auditShard: chain.shard(applicationID: application, userID: user))
    }
}
