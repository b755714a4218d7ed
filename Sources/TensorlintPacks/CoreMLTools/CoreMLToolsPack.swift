import TensorlintEngine
import TensorlintIR

/// What the coremltools predicates read about one model.
/// A class: every predicate of every node casts the model's state to it, which for a struct this size copies it
/// and retains every field.
public final class CoreMLAnalysis: Sendable {
    public let knowledge: CoreMLKnowledge
    /// For TorchScript models: the frontend's dtypes and failures.
    let torchScript: TorchScriptConversion?
    /// Whether the model holds fp16/bf16 tensors or casts to those types (`dtype=` arguments).
    let computesNarrowFloats: Bool
    /// Each op of the model as the torch frontend's registry names it, found once per op, not per node.
    let kinds: [OpName: String]

    init(knowledge: CoreMLKnowledge, torchScript: TorchScriptConversion?, computesNarrowFloats: Bool, kinds: [OpName: String]) {
        self.knowledge = knowledge
        self.torchScript = torchScript
        self.computesNarrowFloats = computesNarrowFloats
        self.kinds = kinds
    }
}

/// coremltools: its torch frontend's registry and lowerings, MIL's type domains per deployment target, and
/// torch's decompositions of the ops it cannot convert (`knowledge/coremltools-<version>/`).
public enum CoreMLToolsPack: ConverterPack {
    public static let target = "coremltools"
    public static let defaultVersion = Version("9.0")!
    public static let nativeFormats: Set<Model.Format> = [.torchExport, .torchScript]

    public static func loadKnowledge(version: Version, folder: String, folders: [String: KnowledgeFolder]) throws -> any Sendable {
        try CoreMLKnowledge(version: version, files: folders[folder] ?? [:])
    }

    /// A TorchScript model is converted by its own frontend, whose type flow is computed once; the other
    /// predicates read the knowledge itself.
    public static func prepare(_ model: Model, knowledge: any Sendable, settings: Settings) -> any Sendable {
        let knowledge = knowledge as! CoreMLKnowledge
        let torchScript = model.format == .torchScript
            ? TorchScriptConversion(graph: model.mainGraph, knowledge: knowledge, target: settings.deploymentTarget) : nil
        let narrowCast = model.graphs.contains { graph in
            graph.nodes.contains { node in
                node.inputs.contains { if case .scalarType(let dtype?) = $0.argument { return narrowFloats.contains(dtype) } else { return false } }
            }
        }
        let narrowValue = model.graphs.contains { $0.values.values.contains { $0.dtype.map(narrowFloats.contains) == true } }
        var kinds: [OpName: String] = [:]
        for graph in model.graphs {
            // By index: each node is read where it is, not copied.
            for index in graph.nodes.indices where kinds[graph.nodes[index].op] == nil {
                kinds[graph.nodes[index].op] = CoreMLKnowledge.sanitizedKind(graph.nodes[index].op)
            }
        }
        return CoreMLAnalysis(knowledge: knowledge, torchScript: torchScript, computesNarrowFloats: narrowCast || narrowValue,
                              kinds: kinds)
    }

    /// `deployment_target` is the name messages had before `minimum_deployment_target`; user rules may use it.
    public static let settingKeys = ["minimum_deployment_target": "the minimum deployment target",
                                     "deployment_target": "the minimum deployment target",
                                     "compute_precision": "the compute precision",
                                     "input_dtype": "the dtype declared for floating inputs (`--input-dtype`)",
                                     "ct_inputs": "`inputs=[…]` for `ct.convert`: a `ct.TensorType` per model input, with its name, and its shape when static"]

