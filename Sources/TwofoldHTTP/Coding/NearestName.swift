/// The known name a mistyped one most likely meant, for "did you mean …?" in messages.
enum NearestName {
    /// The name in `names` at the smallest edit distance from `typed` (case ignored), if that
    /// distance is at most a third of the typed name's length (at least 1): `perod` → `period`,
    /// `cod` → `code`, but `colour` → none among `code`.
    static func to(_ typed: String, among names: [String]) -> String? {
        // A name far longer than any known one is no typo of it.
        guard typed.unicodeScalars.count <= 2 * (names.map(\.unicodeScalars.count).max() ?? 0) else { return nil }
        let lowered = Array(typed.lowercased().unicodeScalars)
        let limit = max(1, lowered.count / 3)
        var best: (name: String, distance: Int)?
        for name in names {
            let distance = editDistance(lowered, Array(name.lowercased().unicodeScalars))
            if distance <= limit, distance < best?.distance ?? .max { best = (name, distance) }
        }
        return best?.name
    }

    /// Levenshtein distance: insertions, deletions and substitutions, one each.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
