/// Computes Reed–Solomon error-correction codewords (ISO/IEC 18004:2015 §7.5.2).
///
/// The generator polynomial of degree n is (x − α⁰)(x − α¹)…(x − αⁿ⁻¹). Its coefficients are
/// kept as logarithms, which turns every step of the polynomial division into table lookups.
/// Generators for every degree the standard uses (7 to 30) are built once and shared.
struct ReedSolomonEncoder: Sendable {
    /// Number of error-correction codewords produced per block.
    let degree: Int
    /// Logarithms of the generator's coefficients for x^(n−1) … x⁰ (the leading 1 is implied).
    private let generatorLogarithms: [UInt8]

    init(degree: Int) {
        precondition((1...30).contains(degree), "Reed-Solomon degree \(degree) out of range")
        self = ReedSolomonEncoder.shared[degree - 1]
    }

    private init(buildingDegree degree: Int) {
        self.degree = degree
        // Coefficients from the highest power down; start with the polynomial 1.
        var coefficients: [UInt8] = [1]
        for root in 0..<degree {
            let factor = GaloisField.exponentials[root]
            var product = [UInt8](repeating: 0, count: coefficients.count + 1)
            for (index, coefficient) in coefficients.enumerated() {
                product[index] ^= coefficient
                product[index + 1] ^= GaloisField.multiply(coefficient, factor)
            }
            coefficients = product
        }
        generatorLogarithms = coefficients.dropFirst().map { GaloisField.logarithms[Int($0)] }
    }

    private static let shared: [ReedSolomonEncoder] = (1...30).map { ReedSolomonEncoder(buildingDegree: $0) }

    /// The remainder of data(x)·xⁿ divided by the generator: the block's error-correction codewords.
    func errorCorrection(for data: some Collection<UInt8>) -> [UInt8] {
        var remainder = [UInt8](repeating: 0, count: degree)
        remainder.withUnsafeMutableBufferPointer { remainder in
            GaloisField.exponentials.withUnsafeBufferPointer { exponentials in
                GaloisField.logarithms.withUnsafeBufferPointer { logarithms in
                    generatorLogarithms.withUnsafeBufferPointer { generator in
                        let last = degree - 1
                        for byte in data {
                            let factor = byte ^ remainder[0]
                            for index in 0..<last {
                                remainder[index] = remainder[index + 1]
                            }
                            remainder[last] = 0
                            if factor != 0 {
                                let logFactor = Int(logarithms[Int(factor)])
                                for index in 0...last {
                                    remainder[index] ^= exponentials[logFactor + Int(generator[index])]
                                }
                            }
                        }
                    }
                }
            }
        }
        return remainder
    }
}