    /// One `ct.TensorType` per user input, named: coremltools matches them to the program's inputs, and a
    /// list of another length raises "Inconsistent number of inputs between user and EXIR specifications".
    /// A torch.export program states its shapes (static ones are written out) and its floating inputs get
    /// fp16 I/O; a traced TorchScript archive records no shape, so the reader fills it in.
    public static func modelBindings(_ model: Model, settings: Settings) -> Bindings {
        let graph = model.mainGraph
        let inputs = graph.inputs.compactMap { graph.values[$0] }.filter { $0.role == .userInput }
        guard !inputs.isEmpty else { return ["ct_inputs": "inputs=[ct.TensorType(shape=…)]"] }
        let types = inputs.map { value -> String in
            var arguments = ["name=\"\(value.name)\""]
            if model.format == .torchScript {
                arguments.append("shape=…")
            } else {
                if let shape = value.shape, shape.allSatisfy({ $0 != nil }) {
                    arguments.append("shape=(" + shape.map { String($0!) }.joined(separator: ", ") + (shape.count == 1 ? ",)" : ")"))
                }
                if let dtype = value.dtype {
                    if dtype.isFloatingPoint { arguments.append("dtype=np.float16") }
                    else if let numpy = numpyName[dtype] { arguments.append("dtype=\(numpy)") }
                }
            }
            return "ct.TensorType(\(arguments.joined(separator: ", ")))"
        }
        return ["ct_inputs": "inputs=[\(types.joined(separator: ", "))]"]
    }

    public static let nameKeys: Set<String> = ["constant_origin", "partner_origin", "first_origin", "second_origin", "input", "tensors",
                                               "inputs", "unbound_output", "pending_output", "ct_inputs"]

    /// NumPy's names of the integer and boolean dtypes coremltools inputs take.
    static let numpyName: [DType: String] = [.bool: "np.bool_", .int8: "np.int8", .uint8: "np.uint8", .int16: "np.int16",
                                             .int32: "np.int32", .int64: "np.int32"]

    public static func settingBindings(_ settings: Settings) -> Bindings {
        ["minimum_deployment_target": settings.deploymentTarget.name, "deployment_target": settings.deploymentTarget.name,
         "compute_precision": settings.computePrecision.rawValue, "input_dtype": settings.inputDType.rawValue]
    }

    public static let predicates: [Predicate] = exportPredicates + torchScriptPredicates

    static let exportPredicates: [Predicate] = [
        Predicate("coremltools-unregistered-op", state: CoreMLAnalysis.self, keys: [
            "kind": "the op kind as coremltools names it", "alternative": "what converts instead, or how to do without the op",
        ], evaluate: unregisteredOp),
        Predicate("coremltools-scalar-constant-clash", state: CoreMLAnalysis.self, keys: clashKeys.merging([
            "target_advice": "whether a later deployment target avoids the clash",
        ]) { first, _ in first }, evaluate: scalarConstantClash),
        Predicate("coremltools-converter-dtype-assert", state: CoreMLAnalysis.self, keys: [
            "converter": "the coremltools converter function", "first": "the first asserted input", "first_dtype": "its dtype",
            "first_origin": "where it comes from", "second": "the input of another dtype", "second_dtype": "its dtype",
            "second_origin": "where it comes from",
        ], evaluate: converterDTypeAssert),
        Predicate("coremltools-unbound-output-read", state: CoreMLAnalysis.self, keys: [
            "converter": "the coremltools converter function", "bound": "how many outputs it binds",
            "unbound_output": "the first output it leaves unbound", "unbound_index": "that output's position",
            "pending_output": "a graph output not yet produced there",
        ], evaluate: unboundOutputRead),
    ]

    static let clashKeys = [
        "mil_op": "the MIL op the converter emits", "mil_input": "the MIL input given a constant",
        "constant_dtype": "the constant's dtype", "constant_origin": "where the constant comes from",
        "partner": "the MIL input it must share a dtype with", "partner_dtype": "that input's dtype",
        "partner_origin": "where that input comes from", "converter": "the coremltools converter function",
        "opset": "the MIL opset of the deployment target",
    ]

    static let narrowFloats: Set<DType> = [.float16, .bfloat16]
    static let keepFP32Edit = ModelEdit.convertModel(from: [.bfloat16, .float16], to: .float32)

