import TensorlintEngine
import TensorlintIR

/// coremltools' TorchScript frontend run over a TorchScript graph without running anything: the dtype MIL
/// gives every value, and the nodes whose conversion raises, in graph order.
///
/// The type flow is the frontend's (`TorchConverter.convert`, coremltools 9.0): every fp16 graph input is cast
/// to fp32 on entry, whatever `ct.TensorType` says; parameters, buffers and tensor constants become MIL
/// consts with their own dtype (fp64 → fp32, int64/uint8 → int32); Python numbers become fp32/int32 consts;
/// `aten::to` and factories with `dtype=` cast; converters that call `promote_input_dtypes` widen their
/// inputs, the others pass them to MIL, whose type domains (per deployment target) must then agree.
struct TorchScriptConversion: Sendable {
    typealias Operand = CoreMLToolsPack.Operand

    enum Failure: Sendable {
        /// `PyTorch convert function for op '<kind>' not implemented.`
        case unregistered(kind: String)
        /// MIL's type check: `input` must share `partner`'s dtype (`partner` comes first in the op's inputs);
        /// `modelTensor`: one of them is a tensor the model stores or makes in a fixed dtype.
        case clash(milOp: String, input: String, operand: Operand, partner: String, partnerOperand: Operand, converter: String, modelTensor: Bool)
        /// `assert x.dtype == y.dtype` in the converter.
        case assertion(converter: String, first: (input: String, operand: Operand), second: (input: String, operand: Operand))
        /// `int()` of a value computed from a static shape, which the frontend holds as a 1-element array.
        case intOfShape(input: String)
        /// A ScalarType number `NUM_TO_TORCH_DTYPE` lacks (bf16 = 15): `KeyError`.
        case unmappedDType(argument: String, dtype: DType)
    }

    /// The graph with every value typed as the frontend types it, as far as the walk has come.
    private(set) var typedGraph: Graph
    /// Node index in the main graph → why its conversion raises.
    private(set) var failures: [Int: Failure] = [:]
    /// Values made from a static shape (`prim::NumToTensor` and arithmetic on it).
    private var shapeDerived: Set<String> = []
    private var modelTensors: Set<String> = []

    static let integerKinds: Set<String> = ["numtotensor", "size", "int", "len", "dim", "numel"]
    static let comparisonKinds: Set<String> = ["eq", "ne", "lt", "gt", "le", "ge", "logical_and", "logical_or", "logical_not",
                                               "logical_xor", "isnan", "isinf", "__and__", "__or__", "bitwise_not"]

    init(graph: Graph, knowledge: CoreMLKnowledge, target: DeploymentTarget) {
        typedGraph = graph
        for name in graph.inputs {
            guard let value = graph.values[name], let dtype = value.dtype else { continue }
            if value.role == .userInput {
                typedGraph.values[name]?.dtype = dtype.isFloatingPoint ? .float32 : Self.milDType(dtype)
            } else {
                typedGraph.values[name]?.dtype = Self.milDType(dtype)
                modelTensors.insert(name)
            }
        }
        for (index, node) in graph.nodes.enumerated() {
            if let failure = convert(node, knowledge: knowledge, target: target) { failures[index] = failure }
        }
    }

    /// The dtype `mb.const` gives a torch tensor of this dtype.
    static func milDType(_ dtype: DType) -> DType {
        switch dtype {
        case .float64: return .float32
        case .int64, .uint8, .int16, .int8: return .int32
        default: return dtype
        }
    }

    /// The kind the registry is asked for: sanitized as `sanitize_op_kind` does, then without one trailing `_`
    /// (in-place ops convert as their functional form).
    static func registryKind(_ op: OpName, registered: Set<String>) -> (kind: String, registered: Bool) {
        let kind = CoreMLKnowledge.sanitizedKind(OpName(namespace: op.namespace, name: op.name))
        if registered.contains(kind) { return (kind, true) }
        if kind.hasSuffix("_"), registered.contains(String(kind.dropLast())) { return (String(kind.dropLast()), true) }
        return (kind, false)
    }

