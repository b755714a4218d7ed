import Foundation
import TensorlintEngine
import TensorlintJSON

/// MIL's type domains, per opset and op, from `mil-type-domains.json`. At load, only where each op's entry lies
/// is noted; an entry is read the first time a lint asks for it, by whichever thread asks first (reading all
/// of them was a seventh of a small model's lint, which meets a handful of ops).
final class TypeDomainTable: @unchecked Sendable {
    struct Entry {
        /// Input → type-domain id.
        var domainOf: [String: String]
        /// Each type domain's inputs, in the op's input order.
        var members: [[String]]
    }

    /// The opsets the table covers, oldest first.
    let opsets: [DeploymentTarget]
    private let file: String
    private let text: [UInt8]
    /// Opset name → MIL op → the bytes of its entry in `text`.
    private let spans: [String: [String: Range<Int>]]
    private let lock = NSLock()
    private var read: [String: [String: Entry?]] = [:]
    /// What `entry(of:at:)` answered: it is asked for every node a lowering emits that op for.
    private var found: [Lookup: Entry?] = [:]

    private struct Lookup: Hashable {
        let op: String
        let target: DeploymentTarget
    }

    init(_ text: String, file: String) throws(KnowledgeError) {
        let bytes = Array(text.utf8)
        var spans: [String: [String: Range<Int>]] = [:]
        do {
            try JSONReader.read(bytes) { (reader: inout JSONReader) throws(JSONError) in
                try reader.readObject { (reader: inout JSONReader, key: String) throws(JSONError) in
                    guard key == "opsets" else { return try reader.skipValue() }
                    try reader.readObject { (reader: inout JSONReader, opset: String) throws(JSONError) in
                        var ops: [String: Range<Int>] = [:]
                        try reader.readObject { (reader: inout JSONReader, op: String) throws(JSONError) in
                            let start = reader.offset
                            try reader.skipValue()
                            ops[op] = start..<reader.offset
                        }
                        spans[opset] = ops
                    }
                }
            }
        } catch {
            throw KnowledgeError(file: file, reason: error.description)
        }
        self.file = file
        self.text = bytes
        self.spans = spans
        opsets = spans.keys.compactMap(DeploymentTarget.init).sorted()
    }

    /// The op's entry at the newest opset at or below the deployment target that has one.
    func entry(of milOp: String, at target: DeploymentTarget) -> Entry? {
        let lookup = Lookup(op: milOp, target: target)
        if let known = lock.withLock({ found[lookup] }) { return known }
        let newest = opsets.reversed().lazy.filter { $0 <= target }.compactMap { try? self.entry(opset: $0.name, op: milOp) }.first
        lock.withLock { found[lookup] = .some(newest) }
        return newest
    }

    /// The op's entry in one opset: `nil` when it has none (or no type domain); an entry that does not read
    /// is an error (a defect of the build, which the tests catch by reading every one).
    func entry(opset: String, op: String) throws(KnowledgeError) -> Entry? {
        guard let span = spans[opset]?[op] else { return nil }
        if let known = lock.withLock({ read[opset]?[op] }) { return known }
        let entry: Entry?
        do {
            entry = try JSONReader.read(text[span]) { (reader: inout JSONReader) throws(JSONError) -> Entry? in
                var entry = Entry(domainOf: [:], members: [])
                try reader.readObject { (reader: inout JSONReader, field: String) throws(JSONError) in
                    guard field == "domains" else { return try reader.skipValue() }
                    let domains = try reader.readDictionary { (reader: inout JSONReader) throws(JSONError) in try reader.readList(JSONReader.string) }
                    for (domain, inputs) in domains.sorted(by: { $0.key < $1.key }) {
                        for input in inputs { entry.domainOf[input] = domain }
                        entry.members.append(inputs)
                    }
                }
                return entry.members.isEmpty ? nil : entry
            }
        } catch {
            throw KnowledgeError(file: file, reason: "opsets.\(opset).\(op): \(error.description)")
        }
        lock.withLock { read[opset, default: [:]][op] = .some(entry) }
        return entry
    }

    /// Every op of every opset, for the tests that read them all.
    var allOps: [(opset: String, op: String)] {
        spans.flatMap { opset, ops in ops.keys.map { (opset, $0) } }
    }
}
