/// Stops the fuzzer with `message` when a property the target checks does not hold: libFuzzer
/// reports the trap as a crash and saves the input.
public func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    guard condition else {
        fatalError("property violated: \(message())", file: file, line: line)
    }
}

/// `bytes` as lower-case hexadecimal, for messages.
public func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
