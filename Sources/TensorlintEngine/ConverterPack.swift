import TensorlintIR

/// A knowledge folder's files (`knowledge/coremltools-9.0/`): file name → contents.
public typealias KnowledgeFolder = [String: String]

/// What a converter or runtime brings to the generic engine: its knowledge, what it computes once per
/// lint, and the predicates and fixers its rule files name. A new converter is a new pack; a new version
/// of one is a new knowledge folder.
public protocol ConverterPack: Sendable {
    /// The id that rule files (`applies_to.targets`), `--target` and knowledge folders (`<target>-<version>`) use.
    static var target: String { get }
    static var defaultVersion: Version { get }
    /// The formats whose models this converter runs by default, when no target is configured for them
    /// (an `.onnx` file is meant for onnxruntime, a torch archive for coremltools).
    static var nativeFormats: Set<Model.Format> { get }
    /// One version's knowledge, from its folder (`folders[folder]`); `folders` holds every knowledge folder by
    /// name, for the tables a folder says it pairs with or builds on.
    static func loadKnowledge(version: Version, folder: String, folders: [String: KnowledgeFolder]) throws -> any Sendable
    /// What this pack's predicates and fixers read about a model (an analysis), computed once per lint.
    static func prepare(_ model: Model, knowledge: any Sendable, settings: Settings) -> any Sendable
    static var predicates: [Predicate] { get }
    /// Fixers any rule of this pack may name; those that read one predicate's findings are listed with it.
    static var fixers: [Fixer] { get }
    /// The settings that apply to this converter, as messages show them (`{minimum_deployment_target}`),
    /// with what each holds.
    static var settingKeys: [String: String] { get }
    static func settingBindings(_ settings: Settings) -> Bindings
    /// What the settings keys say that depends on the model (the `ct.convert` arguments for its inputs), once
    /// per lint; keys declared in `settingKeys`.
    static func modelBindings(_ model: Model, settings: Settings) -> Bindings
    /// The binding keys whose text names the model's own values (tensors, initializers, inputs): a finding's
    /// cause leaves those names out, so that one failure on many nodes is one finding.
    static var nameKeys: Set<String> { get }
}

/// A check written in Swift, for what the YAML match language cannot say; a rule names it with `predicate:`.
public struct Predicate: Sendable {
    public let name: String
    /// Every binding it fills, with what it holds. A rule's message may use only these and the generic ones
    /// (checked when the rule loads); documentation shows the description where a message has the key.
    public let bindingKeys: [String: String]
    /// The fixers that cure what it finds, from the same analysis.
    public let fixers: [Fixer]
    let evaluate: @Sendable (MatchContext) -> Bindings?

    /// `State` is what the pack's `prepare` returns.
    public init<State>(_ name: String, state: State.Type, keys: [String: String], fixers: [Fixer] = [],
                       evaluate: @escaping @Sendable (MatchContext, State) -> Bindings?) {
        self.name = name
        bindingKeys = keys
        self.fixers = fixers
        // No generic `Optional.flatMap` here: it would instantiate type metadata on every node.
        self.evaluate = { context in
            guard let state = context.state(as: State.self) else { return nil }
            return evaluate(context, state)
        }
    }
}

/// An automatic fix: the edits that cure what a rule found in this context (none when it cannot), which
/// `tensorlint fix` hands to the format's writer.
public struct Fixer: Sendable {
    public let name: String
    let edits: @Sendable (MatchContext) -> [ModelEdit]

    public init<State>(_ name: String, state: State.Type, edits: @escaping @Sendable (MatchContext, State) -> [ModelEdit]) {
        self.name = name
        self.edits = { context in
            guard let state = context.state(as: State.self) else { return [] }
            return edits(context, state)
        }
    }
}

/// What rule files may name: the formats models are read in and the converter packs, with their
/// predicates and fixers. Names are unique across packs: a duplicate is a defect, caught when the list is built.
public struct RuleVocabulary: Sendable {
    public let formats: [Model.Format]
    public let packs: [any ConverterPack.Type]
    let predicates: [String: (target: String, predicate: Predicate)]
    /// Fixer name → the pack it belongs to and, for a predicate's own fixers, that predicate.
    let fixers: [String: (target: String, predicate: String?, fixer: Fixer)]

    public init(formats: [Model.Format], packs: [any ConverterPack.Type]) {
        self.formats = formats
        self.packs = packs
        var predicates: [String: (String, Predicate)] = [:]
        var fixers: [String: (String, String?, Fixer)] = [:]
        func add(_ fixer: Fixer, _ target: String, _ predicate: String?) {
            precondition(fixers[fixer.name] == nil, "two fixers are named \(fixer.name)")
            fixers[fixer.name] = (target, predicate, fixer)
        }
        let targets = packs.map { $0.target }
        precondition(Set(targets).count == targets.count, "two converter packs share a target id")
        for pack in packs {
            for predicate in pack.predicates {
                precondition(predicates[predicate.name] == nil, "two predicates are named \(predicate.name)")
                predicates[predicate.name] = (pack.target, predicate)
                for fixer in predicate.fixers { add(fixer, pack.target, predicate.name) }
            }
            for fixer in pack.fixers { add(fixer, pack.target, nil) }
        }
        self.predicates = predicates
        self.fixers = fixers
    }

    public var targets: [String] { packs.map { $0.target } }

    public func pack(_ target: String) -> (any ConverterPack.Type)? { packs.first { $0.target == target } }

    public func predicate(named name: String) -> Predicate? { predicates[name]?.predicate }
}

extension ConverterPack {
    /// A converter that is no format's natural target runs only where it is configured.
    public static var nativeFormats: Set<Model.Format> { [] }
    public static func modelBindings(_ model: Model, settings: Settings) -> Bindings { [:] }
    public static var nameKeys: Set<String> { [] }
}
