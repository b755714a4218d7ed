import TensorlintIR

/// Predicates of the onnxruntime rule pack. Node checks read the issues `ONNXTypeChecker` found once per
/// lint; model checks look at what the session does before it resolves the graph.
extension Predicates {
    static let onnxruntime: [String: Predicate] = [
        "onnxruntime-type-parameter-mismatch": { $0.onnxIssue(.typeParameterMismatch)?.bindings },
        "onnxruntime-disallowed-input-type": { $0.onnxIssue(.disallowedInputType)?.bindings },
        "onnxruntime-declared-type-mismatch": { $0.onnxIssue(.declaredTypeMismatch)?.bindings },
        "onnxruntime-missing-kernel": { $0.onnxIssue(.missingKernel)?.bindings },
        "onnxruntime-unregistered-op": { $0.onnxIssue(.unknownOp)?.bindings },
        "onnxruntime-deprecated-op": { $0.onnxIssue(.deprecatedOp)?.bindings },
        "onnxruntime-subgraph-type-mismatch": subgraphTypeMismatch,
        "onnxruntime-unsupported-opset": unsupportedOpset,
        "onnxruntime-external-data-unavailable": externalDataUnavailable,
        "onnxruntime-initializer-type-conflict": initializerTypeConflict,
    ]

    static func subgraphTypeMismatch(_ context: MatchContext) -> Bindings? {
        if var bindings = context.onnxIssue(.branchTypeMismatch)?.bindings {
            bindings["problem"] = "its branches disagree on output \(bindings["slot"]!): `then_branch` yields `\(bindings["then_output"]!)` as \(bindings["then_dtype"]!), `else_branch` yields `\(bindings["else_output"]!)` as \(bindings["else_dtype"]!)"
            bindings["remedy"] = "make both branches produce the same type (insert a Cast at the end of one branch)"
            return bindings
        }
        if var bindings = context.onnxIssue(.subgraphInputMismatch)?.bindings {
            bindings["problem"] = "its body declares input `\(bindings["body_input"]!)` as \(bindings["declared"]!), but the node passes `\(bindings["outer_input"]!)` as \(bindings["outer_dtype"]!)"
            bindings["remedy"] = "declare `\(bindings["body_input"]!)` in the body as \(bindings["outer_dtype"]!), or cast the value passed in to \(bindings["declared"]!)"
            return bindings
        }
        return nil
    }

    /// onnxruntime refuses opsets newer than the last onnx release it was built with.
    static func unsupportedOpset(_ context: MatchContext) -> Bindings? {
        guard let runtime = context.onnxruntime else { return nil }
        for (domain, version) in context.model.opsetImports.sorted(by: { $0.key < $1.key }) {
            if let newest = runtime.newestSupportedOpset[domain], version > newest {
                return ["domain": domain, "opset": String(version), "newest": String(newest)]
            }
        }
        return nil
    }

    /// An initializer's bytes live in a file that is missing or too short: the session fails while loading them.
    static func externalDataUnavailable(_ context: MatchContext) -> Bindings? {
        for graph in context.model.graphs {
            for name in graph.values.keys.sorted() {
                guard let external = graph.values[name]?.external else { continue }
                guard let available = external.availableBytes else {
                    return ["initializer": name, "location": external.location, "problem": "the file does not exist"]
                }
                let (needed, overflow) = external.offset.addingReportingOverflow(external.length ?? 0)
                if overflow || needed > available || external.offset > available {
                    let range = overflow ? "from byte \(external.offset) on" : "bytes \(external.offset)..<\(needed)"
                    return ["initializer": name, "location": external.location,
                            "problem": "it needs \(range) but the file has only \(available)"]
                }
            }
        }
        return nil
    }

    /// A graph input declared with one type whose default (an initializer of the same name) has another.
    static func initializerTypeConflict(_ context: MatchContext) -> Bindings? {
        guard let (_, value, stored, declared) = initializerConflicts(context.model).first else { return nil }
        return ["initializer": value.name, "stored": stored.rawValue, "declared": declared.rawValue,
                "stored_onnx": ONNXSchemas.onnxSpelling(stored), "declared_onnx": ONNXSchemas.onnxSpelling(declared)]
    }

    static func initializerConflicts(_ model: Model) -> [(graph: Int, value: Value, stored: DType, declared: DType)] {
        model.graphs.enumerated().flatMap { index, graph in
            graph.inputs.compactMap { name -> (Int, Value, DType, DType)? in
                guard let value = graph.values[name], value.role.isWeight, let stored = value.dtype,
                      let declared = value.declaredDType, stored != declared else { return nil }
                return (index, value, stored, declared)
            }
        }
    }
}
