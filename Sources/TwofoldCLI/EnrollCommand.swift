import ArgumentParser
import Foundation
import TwofoldCore
import TwofoldOTP
import TwofoldQR

extension FactorType: ExpressibleByArgument {}

/// `twofold enroll`: enrolls a user's authenticator app from the terminal.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enroll a user in TOTP or HOTP (print the otpauth URI and its QR code), in SMS or voice (send a code to --phone), or in push (print the device's activation URI and QR code).",
        discussion: "Without --no-activate, the command asks for the code (from the app, or the one sent to the phone) and activates the factor with it. A push factor is activated by its device (twofold device activate URI, or an app scanning the QR code) within 10 minutes."
    )

    @Argument(help: "The user id.")
    var user: String

    @Option(help: "totp, hotp, sms, voice or push.")
    var type: FactorType = .totp

    @Option(help: "sms and voice: the phone number in E.164 form (+15551234567).")
    var phone: String?

    @Option(help: "The issuer the authenticator app shows.")
    var issuer: String?

    @Option(help: "push: the device's name in listings (e.g. \"work phone\").")
    var label: String?

    @Flag(help: "Leave the factor pending instead of asking for a code.")
    var noActivate = false

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        let factorId: String
        let type: String
        let status: String
        let otpauthUri: String
    }

    func validate() throws {
        if type.isPhone {
            guard phone != nil else { throw ValidationError("--phone is required for --type \(type.rawValue)") }
            guard issuer == nil else { throw ValidationError("--issuer applies to totp and hotp only") }
        } else if phone != nil {
            throw ValidationError("--phone applies to --type sms or voice only")
        }
        if type == .push {
            guard issuer == nil else { throw ValidationError("--issuer applies to totp and hotp only") }
        } else if label != nil {
            throw ValidationError("--label applies to --type push only")
        }
    }

    func run() async throws {
        let userID = try parseUserID(user)
        let actor = CLIActor.current
        if type.isPhone, let phone {
            return try await enrollPhone(userID, phone: phone, actor: actor)
        }
        if type == .push {
            return try await enrollPush(userID, actor: actor)
        }
        let result = try await config.withApplication(application.app) { services, app -> Result in
            let enrollment = try await services.enrollment.enroll(app.id, userID, EnrollmentRequest(type: type, issuer: issuer), actor: actor)
            if !output.json {
                print(enrollment.uri.string)
                do {
                    let code = try QRCode(text: enrollment.uri.string)
                    StandardOutput.write(Array(QRTerminalRenderer().render(code).utf8))
                } catch {
                    StandardError.write("cannot draw the QR code (\(error)); type the URI's secret into the app instead")
                }
            }
            var status = enrollment.factor.status
            if !noActivate {
                FileHandle.standardError.write(Data("Code from the app: ".utf8))
                guard let code = readLine()?.trimmingCharacters(in: .whitespaces), !code.isEmpty else {
                    throw CommandFailure("no code given; the factor stays pending for 10 minutes (activate it through the API)")
                }
                status = try await services.enrollment.activate(app.id, userID, enrollment.factor.id, code: code, actor: actor).status
            }
            return Result(factorId: enrollment.factor.id.rawValue, type: type.rawValue, status: status.rawValue, otpauthUri: enrollment.uri.string)
        }
        try output.report(result, text: "factor \(result.factorId) is \(result.status)")
    }

    struct PhoneResult: Encodable {
        let factorId: String
        let type: String
        let status: String
        let phone: String
        let challengeId: String
    }

    struct PushResult: Encodable {
        let factorId: String
        let type: String
        let status: String
        let deviceId: String
        let activationUri: String
        let expiresAt: Date
    }

    /// Prints the activation URI and its QR code; the device activates the factor.
    private func enrollPush(_ userID: UserID, actor: String) async throws {
        let result = try await config.withApplication(application.app) { services, app -> PushResult in
            let enrollment = try await services.push.enroll(app.id, userID, label: label, actor: actor)
            if !output.json {
                print(enrollment.uri)
                do {
                    let code = try QRCode(text: enrollment.uri)
                    StandardOutput.write(Array(QRTerminalRenderer().render(code).utf8))
                } catch {
                    StandardError.write("cannot draw the QR code (\(error)); give the device the URI instead")
                }
            }
            return PushResult(factorId: enrollment.factor.id.rawValue, type: FactorType.push.rawValue, status: enrollment.factor.status.rawValue,
                              deviceId: enrollment.deviceID.rawValue, activationUri: enrollment.uri, expiresAt: enrollment.expiresAt)
        }
        try output.report(result, text: "factor \(result.factorId) is pending until the device activates it (before \(Output.date(result.expiresAt)))")
    }

    /// Sends the confirmation code through the configured providers and asks for it.
    private func enrollPhone(_ userID: UserID, phone: String, actor: String) async throws {
        let result = try await config.withApplication(application.app) { services, app -> PhoneResult in
            let enrollment = try await services.challenges.enrollPhone(app.id, userID, type: type, phone: phone, actor: actor)
            // Delivery runs in the background: wait until the provider has it (or failed).
            await services.challenges.drain()
            let sent = try await services.challenges.show(enrollment.challenge.id)
            if sent.status == .failed {
                throw CommandFailure("the confirmation code could not be sent (\(sent.reason?.rawValue ?? "provider error")); the factor stays pending")
            }
            var status = enrollment.factor.status
            if !noActivate {
                FileHandle.standardError.write(Data("Code sent to \(enrollment.factor.phone ?? "the phone"): ".utf8))
                guard let code = readLine()?.trimmingCharacters(in: .whitespaces), !code.isEmpty else {
                    throw CommandFailure("no code given; the factor stays pending (activate it through the API)")
                }
                status = try await services.enrollment.activate(app.id, userID, enrollment.factor.id, code: code, actor: actor).status
            }
            return PhoneResult(factorId: enrollment.factor.id.rawValue, type: type.rawValue, status: status.rawValue,
                               phone: enrollment.factor.phone ?? "", challengeId: enrollment.challenge.id.rawValue)
        }
        try output.report(result, text: "factor \(result.factorId) (\(result.phone)) is \(result.status)")
    }
}

