import TensorlintIR

/// Checks written in Swift for what the YAML match language cannot say. A rule names one with
/// `predicate: <name>`; each returns the bindings its message needs, or `nil` for no match.
public enum Predicates {
    public typealias Predicate = @Sendable (MatchContext) -> Bindings?

    public static let all: [String: Predicate] = coremltools.merging(onnxruntime) { first, _ in first }

    static let coremltools: [String: Predicate] = [
        "coremltools-unregistered-op": unregisteredOp,
        "coremltools-scalar-constant-clash": scalarConstantClash,
        "coremltools-converter-dtype-assert": converterDTypeAssert,
        "coremltools-unbound-output-read": unboundOutputRead,
    ]

    /// The node's op kind, sanitized as `from_exir_node` does, is not in the torch frontend's registry.
    static func unregisteredOp(_ context: MatchContext) -> Bindings? {
        guard let node = context.node, let knowledge = context.coreml else { return nil }
        let kind = CoreMLKnowledge.sanitizedKind(node.op)
        guard !knowledge.registeredKinds.contains(kind) else { return nil }
        let alternative = knowledge.alternatives[node.op.description] ?? knowledge.alternatives[node.op.qualifiedName]
        return ["kind": kind,
                "alternative": alternative.map { "Use \($0) instead." } ?? "Rewrite the model without this op, or register a converter with `@register_torch_op`."]
    }

    /// A converter passes a Python scalar (or a constant of its own) to a MIL op input that shares a
    /// type domain with an input of another dtype at this deployment target: MIL's type check raises.
    static func scalarConstantClash(_ context: MatchContext) -> Bindings? {
        guard let node = context.node, let knowledge = context.coreml,
              let lowering = knowledge.lowering(for: node.op),
              var bindings = clash(node, lowering, knowledge, context.graph, at: context.settings.deploymentTarget) else { return nil }
        let later = knowledge.opsets.filter { $0 > context.settings.deploymentTarget }
        if let cure = later.first(where: { clash(node, lowering, knowledge, context.graph, at: $0) == nil }) {
            bindings["target_advice"] = "If the model must stay fp16, raising `minimum_deployment_target` to \(cure.opsetName) alone also fixes this: from that opset `\(bindings["mil_input"]!)` has a type domain of its own."
        } else {
            bindings["target_advice"] = "No deployment target up to \(later.last?.opsetName ?? context.settings.deploymentTarget.opsetName) avoids it while the model is fp16."
        }
        return bindings
    }

    static func clash(_ node: Node, _ lowering: CoreMLKnowledge.Lowering, _ knowledge: CoreMLKnowledge, _ graph: Graph,
                      at target: DeploymentTarget) -> Bindings? {
        for emitted in lowering.emits where !skipped(emitted, node: node) {
            guard let domains = knowledge.typeDomains(of: emitted.milOp, at: target) else { continue }
            var members: [String: [(input: String, operand: Operand)]] = [:]
            for (input, binding) in emitted.bindings {
                guard let domain = domains[input], let operand = resolve(binding, node: node, graph: graph) else { continue }
                members[domain, default: []].append((input, operand))
            }
            for domain in members.keys.sorted() {
                let group = members[domain]!
                guard let constant = group.first(where: { $0.operand.isConstant }),
                      let partner = group.first(where: { !$0.operand.isConstant && $0.operand.dtype != constant.operand.dtype })
                else { continue }
                return ["mil_op": emitted.milOp, "mil_input": constant.input, "constant_dtype": constant.operand.dtype.shortName,
                        "constant_origin": constant.operand.origin, "partner": partner.input,
                        "partner_dtype": partner.operand.dtype.shortName, "partner_origin": partner.operand.origin,
                        "converter": lowering.converter, "opset": target.opsetName]
            }
        }
        return nil
    }

    /// A converter asserts that two inputs share a dtype (`assert x.dtype == y.dtype`), and a Python
    /// scalar (an fp32 constant) meets a tensor of another dtype: the conversion stops with an AssertionError.
    static func converterDTypeAssert(_ context: MatchContext) -> Bindings? {
        guard let node = context.node, let knowledge = context.coreml,
              let lowering = knowledge.lowering(for: node.op), lowering.assertsSameDType.count >= 2 else { return nil }
        let operands = lowering.assertsSameDType.compactMap { name in
            resolve(.argument(name, default: nil), node: node, graph: context.graph).map { (name, $0) }
        }
        guard let first = operands.first, let other = operands.dropFirst().first(where: { $0.1.dtype != first.1.dtype }) else { return nil }
        return ["converter": lowering.converter, "first": first.0, "first_dtype": first.1.dtype.shortName,
                "first_origin": first.1.origin, "second": other.0, "second_dtype": other.1.dtype.shortName,
                "second_origin": other.1.origin]
    }

    /// The converter binds only the first outputs of a multi-output op; the deserialized graph has an
    /// `operator.getitem` node for each further output, which fails unless conversion stops before it
    /// (coremltools stops as soon as every graph output has been produced).
    static func unboundOutputRead(_ context: MatchContext) -> Bindings? {
        guard let node = context.node, let knowledge = context.coreml,
              let lowering = knowledge.lowering(for: node.op), let bound = lowering.bindsOutputs, node.outputs.count > bound,
              let unbound = node.outputs[bound...].compactMap({ $0 }).first,
              let position = context.graph.nodes.firstIndex(where: { $0.name == node.name }) else { return nil }
        var available = Set(context.graph.inputs)
        for earlier in context.graph.nodes[...position] { available.formUnion(earlier.outputs.compactMap { $0 }) }
        guard let pending = context.graph.outputs.first(where: { !available.contains($0) }) else { return nil }
        return ["converter": lowering.converter, "bound": String(bound),
                "unbound_output": unbound, "unbound_index": String(bound), "pending_output": pending]
    }

    // MARK: operands

    /// A MIL input's dtype and where it comes from, for the message.
    struct Operand {
        var dtype: DType
        var origin: String
        var isConstant: Bool
    }

    static func skipped(_ emitted: CoreMLKnowledge.EmittedOp, node: Node) -> Bool {
        emitted.skipWhenEqual.contains { argument, value in
            switch node.input(named: argument)?.argument {
            case .float(let literal)?: return literal == value
            case .int(let literal)?: return Double(literal) == value
            default: return false
            }
        }
    }

    static func resolve(_ binding: CoreMLKnowledge.Binding, node: Node, graph: Graph) -> Operand? {
        switch binding {
        case .constant(let dtype):
            return Operand(dtype: dtype, origin: "a constant the converter writes", isConstant: true)
        case .like(let name):
            guard let tensor = node.input(named: name)?.argument.tensorNames.first, let dtype = graph.dtype(of: tensor) else { return nil }
            return Operand(dtype: dtype, origin: "computed from `\(name)`", isConstant: false)
        case .argument(let name, let defaultDType):
            switch node.input(named: name)?.argument {
            case .tensor(let tensor)?:
                guard let dtype = graph.dtype(of: tensor) else { return nil }
                return Operand(dtype: dtype, origin: "`\(name)` = tensor `\(tensor)`", isConstant: false)
            case .float(let value)?:
                return Operand(dtype: .float32, origin: "`\(name)` = \(Argument.float(value).literalDescription)", isConstant: true)
            case .int(let value)?:
                return Operand(dtype: .int32, origin: "`\(name)` = \(value)", isConstant: true)
            case nil, .none?:
                return defaultDType.map { Operand(dtype: $0, origin: "the converter's default for `\(name)`", isConstant: true) }
            default:
                return nil
            }
        }
    }
}
