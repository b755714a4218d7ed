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
    struct Operand: Sendable {
        var dtype: DType
        var origin: String
        /// A Python number or a constant the converter writes, rather than a tensor of the model.
        var isScalar: Bool
        /// A tensor the model stores or makes with a fixed dtype: a parameter, buffer, constant, or a factory's result.
        var isModelTensor: Bool
    }

    enum Failure: Sendable {
        /// `PyTorch convert function for op '<kind>' not implemented.`
        case unregistered(kind: String)
        /// MIL's type check: `input` must share `partner`'s dtype (`partner` comes first in the op's inputs).
        case clash(milOp: String, input: String, operand: Operand, partner: String, partnerOperand: Operand, converter: String)
        /// `assert x.dtype == y.dtype` in the converter.
        case assertion(converter: String, first: String, firstOperand: Operand, second: String, secondOperand: Operand)
        /// `int()` of a value computed from a static shape, which the frontend holds as a 1-element array.
        case intOfShape(input: String)
        /// A ScalarType number `NUM_TO_TORCH_DTYPE` lacks (bf16 = 15): `KeyError`.
        case unmappedDType(argument: String, dtype: DType)
    }

    private(set) var dtypes: [String: DType] = [:]
    /// The graph with every value typed as the frontend types it.
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
                dtypes[name] = dtype.isFloatingPoint ? .float32 : Self.milDType(dtype)
            } else {
                dtypes[name] = Self.milDType(dtype)
                modelTensors.insert(name)
            }
        }
        for (index, node) in graph.nodes.enumerated() {
            if let failure = convert(node, knowledge: knowledge, target: target) { failures[index] = failure }
        }
        for (name, dtype) in dtypes { typedGraph.values[name]?.dtype = dtype }
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
            output = dtypes[other]
        } else if Self.integerKinds.contains(kind) {
            output = .int32
        } else if Self.comparisonKinds.contains(kind) {
            output = .bool
        } else if let converter = knowledge.converterOf[kind], knowledge.promotingConverters.contains(converter) {
            output = Self.widest(tensorInputs.compactMap { dtypes[$0] })
        } else {
            output = tensorInputs.compactMap { dtypes[$0] }.first ?? .float32
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
            if let output { dtypes[name] = output }
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
        if lowering.assertsSameDType.count >= 2 {
            let operands = lowering.assertsSameDType.compactMap { name in operand(.argument(name, default: nil), node).map { (name, $0) } }
            if let first = operands.first, let other = operands.dropFirst().first(where: { $0.1.dtype != first.1.dtype }) {
                return .assertion(converter: lowering.converter, first: first.0, firstOperand: first.1, second: other.0, secondOperand: other.1)
            }
        }
        let promoted = Self.widest(lowering.promotes.compactMap { operand(.argument($0, default: nil), node)?.dtype })
        for emitted in lowering.emits where !CoreMLToolsPack.skipped(emitted, node: node) {
            if !emitted.values.isEmpty {
                let operands = emitted.values.compactMap { name in operand(.argument(name, default: nil), node).map { (name, $0) } }
                if let first = operands.first, let other = operands.dropFirst().first(where: { $0.1.dtype != first.1.dtype }) {
                    return .clash(milOp: emitted.milOp, input: "values", operand: other.1, partner: "values", partnerOperand: first.1,
                                  converter: lowering.converter)
                }
                continue
            }
            guard let domains = knowledge.typeDomainOrder(of: emitted.milOp, at: target) else { continue }
            let bindings = Dictionary(emitted.bindings.map { ($0.input, $0.binding) }) { first, _ in first }
            for members in domains {
                var bound: [(input: String, operand: Operand)] = []
                for input in members {
                    guard let binding = bindings[input], var resolved = operand(binding, node) else { continue }
                    if case .argument(let name, _) = binding, lowering.promotes.contains(name), let promoted { resolved.dtype = promoted }
                    bound.append((input, resolved))
                }
                guard let reference = bound.first, let offender = bound.dropFirst().first(where: { $0.operand.dtype != reference.operand.dtype })
                else { continue }
                return .clash(milOp: emitted.milOp, input: offender.input, operand: offender.operand, partner: reference.input,
                              partnerOperand: reference.operand, converter: lowering.converter)
            }
        }
        return nil
    }

    private func operand(_ binding: CoreMLKnowledge.Binding, _ node: Node) -> Operand? {
        func tensor(_ name: String, _ origin: String) -> Operand? {
            dtypes[name].map { Operand(dtype: $0, origin: origin, isScalar: false, isModelTensor: modelTensors.contains(name)) }
        }
        switch binding {
        case .constant(let dtype):
            return Operand(dtype: dtype, origin: "a constant the converter writes", isScalar: true, isModelTensor: false)
        case .like(let name):
            guard let input = node.input(named: name)?.argument.tensorNames.first else { return nil }
            return tensor(input, "computed from `\(name)`")
        case .item(let name, let index):
            guard case .tensors(let tensors)? = node.input(named: name)?.argument, tensors.indices.contains(index), let input = tensors[index]
            else { return nil }
            return tensor(input, "`\(name)[\(index)]` = tensor `\(input)`")
        case .argument(let name, let defaultDType):
            switch node.input(named: name)?.argument {
            case .tensor(let input)?:
                return tensor(input, "`\(name)` = tensor `\(input)`")
            case .float(let value)?:
                return Operand(dtype: .float32, origin: "`\(name)` = \(Argument.float(value).literalDescription)", isScalar: true, isModelTensor: false)
            case .int(let value)?:
                return Operand(dtype: .int32, origin: "`\(name)` = \(value)", isScalar: true, isModelTensor: false)
            case nil, .none?:
                return defaultDType.map { Operand(dtype: $0, origin: "the converter's default for `\(name)`", isScalar: true, isModelTensor: false) }
            default:
                return nil
            }
        }
    }
}