    public static let fixers: [Fixer] = [
        // An fp16/bf16 torch model meant for coremltools becomes fp32 (exact); coremltools lowers precision itself.
        Fixer("keep-fp32", state: CoreMLAnalysis.self) { _, analysis in
            analysis.computesNarrowFloats ? [keepFP32Edit] : []
        },
        // An op coremltools cannot convert is replaced by torch's own decomposition of it into ops it converts.
        // Rewrites are written for fp32 programs: a narrower one is widened first (exact), rewritten next round.
        // Only the main graph's nodes are rewritten (not those of torch.cond branches).
        Fixer("rewrite-op", state: CoreMLAnalysis.self) { context, analysis in
            let knowledge = analysis.knowledge
            guard context.graphIndex == 0, let node = context.node, let nodeIndex = context.nodeIndex,
                  let rewrite = knowledge.rewrite(for: rewriteKey(node.op)) else { return [] }
            // A TorchScript graph's dtypes are those the frontend computes.
            let graph = analysis.torchScript?.typedGraph ?? context.graph
            if let output = node.outputs.first ?? nil, let dtype = graph.dtype(of: output), narrowFloats.contains(dtype) {
                return [keepFP32Edit]
            }
            return rewrite.replacement(for: node, in: graph).map { [.replaceNode(graph: context.graphIndex, node: nodeIndex, with: $0)] } ?? []
        },
    ]

    /// Rewrites are keyed as torch.export names ops (`aten.celu.default`); a TorchScript node kind carries the
    /// overload its schema matched.
    static func rewriteKey(_ op: OpName) -> String {
        guard op.spelling == .nodeKind else { return op.description }
        return "\(op.namespace).\(op.name).\(op.overload.flatMap { $0.isEmpty ? nil : $0 } ?? "default")"
    }

    /// The node's op kind, sanitized as `from_exir_node` does, is not in the torch frontend's registry.
    static func unregisteredOp(_ context: MatchContext, _ analysis: CoreMLAnalysis) -> Bindings? {
        let knowledge = analysis.knowledge
        guard let node = context.node else { return nil }
        let kind = analysis.kinds[node.op] ?? CoreMLKnowledge.sanitizedKind(node.op)
        guard !knowledge.registeredKinds.contains(kind) else { return nil }
        let alternative = knowledge.alternatives[node.op.description] ?? knowledge.alternatives[node.op.qualifiedName]
        return ["kind": kind,
                "alternative": alternative.map { "Use \($0) instead." } ?? "Rewrite the model without this op, or register a converter with `@register_torch_op`."]
    }

    /// A converter passes a Python scalar (or a constant of its own) to a MIL op input that shares a
    /// type domain with an input of another dtype at this deployment target: MIL's type check raises.
    static func scalarConstantClash(_ context: MatchContext, _ analysis: CoreMLAnalysis) -> Bindings? {
        let knowledge = analysis.knowledge
        let target = context.settings.deploymentTarget
        guard let node = context.node, let lowering = knowledge.lowering(for: node.op),
              let clash = firstClash(node, lowering, knowledge, context.graph, at: target) else { return nil }
        var bindings: Bindings = [
            "mil_op": clash.milOp, "mil_input": clash.constant.input, "constant_dtype": clash.constant.operand.dtype.shortName,
            "constant_origin": clash.constant.operand.origin, "partner": clash.partner.input,
            "partner_dtype": clash.partner.operand.dtype.shortName, "partner_origin": clash.partner.operand.origin,
            "converter": lowering.converter, "opset": target.opsetName,
        ]
        let later = knowledge.opsets.filter { $0 > target }
        if let cure = later.first(where: { firstClash(node, lowering, knowledge, context.graph, at: $0) == nil }) {
            bindings["target_advice"] = "If the model must stay fp16, raising `minimum_deployment_target` to \(cure.opsetName) alone also fixes this: from that opset `\(clash.constant.input)` has a type domain of its own."
        } else {
            bindings["target_advice"] = "No deployment target up to \(later.last?.opsetName ?? target.opsetName) avoids it while the model is fp16."
        }
        return bindings
    }

    /// A constant of the converter's and an input of another dtype in one type domain of a MIL op.
    struct Clash {
        let milOp: String
        let constant: (input: String, operand: Operand)
        let partner: (input: String, operand: Operand)
    }

