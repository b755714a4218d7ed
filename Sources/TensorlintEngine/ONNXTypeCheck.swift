import TensorlintIR

/// What onnxruntime's graph resolution and kernel assignment will find in an ONNX model, computed once per
/// lint: every value's element type (declared, or inferred from the operator schemas) and, per node, the
/// type errors and kernel gaps that make `InferenceSession` refuse the model.
public struct ONNXAnalysis: Sendable {
    public struct NodeKey: Hashable, Sendable {
        public var graph: Int
        public var node: Int
    }

    public enum IssueKind: String, Sendable {
        case typeParameterMismatch, disallowedInputType, declaredTypeMismatch, missingKernel
        case unknownOp, deprecatedOp, branchTypeMismatch, subgraphInputMismatch
    }

    public struct Issue: Sendable {
        public var kind: IssueKind
        /// Everything the rule's message and fix need.
        public var bindings: Bindings
    }

    public internal(set) var issues: [NodeKey: [Issue]] = [:]
    /// Graph index → value → element type after inference.
    public internal(set) var types: [Int: [String: DType]] = [:]

    public func issue(_ kind: IssueKind, graph: Int, node: Int) -> Issue? {
        issues[NodeKey(graph: graph, node: node)]?.first { $0.kind == kind }
    }
}

/// Walks graphs in topological order the way `Graph::InferAndVerifyTypeMatch` does: binds each node's inputs
/// to the schema's type parameters, checks allowed types, infers outputs, compares them with declarations,
/// then looks for a CPU kernel for the bound types. Subgraphs are checked with their outer scope; local
/// functions are checked per call, with the caller's input types.
struct ONNXTypeChecker {
    let model: Model
    let runtime: ONNXRuntimeKnowledge
    var analysis = ONNXAnalysis()
    /// `domain.name` → graph index of a model-local function.
    let functions: [String: Int]
    static let maximumCallDepth = 16

    init(model: Model, runtime: ONNXRuntimeKnowledge) {
        self.model = model
        self.runtime = runtime
        var functions: [String: Int] = [:]
        for (index, graph) in model.graphs.enumerated() {
            if case .function(let op, _) = graph.owner { functions[Self.functionKey(op.namespace, op.name)] = index }
        }
        self.functions = functions
    }

    static func functionKey(_ domain: String, _ name: String) -> String { "\(domain.isEmpty ? "ai.onnx" : domain).\(name)" }

    var schemas: ONNXSchemas { runtime.schemas }

    static func analyze(_ model: Model, runtime: ONNXRuntimeKnowledge) -> ONNXAnalysis {
        var checker = ONNXTypeChecker(model: model, runtime: runtime)
        return checker.run()
    }

    private mutating func run() -> ONNXAnalysis {
        _ = check(graph: 0, inputTypes: [:], outer: [:], opsets: model.opsetImports, inFunction: false, depth: 0)
        return analysis
    }

    /// A graph's output types and, when it was checked for a function call, the issues found in it.
    struct GraphResult {
        var outputs: [DType?]
        var issues: [ONNXAnalysis.Issue]
    }

    /// Checks one graph. Issues in the model's own graphs are recorded at their nodes; inside a function
    /// body (and the control-flow bodies in it) they depend on the call's types, so they are returned for
    /// the calling node instead.
    mutating func check(graph index: Int, inputTypes: [String: DType], outer: [String: DType], opsets: [String: Int],
                        inFunction: Bool, depth: Int) -> GraphResult {
        let graph = model.graphs[index]
        var types = outer
        for (name, value) in graph.values {
            if let dtype = value.dtype { types[name] = dtype }
        }
        types.merge(inputTypes) { _, new in new }
        var collected: [ONNXAnalysis.Issue] = []
        for position in Self.topologicalOrder(graph) {
            let node = graph.nodes[position]
            let key = ONNXAnalysis.NodeKey(graph: index, node: position)
            var found: [ONNXAnalysis.Issue] = []
            let outputs = checkNode(node, graph: graph, types: types, opsets: opsets, inFunction: inFunction, depth: depth, issues: &found)
            for (slot, name) in node.outputs.enumerated() {
                guard let name, slot < outputs.count, let inferred = outputs[slot] else { continue }
                if let declared = graph.values[name]?.declaredDType, declared != inferred, found.isEmpty {
                    let place = graph.outputs.contains(name) ? "as a graph output" : "in value_info"
                    found.append(.init(kind: .declaredTypeMismatch, bindings: [
                        "output": name, "declared": declared.rawValue, "inferred": inferred.rawValue,
                        "declared_onnx": ONNXSchemas.onnxSpelling(declared), "inferred_onnx": ONNXSchemas.onnxSpelling(inferred),
                        "declaration": place,
                    ]))
                }
                types[name] = inferred
            }
            guard !found.isEmpty else { continue }
            if inFunction {
                let place = " (in \(Self.describe(graph, in: model)): node `\(node.name)`, op `\(node.op.description)`)"
                collected += found.map { Self.scoped($0, place) }
            } else {
                analysis.issues[key, default: []] += found.map { Self.scoped($0, Self.scope(of: graph, in: model)) }
            }
        }
        if !inFunction { analysis.types[index] = types }
        return GraphResult(outputs: graph.outputs.map { types[$0] }, issues: collected)
    }

