import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Receives a document from ``XMLSubtreeParser`` one child of the root at a time.
protocol XMLSubtreeSink: AnyObject {
    /// The root element, without its children.
    func root(_ element: XMLElementNode) throws(TokenFileError)
    /// Whether a child of the root named so is worth building; others are skipped unread.
    func retains(namespace: String, name: String) -> Bool
    /// A complete child of the root, with its subtree.
    func child(_ element: XMLElementNode) throws(TokenFileError)
}

/// Streams an XML document through FoundationXML's SAX parser with namespaces resolved,
/// building one bounded subtree per child of the root, so memory stays proportional to the
/// largest key package rather than to the file.
final class XMLSubtreeParser: NSObject, XMLParserDelegate {
    /// Deeper nesting than any PSKC file needs.
    static let maximumDepth = 32
    /// Elements in one child of the root (a key package has some 20–40).
    static let maximumSubtreeElements = 4_096
    /// Characters of text in one element (a certificate in base64 is a few thousand).
    static let maximumText = 65_536

    private let sink: any XMLSubtreeSink
    private var depth = 0
    private var retaining = false
    private var stack: [XMLElementNode] = []
    private var subtreeElements = 0
    private var rootEnded = false
    private var failure: TokenFileError?

    private init(sink: any XMLSubtreeSink) {
        self.sink = sink
    }

    /// Parses `bytes`, after ``XMLPreflight`` has refused markup declarations.
    /// - Throws: `malformed` for XML that is not well-formed or past the limits, or whatever
    ///   the sink throws.
    static func parse(_ bytes: [UInt8], into sink: any XMLSubtreeSink) throws(TokenFileError) {
        try XMLPreflight.check(bytes)
        let delegate = XMLSubtreeParser(sink: sink)
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = true
        parser.shouldReportNamespacePrefixes = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = delegate
        let succeeded = parser.parse()
        if let failure = delegate.failure { throw failure }
        guard succeeded else {
            throw TokenFileError(.malformed, "the file is not well-formed XML (line \(parser.lineNumber), column \(parser.columnNumber))")
        }
        // FoundationXML on Linux reports success for a document cut off mid-element, or for
        // no document at all: the root must have ended.
        guard delegate.rootEnded else {
            throw TokenFileError(.malformed, "the file ends before its root element does (or has none)")
        }
    }

    private func fail(_ parser: XMLParser, _ error: TokenFileError) {
        guard failure == nil else { return }
        failure = error
        parser.abortParsing()
    }

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        guard failure == nil else { return }
        depth += 1
        guard depth <= Self.maximumDepth else {
            return fail(parser, TokenFileError(.malformed, "elements are nested more than \(Self.maximumDepth) deep"))
        }
        let namespace = namespaceURI ?? ""
        // Attributes without a prefix are in no namespace, which is where PSKC puts its own.
        let attributes = attributeDict.filter { !$0.key.contains(":") }
        let element = XMLElementNode(namespace: namespace, name: elementName, attributes: attributes)
        switch depth {
        case 1:
            do throws(TokenFileError) { try sink.root(element) } catch { fail(parser, error) }
        case 2:
            retaining = sink.retains(namespace: namespace, name: elementName)
            subtreeElements = 1
            if retaining { stack.append(element) }
        default:
            guard retaining else { return }
            subtreeElements += 1
            guard subtreeElements <= Self.maximumSubtreeElements else {
                return fail(parser, TokenFileError(.malformed, "a \(stack[0].name) element holds more than \(Self.maximumSubtreeElements) elements"))
            }
            stack.append(element)
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard failure == nil else { return }
        defer { depth -= 1 }
        if depth == 1 { rootEnded = true }
        guard depth >= 2, retaining, var element = stack.popLast() else { return }
        element.text = TokenFileText.trimmingXMLSpace(element.text)
        if stack.isEmpty {
            retaining = false
            do throws(TokenFileError) { try sink.child(element) } catch { fail(parser, error) }
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        appendText(parser, string)
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        appendText(parser, String(decoding: CDATABlock, as: UTF8.self))
    }

    private func appendText(_ parser: XMLParser, _ string: String) {
        guard failure == nil, retaining, !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
        if stack[stack.count - 1].text.utf8.count > Self.maximumText {
            fail(parser, TokenFileError(.malformed, "a \(stack[stack.count - 1].name) element holds more than \(Self.maximumText) characters"))
        }
    }

    // Belt and braces: ``XMLPreflight`` already refused every declaration these report.

    func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
        fail(parser, Self.declarationRefused)
    }

    func parser(_ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?, systemID: String?) {
        fail(parser, Self.declarationRefused)
    }

    func parser(_ parser: XMLParser, foundUnparsedEntityDeclarationWithName name: String, publicID: String?, systemID: String?, notationName: String?) {
        fail(parser, Self.declarationRefused)
    }

    func parser(_ parser: XMLParser, foundElementDeclarationWithName elementName: String, model: String) {
        fail(parser, Self.declarationRefused)
    }

    func parser(_ parser: XMLParser, resolveExternalEntityName name: String, systemID: String?) -> Data? {
        fail(parser, Self.declarationRefused)
        return nil
    }

    private static let declarationRefused = TokenFileError(.malformed, "document type and entity declarations are refused")
}
