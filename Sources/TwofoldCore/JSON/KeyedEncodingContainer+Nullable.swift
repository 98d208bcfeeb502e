/// Writes an optional as JSON `null` rather than leaving the key out, so that every value of a
/// type has the same fields.
extension KeyedEncodingContainer {
    public mutating func encodeNullable<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}
