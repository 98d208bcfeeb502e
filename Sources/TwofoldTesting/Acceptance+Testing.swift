import TwofoldCore

extension Acceptance {
    /// The acceptance of `step` of a factor, as a store reports it: for tests that compare an
    /// attempt's outcome with what they decided.
    public static func acceptStep(_ factorID: FactorID, type: FactorType, step: UInt64, drift: Int, activate: Bool) -> Acceptance {
        .step(StepAcceptance(factorID: factorID, factorType: type, step: step, drift: drift, activate: activate))
    }

    /// The use of the recovery code at `index`, `remaining` unused codes being left after it.
    public static func acceptRecoveryCode(index: Int, remaining: Int) -> Acceptance {
        .recoveryCode(RecoveryCodeAcceptance(index: index, remaining: remaining))
    }
}
