import Crypto
import Foundation
import TwofoldOTP

/// The decision half of a verification: pure computation over a snapshot read inside the
/// store's transaction. The store then applies the decision with compare-and-set.
struct CodeChecker {
    let policy: VerificationPolicy
    let now: Date

    /// Checks a code against every active factor, then the unused recovery codes.
    func verify(_ code: String, snapshot: AttemptSnapshot, _ applicationID: ApplicationID, _ userID: UserID, sealer: Sealer) throws -> AttemptDecision {
        let active = snapshot.factors.filter { $0.status == .active }
        guard !active.isEmpty || !snapshot.recoveryCodes.isEmpty else { return .reject(.noFactors) }
        let dataKey = try sealer.openDataKey(in: snapshot, applicationID, userID)
        // Every factor is opened before any code is compared: a factor that cannot be opened
        // fails the whole attempt (nothing counted) before a guess is evaluated against the
        // others, so it cannot hand out uncounted guesses.
        let otpFactors = active.filter { $0.type.hasSecretForCodes }
        let generators = try otpFactors.map { try generator(for: $0, dataKey: dataKey) }
        var replayed = false
        for (factor, generator) in zip(otpFactors, generators) {
            switch try check(code, against: factor, generator: generator, activate: false) {
            case .accept(let acceptance)?:
                return .accept(acceptance)
            case .reject(.replayed)?:
                replayed = true
            default:
                continue
            }
        }
        if let accepted = matchChallenge(code, in: snapshot.challenges, activeFactors: active, dataKey: dataKey, activate: false) {
            return accepted
        }
        if let normalized = RecoveryCodes.normalize(code), !snapshot.recoveryCodes.isEmpty {
            let hash = Sealer.recoveryCodeHash(normalized, key: Sealer.recoveryCodeKey(dataKey: dataKey))
            var matched: Int?
            for stored in snapshot.recoveryCodes where ConstantTime.equal(stored.hash, hash) && matched == nil {
                matched = stored.index
            }
            if let matched { return .acceptRecoveryCode(index: matched, remaining: snapshot.recoveryCodes.count - 1) }
        }
        return .reject(replayed ? .replayed : .invalidCode)
    }

    /// The first of `challenges` whose code is `code`, accepted; only a challenge of one of
    /// `activeFactors` counts (a challenge outlives a factor deleted meanwhile), unless
    /// `activate` (an enrollment challenge, whose factor is pending).
    func matchChallenge(_ code: String, in challenges: [ChallengeRecord], activeFactors: [FactorRecord], dataKey: SymmetricKey,
                        activate: Bool) -> AttemptDecision? {
        guard !challenges.isEmpty, Self.isWellFormed(code, digits: ChallengeCodes.digits) else { return nil }
        let key = Sealer.challengeCodeKey(dataKey: dataKey)
        var matched: ChallengeRecord?
        for challenge in challenges where challenge.acceptsCodes(at: now) {
            guard activate || activeFactors.contains(where: { $0.id == challenge.factorID }), let stored = challenge.codeHash else { continue }
            if ConstantTime.equal(stored, Sealer.challengeCodeHash(code, challengeID: challenge.id, key: key)), matched == nil {
                matched = challenge
            }
        }
        return matched.map { challenge in
            .accept(.challenge(ChallengeAcceptance(challengeID: challenge.id, factorID: challenge.factorID,
                                                   factorType: challenge.type.factorType, activate: activate)))
        }
    }

    /// Checks a code against one factor: an accepted step, `.reject(.replayed)` when it matches
    /// only an already-consumed step or counter, or `nil` when it matches nothing (including a
    /// code that is not `digits` ASCII digits, refused before any HMAC).
    func check(_ code: String, against factor: FactorRecord, dataKey: SymmetricKey, activate: Bool) throws -> AttemptDecision? {
        try check(code, against: factor, generator: try generator(for: factor, dataKey: dataKey), activate: activate)
    }

    /// A factor's code generator, its secret opened.
    enum Generator {
        case totp(TOTP)
        case hotp(HOTP)
    }

    /// - Throws: `sealing` when the secret does not open; `unavailable` for stored parameters no
    ///   generator accepts (the database was edited).
    func generator(for factor: FactorRecord, dataKey: SymmetricKey) throws -> Generator {
        guard factor.type.hasSecretForCodes else {
            throw TwofoldError(.invalidState, "factor \(factor.id) has no code generator: it is answered through its challenges")
        }
        let secret = try Sealer.openSecret(factor.sealedSecret, dataKey: dataKey, factor.applicationID, factor.userID, factor.id)
        do {
            switch factor.type {
            case .totp: return .totp(try TOTP(secret: secret, algorithm: factor.algorithm, digits: factor.digits, period: factor.period))
            case .hotp: return .hotp(try HOTP(secret: secret, algorithm: factor.algorithm, digits: factor.digits))
            case .sms, .voice, .push, .webauthn: preconditionFailure("factors without a code generator are refused above")
            }
        } catch {
            throw TwofoldError(.unavailable, "factor \(factor.id) has stored parameters no generator accepts: \(error.message)")
        }
    }

