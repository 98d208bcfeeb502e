import Testing
@testable import TwofoldCore

/// The error `PhoneNumber(text, field:)` throws, or nil when it accepts `text`.
private func refusal(_ text: String, field: String = "phone") -> TwofoldError? {
    do throws(TwofoldError) {
        _ = try PhoneNumber(text, field: field)
        return nil
    } catch {
        return error
    }
}

/// The error `CountryAllowlist(text, setting:)` throws, or nil when it accepts `text`.
private func allowlistRefusal(_ text: String, setting: String = "TWOFOLD_SMS_COUNTRIES") -> TwofoldError? {
    do throws(TwofoldError) {
        _ = try CountryAllowlist(text, setting: setting)
        return nil
    } catch {
        return error
    }
}

@Suite("Phone numbers")
struct PhoneNumberTests {
    @Test("E.164 numbers are accepted as written", arguments: [
        "+15551234567",
        "+442071838750",
        "+351912345678",
        "+8613800138000",
        "+79161234567",
        "+6831234", // 7 digits: the shortest allowed
        "+123456789012345", // 15 digits: the longest allowed
    ])
    func accepted(_ text: String) throws {
        let number = try PhoneNumber(text)
        #expect(number.e164 == text)
    }

    @Test("anything else is refused as an invalid request", arguments: [
        "",
        "+",
        "15551234567", // no '+'
        "0015551234567", // international prefix instead of '+'
        "++15551234567",
        "+1 555 123 4567",
        "+1-555-123-4567",
        "+1555123456a",
        "+1555abc4567",
        "+05551234567", // 0 after '+'
        "+155512", // 6 digits
        "+1234567890123456", // 16 digits
        "+15551234567\n",
        " +15551234567",
        "+１５５５１２３４５６７", // fullwidth digits
        "+１５５５", // fullwidth digits, short enough in bytes to reach the digit check
        "+١٥٥٥١٢٣", // Arabic-Indic digits, likewise
    ])
    func refused(_ text: String) {
        let error = refusal(text)
        #expect(error?.code == .invalidRequest)
        #expect(error?.message.contains("must be an E.164 number") == true)
    }

    @Test("a well-formed number with no assigned calling code is refused", arguments: [
        "+2801234567", // 28x is spare
        "+9991234567", // 999 is reserved
        "+3841234567", // 384 is spare
    ])
    func unassignedCode(_ text: String) {
        let error = refusal(text)
        #expect(error?.code == .invalidRequest)
        #expect(error?.message.contains("no assigned country calling code") == true)
    }

    @Test("the error names the field")
    func errorNamesField() {
        #expect(refusal("+1 555", field: "recipient_phone")?.message.hasPrefix("recipient_phone ") == true)
        #expect(refusal("+2801234567", field: "recipient_phone")?.message.hasPrefix("recipient_phone ") == true)
        #expect(refusal("555")?.message.hasPrefix("phone ") == true)
    }

    @Test("the calling code is the assigned code the number starts with", arguments: [
        ("+15551234567", "1"),
        ("+12425551234", "1"), // Bahamas: NANP is one code
        ("+442071838750", "44"),
        ("+351912345678", "351"),
        ("+79161234567", "7"),
        ("+77011234567", "7"),
        ("+8613800138000", "86"),
        ("+96131234567", "961"),
        ("+3531234567", "353"),
        ("+80012345678", "800"),
    ])
    func callingCode(_ text: String, _ code: String) throws {
        #expect(try PhoneNumber(text).callingCode == code)
    }

    @Test("masked shows the calling code and the last four digits only")
    func masked() throws {
        let number = try PhoneNumber("+15551234567")
        #expect(number.masked == "+1•••••4567")
        #expect(!number.masked.contains("555"))
        #expect(!number.masked.contains("123"))
        #expect(number.masked.filter(\.isNumber) == "14567")
        #expect(number.description == "+1•••••4567")
        #expect("\(number)" == "+1•••••4567")

        let british = try PhoneNumber("+447700900123")
        #expect(british.masked == "+44•••••0123")
        #expect(!british.masked.contains("77009"))
        #expect(try PhoneNumber("+351912345678").masked == "+351•••••5678")
    }

    @Test("prefix is the calling code and the next three digits", arguments: [
        ("+15551234567", "+1555"),
        ("+447700900123", "+44770"),
        ("+351912345678", "+351912"),
        ("+79161234567", "+7916"),
    ])
    func prefix(_ text: String, _ prefix: String) throws {
        #expect(try PhoneNumber(text).prefix == prefix)
    }
}

