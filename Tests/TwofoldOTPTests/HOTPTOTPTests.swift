import Testing
import TwofoldOTP
import TwofoldTesting

@Suite("HOTP and TOTP behaviour")
struct HOTPTOTPTests {
    let secret = try! OTPSecret(bytes: Array("12345678901234567890".utf8))

    @Test("digits other than 6, 7 or 8 are refused with a clear error", arguments: [-1, 0, 1, 5, 9, 10, 100])
    func refusesDigits(digits: Int) {
        #expect(throws: OTPError.self) { try HOTP(secret: secret, digits: digits) }
        do {
            _ = try TOTP(secret: secret, digits: digits)
            Issue.record("digits \(digits) accepted")
        } catch {
            #expect(error.code == .invalidDigits)
            #expect(error.message.contains("\(digits)"))
        }
    }

    @Test("7-digit codes are the truncated value modulo 10^7, zero-padded")
    func sevenDigits() throws {
        let hotp = try HOTP(secret: secret, digits: 7)
        // RFC 4226 Appendix D truncated value for counter 7 is 82162583.
        #expect(hotp.code(counter: 7) == "2162583")
        let eight = try HOTP(secret: secret, digits: 8)
        #expect(eight.code(counter: 7) == "82162583")
    }

    @Test("codes keep their leading zeros")
    func leadingZeros() throws {
        // RFC 6238: SHA-1 at 1111111109 is 07081804.
        let totp = try TOTP(secret: secret, digits: 8)
        let code = try totp.code(at: 1_111_111_109)
        #expect(code == "07081804")
        #expect(code.count == 8)
        var random = SeededGenerator(seed: 7)
        let hotp = try HOTP(secret: OTPSecret.generate(for: .sha1, using: &random))
        for counter in 0..<2_000 as Range<UInt64> {
            #expect(hotp.code(counter: counter).count == 6)
        }
    }

    @Test("periods outside 1 second to 1 day are refused", arguments: [0, -30, 86_401, Int.max, Int.min])
    func refusesPeriod(period: Int) {
        #expect {
            try TOTP(secret: secret, period: period)
        } throws: { error in
            (error as? OTPError)?.code == .invalidPeriod
        }
    }

    @Test("a time before T0 is an error, not a wrapped-around step")
    func timeBeforeEpoch() throws {
        let totp = try TOTP(secret: secret, epoch: 1_000)
        #expect(throws: OTPError(.timeBeforeEpoch, "time 999 is before the TOTP epoch T0 = 1000")) {
            try totp.code(at: 999)
        }
        #expect(try totp.step(at: 1_000) == 0)
        #expect(try totp.step(at: 1_029) == 0)
        #expect(try totp.step(at: 1_030) == 1)
    }

    @Test("the last representable counter and time work without traps")
    func edges() throws {
        let hotp = try HOTP(secret: secret)
        let last = hotp.code(counter: .max)
        #expect(try hotp.verify(last, counter: .max - 3, lookAhead: 10) == .max)
        #expect(try hotp.verify(last, counter: .max, lookAhead: HOTP.maximumLookAhead) == .max)

        let totp = try TOTP(secret: secret, period: 1)
        let code = try totp.code(at: .max)
        #expect(code == hotp.code(counter: .max))
        #expect(try totp.verify(code, at: .max, window: 5) == .max)
        // Window below step 0 is clamped rather than wrapping to 2^64 − 1.
        let first = totp.code(step: 0)
        #expect(try totp.verify(first, at: 0, window: 3) == 0)
        #expect(try totp.verify(code, at: 0, window: 3) != .max)
    }

    @Test("verification returns the matching step, searching ±window around the current one")
    func returnsStep() throws {
        let totp = try TOTP(secret: secret, period: 30)
        let now: UInt64 = 1_700_000_000
        let step = now / 30
        for offset in -2...2 {
            let target = UInt64(Int64(step) + Int64(offset))
            let code = totp.code(step: target)
            let matched = try totp.verify(code, at: now, window: 1)
            if abs(offset) <= 1 {
                #expect(matched == target, "offset \(offset)")
            } else if let matched {
                // A code from outside the window only matches by coincidence of digits,
                // and then on a step inside the window.
                #expect(matched != target && (step - 1...step + 1).contains(matched))
            }
        }
        let far = totp.code(step: step + 2)
        #expect(try totp.verify(far, around: step + 2, window: 0) == step + 2)
    }

    @Test("HOTP look-ahead accepts the next expected counter and the following ones only")
    func hotpLookAhead() throws {
        let hotp = try HOTP(secret: secret)
        #expect(try hotp.verify("162583", counter: 0, lookAhead: 10) == 7)
        #expect(try hotp.verify("162583", counter: 8, lookAhead: 10) == nil)
        #expect(try hotp.verify("162583", counter: 0, lookAhead: 6) == nil)
        #expect(throws: OTPError.self) { try hotp.verify("162583", counter: 0, lookAhead: HOTP.maximumLookAhead + 1) }
    }

    @Test("the window is capped")
    func windowCap() throws {
        let totp = try TOTP(secret: secret)
        #expect(throws: OTPError.self) { try totp.verify("123456", at: 0, window: TOTP.maximumWindow + 1) }
        #expect(throws: OTPError.self) { try totp.verify("123456", at: 0, window: -1) }
    }

    @Test("input that is not exactly the right number of ASCII digits is refused as malformed",
          arguments: ["", "75522", "7552244", "75522a", " 755224", "755224 ", "755224\n", "-75522",
                      "+755224", "７５５２２４", "٧٥٥٢٢٤", "75 5224", "755\u{0}224", "0x7552"])
    func malformed(code: String) throws {
        let hotp = try HOTP(secret: secret)
        #expect {
            try hotp.verify(code, counter: 0)
        } throws: { error in
            (error as? OTPError)?.code == .malformedCode
        }
        let totp = try TOTP(secret: secret)
        #expect {
            try totp.verify(code, at: 59)
        } throws: { error in
            (error as? OTPError)?.code == .malformedCode
        }
    }

    @Test("a wrong code is not accepted anywhere in the window")
    func wrongCode() throws {
        let hotp = try HOTP(secret: secret)
        let codes = Set((0...10 as ClosedRange<UInt64>).map { hotp.code(counter: $0) })
        let wrong = (0..<1_000_000).lazy.map { OTPDigitsFormat.six($0) }.first { !codes.contains($0) }!
        #expect(try hotp.verify(wrong, counter: 0, lookAhead: 10) == nil)
    }
}

enum OTPDigitsFormat {
    static func six(_ value: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: 6 - text.count) + text
    }
}