    /// Prefixes where the issue was found to any scope it already has (from a function called there).
    static func scoped(_ issue: ONNXAnalysis.Issue, _ place: String) -> ONNXAnalysis.Issue {
        var bindings = issue.bindings
        bindings["scope"] = place + (bindings["scope"] ?? "")
        return .init(kind: issue.kind, bindings: bindings)
    }

    /// `the body of `local.ScaleAdd`` or ``then_branch` of If node `if_0``.
    static func describe(_ graph: Graph, in model: Model) -> String {
        switch graph.owner {
        case .node(let parent, let node, let attribute):
            let op = model.graphs[parent].nodes.first { $0.name == node }?.op.description ?? "a"
            return "`\(attribute)` of \(op) node `\(node)`"
        default:
            return "the body of `\(graph.name)`"
        }
    }

    /// ` (in `then_branch` of If node `if_0`)` for nodes of nested graphs, empty for the main graph.
    static func scope(of graph: Graph, in model: Model) -> String {
        guard case .node(let parent, let node, let attribute) = graph.owner else { return "" }
        let op = model.graphs[parent].nodes.first { $0.name == node }?.op.description ?? "a"
        return " (in `\(attribute)` of \(op) node `\(node)`\(scope(of: model.graphs[parent], in: model)))"
    }