    /// The first clash at `target`: the MIL ops in the order the lowering emits them, each op's type domains
    /// in the order of their names, and in a domain the first constant and the first input of another dtype.
    static func firstClash(_ node: Node, _ lowering: CoreMLKnowledge.Lowering, _ knowledge: CoreMLKnowledge, _ graph: Graph,
                           at target: DeploymentTarget) -> Clash? {
        for emitted in lowering.emits where !skipped(emitted, node: node) {
            guard let domains = knowledge.typeDomains(of: emitted.milOp, at: target) else { continue }
            let members = emitted.bindings.compactMap { input, binding -> (domain: String, input: String, operand: Operand)? in
                guard let domain = domains[input], let operand = resolve(binding, node: node, graph: graph) else { return nil }
                return (domain, input, operand)
            }
            // Most ops have no constant among their inputs, or nothing but constants: no domain to look at.
            guard members.contains(where: { $0.operand.isConstant }), members.contains(where: { !$0.operand.isConstant }) else { continue }
            let domainNames = members.map(\.domain).sorted()
            for (index, domain) in domainNames.enumerated() where index == 0 || domainNames[index - 1] != domain {
                let group = members.filter { $0.domain == domain }
                guard let constant = group.first(where: { $0.operand.isConstant }),
                      let partner = group.first(where: { !$0.operand.isConstant && $0.operand.dtype != constant.operand.dtype })
                else { continue }
                return Clash(milOp: emitted.milOp, constant: (constant.input, constant.operand), partner: (partner.input, partner.operand))
            }
        }
        return nil
    }

    /// A converter asserts that two inputs share a dtype (`assert x.dtype == y.dtype`), and a Python
    /// scalar (an fp32 constant) meets a tensor of another dtype: the conversion stops with an AssertionError.
    static func converterDTypeAssert(_ context: MatchContext, _ analysis: CoreMLAnalysis) -> Bindings? {
        let knowledge = analysis.knowledge
        guard let node = context.node, let lowering = knowledge.lowering(for: node.op),
              let (first, second) = dtypeAssertion(lowering, node: node, graph: context.graph) else { return nil }
        return assertionBindings(converter: lowering.converter, first: first, second: second)
    }

    /// The first input the converter asserts to share a dtype, and the first later one of another dtype.
    static func dtypeAssertion(_ lowering: CoreMLKnowledge.Lowering, node: Node, graph: Graph)
        -> (first: (input: String, operand: Operand), second: (input: String, operand: Operand))? {
        firstMismatch(lowering.assertsSameDType.compactMap { name in
            resolve(.argument(name, default: nil), node: node, graph: graph).map { (name, $0) }
        }).map { ($0.reference, $0.offender) }
    }

    static func assertionBindings(converter: String, first: (input: String, operand: Operand), second: (input: String, operand: Operand)) -> Bindings {
        ["converter": converter, "first": first.input, "first_dtype": first.operand.dtype.shortName, "first_origin": first.operand.origin,
         "second": second.input, "second_dtype": second.operand.dtype.shortName, "second_origin": second.operand.origin]
    }

    /// The first operand, and the first later one whose dtype differs from it: what a check that operands
    /// share one dtype (MIL's type domains, a converter's assert, concat's values) reports.
    static func firstMismatch(_ operands: [(input: String, operand: Operand)])
        -> (reference: (input: String, operand: Operand), offender: (input: String, operand: Operand))? {
        guard let reference = operands.first, let offender = operands.dropFirst().first(where: { $0.operand.dtype != reference.operand.dtype })
        else { return nil }
        return (reference, offender)
    }

