/// Comparison whose time does not depend on where two byte strings differ.
enum ConstantTime {
    /// Whether `a` and `b` are equal, looking at every byte when their lengths match. Lengths are
    /// not secret (a challenge's length is fixed by the server), so unequal lengths return early.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices {
            difference |= a[index] ^ b[index]
        }
        return difference == 0
    }
}