/// `twofold unlock`: clears a user's lock after repeated failures.
struct UnlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Clear a user's failure count and lock.",
        discussion: "Exit status 1, and nothing written (no audit event either), when nothing is stored for the user."
    )

    @Argument(help: "The user id.")
    var user: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let userID = try parseUserID(user)
        try await config.withApplication(application.app) { services, app in
            do {
                try await services.administration.unlock(app.id, userID, actor: CLIActor.current)
            } catch let error as TwofoldError where error.code == .notFound {
                throw CommandFailure.nothingStored(for: userID, in: app)
            }
        }
        try output.report(["unlocked": userID.rawValue], text: "unlocked user \(userID)")
    }
}

/// `twofold recovery-codes`: a new set of recovery codes, replacing the old.
struct RecoveryCodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery-codes",
        abstract: "Generate ten new recovery codes for a user, replacing any earlier set. They are shown once.",
        discussion: """
            Recovery codes stand in for a lost factor, so the user needs an active one: exit status 1, \
            and nothing written, when nothing is stored for the user or none of their factors is active. \
            When the user already has a set, the new one replaces it and the old codes stop working: \
            the command asks for confirmation on a terminal and, without one, refuses unless --yes.
            """
    )

    @Argument(help: "The user id.")
    var user: String

    @OptionGroup var application: ApplicationOption
    @OptionGroup var confirmation: ConfirmationOption
    @OptionGroup var config: ConfigOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let userID = try parseUserID(user)
        let codes = try await config.withApplication(application.app) { services, app in
            // The codes the user may have printed or stored stop working: a first set needs no
            // confirmation, a replacement does.
            let existing = try await services.administration.recoveryCodeSummary(app.id, userID)
            if existing.total > 0 {
                try confirmation.confirm("Replace the recovery codes of user \(userID) (\(existing.unused) of \(existing.total) unused)? "
                                         + "The old codes stop working.")
            }
            do {
                return try await services.verification.generateRecoveryCodes(app.id, userID, actor: CLIActor.current)
            } catch let error as TwofoldError where error.code == .notFound {
                guard try await services.administration.storesAnything(app.id, userID) else {
                    throw CommandFailure.nothingStored(for: userID, in: app)
                }
                throw CommandFailure("user \(userID) has no active factor in application \(app.name); "
                                     + "recovery codes stand in for a lost one, so enroll and activate a factor first")
            }
        }
        if output.json {
            try Output.json(RecoveryCodesJSON(userId: userID.rawValue, codes: codes))
        } else {
            codes.forEach { print($0) }
        }
    }
}

struct RecoveryCodesJSON: Encodable {
    let userId: String
    let codes: [String]
}
