import TensorlintEngine
import TensorlintIR

/// The predicates of the TorchScript frontend's rules: each reads the failures `TorchScriptConversion` found.
extension CoreMLToolsPack {
    static let errorKey = ["error": "the first line of the error coremltools raises"]

    static let torchScriptPredicates: [Predicate] = [
        Predicate("coremltools-torchscript-unregistered-op", state: CoreMLAnalysis.self, keys: errorKey.merging([
            "kind": "the op kind as coremltools names it", "alternative": "what converts instead, or how to do without the op",
        ]) { first, _ in first }) { context, analysis in
            guard case .unregistered(let kind)? = failure(context, analysis) else { return nil }
            let alternative = context.node.flatMap { analysis.knowledge.alternatives[$0.op.qualifiedName] }
            return ["kind": kind, "error": "PyTorch convert function for op '\(kind)' not implemented.",
                    "alternative": alternative.map { "Use \($0) instead." }
                        ?? "Rewrite the model without this op, or register a converter with `@register_torch_op`."]
        },
        Predicate("coremltools-torchscript-scalar-clash", state: CoreMLAnalysis.self, keys: clashKeys.merging(errorKey) { first, _ in first }) { context, analysis in
            typeClash(context, analysis, modelTensors: false)
        },
        Predicate("coremltools-torchscript-tensor-clash", state: CoreMLAnalysis.self, keys: clashKeys.merging(errorKey) { first, _ in first }) { context, analysis in
            typeClash(context, analysis, modelTensors: true)
        },
        Predicate("coremltools-torchscript-dtype-assert", state: CoreMLAnalysis.self, keys: [
            "converter": "the coremltools converter function", "first": "the first asserted input", "first_dtype": "its dtype",
            "first_origin": "where it comes from", "second": "the input of another dtype", "second_dtype": "its dtype",
            "second_origin": "where it comes from",
        ]) { context, analysis in
            guard case .assertion(let converter, let first, let second)? = failure(context, analysis) else { return nil }
            return assertionBindings(converter: converter, first: first, second: second)
        },
        Predicate("coremltools-torchscript-int-of-shape", state: CoreMLAnalysis.self, keys: [
            "input": "the value made from a static shape",
        ]) { context, analysis in
            guard case .intOfShape(let input)? = failure(context, analysis) else { return nil }
            return ["input": input]
        },
        Predicate("coremltools-torchscript-bfloat16", state: CoreMLAnalysis.self, keys: errorKey.merging([
            "tensors": "the bfloat16 tensors the frontend meets first",
        ]) { first, _ in first }) { context, analysis in
            guard let conversion = analysis.torchScript else { return nil }
            let graph = context.model.mainGraph
            // Weights are made MIL consts before any node converts; a bf16 cast fails at its node.
            let weights = graph.inputs.compactMap { graph.values[$0] }.filter { $0.role.isWeight && $0.dtype == .bfloat16 }
            if !weights.isEmpty {
                let shown = weights.prefix(3).map(\.name).joined(separator: ", ") + (weights.count > 3 ? ", … \(weights.count - 3) more" : "")
                return ["tensors": shown, "error": "TypeError: Got unsupported ScalarType BFloat16"]
            }
            for index in conversion.failures.keys.sorted() {
                guard case .unmappedDType(let argument, _)? = conversion.failures[index] else { continue }
                return ["tensors": "`\(argument)` of `\(graph.nodes[index].op)` node `\(graph.nodes[index].name)`", "error": "KeyError: np.int32(15)"]
            }
            return nil
        },
    ]

    static func failure(_ context: MatchContext, _ analysis: CoreMLAnalysis) -> TorchScriptConversion.Failure? {
        guard context.graphIndex == 0, let index = context.nodeIndex else { return nil }
        return analysis.torchScript?.failures[index]
    }

    /// A MIL type-domain clash; `modelTensors`: one side is a tensor the model stores in its own dtype (an fp16
    /// weight meeting the fp32 activations coremltools makes of every input), else a scalar meets an activation.
    static func typeClash(_ context: MatchContext, _ analysis: CoreMLAnalysis, modelTensors: Bool) -> Bindings? {
        guard case .clash(let milOp, let input, let operand, let partner, let partnerOperand, let converter, let modelTensor)? = failure(context, analysis),
              modelTensor == modelTensors, let node = context.node else { return nil }
        let error = input == "values"
            ? "Tensors in 'values' of the concat op should share the same data type (\(operand.dtype.shortName) and \(partnerOperand.dtype.shortName))"
            : "In op, of type \(milOp), named \(node.name), the named input `\(input)` must have the same data type as the named input `\(partner)`. However, \(input) has dtype \(operand.dtype.shortName) whereas \(partner) has dtype \(partnerOperand.dtype.shortName)."
        return ["mil_op": milOp, "mil_input": input, "constant_dtype": operand.dtype.shortName, "constant_origin": operand.origin,
                "partner": partner, "partner_dtype": partnerOperand.dtype.shortName, "partner_origin": partnerOperand.origin,
                "converter": converter, "opset": context.settings.deploymentTarget.opsetName, "error": error]
    }
}
