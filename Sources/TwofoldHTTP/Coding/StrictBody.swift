/// Decodes a ``RequestBody`` after checking that the object has no member outside its fields.
/// Both look at the one parsed document: the body is parsed once. A nested object is held as a
/// `StrictBody` of its own type, so its unknown members are refused too, named with their path
/// (`context.bogus`).
struct StrictBody<Body: RequestBody>: Decodable {
    let body: Body

    init(from decoder: any Decoder) throws {
        // A body that is not an object fails here, as a type mismatch at the top.
        let members = try decoder.container(keyedBy: MemberName.self)
        // Every verification passes here: look each member up, and build a message only for a refusal.
        if members.allKeys.contains(where: { Body.CodingKeys(stringValue: $0.stringValue) == nil }) {
            let path = decoder.codingPath.map(\.stringValue).map { $0 + "." }.joined()
            let unknown = members.allKeys.map(\.stringValue).filter { Body.CodingKeys(stringValue: $0) == nil }.sorted().map { path + $0 }
            let fields = Body.CodingKeys.allCases.map(\.stringValue)
            let suggestion = NearestName.to(String(unknown[0].dropFirst(path.count)), among: fields).map { path + $0 }
            throw APIError.invalidRequest(Self.message(unknown: unknown, suggestion: suggestion, fields: fields.map { path + $0 }))
        }
        body = try Body(from: decoder)
    }

    /// At most this many unknown names, each at most ``longestName`` characters, are repeated
    /// in the message.
    static var namesShown: Int { 3 }
    static var longestName: Int { 64 }

    /// `unknown field `perod` (did you mean `period`?); the fields are type, issuer, …`
    static func message(unknown: [String], suggestion: String?, fields: [String]) -> String {
        var names = unknown.prefix(namesShown).map { name in
            "`\(name.count > longestName ? name.prefix(longestName) + "…" : name)`"
        }.joined(separator: ", ")
        if unknown.count > namesShown { names += " and \(unknown.count - namesShown) more" }
        var message = unknown.count == 1 ? "unknown field \(names)" : "unknown fields \(names)"
        if unknown.count == 1, let suggestion { message += " (did you mean `\(suggestion)`?)" }
        return message + "; the fields are " + fields.joined(separator: ", ")
    }
}
