/// One fuzz input, read front to back: single bytes for choices, fields that end at a 0x00
/// byte, and the rest.
///
/// Reading past the end gives zeros and empty fields, so every input, however short, means
/// something.
public struct FuzzInput {
    private var bytes: ArraySlice<UInt8>

    /// The `size` bytes at `data`, as libFuzzer passes them to `LLVMFuzzerTestOneInput`.
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = ArraySlice(UnsafeBufferPointer(start: data, count: size))
    }

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes[...]
    }

    /// Whether everything has been read.
    public var isEmpty: Bool { bytes.isEmpty }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        bytes.popFirst() ?? 0
    }

    /// The bytes up to the next 0x00 (which is consumed) or the end.
    public mutating func field() -> [UInt8] {
        guard let end = bytes.firstIndex(of: 0) else {
            defer { bytes = [] }
            return Array(bytes)
        }
        defer { bytes = bytes[(end + 1)...] }
        return Array(bytes[..<end])
    }

    /// ``field()`` as UTF-8 text; invalid sequences become U+FFFD, as a Swift `String` cannot
    /// hold them.
    public mutating func text() -> String {
        String(decoding: field(), as: UTF8.self)
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        defer { bytes = [] }
        return Array(bytes)
    }

    /// ``rest()`` as UTF-8 text.
    public mutating func restText() -> String {
        String(decoding: rest(), as: UTF8.self)
    }
}