@Suite("Calling codes")
struct CallingCodesTests {
    @Test("the table is prefix-free, 1 to 3 digits, none starting with 0")
    func wellFormed() {
        let codes = CallingCodes.assignedCodes
        #expect(codes.count > 200)
        let malformed = codes.filter { code in
            !(1...3).contains(code.count) || code.hasPrefix("0")
                || !code.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
        #expect(malformed.isEmpty)
        let prefixes = codes.flatMap { code in
            codes.filter { $0 != code && $0.hasPrefix(code) }.map { "\(code) < \($0)" }
        }
        #expect(prefixes.isEmpty)
    }

    @Test("countries map to their calling code", arguments: [
        ("US", "1"), ("CA", "1"), ("BS", "1"), ("PR", "1"), ("JM", "1"), ("TT", "1"),
        ("RU", "7"), ("KZ", "7"),
        ("GB", "44"), ("GG", "44"), ("JE", "44"), ("IM", "44"),
        ("FR", "33"), ("DE", "49"), ("PT", "351"), ("CN", "86"), ("LB", "961"),
        ("FI", "358"), ("AX", "358"), ("VA", "39"), ("IT", "39"),
        ("RE", "262"), ("YT", "262"), ("CW", "599"), ("BQ", "599"), ("XK", "383"),
        ("EG", "20"), ("ZA", "27"), ("IN", "91"), ("BR", "55"), ("AU", "61"), ("NZ", "64"),
    ])
    func country(_ iso: String, _ code: String) {
        #expect(CallingCodes.callingCode(ofCountry: iso) == code)
    }

    @Test("unknown or lower-case country letters have no code", arguments: ["XX", "gb", "", "GBR", "1", "AN", "UK"])
    func unknownCountry(_ iso: String) {
        #expect(CallingCodes.callingCode(ofCountry: iso) == nil)
    }

    @Test("assigned codes, geographic and not", arguments: ["1", "7", "20", "44", "351", "961", "800", "808", "870", "881", "882", "883", "979"])
    func assigned(_ code: String) {
        #expect(CallingCodes.isAssigned(code))
    }

    @Test("spare, reserved and partial codes are not assigned", arguments: [
        "", "0", "2", "3", "4", "8", "9", "00", "10", "12", "35", "96", "210", "259", "280", "295",
        "384", "422", "671", "684", "693", "801", "969", "999", "1242", "4420",
    ])
    func unassigned(_ code: String) {
        #expect(!CallingCodes.isAssigned(code))
    }

    @Test("the code is read off the digits", arguments: [
        ("15551234567", "1"),
        ("12425551234", "1"),
        ("447700900123", "44"),
        ("96131234567", "961"),
        ("9613", "961"),
        ("8613800138000", "86"),
        ("35191", "351"),
        ("79161234567", "7"),
    ])
    func ofDigits(_ digits: String, _ code: String) {
        #expect(CallingCodes.callingCode(ofDigits: Substring(digits)) == code)
    }

    @Test("digits that start with no assigned code have none", arguments: ["", "0", "05551234567", "2801234567", "9991234567", "35", "96", "3841234567"])
    func ofDigitsUnassigned(_ digits: String) {
        #expect(CallingCodes.callingCode(ofDigits: Substring(digits)) == nil)
    }
}

@Suite("Country allowlists")
struct CountryAllowlistTests {
    @Test("ISO letters become calling codes")
    func isoLetters() throws {
        let list = try CountryAllowlist("US,GB", setting: "TWOFOLD_SMS_COUNTRIES")
        #expect(list.callingCodes == ["1", "44"])
        #expect(list.entries == ["US", "GB"])
    }

    @Test("calling codes with or without '+', spaces trimmed")
    func callingCodes() throws {
        let list = try CountryAllowlist("+33, 44", setting: "TWOFOLD_SMS_COUNTRIES")
        #expect(list.callingCodes == ["33", "44"])
        #expect(list.entries == ["+33", "44"])
    }

    @Test("lower-case letters are accepted")
    func lowerCase() throws {
        #expect(try CountryAllowlist("us", setting: "S").callingCodes == ["1"])
        #expect(try CountryAllowlist(" gb , pt ", setting: "S").callingCodes == ["44", "351"])
    }

    @Test("countries sharing a code are one code")
    func shared() throws {
        #expect(try CountryAllowlist("US,CA,BS", setting: "S").callingCodes == ["1"])
        #expect(try CountryAllowlist("RU, KZ", setting: "S").callingCodes == ["7"])
        #expect(try CountryAllowlist("GG,JE,+44", setting: "S").callingCodes == ["44"])
    }

    @Test("an unknown country is a configuration error naming the setting and the entry")
    func unknownCountry() {
        let error = allowlistRefusal("US, XX")
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("TWOFOLD_SMS_COUNTRIES") == true)
        #expect(error?.message.contains("\"XX\"") == true)
        #expect(allowlistRefusal("+")?.code == .configuration)
        #expect(allowlistRefusal("USA")?.code == .configuration)
    }

    @Test("an unassigned calling code is a configuration error naming the setting", arguments: ["+999", "999", "+28", "+0", "+1242"])
    func unassignedCode(_ text: String) {
        let error = allowlistRefusal(text)
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("TWOFOLD_SMS_COUNTRIES") == true)
    }

    @Test("the message quotes the unassigned code")
    func unassignedMessage() {
        #expect(allowlistRefusal("+999")?.message.contains("+999") == true)
    }

    @Test("a list naming no country is refused", arguments: ["", " ", ",", " , ,"])
    func empty(_ text: String) {
        let error = allowlistRefusal(text)
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("TWOFOLD_SMS_COUNTRIES") == true)
    }

    @Test("allows numbers whose calling code is listed")
    func allows() throws {
        let list = try CountryAllowlist("US,GB,+351", setting: "S")
        #expect(list.allows(try PhoneNumber("+15551234567")))
        #expect(list.allows(try PhoneNumber("+12425551234"))) // NANP: the Bahamas share +1
        #expect(list.allows(try PhoneNumber("+447700900123")))
        #expect(list.allows(try PhoneNumber("+351912345678")))
        #expect(!list.allows(try PhoneNumber("+33612345678")))
        #expect(!list.allows(try PhoneNumber("+79161234567")))
        #expect(!list.allows(try PhoneNumber("+35312345678")))
        #expect(!list.allows(try PhoneNumber("+96131234567")))
    }
}
