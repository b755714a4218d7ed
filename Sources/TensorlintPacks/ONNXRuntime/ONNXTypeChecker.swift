import TensorlintEngine
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
        case unknownOp, deprecatedOp, branchTypeMismatch, subgraphInputMismatch, invalidTypeAttribute
        case unregisteredDomain, invalidInsertedCast, constantWithoutValue, kernelRefusesAttributes, inferenceRefusesAttributes
        case unrecognizedAttribute, missingRequiredAttribute
    }

    public struct Issue: Sendable {
        public var kind: IssueKind
        /// Everything the rule's message and fix need.
        public var bindings: Bindings
        /// The file edits that cure it, when an automatic fix exists.
        public var edits: [ModelEdit] = []
    }

    public internal(set) var issues: [NodeKey: [Issue]] = [:]

    public func issue(_ kind: IssueKind, graph: Int, node: Int) -> Issue? {
        issues[NodeKey(graph: graph, node: node)]?.first { $0.kind == kind }
    }
}

/// Element types visible in a graph: its own values, then those of the graphs around it (looked up, not copied).
final class TypeScope {
    let parent: TypeScope?
    var local: [String: DType] = [:]

    init(parent: TypeScope?) {
        self.parent = parent
    }

    subscript(name: String) -> DType? { local[name] ?? parent?[name] }
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
    /// The model's graphs, then the schema function bodies expanded for nodes that have no kernel.
    var graphs: [Graph]
    /// Expanded schema bodies: schema, body and the caller's attributes the body reads → graph index.
    var expandedBodies: [String: Int] = [:]
    /// As deep as the reader accepts graphs to be nested; recursive functions stop here.
    static let maximumCallDepth = 64

    init(model: Model, runtime: ONNXRuntimeKnowledge) {
        self.model = model
        self.runtime = runtime
        var functions: [String: Int] = [:]
        for (index, graph) in model.graphs.enumerated() {
            if case .function(let op, _) = graph.owner { functions[Self.functionKey(op)] = index }
        }
        self.functions = functions
        graphs = model.graphs
    }

    /// Functions are identified by domain, name and overload (IR 10).
    static func functionKey(_ op: OpName) -> String {
        "\(op.namespace.isEmpty ? "ai.onnx" : op.namespace).\(op.name):\(op.overload ?? "")"
    }

    var schemas: ONNXSchemas { runtime.schemas }

    static func analyze(_ model: Model, runtime: ONNXRuntimeKnowledge) -> ONNXAnalysis {
        var checker = ONNXTypeChecker(model: model, runtime: runtime)
        return checker.run()
    }

    private mutating func run() -> ONNXAnalysis {
        _ = check(graph: 0, inputTypes: [:], outer: nil, opsets: model.opsetImports, inFunction: false, depth: 0)
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
    mutating func check(graph index: Int, inputTypes: [String: DType], outer: TypeScope?, opsets: [String: Int],
                        inFunction: Bool, depth: Int) -> GraphResult {
        let graph = graphs[index]
        let types = TypeScope(parent: outer)
        for (name, value) in graph.values {
            if let dtype = value.dtype { types.local[name] = dtype }
        }
        types.local.merge(inputTypes) { _, new in new }
        var collected: [(position: Int, issue: ONNXAnalysis.Issue)] = []
        for position in Self.topologicalOrder(graph) {
            let node = graph.nodes[position]
            let key = ONNXAnalysis.NodeKey(graph: index, node: position)
            var found: [ONNXAnalysis.Issue] = []
            let outputs = checkNode(node, at: key, graph: graph, types: types, opsets: opsets, inFunction: inFunction, depth: depth,
                                    issues: &found)
            for (slot, name) in node.outputs.enumerated() {
                guard let name, slot < outputs.count, let inferred = outputs[slot] else { continue }
                if let declared = graph.values[name]?.declaredDType, declared != inferred, found.isEmpty {
                    let place = graph.outputs.contains(name) ? "as a graph output" : "in value_info"
                    found.append(.init(kind: .declaredTypeMismatch, bindings: [
                        "output": name, "declared": declared.rawValue, "inferred": inferred.rawValue,
                        "declared_onnx": ONNXSchemas.onnxSpelling(declared), "inferred_onnx": ONNXSchemas.onnxSpelling(inferred),
                        "declaration": place,
                    ], edits: [Self.keepsInterface(output: name, of: graph, declared: declared, inferred: inferred)
                        ? .castOutput(graph: index, node: position, output: slot, to: declared)
                        : .redeclare(graph: index, name: name, to: inferred)]))
                }
                types.local[name] = inferred
            }
            guard !found.isEmpty else { continue }
            if inFunction {
                // Edits inside a function body would change it for every call: no automatic fix there.
                let place = " (in \(Self.describe(graph, in: graphs)): node `\(node.name)`, op `\(node.op.description)`)"
                collected += found.map { issue in
                    var scoped = Self.scoped(issue, place)
                    scoped.edits = []
                    return (position, scoped)
                }
            } else {
                analysis.issues[key, default: []] += found.map { Self.scoped($0, Self.scope(of: graph, in: graphs)) }
            }
        }
        // The session reports the first failing node of a body in the body's own order.
        return GraphResult(outputs: graph.outputs.map { types[$0] },
                           issues: collected.enumerated().sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }
                               .map(\.element.issue))
    }

