import FuzzSupport
import TwofoldOTP
import TwofoldTokenFiles

// Input: any bytes, read three times: as PSKC with no key, as PSKC with a fixed pre-shared key
// (the fixtures' 000102…0f, so encrypted seeds get past the MACs), and as the token CSV.
//
// Properties: reading never traps and fails only with a known code; a read is deterministic;
// every token has a valid serial (1–64 printable characters), 6–8 digits, a non-empty secret, a
// period TwofoldOTP accepts and a serial no other token has; its description never shows its
// secret; a plain file reads the same with or without the key; and the tokens written out as
// CSV read back the same (bar the manufacturer, which the CSV does not carry).

@main
enum PSKCFuzzer {
    static func main() { runLibFuzzer(fuzzPSKC) }
}

let presharedKey = TokenFileKey.preSharedKey(Array(0x00...0x0F as ClosedRange<UInt8>))
let knownCodes: Set<TokenFileError.Code> = [.malformed, .unsupported, .keyRequired, .wrongKey, .duplicateSerial, .tooLarge]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPSKC(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    let plain = read { () throws(TokenFileError) in try TokenFile.readPSKC(bytes, key: .none) }
    let keyed = read { () throws(TokenFileError) in try TokenFile.readPSKC(bytes, key: presharedKey) }
    let csv = read { () throws(TokenFileError) in try TokenFile.readCSV(bytes) }
    require(read { () throws(TokenFileError) in try TokenFile.readPSKC(bytes, key: presharedKey) } == keyed, "readPSKC is not deterministic")

    if case .success(let tokens) = plain {
        require(keyed == plain, "a file that opens without a key reads differently with one")
        check(tokens)
    }
    if case .success(let tokens) = keyed { check(tokens) }
    if case .success(let tokens) = csv { check(tokens) }
    return 0
}

func read(_ body: () throws(TokenFileError) -> [HardwareToken]) -> Result<[HardwareToken], TokenFileError> {
    do {
        return .success(try body())
    } catch {
        require(knownCodes.contains(error.code), "unknown error code \(error.code)")
        require(!error.message.isEmpty, "an error with no message")
        return .failure(error)
    }
}

func check(_ tokens: [HardwareToken]) {
    var serials = Set<String>()
    for token in tokens {
        require(!token.serial.isEmpty && token.serial.count <= 64, "serial of \(token.serial.utf8.count) bytes")
        require(token.serial.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }, "a control character in serial \(token.serial.debugDescription)")
        require(serials.insert(token.serial).inserted, "serial \(token.serial.debugDescription) appears twice")
        require((6...8).contains(token.digits), "\(token.digits) digits")
        require(!token.secret.isEmpty, "an empty secret")
        let secret = try? OTPSecret(bytes: token.secret)
        require(secret != nil, "TwofoldOTP refuses the secret")
        if let secret {
            switch token.kind {
            case .hotp: require((try? HOTP(secret: secret, algorithm: token.algorithm, digits: token.digits)) != nil, "HOTP refuses \(token)")
            case .totp(let period):
                require((try? TOTP(secret: secret, algorithm: token.algorithm, digits: token.digits, period: period)) != nil, "TOTP refuses \(token)")
            }
        }
        if token.secret.count >= 4 {
            require(!token.description.contains(hex(token.secret)), "the description shows the secret")
            require(!token.description.contains(Base32.encode(token.secret, padding: false)), "the description shows the secret")
        }
    }
    roundTripThroughCSV(tokens)
}

/// Writes `tokens` as Twofold's CSV and reads them back, when every serial can stand in a CSV
/// field (no comma, not starting with `#`, no line break).
func roundTripThroughCSV(_ tokens: [HardwareToken]) {
    guard tokens.allSatisfy({ !$0.serial.contains(",") && !$0.serial.hasPrefix("#") && !$0.serial.contains("\r")
        && !$0.serial.contains("\n") && $0.serial.lowercased() != "serial" }) else { return }
    let lines = tokens.map { token in
        let last = switch token.kind {
        case .hotp(let counter): "hotp, \(token.digits), \(counter)"
        case .totp(let period): "totp, \(token.digits), \(period)"
        }
        return "\(token.serial), hex:\(hex(token.secret)), \(last), \(token.algorithm.rawValue)"
    }
    let text = lines.joined(separator: "\n")
    do {
        let back = try TokenFile.readCSV(Array(text.utf8))
        var expected = tokens
        for index in expected.indices { expected[index].manufacturer = nil }
        require(back == expected, "tokens written as CSV read back differently")
    } catch {
        require(false, "tokens written as CSV do not read back: \(error)")
    }
}
