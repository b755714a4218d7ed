import Foundation
import TensorlintIR

/// Turns the ExportedProgram JSON (docs/formats.md §2) into the IR. Pure data: nothing is executed.
struct ExportedProgramParser {
    typealias Object = [String: Any]

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
        let root: Object
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? Object else {
                throw ReadError.malformed("\(entryName) is not a JSON object")
            }
            root = object
        } catch let error as ReadError {
            throw error
        } catch {
            throw .malformed("\(entryName) is not valid JSON")
        }
        let graphModule = try object(root["graph_module"], "graph_module")
        let graph = try object(graphModule["graph"], "graph_module.graph")
        let signature = graphModule["signature"] as? Object ?? [:]
        var main = try parseGraph(graph, name: "main", signature: signature)
        main.name = "main"
        var dialect = (root["verifiers"] as? [Any])?.first as? String
        if dialect == nil { dialect = root["dialect"] as? String }
        var schemaVersion: String?
        if let version = root["schema_version"] as? Object, let major = version["major"] as? Int {
            schemaVersion = "\(major).\(version["minor"] as? Int ?? 0)"
        }
        return Program(graphs: [main] + extraGraphs, dialect: dialect,
                       torchVersion: root["torch_version"] as? String, schemaVersion: schemaVersion)
    }

    // MARK: graphs

    private mutating func parseGraph(_ graph: Object, name: String, signature: Object) throws(ReadError) -> Graph {
        var values: [String: Value] = [:]
        for (valueName, meta) in graph["tensor_values"] as? Object ?? [:] {
            guard let meta = meta as? Object else { continue }
            let dtype = (meta["dtype"] as? Int).flatMap(TorchSerializedDType.dtype)
            let shape = (meta["sizes"] as? [Any])?.map { size -> Int? in
                ((size as? Object)?["as_int"] as? Int)
            }
            values[valueName] = Value(name: valueName, dtype: dtype, shape: shape, role: .intermediate)
        }
        let roles = inputRoles(signature)
        var inputs: [String] = []
        for input in graph["inputs"] as? [Any] ?? [] {
            guard let argument = input as? Object else { continue }
            for name in try parseArgument(argument, context: "graph input").tensorNames {
                inputs.append(name)
                if let role = roles[name] {
                    values[name, default: Value(name: name, dtype: nil, shape: nil, role: role)].role = role
                } else if values[name] != nil, name != "" {
                    values[name]?.role = .userInput
                }
            }
        }
        var outputs: [String] = []
        for output in graph["outputs"] as? [Any] ?? [] {
            guard let argument = output as? Object else { continue }
            outputs += try parseArgument(argument, context: "graph output").tensorNames
        }
        var nodes: [Node] = []
        for (index, rawNode) in (graph["nodes"] as? [Any] ?? []).enumerated() {
            guard let node = rawNode as? Object else { throw .malformed("node \(index) of graph \(name) is not an object") }
            nodes.append(try parseNode(node, index: index))
        }
        return Graph(name: name, nodes: nodes, values: values, inputs: inputs, outputs: outputs)
    }

    /// Placeholder name → role, from the graph signature's input specs.
    private func inputRoles(_ signature: Object) -> [String: Value.Role] {
        var roles: [String: Value.Role] = [:]
        for spec in signature["input_specs"] as? [Any] ?? [] {
            guard let spec = spec as? Object, let (kind, body) = spec.first.map({ ($0.key, $0.value as? Object ?? [:]) }) else { continue }
            let argument = body["arg"] as? Object ?? [:]
            let placeholder = (argument["name"] as? String)
                ?? ((argument["as_tensor"] as? Object)?["name"] as? String)
            guard let placeholder else { continue }
            switch kind {
            case "parameter": roles[placeholder] = .parameter(body["parameter_name"] as? String ?? placeholder)
            case "buffer": roles[placeholder] = .buffer(body["buffer_name"] as? String ?? placeholder)
            case "tensor_constant": roles[placeholder] = .constant(body["tensor_constant_name"] as? String ?? placeholder)
            case "user_input": roles[placeholder] = .userInput
            default: break
            }
        }
        return roles
    }

    // MARK: nodes

    private mutating func parseNode(_ node: Object, index: Int) throws(ReadError) -> Node {
        guard let target = node["target"] as? String else { throw .malformed("node \(index) has no target") }
        var inputs: [NodeInput] = []
        for (position, rawInput) in (node["inputs"] as? [Any] ?? []).enumerated() {
            guard let input = rawInput as? Object, let argument = input["arg"] as? Object else {
                throw .malformed("input \(position) of node \(index) (\(target)) is not an argument")
            }
            let name = input["name"] as? String ?? "arg\(position)"
            inputs.append(NodeInput(name: name, argument: try parseArgument(argument, context: "node \(target)")))
        }
        var outputs: [String?] = []
        for rawOutput in node["outputs"] as? [Any] ?? [] {
            guard let output = rawOutput as? Object else { continue }
            switch try parseArgument(output, context: "output of \(target)") {
            case .tensor(let name): outputs.append(name)
            case .tensors(let names): outputs += names
            case .symbol(let name): outputs.append(name)
            default: outputs.append(nil)
            }
        }
        let metadata = node["metadata"] as? Object ?? [:]
        let name = (node["name"] as? String) ?? Self.derivedNodeName(target: target, outputs: outputs)
        return Node(name: name, op: Self.opName(target), inputs: inputs, outputs: outputs,
                    source: SourceInfo(modules: Self.modules(metadata["nn_module_stack"] as? String),
                                       frames: Self.frames(metadata["stack_trace"] as? String)))
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

    private mutating func parseArgument(_ argument: Object, context: String) throws(ReadError) -> Argument {
        guard argument.count == 1, let (kind, value) = argument.first.map({ ($0.key, $0.value) }) else {
            throw .malformed("an argument of \(context) is not a one-key union object")
        }
        switch kind {
        case "as_none": return .none
        case "as_tensor":
            guard let name = (value as? Object)?["name"] as? String else { throw .malformed("tensor argument without name in \(context)") }
            return .tensor(name)
        case "as_tensors":
            return .tensors((value as? [Any] ?? []).map { ($0 as? Object)?["name"] as? String })
        case "as_optional_tensors":
            return .tensors((value as? [Any] ?? []).map { (($0 as? Object)?["as_tensor"] as? Object)?["name"] as? String })
        case "as_optional_tensor":
            return (((value as? Object)?["as_tensor"] as? Object)?["name"] as? String).map(Argument.tensor) ?? .none
        case "as_int": return .int(Self.int(value) ?? 0)
        case "as_ints": return .ints((value as? [Any] ?? []).compactMap(Self.int))
        case "as_float": return .float(Self.float(value) ?? .nan)
        case "as_floats": return .floats((value as? [Any] ?? []).compactMap(Self.float))
        case "as_bool": return .bool(value as? Bool ?? false)
        case "as_bools": return .bools((value as? [Any] ?? []).compactMap { $0 as? Bool })
        case "as_string": return .string(value as? String ?? "")
        case "as_scalar_type": return .scalarType((value as? Int).flatMap(TorchSerializedDType.dtype))
        case "as_sym_int", "as_sym_float", "as_sym_bool":
            guard let union = value as? Object else { return .other(kind) }
            if let name = union["as_name"] as? String { return .symbol(name) }
            if let int = union["as_int"].flatMap(Self.int) { return .int(int) }
            if let float = union["as_float"].flatMap(Self.float) { return .float(float) }
            if let bool = union["as_bool"] as? Bool { return .bool(bool) }
            return .other(kind)
        case "as_graph":
            if let body = value as? Object, let graph = body["graph"] as? Object {
                let name = body["name"] as? String ?? "subgraph\(extraGraphs.count + 1)"
                extraGraphs.append(try parseGraph(graph, name: name, signature: [:]))
                return .other("graph \(name)")
            }
            return .other(kind)
        default:
            return .other(kind)
        }
    }

    private static func int(_ value: Any) -> Int64? {
        if let int = value as? Int { return Int64(int) }
        if let number = value as? NSNumber { return number.int64Value }
        return nil
    }

    /// Floats may be the strings `Infinity`, `-Infinity`, `NaN`.
    private static func float(_ value: Any) -> Double? {
        if let number = value as? NSNumber { return number.doubleValue }
        switch value as? String {
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        case "NaN": return .nan
        default: return nil
        }
    }

    private func object(_ value: Any?, _ what: String) throws(ReadError) -> Object {
        guard let object = value as? Object else { throw .malformed("\(entryName) has no \(what) object") }
        return object
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

    /// Python traceback text, outermost frame first.
    static func frames(_ trace: String?) -> [SourceInfo.Frame] {
        guard let trace, !trace.isEmpty else { return [] }
        var frames: [SourceInfo.Frame] = []
        let lines = trace.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("File \""), let closing = line.dropFirst(6).firstIndex(of: "\"") else { continue }
            let file = String(line[line.index(line.startIndex, offsetBy: 6)..<closing])
            let rest = line[closing...]
            guard let lineRange = rest.range(of: ", line ") else { continue }
            let afterLine = rest[lineRange.upperBound...]
            let number = Int(afterLine.prefix { $0.isNumber }) ?? 0
            let function = afterLine.range(of: ", in ").map { String(afterLine[$0.upperBound...]) }
            var code: String?
            if index + 1 < lines.count, !lines[index + 1].trimmingCharacters(in: .whitespaces).hasPrefix("File \"") {
                code = lines[index + 1].trimmingCharacters(in: .whitespaces)
            }
            frames.append(SourceInfo.Frame(file: file, line: number, function: function, code: code))
        }
        return frames
    }
}