    /// A graph output declared float32/float64 while computed in fp16/bf16 is the model's interface (as
    /// `keep_io_types` leaves it): the computed value is cast to it, exactly. Any other contradiction is a
    /// wrong declaration, and the declaration follows the computation.
    static func keepsInterface(output name: String, of graph: Graph, declared: DType, inferred: DType) -> Bool {
        graph.outputs.contains(name) && [.float32, .float64].contains(declared) && [.float16, .bfloat16].contains(inferred)
    }

    /// Prefixes where the issue was found to any scope it already has (from a function called there).
    static func scoped(_ issue: ONNXAnalysis.Issue, _ place: String) -> ONNXAnalysis.Issue {
        var scoped = issue
        scoped.bindings["scope"] = place + (issue.bindings["scope"] ?? "")
        return scoped
    }

    /// `the body of `local.ScaleAdd`` or ``then_branch` of If node `if_0``.
    static func describe(_ graph: Graph, in graphs: [Graph]) -> String {
        switch graph.owner {
        case .node(let parent, let node, let attribute):
            let op = graphs[parent].nodes.first { $0.name == node }?.op.description ?? "a"
            return "`\(attribute)` of \(op) node `\(node)`"
        default:
            return "the body of `\(graph.name)`"
        }
    }

    /// ` (in `then_branch` of If node `if_0`)` for nodes of nested graphs, empty for the main graph.
    static func scope(of graph: Graph, in graphs: [Graph]) -> String {
        guard case .node(let parent, _, _) = graph.owner else { return "" }
        return " (in \(describe(graph, in: graphs))\(scope(of: graphs[parent], in: graphs)))"
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

    mutating func checkNode(_ node: Node, at key: ONNXAnalysis.NodeKey, graph: Graph, types: TypeScope, opsets: [String: Int],
                            inFunction: Bool, depth: Int, issues: inout [ONNXAnalysis.Issue]) -> [DType?] {
        let domain = node.op.namespace.isEmpty ? "ai.onnx" : node.op.namespace
        let inputTypes: [DType?] = node.inputs.map { input in input.argument.tensorNames.first.flatMap { types[$0] } }
        if let function = functions[Self.functionKey(node.op)] {
            return checkCall(function: function, inputTypes: inputTypes, depth: depth, issues: &issues)
        }
        if let subgraphOutputs = checkControlFlow(node, inputTypes: inputTypes, types: types, opsets: opsets,
                                                  inFunction: inFunction, depth: depth, issues: &issues) {
            return subgraphOutputs
        }
        let opset = opsets[domain] ?? (domain == "ai.onnx" ? model.opsetImports["ai.onnx"] : nil) ?? 1
        guard runtime.registeredDomains.contains(domain) else {
            issues.append(.init(kind: .unregisteredDomain, bindings: ["domain": domain, "schema_op": node.op.name,
                                                                     "registered": runtime.registeredDomains.sorted().joined(separator: ", ")]))
            return []
        }
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
        // A Constant becomes an initializer when onnxruntime builds the graph, from whichever of its attributes
        // holds the value (`ConstantNodeProtoToTensorProto`); with none the model does not load.
        if domain == "ai.onnx", schema.name == "Constant", !node.attributes.keys.contains(where: { schema.attributes[$0] != nil }) {
            issues.append(.init(kind: .constantWithoutValue, bindings: common.merging([
                "value_attributes": schema.attributes.keys.sorted().joined(separator: ", ")]) { a, _ in a }))
            return []
        }
        if let issue = schemaAttributeIssue(node, schema: schema, common: common) {
            issues.append(issue)
            return []
        }
        // An attribute that names the output's data type must name one (onnx's type inference refuses the rest).
        if domain == "ai.onnx", let attribute = schemas.attributeTypes[node.op.name]?.dataTypeAttribute,
           case .int(let number)? = node.attributes[attribute], !schemas.dataTypeNumbers.contains(number) {
            issues.append(.init(kind: .invalidTypeAttribute, bindings: common.merging(["attribute": attribute, "value": String(number)]) { a, _ in a }))
            return []
        }
        let bound = bindInputs(node, schema: schema, inputTypes: inputTypes, graph: graph, at: key, opsets: opsets, common: common,
                               issues: &issues)
        // The inference function runs after the inputs' types have been matched to the schema's constraints.
        if issues.isEmpty, let refusal = inferenceRefusal(node, schema: schema, common: common) {
            issues.append(refusal)
            return []
        }
        var outputs: [DType?] = []
        for slot in node.outputs.indices {
            guard let formal = schema.formal(schema.outputs, at: slot) else { outputs.append(nil); continue }
            outputs.append(outputType(formal, schema: schema, node: node, bound: bound, inputTypes: inputTypes))
        }
        if issues.isEmpty {
            let binding = kernelBinding(schema, bound: bound, outputs: outputs)
            issues += assignKernel(node, schema: schema, binding: binding, opset: opset, at: key, inputTypes: inputTypes, outputs: outputs,
                                   opsets: opsets, depth: depth, common: common)
        }
        return outputs
    }

    /// `OpSchema::Verify`, which onnxruntime's graph resolution runs on every node but the Constants it has
    /// already made initializers: an attribute the schema does not declare (a name starting with "__" is an
    /// implementation detail it skips; of several, the alphabetically first is named, where Verify names the
    /// first in the node), then a required one left out.
    func schemaAttributeIssue(_ node: Node, schema: ONNXSchemas.OperatorSchema, common: Bindings) -> ONNXAnalysis.Issue? {
        if schema.domain == "ai.onnx", schema.name == "Constant" { return nil }
        if !schema.allowsUncheckedAttributes,
           let attribute = node.attributes.keys.filter({ schema.attributes[$0] == nil && !$0.hasPrefix("__") }).min() {
            let declaring = (schemas.schemas.row(domain: schema.domain, op: schema.name) ?? [])
                .filter { $0.attributes[attribute] != nil }.map { "\(schema.name)-\($0.since)" }
            return .init(kind: .unrecognizedAttribute, bindings: common.merging([
                "attribute": attribute,
                "declared_in": declaring.isEmpty ? "no version of \(schema.name) declares it"
                    : "\(declaring.joined(separator: ", ")) declare\(declaring.count == 1 ? "s" : "") it",
                "declared": schema.attributes.isEmpty ? "no attributes" : schema.attributes.keys.sorted().map { "`\($0)`" }.joined(separator: ", "),
            ]) { a, _ in a })
        }
        if let attribute = schema.required.filter({ node.attributes[$0] == nil }).min() {
            return .init(kind: .missingRequiredAttribute, bindings: common.merging([
                "attribute": attribute, "attribute_type": schema.attributes[attribute] ?? "",
            ]) { a, _ in a })
        }
        return nil
    }

    /// Binds the node's inputs to the schema's type parameters, as `InferAndVerifyTypeMatch` does: an input of
    /// a type its formal parameter does not allow, or of another type than an earlier input bound to the same
    /// parameter, is the node's issue, and binding stops there (one issue per node: the first the session
    /// would report).
    mutating func bindInputs(_ node: Node, schema: ONNXSchemas.OperatorSchema, inputTypes: [DType?], graph: Graph, at key: ONNXAnalysis.NodeKey,
                    opsets: [String: Int], common: Bindings, issues: inout [ONNXAnalysis.Issue]) -> [String: Operand] {
        var bound: [String: Operand] = [:]
        for (position, input) in node.inputs.enumerated() {
            guard let tensor = input.argument.tensorNames.first, let dtype = inputTypes[position],
                  let formal = schema.formal(schema.inputs, at: position) else { continue }
            let operand = Operand(position: position, formal: formal.name, tensor: tensor, dtype: dtype)
            let allowed = schema.allowedTypes(formal)
            guard allowed.contains(dtype.rawValue) else {
                let change = retype(operand, to: Self.suggestedType(allowed: allowed, instead: dtype), graph: graph, at: key, opsets: opsets)
                issues.append(.init(kind: .disallowedInputType, bindings: common.merging(describe(operand, "input", graph)) { a, _ in a }
                    .merging(["param": formal.typeString, "allowed": allowed.sorted().joined(separator: ", "),
                              "cast_fix": change.fix]) { a, _ in a }, edits: change.edits))
                break
            }
            guard schema.constraints[formal.typeString] != nil, formal.option != .variadic || formal.isHomogeneous else { continue }
            if let first = bound[formal.typeString] {
                if first.dtype != dtype {
                    var bindings = common.merging(describe(first, "first", graph)) { a, _ in a }
                    bindings.merge(describe(operand, "second", graph)) { a, _ in a }
                    bindings["param"] = formal.typeString
                    let change = unify(first: first, second: operand, schema: schema, graph: graph, at: key, opsets: opsets)
                    bindings["cast_fix"] = change.fix
                    issues.append(.init(kind: .typeParameterMismatch, bindings: bindings, edits: change.edits))
                    break
                }
            } else {
                bound[formal.typeString] = operand
            }
        }
        return bound
    }

    func describe(_ operand: Operand, _ prefix: String, _ graph: Graph) -> Bindings {
        let isWeight = graph.values[operand.tensor]?.role.isWeight == true
        return ["\(prefix)_input": operand.tensor, "\(prefix)_formal": operand.formal, "\(prefix)_dtype": operand.dtype.rawValue,
                "\(prefix)_onnx": ONNXSchemas.onnxSpelling(operand.dtype), "\(prefix)_position": String(operand.position),
                "\(prefix)_origin": isWeight ? "initializer" : "value"]
    }

    /// A fix in words and as edits.
    struct Change {
        var fix: String
        var edits: [ModelEdit]
    }

    /// Which side to change: a weight is retyped (its bytes converted), a computed value gets a Cast to the other's type.
    /// Prefers the type a CPU kernel exists for (bf16 + fp32 → fp32), then the computed value's type.
    mutating func unify(first: Operand, second: Operand, schema: ONNXSchemas.OperatorSchema, graph: Graph,
                        at key: ONNXAnalysis.NodeKey, opsets: [String: Int]) -> Change {
        let firstIsWeight = graph.values[first.tensor]?.role.isWeight == true
        let secondIsWeight = graph.values[second.tensor]?.role.isWeight == true
        var (change, keep) = firstIsWeight && !secondIsWeight ? (first, second) : (second, first)
        if !hasKernel(schema, for: keep.dtype), hasKernel(schema, for: change.dtype) { swap(&change, &keep) }
        return retype(change, to: keep.dtype, graph: graph, at: key, opsets: opsets)
    }

    /// Whether the CPU provider runs the op with every type parameter bound to `dtype` (fp16 through Casts).
    func hasKernel(_ schema: ONNXSchemas.OperatorSchema, for dtype: DType) -> Bool {
        guard let kernels = runtime.kernels(for: schema), !kernels.isEmpty else { return true }
        let parameters = Set(schema.constraints.keys)
        return Self.matches(kernels, Dictionary(uniqueKeysWithValues: parameters.map { ($0, dtype == .float16 ? .float32 : dtype) }))
            || Self.matches(kernels, Dictionary(uniqueKeysWithValues: parameters.map { ($0, dtype) }))
    }

    /// Whether a Cast node from one type to another is valid at the graph's opset (bf16 Casts need opset 13).
    func canCast(from source: DType, to target: DType, opsets: [String: Int]) -> Bool {
        guard let cast = schemas.schema(domain: "ai.onnx", name: "Cast", opset: opsets["ai.onnx"] ?? 1),
              cast.inputs.count == 1, cast.outputs.count == 1 else { return false }
        return cast.allowedTypes(cast.inputs[0]).contains(source.rawValue) && cast.allowedTypes(cast.outputs[0]).contains(target.rawValue)
    }

    /// Converts a weight that only this node reads (its bytes, in the file); otherwise casts the input
    /// just before the node, which leaves other readers of the value as they are.
    mutating func retype(_ operand: Operand, to dtype: DType?, graph: Graph, at key: ONNXAnalysis.NodeKey,
                         opsets: [String: Int]) -> Change {
        guard let dtype else { return Change(fix: "give `\(operand.tensor)` a type the op accepts", edits: []) }
        let cast = "`Cast(to=\(schemas.dataTypeNumber(dtype).map(String.init) ?? "?"))` (\(dtype.rawValue))"
        let castEdits = canCast(from: operand.dtype, to: dtype, opsets: opsets)
            ? [ModelEdit.castInput(graph: key.graph, node: key.node, input: operand.position, to: dtype)] : []
        guard let value = graph.values[operand.tensor], value.role.isWeight else {
            return Change(fix: "insert \(cast) on `\(operand.tensor)` before it enters input \(operand.position) (`\(operand.formal)`)",
                          edits: castEdits)
        }
        let fix = "retype initializer `\(operand.tensor)` from \(operand.dtype.rawValue) to \(dtype.rawValue) (convert its bytes), or insert \(cast) after it"
        let floats: Set<DType> = [.float16, .bfloat16, .float32, .float64]
        let convertible = readerCount(operand.tensor) == 1 && value.external == nil && !value.isSparse && value.declaredDType == nil
            && floats.contains(operand.dtype) && floats.contains(dtype)
        return Change(fix: fix, edits: convertible ? [.convertWeight(graph: key.graph, name: operand.tensor, to: dtype)] : castEdits)
    }

    /// How often each value is read (node inputs, graph outputs), counted the first time a fix needs it.
    var readers: [String: Int]?

    mutating func readerCount(_ name: String) -> Int {
        if readers == nil {
            var counts: [String: Int] = [:]
            for graph in model.graphs {
                for node in graph.nodes {
                    for input in node.inputs { for tensor in input.argument.tensorNames { counts[tensor, default: 0] += 1 } }
                }
                for output in graph.outputs { counts[output, default: 0] += 1 }
            }
            readers = counts
        }
        return readers![name] ?? 0
    }

    /// Runs the node in float32, as onnxruntime itself does for fp16 nodes: the inputs and outputs bound to a
    /// type parameter of fp16 or bf16 are cast to float32 before it (exact) and back after it, provided a
    /// float32 kernel exists and the opset has those Casts. float64 is not narrowed: that would lose precision.
    func castAround(_ node: Node, schema: ONNXSchemas.OperatorSchema, binding: [String: DType], at key: ONNXAnalysis.NodeKey,
                    inputTypes: [DType?], outputs: [DType?], opsets: [String: Int]) -> [ModelEdit] {
        let narrow = Set([DType.float16, .bfloat16].filter {
            canCast(from: $0, to: .float32, opsets: opsets) && canCast(from: .float32, to: $0, opsets: opsets)
        })
        let widened = binding.filter { narrow.contains($0.value) }.keys
        let kernels = runtime.kernels(for: schema) ?? []
        guard !widened.isEmpty, Self.matches(kernels, binding.mapValues { narrow.contains($0) ? .float32 : $0 }) else { return [] }
        func widenedParameter(_ parameters: [ONNXSchemas.FormalParameter], _ position: Int) -> Bool {
            schema.formal(parameters, at: position).map { widened.contains($0.typeString) } ?? false
        }
        var edits: [ModelEdit] = []
        for (position, dtype) in inputTypes.enumerated() where dtype.map(narrow.contains) == true && widenedParameter(schema.inputs, position) {
            edits.append(.castInput(graph: key.graph, node: key.node, input: position, to: .float32))
        }
        for (slot, dtype) in outputs.enumerated() where dtype.map(narrow.contains) == true && node.outputs[slot] != nil
            && widenedParameter(schema.outputs, slot) {
            edits.append(.castOutput(graph: key.graph, node: key.node, output: slot, to: dtype!))
        }
        return edits
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

    /// The types a kernel is chosen by: each type parameter bound by the inputs, or failing that by an output.
    func kernelBinding(_ schema: ONNXSchemas.OperatorSchema, bound: [String: Operand], outputs: [DType?]) -> [String: DType] {
        var binding = bound.mapValues(\.dtype)
        for (slot, dtype) in outputs.enumerated() {
            guard let dtype, let formal = schema.formal(schema.outputs, at: slot), schema.constraints[formal.typeString] != nil else { continue }
            binding[formal.typeString] = binding[formal.typeString] ?? dtype
        }
        return binding
    }

    /// What onnxruntime's kernel assignment finds for the node, in its order: a CPU kernel for the bound types;
    /// else the schema's function body at the model's opset, expanded, each body node assigned in turn (the
    /// first that fails is the node's issue); else, for fp16, the float32 kernel between Casts that
    /// `InsertCastTransformer` inserts; else nothing, and the session fails.
    mutating func assignKernel(_ node: Node, schema: ONNXSchemas.OperatorSchema, binding: [String: DType], opset: Int,
                               at key: ONNXAnalysis.NodeKey, inputTypes: [DType?], outputs: [DType?], opsets: [String: Int],
                               depth: Int, common: Bindings) -> [ONNXAnalysis.Issue] {
        // Constant nodes become initializers when the graph is built (`Graph::Graph`): they need no kernel.
        guard runtime.implements(domain: schema.domain), !(schema.domain == "ai.onnx" && schema.name == "Constant") else { return [] }
        let kernels = runtime.kernels(for: schema) ?? []
        if Self.matches(kernels, binding) { return kernelConstruction(node, schema: schema, common: common) }
        // onnx's GetFunction is asked at the model's standard opset, whatever the op's domain.
        let standardOpset = opsets["ai.onnx"] ?? opset
        let present = (node.inputs.lastIndex { $0.argument.tensorNames.first != nil } ?? -1) + 1
        switch schemas.expansion(of: schema, at: standardOpset, presentInputs: present, firstInputType: inputTypes.first ?? nil,
                                 hasAttributes: !node.attributes.isEmpty) {
        case .none: break
        case .unmodelled: return []
        case .body(let body):
            let index = expand(body, of: schema, for: node, opset: standardOpset)
            var found: [ONNXAnalysis.Issue] = []
            _ = checkCall(function: index, inputTypes: inputTypes, depth: depth, issues: &found)
            guard var first = found.first else { return [] }
            // A body node without a kernel is cured by running the whole node in float32, as for the node itself.
            if first.kind == .missingKernel {
                first.edits = castAround(node, schema: schema, binding: binding, at: key, inputTypes: inputTypes, outputs: outputs, opsets: opsets)
            }
            return [first]
        }
        // InsertCastTransformer casts every fp16 input of a node left without a kernel to float32, whether a
        // float32 kernel exists or not; below opset 6 those Casts are themselves invalid (`to` was a string).
        if inputTypes.contains(.float16) {
            if let cast = schemas.schema(domain: "ai.onnx", name: "Cast", opset: standardOpset), cast.attributes["to"] == "string" {
                return [.init(kind: .invalidInsertedCast, bindings: common.merging(["cast_since": String(cast.since)]) { a, _ in a })]
            }
            if Self.matches(kernels, binding.mapValues { $0 == .float16 ? DType.float32 : $0 }) {
                return kernelConstruction(node, schema: schema, common: common)
            }
        }
        let described = binding.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ", ")
        let offered = Set(kernels.flatMap { $0.types.values.flatMap { $0 } }).sorted().joined(separator: ", ")
        let gap: Bindings = ["binding": described.isEmpty ? "its fixed types" : described,
                             "dtype": (binding.values.first { $0.isFloatingPoint } ?? binding.values.first)?.rawValue ?? "",
                             "kernel_types": kernels.isEmpty ? "none at this version" : offered]
        return [.init(kind: .missingKernel, bindings: common.merging(gap) { a, _ in a },
                      edits: castAround(node, schema: schema, binding: binding, at: key, inputTypes: inputTypes, outputs: outputs, opsets: opsets))]
    }

    /// The CPU kernel chosen is constructed when the session is created, and its constructor may refuse the
    /// node's attributes (the curated checks of `kernel-attribute-checks.yml`).
    func kernelConstruction(_ node: Node, schema: ONNXSchemas.OperatorSchema, common: Bindings) -> [ONNXAnalysis.Issue] {
        guard let check = Self.failedCheck(runtime.attributeChecks, node, schema) else { return [] }
        return [.init(kind: .kernelRefusesAttributes, bindings: common.merging([
            "requirement": check.requirementDescription, "kernel_source": check.source, "check": check.message,
            "attribute_fix": check.fixDescription,
        ]) { a, _ in a })]
    }

    /// onnx's type-and-shape inference, which onnxruntime runs on every node while it loads the model, refuses
    /// some attribute sets that the schema's declarations allow (`inference-attribute-checks.yml`).
    func inferenceRefusal(_ node: Node, schema: ONNXSchemas.OperatorSchema, common: Bindings) -> ONNXAnalysis.Issue? {
        guard let check = Self.failedCheck(schemas.inferenceChecks, node, schema) else { return nil }
        return .init(kind: .inferenceRefusesAttributes, bindings: common.merging([
            "requirement": check.requirementDescription, "onnx_source": check.source, "check": check.message,
            "onnx_version": schemas.onnxVersion, "attribute_fix": check.fixDescription,
        ]) { a, _ in a })
    }

    /// The first check of the schema's version that the node fails.
    static func failedCheck(_ checks: [String: [AttributeCheck]], _ node: Node, _ schema: ONNXSchemas.OperatorSchema) -> AttributeCheck? {
        checks["\(schema.domain).\(schema.name)"]?.first { check in
            check.versions.contains(schema.since) && !check.accepts(node.attributes, inputCount: node.inputs.count)
        }
    }

    /// A schema's function body as a graph the checker walks like a local function's, with the calling node's
    /// attributes in place of the references to them.
    mutating func expand(_ body: ONNXSchemas.FunctionBody, of schema: ONNXSchemas.OperatorSchema, for caller: Node, opset: Int) -> Int {
        var read: [String] = []
        let nodes = (body.nodes ?? []).map { bodyNode -> Node in
            var attributes: [String: Argument] = [:]
            for (name, attribute) in bodyNode.attributes {
                switch attribute {
                case .reference(let source):
                    // An attribute the caller leaves out reads its schema default, if it has one.
                    guard let value = caller.attributes[source] ?? (schema.defaults.contains(source) ? .other("default") : nil) else { continue }
                    attributes[name] = value
                    read.append("\(source)=\(value)")
                case .int(let number): attributes[name] = .int(number)
                case .tensor(let dtype): attributes[name] = .tensorLiteral(dtype)
                case .present: attributes[name] = .other("attribute")
                }
            }
            return Node(name: bodyNode.outputs.first ?? bodyNode.op,
                        op: OpName(namespace: bodyNode.domain == "ai.onnx" ? "" : bodyNode.domain, name: bodyNode.op),
                        inputs: bodyNode.inputs.map { NodeInput(name: "", argument: $0.isEmpty ? .none : .tensor($0)) },
                        outputs: bodyNode.outputs.map { $0.isEmpty ? nil : $0 }, attributes: attributes, source: SourceInfo())
        }
        let variant = body.contextDependent ? "[\(body.present.sorted()) \(body.types.sorted())]" : ""
        let key = "\(schema.domain).\(schema.name)-\(schema.since)@\(body.opset)\(variant)@\(opset)|" + read.sorted().joined(separator: ",")
        if let known = expandedBodies[key] { return known }
        // The body's standard ops resolve at the model's opset (static bodies were checked to mean the same there).
        graphs.append(Graph(name: "\(schema.name)-\(schema.since)", nodes: nodes, values: [:], inputs: body.inputs,
                            outputs: body.outputs, owner: .function(OpName(namespace: "", name: schema.name), opsetImports: ["ai.onnx": opset])))
        expandedBodies[key] = graphs.count - 1
        return graphs.count - 1
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
        guard depth < Self.maximumCallDepth, case .function(_, let opsets) = graphs[function].owner else { return [] }
        // The depth is part of the key: a body checked near the cap is checked less deeply.
        let signature = "\(function)@\(depth):" + inputTypes.map { $0?.rawValue ?? "?" }.joined(separator: ",")
        let result: GraphResult
        if let known = calls[signature] {
            result = known
        } else {
            let body = graphs[function]
            var formal: [String: DType] = [:]
            for (position, name) in body.inputs.enumerated() where position < inputTypes.count {
                if let dtype = inputTypes[position] { formal[name] = dtype }
            }
            result = check(graph: function, inputTypes: formal, outer: nil, opsets: opsets.merging(model.opsetImports) { own, _ in own },
                           inFunction: true, depth: depth + 1)
            calls[signature] = result
        }
        issues += result.issues
        return result.outputs
    }

    /// If, Loop and Scan: checks the bodies with their inputs typed from the node; `nil` for other ops.
    mutating func checkControlFlow(_ node: Node, inputTypes: [DType?], types: TypeScope, opsets: [String: Int],
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
                        "then_output": graphs[then].outputs[slot], "else_output": graphs[otherwise].outputs[slot]]))
                    break
                }
            }
            return zip(thenTypes, elseTypes).map { $0 ?? $1 }
        case "Loop", "Scan":
            guard let index = body("body"), let feed = BodyFeed(op: node.op.name, opset: opsets["ai.onnx"] ?? 1) else { return nil }
            let graph = graphs[index]
            var formal: [String: DType] = [:]
            if graph.inputs.count >= feed.setByTheNode.count {
                for (name, dtype) in zip(graph.inputs, feed.setByTheNode) { formal[name] = dtype }
            }
            for (position, name) in graph.inputs.enumerated() {
                guard let source = feed.nodeInput(feedingBodyInput: position), source < inputTypes.count,
                      let outerType = inputTypes[source] else { continue }
                if let declared = graph.values[name]?.declaredDType, declared != outerType {
                    if issues.isEmpty {
                        issues.append(.init(kind: .subgraphInputMismatch, bindings: [
                            "body_input": name, "declared": declared.rawValue, "outer_input": node.inputs[source].argument.literalDescription,
                            "outer_dtype": outerType.rawValue]))
                    }
                    continue
                }
                formal[name] = outerType
            }
            return Array(checkBody(index, formal).dropFirst(feed.bodyOutputsNotReturned))
        default:
            for (_, index) in subgraphs {
                _ = checkBody(index, [:])
            }
            return nil
        }
    }
}

/// How a Loop or Scan node feeds its body (onnx's Loop and Scan schemas): Loop sets the body's first two
/// inputs itself (iteration number, condition) and returns all body outputs but the condition; every other
/// body input receives the node input at the same position, after Scan-8's leading `sequence_lens`.
struct BodyFeed {
    /// The types of the body inputs the node sets itself, in order.
    let setByTheNode: [DType]
    /// Node inputs before the first that feeds the body.
    let leadingNodeInputs: Int
    let bodyOutputsNotReturned: Int

    init?(op: String, opset: Int) {
        switch op {
        case "Loop": (setByTheNode, leadingNodeInputs, bodyOutputsNotReturned) = ([.int64, .bool], 0, 1)
        case "Scan": (setByTheNode, leadingNodeInputs, bodyOutputsNotReturned) = ([], opset < 9 ? 1 : 0, 0)
        default: return nil
        }
    }

    /// The node input that feeds body input `position`; `nil` for one the node sets itself.
    func nodeInput(feedingBodyInput position: Int) -> Int? {
        position < setByTheNode.count ? nil : position + leadingNodeInputs
    }
}
