import ArgumentParser

/// `twofold otp`: one-time passwords without a server — compute, verify, build and read URIs.
struct OTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otp",
        abstract: "Compute and verify one-time passwords; build, read and draw otpauth:// URIs.",
        subcommands: [
            OTPCodeCommand.self,
            OTPVerifyCommand.self,
            OTPURICommand.self,
            OTPInspectCommand.self,
            OTPQRCommand.self,
        ]
    )
}
