import Foundation
import TensorlintIR

/// Turns the ExportedProgram JSON (docs/formats.md §2) into the IR. Pure data: nothing is executed.
/// The JSON is decoded into typed structures for the subset of torch's serialization schema that
/// tensorlint reads (`ExportedProgramSchema`); a field of the wrong type is a one-line error, never a
/// default value.
struct ExportedProgramParser {
    let entryName: String
    private var extraGraphs: [Graph] = []

    init(entryName: String) {
        self.entryName = entryName
    }

    struct Program {
        var graphs: [Graph]
        var dialect: String?
        var torchVersion: String?
        var schemaVersion: String?
    }

    mutating func parse(_ data: Data) throws(ReadError) -> Program {
        let program: ExportedProgramSchema.Program
        do {
            program = try JSONDecoder().decode(ExportedProgramSchema.Program.self, from: data)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw .malformed("\(entryName) is not valid JSON")
        } catch let error as DecodingError {
            throw .malformed("\(entryName): \(ExportedProgramSchema.describe(error))")
        } catch {
            throw .malformed("\(entryName) is not valid JSON")
        }
        let main = try parseGraph(program.graph_module.graph, name: "main", index: 0, owner: .model, signature: program.graph_module.signature)
        return Program(graphs: [main] + extraGraphs, dialect: program.verifiers?.first ?? program.dialect,
                       torchVersion: program.torch_version,
                       schemaVersion: program.schema_version.map { "\($0.major).\($0.minor ?? 0)" })
    }

    // MARK: graphs

    private mutating func parseGraph(_ graph: ExportedProgramSchema.Graph, name: String, index: Int, owner: Graph.Owner,
                                     signature: ExportedProgramSchema.Signature?) throws(ReadError) -> Graph {
        var values: [String: Value] = [:]
        for (valueName, meta) in graph.tensor_values {
            values[valueName] = Value(name: valueName, dtype: meta.dtype, shape: meta.sizes.map(\.value), role: .intermediate)
        }
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
        var nodes: [Node] = []
        for node in graph.nodes {
            nodes.append(try parseNode(node, graph: index))
        }
        return Graph(name: name, nodes: nodes, values: values, inputs: inputs, outputs: outputs, owner: owner)
    }

    // MARK: nodes

    private mutating func parseNode(_ node: ExportedProgramSchema.Node, graph: Int) throws(ReadError) -> Node {
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
            let inputName = input.name ?? "arg\(position)"
            inputs.append(NodeInput(name: inputName, argument: try argument(input.arg, owner: .node(graph: graph, node: name, attribute: inputName))))
        }
        return Node(name: name, op: Self.opName(node.target), inputs: inputs, outputs: outputs,
                    source: SourceInfo(modules: Self.modules(node.metadata?["nn_module_stack"]),
                                       frames: PythonTraceback.frames(node.metadata?["stack_trace"])))
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
    private mutating func argument(_ argument: ExportedProgramSchema.Argument, owner: Graph.Owner) throws(ReadError) -> Argument {
        guard case .graph(let name, let graph) = argument else { return argument.ir }
        let index = extraGraphs.count + 1
        let graphName = name ?? "subgraph\(index)"
        extraGraphs.append(Graph(name: graphName, nodes: [], values: [:], inputs: [], outputs: [], owner: owner))
        extraGraphs[index - 1] = try parseGraph(graph, name: graphName, index: index, owner: owner, signature: nil)
        return .subgraph(index)
    }

    // MARK: source locations

    /// `nn_module_stack`: `;`-joined `key,path,type` triples; commas inside brackets belong to the path.
    static func modules(_ stack: String?) -> [SourceInfo.Module] {
        guard let stack, !stack.isEmpty else { return [] }
        return stack.split(separator: ";").compactMap { entry in
            var parts: [String] = []
            var current = ""
            var depth = 0
            for character in entry {
                switch character {
                case "[", "(": depth += 1
                case "]", ")": depth -= 1
                default: break
                }
                if character == ",", depth == 0 {
                    parts.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            parts.append(current)
            guard parts.count >= 3 else { return nil }
            return SourceInfo.Module(path: parts[1..<(parts.count - 1)].joined(separator: ","), type: parts[parts.count - 1])
        }
    }
}
