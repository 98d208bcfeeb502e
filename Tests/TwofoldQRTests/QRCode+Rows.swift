import TwofoldQR

extension QRCode {
    /// The matrix as one string of '1' (dark) and '0' (light) per row, the fixtures' format.
    var rowStrings: [String] {
        (0..<size).map { y in String((0..<size).map { x in self[x, y] ? "1" : "0" }) }
    }
}
