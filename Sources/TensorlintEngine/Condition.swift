import TensorlintIR

/// Values a match binds for the message template (`{op}`, `{mil_op}`, `{inputs}` …).
public typealias Bindings = [String: String]

/// The declarative match language of rule files. Each leaf either fails or succeeds with bindings.
public indirect enum Condition: Sendable {
    case all([Condition])
    case any([Condition])
    case not(Condition)
    /// Node: the op is one of these (`aten.celu`, or with overload `aten.where.ScalarOther`).
    case op(Set<String>)
    /// Node: some tensor input (or the named one) has one of these dtypes.
    case inputDType(argument: String?, dtypes: Set<DType>)
    /// Node: some output has one of these dtypes.
    case outputDType(Set<DType>)
    /// Node: a scalar literal (Python int or float written into the graph) is passed, optionally a named one.
    case literal(argument: String?)
    /// Model: the file is in one of these formats.
    case format(Set<Model.Format>)
    /// Model: the IR dialect is one of these.
    case dialect(Set<String>)
    /// Model: some parameter, buffer or constant has one of these dtypes.
    case weightDType(Set<DType>)
    /// Model: some user input has one of these dtypes.
    case userInputDType(Set<DType>)
    /// Model: some tensor anywhere has one of these dtypes.
    case anyTensorDType(Set<DType>)
    /// Model: a pickle in the file names a global its loader does not resolve (code, when loaded).
    case unsafePickleGlobal
    /// Settings: the deployment target lies in [minimum, below).
    case deploymentTarget(minimum: DeploymentTarget?, below: DeploymentTarget?)
    case computePrecision(Set<ComputePrecision>)
    /// Settings: the dtype declared for floating inputs (`--input-dtype`) is one of these.
    case inputDTypeSetting(Set<InputDType>)
    case converterVersion(VersionRange)
    /// A check written in Swift, for what YAML cannot say (a converter pack's).
    case predicate(Predicate)
}

/// What a condition is evaluated against.
public struct MatchContext: Sendable {
    public let model: Model
    /// The element types of the model's values, in every graph (found once per lint).
    public let valueTypes: Set<DType>
    public let graph: Graph
    public let node: Node?
    public let settings: Settings
    /// What the target's converter pack prepared for this model, once per lint (its knowledge, an analysis).
    public let packState: any Sendable
    /// Position of `graph` in `model.graphs` and of `node` in the graph.
    public let graphIndex: Int
    public let nodeIndex: Int?

    public init(model: Model, valueTypes: Set<DType>, graph: Int, node: Int?, settings: Settings, packState: any Sendable) {
        self.model = model
        self.valueTypes = valueTypes
        self.graph = model.graphs[graph]
        self.node = node.map { model.graphs[graph].nodes[$0] }
        self.settings = settings
        self.packState = packState
        graphIndex = graph
        nodeIndex = node
    }

    /// The pack's state, as the type its `prepare` returns.
    public func state<State>(as type: State.Type) -> State? { packState as? State }
}

extension Condition {
    func evaluate(_ context: MatchContext) -> Bindings? {
        switch self {
        case .all(let conditions):
            var merged: Bindings = [:]
            for condition in conditions {
                guard let bindings = condition.evaluate(context) else { return nil }
                merged.merge(bindings) { first, _ in first }
            }
            return merged
        case .any(let conditions):
            for condition in conditions {
                if let bindings = condition.evaluate(context) { return bindings }
            }
            return nil
        case .not(let condition):
            return condition.evaluate(context) == nil ? [:] : nil
        case .op(let names):
            guard let node = context.node else { return nil }
            return names.contains(node.op.qualifiedName) || names.contains(node.op.description) ? [:] : nil
        case .inputDType(let argument, let dtypes):
            guard let node = context.node else { return nil }
            for input in node.inputs where argument == nil || input.name == argument {
                for name in input.argument.tensorNames {
                    if let dtype = context.graph.dtype(of: name), dtypes.contains(dtype) {
                        return ["input": input.name, "input_tensor": name, "dtype": dtype.rawValue]
                    }
                }
            }
            return nil
        case .outputDType(let dtypes):
            guard let node = context.node else { return nil }
            for case let name? in node.outputs {
                if let dtype = context.graph.dtype(of: name), dtypes.contains(dtype) {
                    return ["output": name, "dtype": dtype.rawValue]
                }
            }
            return nil
        case .literal(let argument):
            guard let node = context.node else { return nil }
            for input in node.inputs where (argument == nil || input.name == argument) && input.argument.isScalarLiteral {
                return ["argument": input.name, "value": input.argument.literalDescription]
            }
            return nil
        case .format(let formats):
            return formats.contains(context.model.format) ? ["format": context.model.format.rawValue] : nil
        case .dialect(let dialects):
            guard let dialect = context.model.dialect, dialects.contains(dialect) else { return nil }
            return ["dialect": dialect]
        case .weightDType(let dtypes):
            return Self.describeValues(context.model, dtypes: dtypes, bindingKey: "weights") { $0.role.isWeight }
        case .userInputDType(let dtypes):
            return Self.describeValues(context.model, dtypes: dtypes, bindingKey: "inputs") { $0.role == .userInput }
        case .anyTensorDType(let dtypes):
            return Self.describeValues(context.model, dtypes: dtypes, bindingKey: "tensors") { _ in true }
        case .unsafePickleGlobal:
            let globals = context.model.unsafePickleGlobals
            guard let first = globals.first else { return nil }
            let others = globals.dropFirst()
            let listed = others.prefix(3).map { "`\($0.qualifiedName)` in `\($0.pickle)`" }.joined(separator: ", ")
            return ["global": first.qualifiedName, "pickle": first.pickle, "loader": first.loader,
                    "others": others.isEmpty ? "" : " (and \(others.count) more: \(listed)\(others.count > 3 ? ", …" : ""))"]
        case .deploymentTarget(let minimum, let below):
            let target = context.settings.deploymentTarget
            if let minimum, target < minimum { return nil }
            if let below, !(target < below) { return nil }
            return [:]
        case .computePrecision(let precisions):
            return precisions.contains(context.settings.computePrecision) ? [:] : nil
        case .inputDTypeSetting(let dtypes):
            return dtypes.contains(context.settings.inputDType) ? ["input_dtype": context.settings.inputDType.rawValue] : nil
        case .converterVersion(let range):
            return range.contains(context.settings.converterVersion) ? [:] : nil
        case .predicate(let predicate):
            return predicate.evaluate(context)
        }
    }

