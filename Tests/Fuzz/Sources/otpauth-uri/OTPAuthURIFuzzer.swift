import FuzzSupport
import TwofoldOTP

// Input: the URI text, then optionally 0x00, a code to verify and 0x00, and a window byte.
//
// Properties: parsing never traps; a parsed URI rebuilt with `string` parses to the same URI,
// and is rebuilt to the same text; its generator makes codes of its digits that verify at
// their own time or counter; verifying any text as a code never traps.

/// A fixed time for codes: the parser never reads the clock, and neither does this target.
private let time: UInt64 = 1_700_000_000

@main
enum OTPAuthURIFuzzer {
    static func main() { runLibFuzzer(fuzzOTPAuthURI) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOTPAuthURI(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let text = input.text()
    let code = input.text()
    let window = Int(input.byte() % 4)

    let uri: OTPAuthURI
    do {
        uri = try OTPAuthURI(parsing: text)
    } catch {
        let codes: Set<OTPError.Code> = [.invalidURI, .invalidBase32, .invalidSecret, .invalidDigits, .invalidPeriod]
        require(codes.contains(error.code), "parsing failed with an undocumented code \(error.code): \(error.message)")
        return 0
    }

    let rebuilt = uri.string
    let reparsed: OTPAuthURI
    do {
        reparsed = try OTPAuthURI(parsing: rebuilt)
    } catch {
        fatalError("property violated: the rebuilt URI does not parse (\(error.message)): \(rebuilt)")
    }
    require(reparsed == uri, "the rebuilt URI parses to other parameters: \(rebuilt)")
    require(reparsed.string == rebuilt, "rebuilding is not stable: \(rebuilt) then \(reparsed.string)")

    switch uri.method {
    case .totp:
        let totp: TOTP
        do {
            totp = try uri.makeTOTP()
        } catch {
            fatalError("property violated: a parsed totp URI makes no generator: \(error.message)")
        }
        let step = (try? totp.step(at: time)) ?? 0
        let own = totp.code(step: step)
        require(own.utf8.count == uri.digits && own.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 },
                "the code \(own) is not \(uri.digits) digits")
        require((try? totp.verify(own, at: time, window: window)) == step, "the code for the step does not verify at its own time")
        _ = try? totp.verify(code, at: time, window: window)
    case .hotp(let counter):
        let hotp: HOTP
        do {
            hotp = try uri.makeHOTP()
        } catch {
            fatalError("property violated: a parsed hotp URI makes no generator: \(error.message)")
        }
        let own = hotp.code(counter: counter)
        require(own.utf8.count == uri.digits, "the code \(own) is not \(uri.digits) digits")
        require((try? hotp.verify(own, counter: counter)) == counter, "the code for the counter does not verify")
        _ = try? hotp.verify(code, counter: counter, lookAhead: UInt64(window))
    }
    return 0
}
