import Yams

/// A rule or configuration file as the loaders read it: a tree of text with the line of each node. A
/// user's file is YAML, composed by Yams with every scalar read as text; the built-in rules are compiled at
/// build time into `compiled`'s form and decoded at start, which costs a small part of parsing their YAML.
public indirect enum DocumentNode: Sendable {
    case scalar(String, line: Int?)
    case sequence([DocumentNode], line: Int?)
    case mapping(Mapping, line: Int?)

    /// A mapping's pairs in file order; a key given twice is found at its first place.
    public struct Mapping: Sendable, Sequence {
        public var pairs: [(key: DocumentNode, value: DocumentNode)]

        public init(_ pairs: [(key: DocumentNode, value: DocumentNode)]) {
            self.pairs = pairs
        }

        public subscript(key: String) -> DocumentNode? {
            pairs.first { $0.key.string == key }?.value
        }

        public var keys: [DocumentNode] { pairs.map(\.key) }

        public func makeIterator() -> IndexingIterator<[(key: DocumentNode, value: DocumentNode)]> { pairs.makeIterator() }
    }

    /// The 1-based line the node starts on, when known.
    public var line: Int? {
        switch self {
        case .scalar(_, let line), .sequence(_, let line), .mapping(_, let line): return line
        }
    }

    public var string: String? {
        if case .scalar(let text, _) = self { return text }
        return nil
    }

    public var sequence: [DocumentNode]? {
        if case .sequence(let items, _) = self { return items }
        return nil
    }

    public var mapping: Mapping? {
        if case .mapping(let mapping, _) = self { return mapping }
        return nil
    }

    /// The tree of a YAML document, `nil` when it is empty. Every scalar is read as text: the basic resolver
    /// spares the regular expressions that type each scalar. The encoding is named, since Yams' default reads
    /// the whole environment for every document.
    public init?(yaml: String) throws {
        guard let node = try Yams.compose(yaml: yaml, .basic, .default, .utf8) else { return nil }
        self.init(node)
    }

    /// The tree Yams composed, every scalar as its text.
    public init(_ node: Yams.Node) {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar): self = .scalar(scalar.string, line: line)
        case .sequence(let sequence): self = .sequence(sequence.map(DocumentNode.init), line: line)
        case .mapping(let mapping): self = .mapping(Mapping(mapping.map { (DocumentNode($0.key), DocumentNode($0.value)) }), line: line)
        // Aliases are refused before a user's file is composed, and Yams resolves the rest into copies.
        case .alias: self = .scalar("", line: line)
        }
    }
}

// MARK: the compiled form

/// The built-in rules' form in the binary: each node as a kind letter (`S` text, `Q` sequence, `M` mapping),
/// its line (`-` for none) and `:`, then for text its length in UTF-8 bytes, `:` and the bytes; for a
/// sequence or mapping its count, `:` and its items (a mapping's as key, value, key, value …).
extension DocumentNode {
    public var compiled: String {
        var text = ""
        compile(into: &text)
        return text
    }

    private func compile(into text: inout String) {
        func head(_ kind: String, _ line: Int?, _ count: Int) { text += "\(kind)\(line.map(String.init) ?? "-"):\(count):" }
        switch self {
        case .scalar(let value, let line):
            head("S", line, value.utf8.count)
            text += value
        case .sequence(let items, let line):
            head("Q", line, items.count)
            for item in items { item.compile(into: &text) }
        case .mapping(let mapping, let line):
            head("M", line, mapping.pairs.count)
            for (key, value) in mapping.pairs {
                key.compile(into: &text)
                value.compile(into: &text)
            }
        }
    }

    /// The tree `compiled` gave; `nil` when the text is not that form.
    public init?(compiled text: String) {
        var text = text
        guard let node = text.withUTF8({ bytes -> DocumentNode? in
            var reader = CompiledReader(bytes: bytes)
            guard let node = reader.node(depth: 0), reader.position == bytes.count else { return nil }
            return node
        }) else { return nil }
        self = node
    }
}

private struct CompiledReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// Deeper than any rule file nests: a form this deep is not one the build wrote.
    static let maximumDepth = 256

    mutating func number() -> Int? {
        var value = 0, digits = 0
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]), digits < 18 {
            value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
            position += 1
            digits += 1
        }
        guard digits > 0, position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
        position += 1
        return value
    }

    mutating func node(depth: Int) -> DocumentNode? {
        guard depth < Self.maximumDepth, position < bytes.count else { return nil }
        let kind = bytes[position]
        position += 1
        let line: Int?
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
            position += 1
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
            position += 1
            line = nil
        } else {
            guard let number = number() else { return nil }
            line = number
        }
        guard let count = number() else { return nil }
        switch kind {
        case UInt8(ascii: "S"):
            guard count <= bytes.count - position else { return nil }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<(position + count)]), as: UTF8.self)
            position += count
            return .scalar(text, line: line)
        case UInt8(ascii: "Q"):
            var items: [DocumentNode] = []
            for _ in 0..<min(count, bytes.count) {
                guard let item = node(depth: depth + 1) else { return nil }
                items.append(item)
            }
            return items.count == count ? .sequence(items, line: line) : nil
        case UInt8(ascii: "M"):
            var pairs: [(key: DocumentNode, value: DocumentNode)] = []
            for _ in 0..<min(count, bytes.count) {
                guard let key = node(depth: depth + 1), let value = node(depth: depth + 1) else { return nil }
                pairs.append((key, value))
            }
            return pairs.count == count ? .mapping(DocumentNode.Mapping(pairs), line: line) : nil
        default:
            return nil
        }
    }
}