    /// The binding keys every match fills, with what they hold (for checking and documenting messages).
    var guaranteedKeys: [String: String] {
        switch self {
        case .all(let conditions):
            return conditions.reduce(into: [:]) { keys, condition in keys.merge(condition.guaranteedKeys) { first, _ in first } }
        case .any(let conditions):
            guard let first = conditions.first?.guaranteedKeys else { return [:] }
            return conditions.dropFirst().reduce(first) { common, condition in
                let keys = condition.guaranteedKeys
                return common.filter { keys[$0.key] != nil }
            }
        case .not, .op, .deploymentTarget, .computePrecision, .converterVersion:
            return [:]
        case .inputDTypeSetting:
            return ["input_dtype": "the dtype declared for floating inputs"]
        case .inputDType:
            return ["input": "the input's argument name", "input_tensor": "the tensor passed to it", "dtype": "its dtype"]
        case .outputDType:
            return ["output": "the output's name", "dtype": "its dtype"]
        case .literal:
            return ["argument": "the argument given a Python scalar", "value": "the scalar"]
        case .format:
            return ["format": "the model's format"]
        case .dialect:
            return ["dialect": "the IR dialect"]
        case .weightDType:
            return Self.valueKeys.merging(["weights": "the first matching weights, with their dtypes"]) { first, _ in first }
        case .userInputDType:
            return Self.valueKeys.merging(["inputs": "the first matching model inputs, with their dtypes"]) { first, _ in first }
        case .anyTensorDType:
            return Self.valueKeys
        case .unsafePickleGlobal:
            return ["global": "the first global (`module.name`)", "pickle": "the pickle naming it, as a path inside the file",
                    "loader": "what reads that pickle", "others": "` (and N more: …)` naming the next few with their pickles, or nothing"]
        case .predicate(let predicate):
            return predicate.bindingKeys
        }
    }

    /// The predicates the condition names.
    var predicateNames: Set<String> {
        switch self {
        case .all(let conditions), .any(let conditions): return conditions.reduce(into: []) { $0.formUnion($1.predicateNames) }
        case .not(let condition): return condition.predicateNames
        case .predicate(let predicate): return [predicate.name]
        default: return []
        }
    }

    private static let valueKeys = ["tensors": "the first matching tensors, with their dtypes", "count": "how many match",
                                    "dtype": "the first one's dtype"]

    private static let shownValueCount = 3

    /// Binds `{<key>}` to the first few matching values (`x (float16), p_weight (float16), … 3 more`) and `{count}`.
    private static func describeValues(_ model: Model, dtypes: Set<DType>, bindingKey: String,
                                       where include: (Value) -> Bool) -> Bindings? {
        // Each graph's inputs in their order, then its other values by name: only the first few are shown, so
        // only they are put in order (a large model's model-wide rules ran a sort of every value).
        var shownValues: [Value] = []
        var count = 0
        for graph in model.graphs {
            let inputs = Set(graph.inputs)
            func matches(_ value: Value) -> Bool { value.dtype.map(dtypes.contains) == true && include(value) }
            for value in graph.inputs.compactMap({ graph.values[$0] }) where matches(value) {
                count += 1
                if shownValues.count < shownValueCount { shownValues.append(value) }
            }
            // The graph's other matching values with the first names, in order (names are unique in a graph).
            var firstByName: [Value] = []
            for value in graph.values.values where matches(value) && !inputs.contains(value.name) {
                count += 1
                let position = firstByName.firstIndex { value.name < $0.name } ?? firstByName.count
                guard position < shownValueCount else { continue }
                firstByName.insert(value, at: position)
                if firstByName.count > shownValueCount { firstByName.removeLast() }
            }
            shownValues += firstByName.prefix(shownValueCount - shownValues.count)
        }
        guard let firstValue = shownValues.first else { return nil }
        let shown = shownValues.map { "\($0.name) (\($0.dtype!.rawValue))" }.joined(separator: ", ")
        let more = count > shownValueCount ? ", … \(count - shownValueCount) more" : ""
        var bindings = ["tensors": shown + more, "count": String(count), "dtype": firstValue.dtype!.rawValue]
        bindings[bindingKey] = shown + more
        return bindings
    }

}