    private func check(_ code: String, against factor: FactorRecord, generator: Generator, activate: Bool) throws -> AttemptDecision? {
        do {
            switch generator {
            case .totp(let totp): return try checkTOTP(code, factor: factor, totp: totp, activate: activate)
            case .hotp(let hotp): return try checkHOTP(code, factor: factor, hotp: hotp, activate: activate)
            }
        } catch let error as OTPError where error.code == .malformedCode {
            // Refused before any HMAC: it matches nothing.
            return nil
        }
    }

    private func checkTOTP(_ code: String, factor: FactorRecord, totp: TOTP, activate: Bool) throws -> AttemptDecision? {
        let current = try totp.step(at: TwofoldServices.unixSeconds(now))
        let drift = min(max(factor.drift, -policy.maximumDrift), policy.maximumDrift)
        // Around the server's clock first, then around where the device's clock was last seen:
        // a remembered drift never hides a device whose clock is right.
        var matched = try totp.verify(code, around: current, window: policy.totpWindow)
        if matched == nil, drift != 0 {
            matched = try totp.verify(code, around: Self.offset(current, by: drift), window: policy.totpWindow)
        }
        guard let matched else { return nil }
        if let last = factor.lastAcceptedStep, matched <= last { return .reject(.replayed) }
        var newDrift = min(max(Self.difference(matched, current), -policy.maximumDrift), policy.maximumDrift)
        // A second code within the period of the last acceptance (whose clock step was its step
        // less its drift) may bring the drift back towards zero but not push it further: codes
        // of later and later steps within one period would otherwise ratchet the centre away
        // from the device's real clock.
        if let last = factor.lastAcceptedStep, Self.offset(last, by: -drift) == current {
            newDrift = min(max(newDrift, -abs(drift)), abs(drift))
        }
        return .acceptStep(factor.id, type: factor.type, step: matched, drift: newDrift, activate: activate)
    }

    private func checkHOTP(_ code: String, factor: FactorRecord, hotp: HOTP, activate: Bool) throws -> AttemptDecision? {
        let next: UInt64
        if let last = factor.lastAcceptedStep {
            guard last < .max else { return nil }
            next = last + 1
        } else {
            next = 0
        }
        if let matched = try hotp.verify(code, counter: next, lookAhead: policy.hotpLookAhead) {
            return .acceptStep(factor.id, type: factor.type, step: matched, drift: 0, activate: activate)
        }
        // Recently consumed counters: answer `replayed` rather than `invalid_code`.
        if let last = factor.lastAcceptedStep {
            let from = last >= policy.hotpLookAhead ? last - policy.hotpLookAhead : 0
            if try hotp.verify(code, counter: from, lookAhead: last - from) != nil { return .reject(.replayed) }
        }
        return nil
    }

    /// Finds `first` followed by `second` within the resynchronisation window after the next
    /// expected counter, and accepts the counter of `second`.
    func resynchronize(_ codes: (String, String), factor: FactorRecord, dataKey: SymmetricKey) throws -> AttemptDecision {
        let secret = try Sealer.openSecret(factor.sealedSecret, dataKey: dataKey, factor.applicationID, factor.userID, factor.id)
        let hotp = try HOTP(secret: secret, algorithm: factor.algorithm, digits: factor.digits)
        var start: UInt64 = factor.lastAcceptedStep.map { $0 == .max ? .max : $0 + 1 } ?? 0
        let (sum, overflow) = start.addingReportingOverflow(policy.hotpResyncWindow)
        let end = overflow ? UInt64.max : sum
        // Malformed codes are refused before any HMAC, as in verification.
        guard Self.isWellFormed(codes.0, digits: factor.digits), Self.isWellFormed(codes.1, digits: factor.digits) else {
            return .reject(.invalidCode)
        }
        while start < end, let first = try hotp.verify(codes.0, counter: start, lookAhead: end - start) {
            guard first < .max else { break }
            if try hotp.verify(codes.1, counter: first + 1, lookAhead: 0) != nil {
                return .acceptStep(factor.id, type: factor.type, step: first + 1, drift: 0, activate: false)
            }
            start = first + 1
        }
        return .reject(.invalidCode)
    }

    static func isWellFormed(_ code: String, digits: Int) -> Bool {
        code.utf8.count == digits && code.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    static func offset(_ step: UInt64, by drift: Int) -> UInt64 {
        if drift >= 0 {
            let (value, overflow) = step.addingReportingOverflow(UInt64(drift))
            return overflow ? .max : value
        }
        let magnitude = UInt64(-drift)
        return step >= magnitude ? step - magnitude : 0
    }

    static func difference(_ a: UInt64, _ b: UInt64) -> Int {
        a >= b ? Int(clamping: a - b) : -Int(clamping: b - a)
    }
}

enum ConstantTime {
    /// Compares without an early exit on the first differing byte.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
