import FuzzSupport
import TwofoldOTP

// Input: any bytes, read twice: as text to decode, and as bytes to encode.
//
// Properties: decoding never traps and fails only with `invalid_base32`; what it decodes
// encodes to text that decodes to the same bytes; any bytes, encoded with or without padding,
// in lower case, or with the spaces and hyphens people type, decode to themselves; an
// `OTPSecret` reads exactly the non-empty decodings.

@main
enum Base32Fuzzer {
    static func main() { runLibFuzzer(fuzzBase32) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBase32(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)

    do {
        let decoded = try Base32.decode(text)
        require((try? Base32.decode(Base32.encode(decoded))) == decoded, "\(hex(decoded)) does not survive encoding again")
        let secret = try? OTPSecret(base32: text)
        require((secret != nil) == !decoded.isEmpty, "OTPSecret disagrees with Base32 about \(text.debugDescription)")
        if let secret {
            require(secret.bytes == decoded, "OTPSecret decodes \(text.debugDescription) differently")
        }
    } catch {
        require(error.code == .invalidBase32, "decoding failed with \(error.code), not invalid_base32")
        require((try? OTPSecret(base32: text)) == nil, "OTPSecret accepts \(text.debugDescription), which Base32 refuses")
    }

    let padded = Base32.encode(bytes)
    let unpadded = Base32.encode(bytes, padding: false)
    require(padded.utf8.count % 8 == 0, "padded Base32 is \(padded.utf8.count) characters")
    require(unpadded.utf8.count == (bytes.count * 8 + 4) / 5, "unpadded Base32 of \(bytes.count) bytes is \(unpadded.utf8.count) characters")
    require(padded.hasPrefix(unpadded), "padding changed the symbols")
    let spaced = unpadded.enumerated().map { index, character in
        index > 0 && index % 4 == 0 ? (index % 8 == 0 ? " \(character)" : "-\(character)") : "\(character)"
    }.joined()
    for form in [padded, unpadded, padded.lowercased(), spaced] {
        let decoded = try? Base32.decode(form)
        require(decoded == bytes, "\(hex(bytes)) encoded as \(form) decodes to \(decoded.map { hex($0) } ?? "an error")")
    }
    return 0
}
