/// One element of a parsed XML subtree: its namespace URI, local name, unqualified
/// attributes, child elements and text (trimmed of XML white space).
struct XMLElementNode: Sendable {
    var namespace: String
    var name: String
    var attributes: [String: String]
    var children: [XMLElementNode] = []
    var text: String = ""

    /// Whether this is `name` in `namespace`.
    func `is`(_ namespace: String, _ name: String) -> Bool {
        self.namespace == namespace && self.name == name
    }

    /// Every child `name` in `namespace`.
    func all(_ namespace: String, _ name: String) -> [XMLElementNode] {
        children.filter { $0.is(namespace, name) }
    }

    /// The child `name` in `namespace`, or `nil`.
    /// - Throws: `malformed` when there are two, naming `context`.
    func one(_ namespace: String, _ name: String, in context: @autoclosure () -> String) throws(TokenFileError) -> XMLElementNode? {
        var found: XMLElementNode?
        for child in children where child.is(namespace, name) {
            guard found == nil else {
                throw TokenFileError(.malformed, "\(context()) has more than one \(name) element")
            }
            found = child
        }
        return found
    }

    /// The first child `name` found in any of `namespaces`, trying them in order.
    func one(_ namespaces: [String], _ name: String, in context: @autoclosure () -> String) throws(TokenFileError) -> XMLElementNode? {
        for namespace in namespaces {
            if let found = try one(namespace, name, in: context()) { return found }
        }
        return nil
    }
}
