/// A small zlib/deflate decoder for stored and fixed-Huffman blocks (RFC 1950, RFC 1951), written
/// independently of the encoder so that the PNG tests can check image data without outside tools.
struct Inflater {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let input: [UInt8]
    private var bitPosition = 0

    private init(_ input: [UInt8]) {
        self.input = input
    }

    /// The data inside a zlib stream, after checking its header and Adler-32.
    static func zlibDecompress(_ stream: [UInt8]) throws -> [UInt8] {
        guard stream.count >= 6 else { throw Failure(description: "stream too short") }
        guard stream[0] & 0x0F == 8, (Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0, stream[1] & 0x20 == 0 else {
            throw Failure(description: "bad zlib header \(stream[0]) \(stream[1])")
        }
        var inflater = Inflater(Array(stream[2...]))
        let output = try inflater.inflate()
        let end = 2 + (inflater.bitPosition + 7) / 8
        guard stream.count == end + 4 else {
            throw Failure(description: "\(stream.count - end) bytes follow the deflate data instead of 4")
        }
        let stored = stream[end..<(end + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in output {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        guard stored == b << 16 | a else { throw Failure(description: "Adler-32 mismatch") }
        return output
    }

    private mutating func bit() throws -> Int {
        guard bitPosition < input.count * 8 else { throw Failure(description: "ran out of input") }
        let value = Int(input[bitPosition >> 3] >> UInt8(bitPosition & 7)) & 1
        bitPosition += 1
        return value
    }

    /// `count` bits, least significant first (extra bits, header fields).
    private mutating func bits(_ count: Int) throws -> Int {
        var value = 0
        for index in 0..<count {
            value |= try bit() << index
        }
        return value
    }

    /// Appends `count` more Huffman code bits, most significant first.
    private mutating func code(_ prefix: Int, adding count: Int) throws -> Int {
        var value = prefix
        for _ in 0..<count {
            value = value << 1 | (try bit())
        }
        return value
    }

    private mutating func fixedSymbol() throws -> Int {
        let seven = try code(0, adding: 7)
        if seven <= 0b0010111 { return 256 + seven }
        let eight = try code(seven, adding: 1)
        if (0x30...0xBF).contains(eight) { return eight - 0x30 }
        if (0xC0...0xC7).contains(eight) { return 280 + eight - 0xC0 }
        let nine = try code(eight, adding: 1)
        guard (0x190...0x1FF).contains(nine) else { throw Failure(description: "bad code \(nine)") }
        return 144 + nine - 0x190
    }

    private static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
        1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]

    private mutating func inflate() throws -> [UInt8] {
        var output: [UInt8] = []
        var final = false
        while !final {
            final = try bits(1) == 1
            switch try bits(2) {
            case 0:
                bitPosition = (bitPosition + 7) & ~7
                let length = try bits(16)
                let complement = try bits(16)
                guard length ^ complement == 0xFFFF else { throw Failure(description: "bad stored length") }
                for _ in 0..<length {
                    output.append(UInt8(try bits(8)))
                }
            case 1:
                while true {
                    let symbol = try fixedSymbol()
                    if symbol < 256 {
                        output.append(UInt8(symbol))
                        continue
                    }
                    if symbol == 256 { break }
                    let index = symbol - 257
                    guard index < 29 else { throw Failure(description: "bad length symbol \(symbol)") }
                    let length = Inflater.lengthBase[index] + (try bits(Inflater.lengthExtra[index]))
                    let distanceCode = try code(0, adding: 5)
                    guard distanceCode < 30 else { throw Failure(description: "bad distance code \(distanceCode)") }
                    let distance = Inflater.distanceBase[distanceCode] + (try bits(Inflater.distanceExtra[distanceCode]))
                    guard distance <= output.count else { throw Failure(description: "distance \(distance) before the start") }
                    for _ in 0..<length {
                        output.append(output[output.count - distance])
                    }
                }
            default:
                throw Failure(description: "unexpected block type")
            }
        }
        return output
    }
}