    /// Kahn's order over the edges inside the graph; a cycle leaves its nodes in file order at the end.
    static func topologicalOrder(_ graph: Graph) -> [Int] {
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for case let output? in node.outputs { producer[output] = index }
        }
        var waiting = [Int](repeating: 0, count: graph.nodes.count)
        var consumers = [[Int]](repeating: [], count: graph.nodes.count)
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs {
                for name in input.argument.tensorNames {
                    if let source = producer[name], source != index {
                        waiting[index] += 1
                        consumers[source].append(index)
                    }
                }
            }
        }
        var ready = (0..<graph.nodes.count).filter { waiting[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(graph.nodes.count)
        while let next = ready.popLast() {
            order.append(next)
            for consumer in consumers[next].reversed() {
                waiting[consumer] -= 1
                if waiting[consumer] == 0 { ready.append(consumer) }
            }
        }
        if order.count < graph.nodes.count {
            let placed = Set(order)
            order += (0..<graph.nodes.count).filter { !placed.contains($0) }
        }
        return order
    }

    // MARK: one node

    struct Operand {
        var position: Int
        var formal: String
        var tensor: String
        var dtype: DType
    }

    mutating func checkNode(_ node: Node, graph: Graph, types: [String: DType], opsets: [String: Int],
                            inFunction: Bool, depth: Int, issues: inout [ONNXAnalysis.Issue]) -> [DType?] {
        let domain = node.op.namespace.isEmpty ? "ai.onnx" : node.op.namespace
        let inputTypes: [DType?] = node.inputs.map { input in input.argument.tensorNames.first.flatMap { types[$0] } }
        if let function = functions[Self.functionKey(domain, node.op.name)] {
            return checkCall(function: function, inputTypes: inputTypes, depth: depth, issues: &issues)
        }
        if let subgraphOutputs = checkControlFlow(node, inputTypes: inputTypes, types: types, opsets: opsets,
                                                  inFunction: inFunction, depth: depth, issues: &issues) {
            return subgraphOutputs
        }
        let opset = opsets[domain] ?? (domain == "ai.onnx" ? model.opsetImports["ai.onnx"] : nil) ?? 1
        guard schemas.knows(domain: domain) else { return [] }
        guard let schema = schemas.schema(domain: domain, name: node.op.name, opset: opset) else {
            issues.append(.init(kind: .unknownOp, bindings: ["domain": domain, "opset": String(opset), "schema_op": node.op.name]))
            return []
        }
        let common: Bindings = ["since": String(schema.since), "opset": String(opset), "domain": domain, "schema_op": schema.name]
        if schema.deprecated {
            issues.append(.init(kind: .deprecatedOp, bindings: common))
            return []
        }
        var bound: [String: Operand] = [:]
        for (position, input) in node.inputs.enumerated() {
            guard let tensor = input.argument.tensorNames.first, let dtype = inputTypes[position],
                  let formal = schema.formal(schema.inputs, at: position) else { continue }
            let operand = Operand(position: position, formal: formal.name, tensor: tensor, dtype: dtype)
            let allowed = schema.allowedTypes(formal)
            guard allowed.contains(dtype.rawValue) else {
                issues.append(.init(kind: .disallowedInputType, bindings: common.merging(describe(operand, "input", graph)) { a, _ in a }
                    .merging(["param": formal.typeString, "allowed": allowed.sorted().joined(separator: ", "),
                              "cast_fix": retypeFix(operand, to: Self.suggestedType(allowed: allowed, instead: dtype), graph: graph)]) { a, _ in a }))
                break
            }
            guard schema.constraints[formal.typeString] != nil, formal.option != .variadic || formal.isHomogeneous else { continue }
            if let first = bound[formal.typeString] {
                if first.dtype != dtype {
                    var bindings = common.merging(describe(first, "first", graph)) { a, _ in a }
                    bindings.merge(describe(operand, "second", graph)) { a, _ in a }
                    bindings["param"] = formal.typeString
                    bindings["cast_fix"] = castFix(first: first, second: operand, graph: graph)
                    issues.append(.init(kind: .typeParameterMismatch, bindings: bindings))
                    break
                }
            } else {
                bound[formal.typeString] = operand
            }
        }
        var outputs: [DType?] = []
        for slot in node.outputs.indices {
            guard let formal = schema.formal(schema.outputs, at: slot) else { outputs.append(nil); continue }
            outputs.append(outputType(formal, schema: schema, node: node, bound: bound, inputTypes: inputTypes))
        }
        if issues.isEmpty, let gap = kernelGap(schema, node: node, bound: bound, outputs: outputs) {
            issues.append(.init(kind: .missingKernel, bindings: common.merging(gap) { a, _ in a }))
        }
        return outputs
    }

    func describe(_ operand: Operand, _ prefix: String, _ graph: Graph) -> Bindings {
        let isWeight = graph.values[operand.tensor]?.role.isWeight == true
        return ["\(prefix)_input": operand.tensor, "\(prefix)_formal": operand.formal, "\(prefix)_dtype": operand.dtype.rawValue,
                "\(prefix)_onnx": ONNXSchemas.onnxSpelling(operand.dtype), "\(prefix)_position": String(operand.position),
                "\(prefix)_origin": isWeight ? "initializer" : "value"]
    }

    /// Which side to change: a weight is retyped (its bytes converted), a computed value gets a Cast to the other's type.
    func castFix(first: Operand, second: Operand, graph: Graph) -> String {
        let firstIsWeight = graph.values[first.tensor]?.role.isWeight == true
        let secondIsWeight = graph.values[second.tensor]?.role.isWeight == true
        let (change, keep) = firstIsWeight && !secondIsWeight ? (first, second) : (second, first)
        return retypeFix(change, to: keep.dtype, graph: graph)
    }

    /// `retype initializer …` for a weight, `insert Cast(to=…)` for a computed value.
    func retypeFix(_ operand: Operand, to dtype: DType?, graph: Graph) -> String {
        guard let dtype else { return "give `\(operand.tensor)` a type the op accepts" }
        let cast = "`Cast(to=\(schemas.dataTypeNumber(dtype).map(String.init) ?? "?"))` (\(dtype.rawValue))"
        if graph.values[operand.tensor]?.role.isWeight == true {
            return "retype initializer `\(operand.tensor)` from \(operand.dtype.rawValue) to \(dtype.rawValue) (convert its bytes), or insert \(cast) after it"
        }
        return "insert \(cast) on `\(operand.tensor)` before it enters input \(operand.position) (`\(operand.formal)`)"
    }

    static func suggestedType(allowed: Set<String>, instead dtype: DType) -> DType? {
        let preference: [DType] = dtype.isFloatingPoint ? [.float32, .float16, .float64] : [.int64, .int32, .float32]
        return preference.first { allowed.contains($0.rawValue) }
    }

    func outputType(_ formal: ONNXSchemas.FormalParameter, schema: ONNXSchemas.OperatorSchema, node: Node,
                    bound: [String: Operand], inputTypes: [DType?]) -> DType? {
        if let operand = bound[formal.typeString] { return operand.dtype }
        if let typing = schemas.attributeTypes[node.op.name], node.op.namespace.isEmpty {
            if let attribute = typing.dataTypeAttribute, case .int(let number)? = node.attributes[attribute],
               let dtype = schemas.dataTypes[number] { return dtype }
            for attribute in typing.tensorAttributes {
                if case .tensorLiteral(let dtype)? = node.attributes[attribute] { return dtype }
            }
            for (attribute, dtype) in typing.presenceTypes where node.attributes[attribute] != nil { return dtype }
            if let input = typing.likeInput, input < inputTypes.count, let dtype = inputTypes[input] { return dtype }
            if let dtype = typing.defaultType { return dtype }
        }
        let allowed = schema.allowedTypes(formal)
        return allowed.count == 1 ? DType(rawValue: allowed.first!) : nil
    }

    // MARK: kernels

    /// Bindings describing the missing CPU kernel, or `nil` when onnxruntime finds one (directly, through
    /// its fp16→fp32 Cast insertion, or by expanding the op's function body).
    func kernelGap(_ schema: ONNXSchemas.OperatorSchema, node: Node, bound: [String: Operand], outputs: [DType?]) -> Bindings? {
        var binding = bound.mapValues(\.dtype)
        for (slot, dtype) in outputs.enumerated() {
            guard let dtype, let formal = schema.formal(schema.outputs, at: slot), schema.constraints[formal.typeString] != nil else { continue }
            binding[formal.typeString] = binding[formal.typeString] ?? dtype
        }
        guard !binding.isEmpty, let all = runtime.kernels(domain: schema.domain, op: schema.name) else { return nil }
        let kernels = all.filter { $0.versions.contains(schema.since) }
        if Self.matches(kernels, binding) || Self.matches(kernels, binding.mapValues { $0 == .float16 ? .float32 : $0 }) { return nil }
        let described = binding.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ", ")
        let offered = Set(kernels.flatMap { $0.types.values.flatMap { $0 } }).sorted().joined(separator: ", ")
        var gap: Bindings = ["binding": described, "dtype": binding.values.first { $0.isFloatingPoint }?.rawValue ?? binding.values.first!.rawValue,
                             "kernel_types": offered.isEmpty ? "none for this opset" : offered,
                             "expansion": "", "failing_op": "\(schema.name)(\(schema.since))"]
        if let body = schema.functionOps, !body.isEmpty {
            let dtypes = Set(binding.values)
            let blocking = body.filter { op in
                guard let rows = runtime.kernels(domain: "ai.onnx", op: op) else { return false }
                return !dtypes.allSatisfy { dtype in
                    let candidates: Set<String> = [dtype.rawValue, dtype == .float16 ? "float32" : dtype.rawValue]
                    return rows.contains { row in row.types.values.contains { !$0.isDisjoint(with: candidates) } }
                }
            }
            guard let first = blocking.first else { return nil }
            gap["expansion"] = " onnxruntime then expands it into its function body (\(body.joined(separator: ", "))), where `\(first)` has no kernel either."
            gap["failing_op"] = first
        }
        return gap
    }

    static func matches(_ kernels: [ONNXRuntimeKnowledge.Kernel], _ binding: [String: DType]) -> Bool {
        kernels.contains { kernel in
            kernel.types.allSatisfy { parameter, types in binding[parameter].map { types.contains($0.rawValue) } ?? true }
        }
    }

    // MARK: functions and control flow

    /// Function bodies by function and input types: each is checked once per signature, so functions
    /// calling functions cannot make the check exponential.
    var calls: [String: GraphResult] = [:]

    /// A model-local function called with these input types: its output types; issues in its body go to the call.
    mutating func checkCall(function: Int, inputTypes: [DType?], depth: Int, issues: inout [ONNXAnalysis.Issue]) -> [DType?] {
        guard depth < Self.maximumCallDepth, case .function(_, let opsets) = model.graphs[function].owner else { return [] }
        let signature = "\(function):" + inputTypes.map { $0?.rawValue ?? "?" }.joined(separator: ",")
        let result: GraphResult
        if let known = calls[signature] {
            result = known
        } else {
            let body = model.graphs[function]
            var formal: [String: DType] = [:]
            for (position, name) in body.inputs.enumerated() where position < inputTypes.count {
                if let dtype = inputTypes[position] { formal[name] = dtype }
            }
            result = check(graph: function, inputTypes: formal, outer: [:], opsets: opsets.merging(model.opsetImports) { own, _ in own },
                           inFunction: true, depth: depth + 1)
            calls[signature] = result
        }
        issues += result.issues
        return result.outputs
    }

    /// If, Loop and Scan: checks the bodies with their inputs typed from the node; `nil` for other ops.
    mutating func checkControlFlow(_ node: Node, inputTypes: [DType?], types: [String: DType], opsets: [String: Int],
                                   inFunction: Bool, depth: Int, issues: inout [ONNXAnalysis.Issue]) -> [DType?]? {
        let subgraphs = node.attributes.sorted { $0.key < $1.key }.compactMap { name, argument -> (String, Int)? in
            if case .subgraph(let index) = argument { return (name, index) }
            return nil
        }
        guard node.op.namespace.isEmpty, !subgraphs.isEmpty, depth < Self.maximumCallDepth else { return nil }
        func body(_ attribute: String) -> Int? { subgraphs.first { $0.0 == attribute }?.1 }
        func checkBody(_ index: Int, _ inputTypes: [String: DType]) -> [DType?] {
            let result = check(graph: index, inputTypes: inputTypes, outer: types, opsets: opsets, inFunction: inFunction, depth: depth + 1)
            issues += result.issues
            return result.outputs
        }
        switch node.op.name {
        case "If":
            guard let then = body("then_branch"), let otherwise = body("else_branch") else { return nil }
            let thenTypes = checkBody(then, [:])
            let elseTypes = checkBody(otherwise, [:])
            for (slot, (a, b)) in zip(thenTypes, elseTypes).enumerated() {
                if let a, let b, a != b {
                    issues.append(.init(kind: .branchTypeMismatch, bindings: [
                        "slot": String(slot), "then_dtype": a.rawValue, "else_dtype": b.rawValue,
                        "then_output": model.graphs[then].outputs[slot], "else_output": model.graphs[otherwise].outputs[slot]]))
                    break
                }
            }
            return zip(thenTypes, elseTypes).map { $0 ?? $1 }
        case "Loop", "Scan":
            guard let index = body("body") else { return nil }
            let graph = model.graphs[index]
            // Loop's body takes (iteration, condition, carried…) for node inputs (M, cond, carried…); Scan's pairs one to one.
            let skip = node.op.name == "Loop" ? 2 : 0
            var formal: [String: DType] = [:]
            if node.op.name == "Loop", graph.inputs.count >= 2 {
                formal[graph.inputs[0]] = .int64
                formal[graph.inputs[1]] = .bool
            }
            for (position, name) in graph.inputs.enumerated() where position >= skip && position < inputTypes.count {
                guard let outerType = inputTypes[position] else { continue }
                if let declared = graph.values[name]?.declaredDType, declared != outerType {
                    if issues.isEmpty {
                        issues.append(.init(kind: .subgraphInputMismatch, bindings: [
                            "body_input": name, "declared": declared.rawValue, "outer_input": node.inputs[position].argument.literalDescription,
                            "outer_dtype": outerType.rawValue]))
                    }
                    continue
                }
                formal[name] = outerType
            }
            let outputs = checkBody(index, formal)
            return Array(outputs.dropFirst(node.op.name == "Loop" ? 1 : 0))
        default:
            for (_, index) in subgraphs {
                _ = checkBody(index, [:])
            }
            return nil
        }
    }
}
