import Foundation
import TensorlintJSON
import TensorlintIR

/// Carries out `replaceNode` edits on the main graph of an ExportedProgram JSON text: each replaced node's
/// object in `graph.nodes` gives way to the new nodes, which keep its other fields (metadata, stack trace),
/// and every new value gets an entry in `graph.tensor_values`, shaped as the broadcast of its node's tensor
/// inputs. Every other byte of the text stays as it was.
struct ProgramNodeReplacement {
    let bytes: [UInt8]
    let graph: JSONSpan
    let tensorValues: JSONSpan
    /// `tensor_values` by name: looked up once per input of every new node.
    private let tensorValueByName: [String: JSONSpan]
    /// Metadata of the values new nodes write, in the order they are written, and where each is.
    private var newValues: [(name: String, meta: TensorMeta)] = []
    private var newValueIndex: [String: Int] = [:]

    struct TensorMeta {
        var sizes: [Size]
        var text: String
    }

    /// One size as written (`{"as_int": 4}`), compared without white space.
    struct Size: Equatable {
        var text: String
        var key: String { text.filter { !$0.isWhitespace } }
        static func == (left: Size, right: Size) -> Bool { left.key == right.key }
        /// The number of `{"as_int": N}`; `nil` for a symbol. (A Regex literal here was parsed again on every call.)
        var integer: Int? {
            let key = key, prefix = "{\"as_int\":"
            guard key.hasPrefix(prefix), key.hasSuffix("}") else { return nil }
            let digits = key.dropFirst(prefix.count).dropLast()
            return digits.allSatisfy(\.isASCII) ? Int(digits) : nil
        }
        static let one = Size(text: "{\"as_int\": 1}")
    }

    init(_ json: Data) throws(WriteError) {
        bytes = [UInt8](json)
        do {
            let root = try JSONSpan.parse(bytes)
            guard let graph = root["graph_module"]?["graph"], let tensorValues = graph["tensor_values"], graph["nodes"] != nil else {
                throw WriteError("the program has no graph_module.graph with nodes and tensor_values")
            }
            self.graph = graph
            self.tensorValues = tensorValues
            tensorValueByName = Dictionary(tensorValues.members) { first, _ in first }
        } catch let error as WriteError {
            throw error
        } catch {
            throw WriteError("the program JSON is \(error)")
        }
    }

