import TensorlintEngine
import TensorlintIR

/// onnxruntime: the onnx operator schemas and the CPU kernel registry of one release
/// (`knowledge/onnxruntime-<version>/`, paired with the `knowledge/onnx-<version>/` it names).
public enum ONNXRuntimePack: ConverterPack {
    public static let target = "onnxruntime"
    public static let defaultVersion = Version("1.32")!
    public static let nativeFormats: Set<Model.Format> = [.onnx]

    public static func loadKnowledge(version: Version, folder: String, folders: [String: KnowledgeFolder]) throws -> any Sendable {
        try ONNXRuntimeKnowledge(folder: folder, version: version, folders: folders)
    }

    /// ONNX models are type-checked once per lint; the node predicates read the issues found.
    public static func prepare(_ model: Model, knowledge: any Sendable, settings: Settings) -> any Sendable {
        let runtime = knowledge as! ONNXRuntimeKnowledge
        return ONNXRuntimeState(runtime: runtime,
                                analysis: model.format == .onnx ? ONNXTypeChecker.analyze(model, runtime: runtime) : nil)
    }

    public static let settingKeys: [String: String] = [:]
    public static let nameKeys: Set<String> = ["initializer", "output", "first_input", "second_input", "input_input", "cast_fix", "scope",
                                               "problem", "remedy", "declaration", "tensors", "location"]
    public static func settingBindings(_ settings: Settings) -> Bindings { [:] }

    /// Where in the model an issue sits (empty for the main graph).
    static let scope = ["scope": "where the node sits, when not in the main graph"]
    /// What every schema-level issue says about the op's schema.
    static let schemaKeys = scope.merging(["since": "the schema version in force", "opset": "the model's opset for the domain",
                                           "domain": "the op's domain", "schema_op": "the schema's op name"]) { first, _ in first }

    static func operand(_ prefix: String) -> [String: String] {
        ["\(prefix)_input": "the \(prefix) input's value", "\(prefix)_formal": "its formal parameter", "\(prefix)_dtype": "its dtype",
         "\(prefix)_onnx": "its type as onnxruntime spells it", "\(prefix)_position": "its input position",
         "\(prefix)_origin": "whether it is an initializer or a computed value"]
    }

    static let castKeys = ["param": "the type parameter or fixed type", "cast_fix": "the initializer to retype or the Cast to insert"]

    static func issuePredicate(_ name: String, _ kind: ONNXAnalysis.IssueKind, keys: [String: String], fixer: String? = nil) -> Predicate {
        Predicate(name, state: ONNXRuntimeState.self, keys: keys,
                  fixers: fixer.map { [Fixer($0, state: ONNXRuntimeState.self) { context, state in state.issue(kind, context)?.edits ?? [] }] } ?? []
        ) { context, state in state.issue(kind, context)?.bindings }
    }

