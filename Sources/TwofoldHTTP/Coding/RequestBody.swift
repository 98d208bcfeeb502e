/// A JSON request body whose fields are exactly its coding keys: ``Request/decodeJSON(_:)``
/// refuses any other member, so that a typo (`"perod"`) is an error rather than a default
/// silently applied.
///
/// A conforming type declares `enum CodingKeys: String, CodingKey, CaseIterable` and lets Swift
/// write its `init(from:)`.
protocol RequestBody: Decodable {
    associatedtype CodingKeys: CodingKey & CaseIterable
}
