import Foundation
import TensorlintIR
import TensorlintJSON

/// Turns the ExportedProgram JSON (docs/formats.md §2) into the IR. Pure data: nothing is executed.
/// The JSON is decoded into typed structures for the subset of torch's serialization schema that
/// tensorlint reads (`ExportedProgramSchema`); a field of the wrong type is a one-line error, never a
/// default value.
struct ExportedProgramParser {
    let entryName: String
    /// Whether, and when, the later nodes and the values are read ahead on a second thread (`nil`: one thread).
    let readAhead: ReadAhead.Policy?
    private var extraGraphs: [Graph] = []
    /// Op names, module stacks and stack traces repeat from node to node: each is decoded once and shared.
    private var strings = SharedStrings()

    init(entryName: String, readAhead: ReadAhead.Policy? = nil) {
        self.entryName = entryName
        self.readAhead = readAhead
    }

    struct Program {
        var graphs: [Graph]
        var dialect: String?
        var torchVersion: String?
        var schemaVersion: String?
        var readAhead = ReadAhead.Report()
    }

    /// The program `data` holds, read once from front to back, giving back `pages` as it passes them.
    mutating func parse(_ data: some ContiguousBytes, passing pages: inout PassedPages) throws(ReadError) -> Program {
        let program: ExportedProgramSchema.Program
        // The main graph's nodes become IR nodes as they are read.
        var nodes: [Node] = []
        // The policy until the thread is asked for, at the first node.
        var readAhead: ReadAhead?, unaskedPolicy = self.readAhead
        // The main graph's values as the IR has them, when they were read ahead.
        var valueTable: [String: Value]?
        do {
            program = try JSONReader.read(data) { (reader: inout JSONReader) throws(JSONError) in
                // Its thread reads the document's bytes, which are only valid in here.
                defer { readAhead?.stop() }
                return try ExportedProgramSchema.Program(&reader, passed: { pages.passed($0) }, readElsewhere: { node in
                    if let policy = unaskedPolicy {
                        unaskedPolicy = nil
                        readAhead = ReadAhead.start(ahead: node, entryName: entryName, pages: pages, policy: policy)
                    }
                    guard let (read, resumeAt) = readAhead?.nodes(at: node) else { return nil }
                    nodes += read
                    return (resumeAt, read.count)
                }, valuesReadElsewhere: { reader in
                    // A later `tensor_values` key (one written with escapes) is the parser's.
                    valueTable = nil
                    guard let (list, table, end) = readAhead?.values(at: reader) else { return nil }
                    valueTable = table
                    return (list, end)
                }) { nodes.append(mainGraphNode($0)) }
            }
        } catch {
            throw .malformed(error.isSyntax ? "\(entryName) is \(error)" : "\(entryName): \(error)")
        }
        let main = graph(program.graph_module.graph, nodes: nodes, name: "main", owner: .model, signature: program.graph_module.signature,
                         valueTable: valueTable.take())
        return Program(graphs: [main] + extraGraphs, dialect: program.verifiers?.first ?? program.dialect,
                       torchVersion: program.torch_version,
                       schemaVersion: program.schema_version.map { "\($0.major).\($0.minor ?? 0)" },
                       readAhead: readAhead?.report ?? ReadAhead.Report())
    }

    // MARK: graphs

    /// `valueTable`: the graph's values made already (`valueTable(_:)` of its `tensor_values`).
    private func graph(_ graph: ExportedProgramSchema.Graph, nodes: [Node], name: String, owner: Graph.Owner,
                       signature: ExportedProgramSchema.Signature?, valueTable: consuming [String: Value]? = nil) -> Graph {
        // Moved, not copied: the roles below are set in place.
        var values = valueTable.take() ?? Self.valueTable(graph.tensor_values)
        let roles = signature?.roles ?? [:]
        var inputs: [String] = []
        for input in graph.inputs {
            for name in input.ir.tensorNames {
                inputs.append(name)
                if let role = roles[name] {
                    values[name, default: Value(name: name, dtype: nil, shape: nil, role: role)].role = role
                } else if values[name] != nil, name != "" {
                    values[name]?.role = .userInput
                }
            }
        }
        var outputs: [String] = []
        for output in graph.outputs {
            outputs += output.ir.tensorNames
        }
        return Graph(name: name, nodes: nodes, values: values, inputs: inputs, outputs: outputs, owner: owner)
    }

    /// The values by name, each an intermediate value until the graph's inputs say otherwise.
    static func valueTable(_ tensorValues: [(name: String, meta: ExportedProgramSchema.TensorMeta)]) -> [String: Value] {
        var values: [String: Value] = [:]
        values.reserveCapacity(tensorValues.count)
        for (valueName, meta) in tensorValues {
            values[valueName] = Value(name: valueName, dtype: meta.dtype, shape: meta.sizes.map(\.value), role: .intermediate)
        }
        return values
    }

    // MARK: nodes

    /// A node of the main graph as the IR has it.
    mutating func mainGraphNode(_ node: ExportedProgramSchema.Node) -> Node {
        parseNode(node, graph: 0)
    }