    public static let predicates: [Predicate] = [
        issuePredicate("onnxruntime-type-parameter-mismatch", .typeParameterMismatch,
                       keys: schemaKeys.merging(operand("first")) { a, _ in a }.merging(operand("second")) { a, _ in a }.merging(castKeys) { a, _ in a },
                       fixer: "cast-to-bound-type"),
        issuePredicate("onnxruntime-disallowed-input-type", .disallowedInputType,
                       keys: schemaKeys.merging(operand("input")) { a, _ in a }.merging(castKeys) { a, _ in a }
                           .merging(["allowed": "the types the schema allows"]) { a, _ in a },
                       fixer: "cast-to-allowed-type"),
        issuePredicate("onnxruntime-declared-type-mismatch", .declaredTypeMismatch, keys: scope.merging([
            "output": "the declared value", "declared": "the declared dtype", "inferred": "the computed dtype",
            "declared_onnx": "the declared type as onnxruntime spells it", "inferred_onnx": "the computed type as onnxruntime spells it",
            "declaration": "where the declaration is",
        ]) { a, _ in a }, fixer: "retype-declaration"),
        issuePredicate("onnxruntime-missing-kernel", .missingKernel, keys: schemaKeys.merging([
            "binding": "the types the kernel is looked up by", "dtype": "the floating type bound", "kernel_types": "the types CPU kernels take",
        ]) { a, _ in a }, fixer: "cast-around-op"),
        issuePredicate("onnxruntime-invalid-inserted-cast", .invalidInsertedCast, keys: schemaKeys.merging([
            "cast_since": "the Cast schema version at the model's opset",
        ]) { a, _ in a }),
        issuePredicate("onnxruntime-constant-without-value", .constantWithoutValue, keys: schemaKeys.merging([
            "value_attributes": "the attributes that can hold a Constant's value at this opset",
        ]) { a, _ in a }),
        issuePredicate("onnxruntime-kernel-refuses-attributes", .kernelRefusesAttributes, keys: schemaKeys.merging([
            "requirement": "what the kernel's constructor demands of the attributes", "kernel_source": "where in onnxruntime's sources it checks",
            "attribute_fix": "what to change on the node so that the constructor accepts it",
            "check": "what the check prints when it fails",
        ]) { a, _ in a }),
        issuePredicate("onnxruntime-inference-refuses-attributes", .inferenceRefusesAttributes, keys: schemaKeys.merging([
            "requirement": "what onnx's inference function demands of the attributes", "onnx_source": "where in onnx's sources it checks",
            "onnx_version": "the onnx release whose schemas onnxruntime carries", "check": "what the check prints when it fails",
            "attribute_fix": "what to change on the node so that inference accepts it",
        ]) { a, _ in a }),
        issuePredicate("onnxruntime-unrecognized-attribute", .unrecognizedAttribute, keys: schemaKeys.merging([
            "attribute": "the attribute the schema does not declare", "declared_in": "which versions of the op declare it",
            "declared": "the attributes the schema declares",
        ]) { a, _ in a }),
        issuePredicate("onnxruntime-missing-required-attribute", .missingRequiredAttribute, keys: schemaKeys.merging([
            "attribute": "the required attribute left out", "attribute_type": "its type (`int`, `ints`, `string` …)",
        ]) { a, _ in a }),
        issuePredicate("onnxruntime-unregistered-domain", .unregisteredDomain, keys: scope.merging([
            "domain": "the op's domain", "schema_op": "the op's name", "registered": "the domains onnxruntime registers",
        ]) { a, _ in a }),
        issuePredicate("onnxruntime-unregistered-op", .unknownOp, keys: scope.merging([
            "domain": "the op's domain", "opset": "the model's opset for the domain", "schema_op": "the op's name",
        ]) { a, _ in a }),
        issuePredicate("onnxruntime-deprecated-op", .deprecatedOp, keys: schemaKeys),
        issuePredicate("onnxruntime-invalid-type-attribute", .invalidTypeAttribute, keys: schemaKeys.merging([
            "attribute": "the attribute that names the output's data type", "value": "the number it holds",
        ]) { a, _ in a }),
        Predicate("onnxruntime-subgraph-type-mismatch", state: ONNXRuntimeState.self, keys: scope.merging([
            "problem": "what the body and the node disagree on", "remedy": "how to make them agree",
        ]) { a, _ in a }, evaluate: subgraphTypeMismatch),
        Predicate("onnxruntime-unsupported-opset", state: ONNXRuntimeState.self, keys: [
            "domain": "the domain", "opset": "the model's opset for it", "newest": "the newest opset onnxruntime supports",
        ], evaluate: unsupportedOpset),
        Predicate("onnxruntime-external-data-unavailable", state: ONNXRuntimeState.self, keys: [
            "initializer": "the initializer", "location": "its external data file", "problem": "what is wrong with the file",
        ], evaluate: externalDataUnavailable),
        Predicate("onnxruntime-initializer-type-conflict", state: ONNXRuntimeState.self, keys: [
            "initializer": "the initializer", "stored": "its stored dtype", "declared": "the graph input's declared dtype",
            "stored_onnx": "the stored type as onnxruntime spells it", "declared_onnx": "the declared type as onnxruntime spells it",
        ], fixers: [
            // The declared input type is the model's interface: the initializer's bytes are converted to it.
            Fixer("convert-initializer", state: ONNXRuntimeState.self) { context, _ in
                initializerConflicts(context.model).compactMap { graph, value, _, declared in
                    value.external == nil ? .convertWeight(graph: graph, name: value.name, to: declared) : nil
                }
            },
        ], evaluate: initializerTypeConflict),
    ]

    public static let fixers: [Fixer] = []

    static func subgraphTypeMismatch(_ context: MatchContext, _ state: ONNXRuntimeState) -> Bindings? {
        if var bindings = state.issue(.branchTypeMismatch, context)?.bindings {
            bindings["problem"] = "its branches disagree on output \(bindings["slot"]!): `then_branch` yields `\(bindings["then_output"]!)` as \(bindings["then_dtype"]!), `else_branch` yields `\(bindings["else_output"]!)` as \(bindings["else_dtype"]!)"
            bindings["remedy"] = "make both branches produce the same type (insert a Cast at the end of one branch)"
            return bindings
        }
        if var bindings = state.issue(.subgraphInputMismatch, context)?.bindings {
            bindings["problem"] = "its body declares input `\(bindings["body_input"]!)` as \(bindings["declared"]!), but the node passes `\(bindings["outer_input"]!)` as \(bindings["outer_dtype"]!)"
            bindings["remedy"] = "declare `\(bindings["body_input"]!)` in the body as \(bindings["outer_dtype"]!), or cast the value passed in to \(bindings["declared"]!)"
            return bindings
        }
        return nil
    }

    /// onnxruntime refuses opsets newer than the last onnx release it was built with.
    static func unsupportedOpset(_ context: MatchContext, _ state: ONNXRuntimeState) -> Bindings? {
        for (domain, version) in context.model.opsetImports.sorted(by: { $0.key < $1.key }) {
            if let newest = state.runtime.newestSupportedOpset[domain], version > newest {
                return ["domain": domain, "opset": String(version), "newest": String(newest)]
            }
        }
        return nil
    }

    /// An initializer's bytes live in a file that is missing or too short: the session fails while loading them.
    static func externalDataUnavailable(_ context: MatchContext, _ state: ONNXRuntimeState) -> Bindings? {
        for graph in context.model.graphs {
            for name in graph.values.keys.sorted() {
                guard let external = graph.values[name]?.external else { continue }
                if let refusal = external.refusal { return ["initializer": name, "location": external.location, "problem": refusal] }
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
    static func initializerTypeConflict(_ context: MatchContext, _ state: ONNXRuntimeState) -> Bindings? {
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

/// What the onnxruntime predicates read: the runtime's knowledge and, for ONNX models, what type checking found.
struct ONNXRuntimeState: Sendable {
    let runtime: ONNXRuntimeKnowledge
    let analysis: ONNXAnalysis?

    /// The issue of a kind that the analysis found at the context's node.
    func issue(_ kind: ONNXAnalysis.IssueKind, _ context: MatchContext) -> ONNXAnalysis.Issue? {
        guard let nodeIndex = context.nodeIndex else { return nil }
        return analysis?.issue(kind, graph: context.graphIndex, node: nodeIndex)
    }
}