    private mutating func convert(_ node: Node, knowledge: CoreMLKnowledge, target: DeploymentTarget) -> Failure? {
        let (kind, registered) = Self.registryKind(node.op, registered: knowledge.registeredKinds)
        let tensorInputs = node.inputs.flatMap { $0.argument.tensorNames }
        var failure: Failure? = registered ? nil : .unregistered(kind: kind)
        // The dtype of the result, as the converter computes it.
        var output: DType?
        let dtypeArgument = node.inputs.first { input in
            if case .scalarType(_?) = input.argument { return input.name == "dtype" }
            return false
        }
        if case .scalarType(let dtype?)? = dtypeArgument?.argument {
            if dtype == .bfloat16 || dtype.isFloatingPoint && ![.float16, .float32, .float64].contains(dtype) {
                failure = failure ?? .unmappedDType(argument: dtypeArgument!.name, dtype: dtype)
            }
            output = Self.milDType(dtype)
        } else if kind == "to", case .tensor(let other)? = node.input(named: "other")?.argument {
            output = typedGraph.dtype(of: other)
        } else if Self.integerKinds.contains(kind) {
            output = .int32
        } else if Self.comparisonKinds.contains(kind) {
            output = .bool
        } else if let converter = knowledge.converterOf[kind], knowledge.promotingConverters.contains(converter) {
            output = Self.widest(tensorInputs.compactMap(typedGraph.dtype(of:)))
        } else {
            output = tensorInputs.compactMap(typedGraph.dtype(of:)).first ?? .float32
        }
        if failure == nil, let lowering = knowledge.lowering(for: node.op) {
            failure = check(node, lowering, knowledge: knowledge, target: target)
        }
        if failure == nil, kind == "int", let input = tensorInputs.first, shapeDerived.contains(input) {
            failure = .intOfShape(input: input)
        }
        let derived = kind == "numtotensor" || !tensorInputs.isEmpty && tensorInputs.allSatisfy { shapeDerived.contains($0) || modelTensors.contains($0) }
            && tensorInputs.contains { shapeDerived.contains($0) }
        for case let name? in node.outputs {
            if let output { typedGraph.values[name]?.dtype = output }
            if derived { shapeDerived.insert(name) }
            if dtypeArgument != nil, tensorInputs.isEmpty { modelTensors.insert(name) }
        }
        return failure
    }

    /// fp32 if any input is fp32 (or wider), else the narrow float they share.
    static func widest(_ dtypes: [DType]) -> DType? {
        let floats = dtypes.filter(\.isFloatingPoint)
        if floats.contains(where: { $0 == .float32 || $0 == .float64 }) { return .float32 }
        return floats.first ?? dtypes.first
    }

    private func check(_ node: Node, _ lowering: CoreMLKnowledge.Lowering, knowledge: CoreMLKnowledge, target: DeploymentTarget) -> Failure? {
        if let (first, second) = CoreMLToolsPack.dtypeAssertion(lowering, node: node, graph: typedGraph) {
            return .assertion(converter: lowering.converter, first: first, second: second)
        }
        func operand(_ name: String) -> Operand? { CoreMLToolsPack.resolve(.argument(name, default: nil), node: node, graph: typedGraph) }
        let promoted = Self.widest(lowering.promotes.compactMap { operand($0)?.dtype })
        for emitted in lowering.emits where !CoreMLToolsPack.skipped(emitted, node: node) {
            var operands: [(input: String, operand: Operand)] = []
            if !emitted.values.isEmpty {
                operands = emitted.values.compactMap { name in operand(name).map { ("values", $0) } }
            } else if let domains = knowledge.typeDomainOrder(of: emitted.milOp, at: target) {
                let bindings = Dictionary(emitted.bindings.map { ($0.input, $0.binding) }) { first, _ in first }
                for members in domains {
                    var bound: [(input: String, operand: Operand)] = []
                    for input in members {
                        guard let binding = bindings[input], var resolved = CoreMLToolsPack.resolve(binding, node: node, graph: typedGraph) else { continue }
                        if case .argument(let name, _) = binding, lowering.promotes.contains(name), let promoted { resolved.dtype = promoted }
                        bound.append((input, resolved))
                    }
                    if CoreMLToolsPack.firstMismatch(bound) != nil {
                        operands = bound
                        break
                    }
                }
            }
            guard let (reference, offender) = CoreMLToolsPack.firstMismatch(operands) else { continue }
            let modelTensor = [reference, offender].contains { $0.operand.tensor.map(modelTensors.contains) == true }
            return .clash(milOp: emitted.milOp, input: offender.input, operand: offender.operand, partner: reference.input,
                          partnerOperand: reference.operand, converter: lowering.converter, modelTensor: modelTensor)
        }
        return nil
    }
}