    private mutating func parseNode(_ node: ExportedProgramSchema.Node, graph: Int) -> Node {
        var outputs: [String?] = []
        for output in node.outputs {
            switch output.ir {
            case .tensor(let name): outputs.append(name)
            case .tensors(let names): outputs += names
            case .symbol(let name): outputs.append(name)
            default: outputs.append(nil)
            }
        }
        let name = node.name ?? Self.derivedNodeName(target: node.target, outputs: outputs)
        var inputs: [NodeInput] = []
        for (position, input) in node.inputs.enumerated() {
            let inputName = strings.intern(input.name ?? "arg\(position)")
            inputs.append(NodeInput(name: inputName, argument: argument(input.arg, owner: .node(graph: graph, node: name, attribute: inputName))))
        }
        return Node(name: name, op: strings.op(node.target), inputs: inputs, outputs: outputs,
                    source: SourceInfo(modules: strings.modules(node.moduleStack),
                                       frames: strings.frames(node.stackTrace)))
    }

    /// torch ≤ 2.7 files carry no node name: fx names a single-output node after its output, and
    /// a multi-output node is the prefix of its `<node>_unused_<i>` outputs.
    static func derivedNodeName(target: String, outputs: [String?]) -> String {
        let named = outputs.compactMap { $0 }
        if named.count == 1 { return named[0] }
        for output in named {
            if let range = output.range(of: "_unused_", options: .backwards) { return String(output[..<range.lowerBound]) }
        }
        return named.first ?? opName(target).name
    }

    /// `torch.ops.aten.add.Tensor` → aten / add / Tensor; `_operator.getitem` → _operator / getitem.
    static func opName(_ target: String) -> OpName {
        var parts = target.split(separator: ".").map(String.init)
        if parts.count >= 2, parts[0] == "torch", parts[1] == "ops" { parts.removeFirst(2) }
        switch parts.count {
        case 0: return OpName(namespace: "", name: target)
        case 1: return OpName(namespace: "", name: parts[0])
        case 2: return OpName(namespace: parts[0], name: parts[1])
        default: return OpName(namespace: parts[0], name: parts[1], overload: parts[2...].joined(separator: "."))
        }
    }

    // MARK: arguments

    /// The IR argument; a nested graph (`torch.cond` branches) becomes a graph of the model, numbered after
    /// the main graph in the order graphs are met (a graph's index is taken before its own nested graphs').
    private mutating func argument(_ argument: ExportedProgramSchema.Argument, owner: Graph.Owner) -> Argument {
        guard case .graph(let name, let graph, let nodes) = argument else { return argument.ir }
        let index = extraGraphs.count + 1
        let graphName = name ?? "subgraph\(index)"
        extraGraphs.append(Graph(name: graphName, nodes: [], values: [:], inputs: [], outputs: [], owner: owner))
        let converted = nodes.map { parseNode($0, graph: index) }
        extraGraphs[index - 1] = self.graph(graph, nodes: converted, name: graphName, owner: owner, signature: nil)
        return .subgraph(index)
    }

    // MARK: source locations

    /// `nn_module_stack`: `;`-joined `key,path,type` triples; commas inside brackets belong to the path.
    static func modules(_ stack: String?) -> [SourceInfo.Module] {
        guard var stack, !stack.isEmpty else { return [] }
        return stack.withUTF8 { bytes in
            var modules: [SourceInfo.Module] = []
            var firstComma: Int?, lastComma: Int?, depth = 0
            func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
            for index in 0...bytes.count {
                let byte = index < bytes.count ? bytes[index] : UInt8(ascii: ";")
                switch byte {
                case UInt8(ascii: "["), UInt8(ascii: "("): depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: ")"): depth -= 1
                case UInt8(ascii: ","):
                    if depth == 0 {
                        if firstComma == nil { firstComma = index } else { lastComma = index }
                    }
                case UInt8(ascii: ";"):
                    if let first = firstComma, let last = lastComma {
                        modules.append(SourceInfo.Module(path: text((first + 1)..<last), type: text((last + 1)..<index)))
                    }
                    (firstComma, lastComma, depth) = (nil, nil, 0)
                default: break
                }
            }
            return modules
        }
    }
}

/// Decodes each distinct op target, module stack and stack trace once: in an export they repeat from node
/// to node (every block of a network has the same ones), so the decoded values are shared, not copied.
struct SharedStrings {
    private var ops: [BytewiseKey: OpName] = [:]
    private var moduleStacks: [BytewiseKey: [SourceInfo.Module]] = [:]
    private var traces: [BytewiseKey: [SourceInfo.Frame]] = [:]
    private var names: Set<String> = []

    mutating func op(_ target: String) -> OpName {
        Self.decoded(target, in: &ops, by: ExportedProgramParser.opName)
    }

    mutating func modules(_ stack: String?) -> [SourceInfo.Module] {
        stack.map { Self.decoded($0, in: &moduleStacks, by: ExportedProgramParser.modules) } ?? []
    }

    mutating func frames(_ trace: String?) -> [SourceInfo.Frame] {
        trace.map { Self.decoded($0, in: &traces, by: PythonTraceback.frames) } ?? []
    }

    /// The decoded value of `text`, from `cache` when it has been decoded before.
    private static func decoded<Value>(_ text: String, in cache: inout [BytewiseKey: Value], by decode: (String) -> Value) -> Value {
        let key = BytewiseKey(text)
        if let known = cache[key] { return known }
        let value = decode(text)
        cache[key] = value
        return value
    }

    mutating func intern(_ name: String) -> String {
        names.insert(name).memberAfterInsert
    }
}