    /// The text with the replacements made, and one summary line per replaced node. A replacement that
    /// cannot be written (a shape that cannot be laid out) leaves its node as it was, and says why.
    mutating func apply(_ replacements: [(node: Int, nodes: [InsertedNode])], original: Graph) throws(WriteError) -> (Data, [String]) {
        let nodes = graph["nodes"]?.elements ?? []
        var edits: [(range: Range<Int>, text: String)] = []
        var summary: [String] = []
        // New values are named apart from every name the program uses and from each other.
        var taken = UniqueNames(taken: Set(tensorValues.members.map(\.key)).union(original.inputs)
            .union(original.nodes.flatMap { [$0.name] + $0.outputs.compactMap { $0 } }))
        for (index, inserted) in replacements {
            guard index < nodes.count, index < original.nodes.count else { throw WriteError("no node #\(index) in the program") }
            let replaced = original.nodes[index]
            let checkpoint = newValues.count
            do {
                let renamed = Self.renamed(inserted, apartFrom: &taken)
                var texts: [String] = []
                for node in renamed {
                    texts.append(try nodeText(node, template: nodes[index]))
                    if tensorValueByName[node.output] == nil {
                        newValueIndex[node.output] = newValues.count
                        newValues.append((node.output, try meta(for: node)))
                    }
                }
                edits.append((nodes[index].range, texts.joined(separator: ", ")))
                summary.append("replaced `\(replaced.op.description)` node `\(replaced.name)` by \(renamed.count) node\(renamed.count == 1 ? "" : "s"): \(renamed.map(\.op.description).joined(separator: ", "))")
            } catch {
                for (name, _) in newValues[checkpoint...] { newValueIndex[name] = nil }
                newValues.removeSubrange(checkpoint...)
                summary.append("left `\(replaced.op.description)` node `\(replaced.name)` as it was: \(error)")
            }
        }
        if !newValues.isEmpty {
            let entries = newValues.map { "\(JSONWriter.quoted($0.name)): \($0.meta.text)" }.joined(separator: ", ")
            edits.append((tensorValues.range.upperBound - 1 ..< tensorValues.range.upperBound - 1,
                          (tensorValues.members.isEmpty ? "" : ", ") + entries))
        }
        // One pass from the front: replacing in place from the back moved the rest of the text once per edit.
        var result = Data()
        result.reserveCapacity(bytes.count)
        var position = 0
        for edit in edits.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            result.append(contentsOf: bytes[position..<edit.range.lowerBound])
            result.append(contentsOf: edit.text.utf8)
            position = edit.range.upperBound
        }
        result.append(contentsOf: bytes[position...])
        return (result, summary)
    }

    /// The nodes with every intermediate value (all but the last node's) named apart from `taken`.
    static func renamed(_ nodes: [InsertedNode], apartFrom taken: inout UniqueNames) -> [InsertedNode] {
        var names: [String: String] = [:]
        for node in nodes.dropLast() {
            names[node.output] = taken.make(node.output)
        }
        return nodes.map { node in
            var node = node
            node.output = names[node.output] ?? node.output
            node.inputs = node.inputs.map { input in
                guard case .tensor(let name) = input.argument, let new = names[name] else { return input }
                return NodeInput(name: input.name, argument: .tensor(new))
            }
            return node
        }
    }

    private func text(_ span: JSONSpan) -> String { String(decoding: bytes[span.range], as: UTF8.self) }

    /// The replaced node's object with its target, inputs, outputs and name swapped for the new node's.
    private func nodeText(_ node: InsertedNode, template: JSONSpan) throws(WriteError) -> String {
        let templateInputs = template["inputs"]?.elements ?? []
        let withKind = templateInputs.first?["kind"] != nil || templateInputs.isEmpty
        var inputs: [String] = []
        for input in node.inputs {
            inputs.append("{\"name\": \(JSONWriter.quoted(input.name)), \"arg\": \(try Self.encode(input.argument))\(withKind ? ", \"kind\": 1" : "")}")
        }
        guard let target = template["target"], let inputsSpan = template["inputs"], let outputs = template["outputs"] else {
            throw WriteError("the node has no target, inputs or outputs")
        }
        var fields: [(JSONSpan, String)] = [
            (target, JSONWriter.quoted("torch.ops.\(node.op.description)")),
            (inputsSpan, "[" + inputs.joined(separator: ", ") + "]"),
            (outputs, "[{\"as_tensor\": {\"name\": \(JSONWriter.quoted(node.output))}}]"),
        ]
        if let name = template["name"] { fields.append((name, JSONWriter.quoted(node.output))) }
        var result = Array(bytes[template.range])
        for (span, replacement) in fields.sorted(by: { $0.0.range.lowerBound > $1.0.range.lowerBound }) {
            let range = span.range
            result.replaceSubrange((range.lowerBound - template.range.lowerBound)..<(range.upperBound - template.range.lowerBound),
                                   with: Array(replacement.utf8))
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// An elementwise result's metadata: the broadcast shape of its tensor inputs, its own dtype.
    private func meta(for node: InsertedNode) throws(WriteError) -> TensorMeta {
        var operands: [TensorMeta] = []
        for name in node.inputs.flatMap(\.argument.tensorNames) {
            guard let meta = existingMeta(name) ?? newValueIndex[name].map({ newValues[$0].meta }) else {
                throw WriteError("no tensor metadata for `\(name)`")
            }
            operands.append(meta)
        }
        guard var shape = operands.first?.sizes else { throw WriteError("`\(node.op.description)` writing `\(node.output)` has no tensor input") }
        for operand in operands.dropFirst() { shape = try Self.broadcast(shape, operand.sizes, for: node.output) }
        guard let code = TorchSerializedDType.code(node.dtype) else { throw WriteError("no serializer code for \(node.dtype.rawValue)") }
        var fields = ["dtype": String(code)]
        let sizes = shape.compactMap(\.integer)
        let template: TensorMeta
        if sizes.count == shape.count {
            // A fresh result is contiguous, whatever the layout of the operand whose metadata it starts from.
            template = operands[0]
            var strides = Array(repeating: 1, count: sizes.count)
            for index in stride(from: sizes.count - 2, through: 0, by: -1) {
                let (product, overflow) = strides[index + 1].multipliedReportingOverflow(by: sizes[index + 1])
                guard !overflow else { throw WriteError("`\(node.output)` would have more elements than can be addressed") }
                strides[index] = product
            }
            fields["sizes"] = "[" + shape.map(\.text).joined(separator: ", ") + "]"
            fields["strides"] = "[" + strides.map { "{\"as_int\": \($0)}" }.joined(separator: ", ") + "]"
            fields["storage_offset"] = "{\"as_int\": 0}"
        } else if let same = operands.first(where: { $0.sizes == shape }) {
            template = same
        } else {
            throw WriteError("cannot lay out `\(node.output)`: its broadcast shape is symbolic")
        }
        return TensorMeta(sizes: shape, text: try Self.replacing(fields, in: template.text))
    }

    private func existingMeta(_ name: String) -> TensorMeta? {
        guard let span = tensorValueByName[name] else { return nil }
        let sizes = (span["sizes"]?.elements ?? []).map { Size(text: text($0)) }
        return TensorMeta(sizes: sizes, text: text(span))
    }

    static func broadcast(_ left: [Size], _ right: [Size], for value: String) throws(WriteError) -> [Size] {
        var result: [Size] = []
        for offset in stride(from: max(left.count, right.count), through: 1, by: -1) {
            let a = offset <= left.count ? left[left.count - offset] : .one
            let b = offset <= right.count ? right[right.count - offset] : .one
            guard a == b || a == .one || b == .one else {
                throw WriteError("cannot broadcast the inputs of `\(value)` (\(a.text) against \(b.text))")
            }
            result.append(a == .one ? b : a)
        }
        return result
    }

    /// `text` (a JSON object) with the values of the given members replaced.
    static func replacing(_ values: [String: String], in text: String) throws(WriteError) -> String {
        var bytes = Array(text.utf8)
        guard let object = try? JSONSpan.parse(bytes) else { throw WriteError("malformed tensor metadata") }
        let members = object.members.filter { values[$0.key] != nil }.sorted { $0.value.range.lowerBound > $1.value.range.lowerBound }
        guard members.count == values.count else { throw WriteError("tensor metadata without \(values.keys.sorted().joined(separator: ", "))") }
        for member in members { bytes.replaceSubrange(member.value.range, with: Array(values[member.key]!.utf8)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func encode(_ argument: Argument) throws(WriteError) -> String {
        switch argument {
        case .tensor(let name): return "{\"as_tensor\": {\"name\": \(JSONWriter.quoted(name))}}"
        case .int(let value): return "{\"as_int\": \(value)}"
        case .float(let value) where value.isFinite: return "{\"as_float\": \(value)}"
        // As torch's serializer writes them: JSON has no literal for these.
        case .float(let value): return "{\"as_float\": \(JSONWriter.quoted(value.isNaN ? "NaN" : value > 0 ? "Infinity" : "-Infinity"))}"
        case .bool(let value): return "{\"as_bool\": \(value)}"
        case .none: return "{\"as_none\": true}"
        default: throw WriteError("cannot write the argument \(argument.literalDescription) into a new node")
        }
    }

}