    /// The converter binds only the first outputs of a multi-output op; the deserialized graph has an
    /// `operator.getitem` node for each further output, which fails unless conversion stops before it
    /// (coremltools stops as soon as every graph output has been produced).
    static func unboundOutputRead(_ context: MatchContext, _ analysis: CoreMLAnalysis) -> Bindings? {
        let knowledge = analysis.knowledge
        guard let node = context.node, let lowering = knowledge.lowering(for: node.op), let bound = lowering.bindsOutputs, node.outputs.count > bound,
              let unbound = node.outputs[bound...].compactMap({ $0 }).first,
              let position = context.graph.nodes.firstIndex(where: { $0.name == node.name }) else { return nil }
        var available = Set(context.graph.inputs)
        for earlier in context.graph.nodes[...position] { available.formUnion(earlier.outputs.compactMap { $0 }) }
        guard let pending = context.graph.outputs.first(where: { !available.contains($0) }) else { return nil }
        return ["converter": lowering.converter, "bound": String(bound),
                "unbound_output": unbound, "unbound_index": String(bound), "pending_output": pending]
    }

    // MARK: operands

    /// A MIL input's dtype and where it comes from. The message's text of the source is made only when a
    /// finding is: operands are resolved for every node and deployment target.
    struct Operand: Sendable {
        var dtype: DType
        let source: Source

        enum Source: Sendable {
            case converterConstant
            case converterDefault(argument: String)
            case computed(from: String, tensor: String)
            case tensor(argument: String, tensor: String)
            case item(argument: String, index: Int, tensor: String)
            case literal(argument: String, Argument)
        }

        /// A Python number or a constant the converter writes, rather than a tensor of the graph.
        var isConstant: Bool {
            switch source {
            case .converterConstant, .converterDefault, .literal: return true
            case .computed, .tensor, .item: return false
            }
        }

        /// The graph's tensor it is, if it is one.
        var tensor: String? {
            switch source {
            case .computed(_, let tensor), .tensor(_, let tensor), .item(_, _, let tensor): return tensor
            case .converterConstant, .converterDefault, .literal: return nil
            }
        }

        var origin: String {
            switch source {
            case .converterConstant: return "a constant the converter writes"
            case .converterDefault(let name): return "the converter's default for `\(name)`"
            case .computed(let name, _): return "computed from `\(name)`"
            case .tensor(let name, let tensor): return "`\(name)` = tensor `\(tensor)`"
            case .item(let name, let index, let tensor): return "`\(name)[\(index)]` = tensor `\(tensor)`"
            case .literal(let name, let value): return "`\(name)` = \(value.literalDescription)"
            }
        }
    }

    static func skipped(_ emitted: CoreMLKnowledge.EmittedOp, node: Node) -> Bool {
        emitted.skipWhenEqual.contains { argument, value in
            switch node.input(named: argument)?.argument {
            case .float(let literal)?: return literal == value
            case .int(let literal)?: return Double(literal) == value
            case .bool(let flag)?: return (flag ? 1 : 0) == value
            default: return false
            }
        }
    }

    static func resolve(_ binding: CoreMLKnowledge.Binding, node: Node, graph: Graph) -> Operand? {
        switch binding {
        case .constant(let dtype):
            return Operand(dtype: dtype, source: .converterConstant)
        case .like(let name):
            guard let tensor = node.input(named: name)?.argument.tensorNames.first, let dtype = graph.dtype(of: tensor) else { return nil }
            return Operand(dtype: dtype, source: .computed(from: name, tensor: tensor))
        case .item(let name, let index):
            guard case .tensors(let tensors)? = node.input(named: name)?.argument, tensors.indices.contains(index),
                  let tensor = tensors[index], let dtype = graph.dtype(of: tensor) else { return nil }
            return Operand(dtype: dtype, source: .item(argument: name, index: index, tensor: tensor))
        case .argument(let name, let defaultDType):
            switch node.input(named: name)?.argument {
            case .tensor(let tensor)?:
                guard let dtype = graph.dtype(of: tensor) else { return nil }
                return Operand(dtype: dtype, source: .tensor(argument: name, tensor: tensor))
            case .float(let value)?:
                return Operand(dtype: .float32, source: .literal(argument: name, .float(value)))
            case .int(let value)?:
                return Operand(dtype: .int32, source: .literal(argument: name, .int(value)))
            case nil, .none?:
                return defaultDType.map { Operand(dtype: $0, source: .converterDefault(argument: name)) }
            default:
                return nil
            }
        }
    }
}
