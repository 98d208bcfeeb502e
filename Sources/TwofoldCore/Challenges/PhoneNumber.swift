import Foundation

/// A phone number in E.164 form: `+`, a country calling code, and at most 15 digits in all.
/// Kept sealed at rest; shown only ``masked``.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// `+` and digits.
    public let e164: String
    /// The ITU country calling code (`1`, `44`, `351`).
    public let callingCode: String

    /// - Throws: `invalid_request` naming `field` when `text` is not E.164.
    public init(_ text: String, field: String = "phone") throws(TwofoldError) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 8, bytes.count <= 16, bytes[0] == UInt8(ascii: "+"),
              bytes.dropFirst().allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              bytes[1] != UInt8(ascii: "0") else {
            throw TwofoldError(.invalidRequest, "\(field) must be an E.164 number: '+', the country code and the number, 7 to 15 digits in all, no spaces (e.g. +15551234567)")
        }
        guard let code = CallingCodes.callingCode(ofDigits: text.dropFirst()) else {
            throw TwofoldError(.invalidRequest, "\(field) starts with no assigned country calling code")
        }
        e164 = text
        callingCode = code
    }

    /// `+1•••••4567`: the calling code and the last four digits. What logs, listings, audit and
    /// webhooks show.
    public var masked: String {
        "+\(callingCode)•••••\(e164.suffix(4))"
    }

    /// The calling code and the next three digits (`+1555`, `+44770`): the unit the pumping
    /// guard watches (a North American area code, a range of a country's numbers).
    public var prefix: String {
        String(e164.prefix(1 + callingCode.count + 3))
    }

    /// Masked, so that interpolating a number into a log line cannot leak it.
    public var description: String { masked }
}

/// Which countries a channel may send to: ISO 3166 letters or calling codes, as configured
/// (`US,GB,+33`); every country when `nil`.
public struct CountryAllowlist: Sendable, Equatable {
    /// Calling codes allowed.
    public let callingCodes: Set<String>
    /// As configured, for messages.
    public let entries: [String]

    /// - Throws: `configuration` naming `setting` for an entry that is neither.
    public init(_ text: String, setting: String) throws(TwofoldError) {
        var codes = Set<String>()
        var entries: [String] = []
        for raw in text.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            entries.append(entry)
            let digits = entry.hasPrefix("+") ? String(entry.dropFirst()) : entry
            if !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                guard CallingCodes.isAssigned(digits) else {
                    throw TwofoldError(.configuration, "\(setting): +\(digits) is not an assigned country calling code")
                }
                codes.insert(digits)
            } else if let code = CallingCodes.callingCode(ofCountry: entry.uppercased()) {
                codes.insert(code)
            } else {
                throw TwofoldError(.configuration, "\(setting): \"\(entry)\" is neither an ISO 3166 country (e.g. US, GB) nor a calling code (e.g. +44)")
            }
        }
        guard !codes.isEmpty else {
            throw TwofoldError(.configuration, "\(setting) is set but names no country; unset it to allow every country")
        }
        callingCodes = codes
        self.entries = entries
    }

    public func allows(_ number: PhoneNumber) -> Bool {
        callingCodes.contains(number.callingCode)
    }
}
