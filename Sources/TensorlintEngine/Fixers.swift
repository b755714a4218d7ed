import TensorlintIR

/// Automatic fixes: a rule names them with `fix.automatic`; each returns the edits that cure what the
/// rule found in this context (none when it cannot), which `tensorlint fix` hands to the format's writer.
public enum Fixers {
    public typealias Fixer = @Sendable (MatchContext) -> [ModelEdit]

    static let narrowFloats: Set<DType> = [.float16, .bfloat16]
    static let keepFP32 = ModelEdit.convertModel(from: [.bfloat16, .float16], to: .float32)

    public static let all: [String: Fixer] = [
        "cast-to-bound-type": { $0.onnxIssue(.typeParameterMismatch)?.edits ?? [] },
        "cast-to-allowed-type": { $0.onnxIssue(.disallowedInputType)?.edits ?? [] },
        "retype-declaration": { $0.onnxIssue(.declaredTypeMismatch)?.edits ?? [] },
        "cast-around-op": { $0.onnxIssue(.missingKernel)?.edits ?? [] },
        // An fp16/bf16 torch model meant for coremltools becomes fp32 (exact); coremltools lowers precision itself.
        "keep-fp32": { context in context.valueTypes.isDisjoint(with: narrowFloats) ? [] : [keepFP32] },
        // An op coremltools cannot convert is replaced by torch's own decomposition of it into ops it converts.
        // Rewrites are written for fp32 programs: a narrower one is widened first (exact), rewritten next round.
        "rewrite-op": { context in
            guard let node = context.node, let nodeIndex = context.nodeIndex,
                  let rewrite = context.coreml?.rewrites[node.op.description] else { return [] }
            if let output = node.outputs.first ?? nil, let dtype = context.graph.dtype(of: output), narrowFloats.contains(dtype) {
                return [keepFP32]
            }
            return rewrite.replacement(for: node, in: context.graph).map { [.replaceNode(graph: context.graphIndex, node: nodeIndex, with: $0)] } ?? []
        },
        // The declared input type is the model's interface: the initializer's bytes are converted to it.
        "convert-initializer": { context in
            Predicates.initializerConflicts(context.model).compactMap { graph, value, _, declared in
                value.external == nil ? .convertWeight(graph: graph, name: value.name, to: declared) : nil
            }
        },
    ]
}
