import RuleDocument
import TensorlintIR
import Yams

/// A problem in a rule file, with the line it is on.
public struct RuleFileError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int?
    public let reason: String
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)" }
}

/// Parses and validates rule files. Every key is checked: a misspelt key is an error, not a silent no-op.
public enum RuleLoader {
    static let ruleKeys: Set<String> = ["id", "name", "severity", "default", "summary", "description", "headline", "message", "fix",
                                        "references", "applies_to", "scope", "when", "match", "examples", "variants"]
    /// What a variant states for its formats; everything else it shares with the rule.
    static let variantKeys: Set<String> = ["formats", "description", "headline", "message", "fix", "scope", "when", "match", "examples"]

    /// A user's rule file.
    public static func parse(yaml: String, origin: String, vocabulary: RuleVocabulary) throws(RuleFileError) -> Rule {
        guard let root = try document(yaml: yaml, origin: origin) else { throw RuleFileError(file: origin, line: nil, reason: "empty rule file") }
        return try parse(document: root, origin: origin, vocabulary: vocabulary)
    }

    /// A user's YAML file (a rule file or a configuration) as its tree, `nil` when it is empty: aliases are
    /// refused before Yams expands them, and a syntax error names its line.
    static func document(yaml: String, origin: String) throws(RuleFileError) -> DocumentNode? {
        if let line = YAMLAliasCheck.firstAliasOrAnchor(in: yaml) {
            throw RuleFileError(file: origin, line: line, reason: YAMLAliasCheck.reason)
        }
        do {
            return try DocumentNode(yaml: yaml)
        } catch {
            throw RuleFileError(file: origin, line: (error as? YamlError).flatMap(Self.line), reason: "invalid YAML: \(Self.firstLine(error))")
        }
    }

    /// A rule file's tree: a user's, composed from YAML, or a built-in one compiled into the binary.
    public static func parse(document root: DocumentNode, origin: String, vocabulary: RuleVocabulary) throws(RuleFileError) -> Rule {
        let reader = NodeReader(origin: origin)
        let top = try reader.mapping(root, "rule")
        try reader.rejectUnknown(top, allowed: ruleKeys, in: "rule")
        guard let variantsNode = top["variants"] else { return try parse(top, reader: reader, vocabulary: vocabulary) }
        guard let items = variantsNode.sequence else { throw reader.error(variantsNode, "variants must be a list") }
        // A variant is the rule file with the variant's keys in place of the rule's, for the variant's formats;
        // its examples are its own.
        var variants: [Rule] = []
        for item in items {
            let variant = try reader.mapping(item, "variant")
            try reader.rejectUnknown(variant, allowed: variantKeys, in: "variant")
            let formats = try reader.required(variant, "formats")
            var pairs = top.pairs.filter { pair in
                guard let key = pair.key.string else { return true }
                return !["variants", "applies_to", "examples"].contains(key) && variant[key] == nil
            }
            pairs += variant.pairs.filter { $0.key.string != "formats" }
            var applies = (top["applies_to"]?.mapping?.pairs ?? []).filter { $0.key.string != "formats" }
            applies.append((.scalar("formats", line: nil), formats))
            pairs.append((.scalar("applies_to", line: nil), .mapping(DocumentNode.Mapping(applies), line: nil)))
            variants.append(try parse(DocumentNode.Mapping(pairs), reader: reader, vocabulary: vocabulary))
        }
        var rule = try parse(top, reader: reader, vocabulary: vocabulary)
        for variant in variants {
            guard rule.formats.isSuperset(of: variant.formats), variants.filter({ !$0.formats.isDisjoint(with: variant.formats) }).count == 1 else {
                throw reader.error(variantsNode, "each variant's formats must be formats of the rule, and no two variants may share one")
            }
            rule.formats.subtract(variant.formats)
        }
        rule.variants = variants
        return rule
    }

    private static func parse(_ top: DocumentNode.Mapping, reader: NodeReader, vocabulary: RuleVocabulary) throws(RuleFileError) -> Rule {
        let id = try reader.string(top, "id")
        guard id.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), !id.isEmpty else {
            throw reader.error(top["id"], "id `\(id)` must be lower-case words joined by hyphens")
        }
        let severityText = try reader.string(top, "severity")
        guard let severity = Severity(rawValue: severityText) else {
            throw reader.error(top["severity"], "severity must be error, warning or note, not `\(severityText)`")
        }
        let defaultText = try reader.string(top, "default", fallback: "enabled")
        guard ["enabled", "opt-in"].contains(defaultText) else {
            throw reader.error(top["default"], "default must be `enabled` or `opt-in`")
        }
        let fixNode = try reader.mapping(try reader.required(top, "fix"), "fix")
        try reader.rejectUnknown(fixNode, allowed: ["suggestion", "automatic", "applicability", "safety"], in: "fix")
        let applicabilityText = try reader.string(fixNode, "applicability", fallback: "display-only")
        guard let applicability = FixApplicability(rawValue: applicabilityText) else {
            throw reader.error(fixNode["applicability"], "applicability must be safe, unsafe or display-only")
        }
        let applies = try top["applies_to"].map { node throws(RuleFileError) in try reader.mapping(node, "applies_to") }
        if let applies { try reader.rejectUnknown(applies, allowed: ["formats", "targets", "converter_versions"], in: "applies_to") }
        var formats = Set(vocabulary.formats)
        var targets = Set(vocabulary.targets)
        var versions = VersionRange.any
        if let applies {
            if let node = applies["formats"] {
                formats = Set(try reader.strings(node, "formats").map { text throws(RuleFileError) in
                    let format = Model.Format(rawValue: text)
                    guard vocabulary.formats.contains(format) else {
                        throw reader.error(node, "unknown format `\(text)` (\(vocabulary.formats.map(\.rawValue).joined(separator: ", ")))")
                    }
                    return format
                })
            }
            if let node = applies["targets"] {
                targets = Set(try reader.strings(node, "targets").map { text throws(RuleFileError) in
                    guard vocabulary.targets.contains(text) else {
                        throw reader.error(node, "unknown target `\(text)` (\(vocabulary.targets.joined(separator: ", ")))")
                    }
                    return text
                })
            }
            if let node = applies["converter_versions"] {
                let text = try reader.scalar(node, "converter_versions")
                guard let range = VersionRange(parsing: text) else { throw reader.error(node, "converter_versions `\(text)` is not like `>=9.0, <10`") }
                versions = range
            }
        }
        let scopeText = try reader.string(top, "scope", fallback: "node")
        guard let scope = Rule.Scope(rawValue: scopeText) else { throw reader.error(top["scope"], "scope must be node or model") }
        let parser = ConditionParser(reader: reader, vocabulary: vocabulary)
        let whenNode = top["when"]
        let when = try whenNode.map { node throws(RuleFileError) in try parser.parse(node) }
        let matchNode = try reader.required(top, "match")
        let match = try parser.parse(matchNode)
        for (condition, node) in [(match, matchNode), (when, whenNode)] {
            for name in (condition?.predicateNames ?? []).sorted() {
                guard let target = vocabulary.predicates[name]?.target, targets.contains(target) else {
                    throw reader.error(node, "predicate `\(name)` belongs to the \(vocabulary.predicates[name]?.target ?? "?") pack, which the rule's targets do not include")
                }
            }
        }
        let predicates = match.predicateNames.union(when?.predicateNames ?? [])
        var automatic: [Fixer] = []
        for name in try fixNode["automatic"].map({ node throws(RuleFileError) in try reader.strings(node, "automatic") }) ?? [] {
            let node = fixNode["automatic"]
            guard let entry = vocabulary.fixers[name] else {
                throw reader.error(node, "unknown automatic fix `\(name)` (known: \(vocabulary.fixers.keys.sorted().joined(separator: ", ")))")
            }
            guard targets.contains(entry.target) else {
                throw reader.error(node, "automatic fix `\(name)` belongs to the \(entry.target) pack, which the rule's targets do not include")
            }
            if let owner = entry.predicate, !predicates.contains(owner) {
                throw reader.error(node, "automatic fix `\(name)` cures what predicate `\(owner)` finds, which the rule does not match")
            }
            automatic.append(entry.fixer)
        }
        // Every placeholder must be filled by the match (`when` only gates) or generically, whatever matched
        // and whichever of the rule's targets it runs for.
        var keys = match.guaranteedKeys.merging(Linter.modelKeys) { first, _ in first }
        if scope == .node { keys.merge(Linter.nodeKeys) { first, _ in first } }
        let settingKeys = targets.sorted().map { vocabulary.pack($0)?.settingKeys ?? [:] }
        if let first = settingKeys.first {
            keys.merge(settingKeys.dropFirst().reduce(first) { common, next in common.filter { next[$0.key] != nil } }) { own, _ in own }
        }
        let message = try reader.string(top, "message")
        let headline = try top["headline"].map { node throws(RuleFileError) in try reader.scalar(node, "headline") }
        let suggestion = try reader.string(fixNode, "suggestion")
        for (text, key) in [(message, "message"), (headline ?? "", "headline"), (suggestion, "suggestion")] {
            if let unfilled = MessageTemplate.placeholders(text).first(where: { keys[$0] == nil }) {
                throw reader.error(key == "suggestion" ? fixNode["suggestion"] : top[key],
                                   "\(key) uses `{\(unfilled)}`, which nothing fills (available: \(keys.keys.sorted().joined(separator: ", ")))")
            }
        }
        let examples = try top["examples"].map { node throws(RuleFileError) in try reader.mapping(node, "examples") }
        if let examples { try reader.rejectUnknown(examples, allowed: ["triggering", "non_triggering", "corrections"], in: "examples") }
        let safety = try fixNode["safety"].map { node throws(RuleFileError) in try reader.scalar(node, "safety") }
        if !automatic.isEmpty, safety == nil {
            throw reader.error(fixNode["automatic"], "a rule with an automatic fix says why it is safe or not in `fix.safety`")
        }
        return Rule(
            id: id, name: try reader.string(top, "name"), severity: severity, enabledByDefault: defaultText == "enabled",
            summary: try reader.string(top, "summary"), description: try reader.string(top, "description"),
            headline: headline, message: message,
            fix: RuleFix(suggestion: suggestion, automatic: automatic, applicability: applicability, safety: safety),
            references: try top["references"].map { node throws(RuleFileError) in try reader.strings(node, "references") } ?? [],
            formats: formats, targets: targets, converterVersions: versions, scope: scope,
            when: when, match: match,
            triggering: try examples?["triggering"].map { node throws(RuleFileError) in try Self.examples(node, reader: reader, allowing: ["nodes"]) } ?? [],
            nonTriggering: try examples?["non_triggering"].map { node throws(RuleFileError) in try Self.examples(node, reader: reader) } ?? [],
            corrections: try examples?["corrections"].map { node throws(RuleFileError) in try Self.corrections(node, reader: reader) } ?? [],
            bindingKeys: keys, origin: reader.origin)
    }

    static let exampleKeys: Set<String> = ["fixture", "minimum_deployment_target", "compute_precision", "input_dtype"]

    static func examples(_ node: DocumentNode, reader: NodeReader, allowing extra: Set<String> = []) throws(RuleFileError) -> [RuleExample] {
        guard let items = node.sequence else { throw reader.error(node, "examples must be a list") }
        var examples: [RuleExample] = []
        for item in items {
            let mapping = try reader.mapping(item, "example")
            try reader.rejectUnknown(mapping, allowed: exampleKeys.union(extra), in: "example")
            examples.append(try example(mapping, line: item.line ?? 0, reader: reader))
        }
        return examples
    }

    static func example(_ mapping: DocumentNode.Mapping, line: Int, reader: NodeReader) throws(RuleFileError) -> RuleExample {
        var target: DeploymentTarget?
        if let node = mapping["minimum_deployment_target"] {
            target = try DeploymentTarget.parse(try reader.scalar(node, "minimum_deployment_target"), at: node, reader)
        }
        var precision: ComputePrecision?
        if let node = mapping["compute_precision"] {
            precision = try ComputePrecision.parse(try reader.scalar(node, "compute_precision"), at: node, reader)
        }
        var inputDType: InputDType?
        if let node = mapping["input_dtype"] {
            inputDType = try InputDType.parse(try reader.scalar(node, "input_dtype"), at: node, reader)
        }
        return RuleExample(fixture: try reader.string(mapping, "fixture"), deploymentTarget: target, computePrecision: precision, inputDType: inputDType,
                           nodes: try mapping["nodes"].map { node throws(RuleFileError) in try reader.strings(node, "nodes") }, line: line)
    }

    static func corrections(_ node: DocumentNode, reader: NodeReader) throws(RuleFileError) -> [RuleCorrection] {
        guard let items = node.sequence else { throw reader.error(node, "corrections must be a list") }
        var corrections: [RuleCorrection] = []
        for item in items {
            let mapping = try reader.mapping(item, "correction")
            try reader.rejectUnknown(mapping, allowed: exampleKeys.union(["also_clears", "ops"]), in: "correction")
            corrections.append(RuleCorrection(
                example: try example(mapping, line: item.line ?? 0, reader: reader),
                alsoClears: try mapping["also_clears"].map { node throws(RuleFileError) in try reader.strings(node, "also_clears") } ?? [],
                ops: try mapping["ops"].map { node throws(RuleFileError) in try reader.strings(node, "ops") }))
        }
        return corrections
    }

    static func line(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    static func firstLine(_ error: Error) -> String {
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    }
}

/// Typed access to a rule or configuration file's tree with errors that name the file and line.
struct NodeReader {
    let origin: String

    func error(_ node: DocumentNode?, _ reason: String) -> RuleFileError {
        RuleFileError(file: origin, line: node?.line, reason: reason)
    }

    func mapping(_ node: DocumentNode, _ what: String) throws(RuleFileError) -> DocumentNode.Mapping {
        guard let mapping = node.mapping else { throw error(node, "\(what) must be a mapping") }
        return mapping
    }

    func required(_ mapping: DocumentNode.Mapping, _ key: String) throws(RuleFileError) -> DocumentNode {
        guard let node = mapping[key] else { throw RuleFileError(file: origin, line: mapping.keys.first?.line, reason: "missing key `\(key)`") }
        return node
    }

    func scalar(_ node: DocumentNode, _ what: String) throws(RuleFileError) -> String {
        guard let text = node.string else { throw error(node, "`\(what)` must be a single value") }
        return text
    }

    func string(_ mapping: DocumentNode.Mapping, _ key: String, fallback: String? = nil) throws(RuleFileError) -> String {
        guard let node = mapping[key] else {
            if let fallback { return fallback }
            throw RuleFileError(file: origin, line: mapping.keys.first?.line, reason: "missing key `\(key)`")
        }
        return try scalar(node, key)
    }

    func strings(_ node: DocumentNode, _ what: String) throws(RuleFileError) -> [String] {
        if let text = node.string { return [text] }
        guard let sequence = node.sequence else { throw error(node, "`\(what)` must be a list") }
        var values: [String] = []
        for item in sequence { values.append(try scalar(item, what)) }
        return values
    }

    func rejectUnknown(_ mapping: DocumentNode.Mapping, allowed: Set<String>, in what: String) throws(RuleFileError) {
        for key in mapping.keys {
            guard let name = key.string, allowed.contains(name) else {
                throw error(key, "unknown key `\(key.string ?? "?")` in \(what) (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
    }
}

/// The match language's YAML form: a mapping of one key per condition (several keys mean all of them).
struct ConditionParser {
    let reader: NodeReader
    let vocabulary: RuleVocabulary

    static let keys: Set<String> = ["all", "any", "not", "op", "input_dtype", "output_dtype", "literal", "format", "dialect",
                                    "weight_dtype", "user_input_dtype", "any_tensor_dtype", "unsafe_pickle_global", "deployment_target",
                                    "compute_precision", "input_dtype_setting", "converter_version", "predicate"]

    func parse(_ node: DocumentNode) throws(RuleFileError) -> Condition {
        let mapping = try reader.mapping(node, "condition")
        try reader.rejectUnknown(mapping, allowed: Self.keys, in: "condition")
        var conditions: [Condition] = []
        for (key, value) in mapping {
            conditions.append(try leaf(key.string ?? "", value))
        }
        guard !conditions.isEmpty else { throw reader.error(node, "empty condition") }
        return conditions.count == 1 ? conditions[0] : .all(conditions)
    }

    private func list(_ node: DocumentNode, _ what: String) throws(RuleFileError) -> [Condition] {
        guard let items = node.sequence, !items.isEmpty else { throw reader.error(node, "`\(what)` takes a non-empty list of conditions") }
        var conditions: [Condition] = []
        for item in items { conditions.append(try parse(item)) }
        return conditions
    }

    private func dtypes(_ node: DocumentNode, _ what: String) throws(RuleFileError) -> Set<DType> {
        Set(try reader.strings(node, what).map { text throws(RuleFileError) in
            guard let dtype = DType(name: text) else { throw reader.error(node, "unknown dtype `\(text)`") }
            return dtype
        })
    }

    private func target(_ node: DocumentNode?, _ what: String) throws(RuleFileError) -> DeploymentTarget? {
        guard let node else { return nil }
        return try DeploymentTarget.parse(try reader.scalar(node, what), at: node, reader)
    }

    private func leaf(_ key: String, _ value: DocumentNode) throws(RuleFileError) -> Condition {
        switch key {
        case "all": return .all(try list(value, key))
        case "any": return .any(try list(value, key))
        case "not": return .not(try parse(value))
        case "op": return .op(Set(try reader.strings(value, key)))
        case "output_dtype": return .outputDType(try dtypes(value, key))
        case "dialect": return .dialect(Set(try reader.strings(value, key)))
        case "format":
            let formats = try reader.strings(value, key).map(Model.Format.init(rawValue:))
            guard formats.allSatisfy(vocabulary.formats.contains) else {
                throw reader.error(value, "`format` takes \(vocabulary.formats.map(\.rawValue).joined(separator: ", "))")
            }
            return .format(Set(formats))
        case "weight_dtype": return .weightDType(try dtypes(value, key))
        case "user_input_dtype": return .userInputDType(try dtypes(value, key))
        case "any_tensor_dtype": return .anyTensorDType(try dtypes(value, key))
        case "input_dtype":
            if value.mapping != nil {
                let mapping = try reader.mapping(value, key)
                try reader.rejectUnknown(mapping, allowed: ["argument", "dtype"], in: key)
                return .inputDType(argument: try mapping["argument"].map { node throws(RuleFileError) in try reader.scalar(node, "argument") },
                                   dtypes: try dtypes(try reader.required(mapping, "dtype"), "dtype"))
            }
            return .inputDType(argument: nil, dtypes: try dtypes(value, key))
        case "literal":
            if value.mapping != nil {
                let mapping = try reader.mapping(value, key)
                try reader.rejectUnknown(mapping, allowed: ["argument"], in: key)
                return .literal(argument: try reader.string(mapping, "argument"))
            }
            let text = try reader.scalar(value, key)
            return .literal(argument: text == "any" ? nil : text)
        case "unsafe_pickle_global":
            guard try reader.scalar(value, key) == "any" else { throw reader.error(value, "`unsafe_pickle_global` takes `any`") }
            return .unsafePickleGlobal
        case "input_dtype_setting":
            return .inputDTypeSetting(Set(try reader.strings(value, key).map { text throws(RuleFileError) in
                try InputDType.parse(text, at: value, reader)
            }))
        case "deployment_target":
            let mapping = try reader.mapping(value, key)
            try reader.rejectUnknown(mapping, allowed: ["min", "below"], in: key)
            return .deploymentTarget(minimum: try target(mapping["min"], "min"), below: try target(mapping["below"], "below"))
        case "compute_precision":
            return .computePrecision(Set(try reader.strings(value, key).map { text throws(RuleFileError) in
                try ComputePrecision.parse(text, at: value, reader)
            }))
        case "converter_version":
            let text = try reader.scalar(value, key)
            guard let range = VersionRange(parsing: text) else { throw reader.error(value, "converter_version `\(text)` is not like `>=9.0, <10`") }
            return .converterVersion(range)
        case "predicate":
            let name = try reader.scalar(value, key)
            guard let predicate = vocabulary.predicate(named: name) else {
                throw reader.error(value, "unknown predicate `\(name)` (known: \(vocabulary.predicates.keys.sorted().joined(separator: ", ")))")
            }
            return .predicate(predicate)
        default:
            throw reader.error(value, "unknown condition `\(key)`")
        }
    }
}

extension DeploymentTarget {
    /// A deployment target named in a YAML file; the one message for an unknown name.
    static func parse(_ text: String, at node: DocumentNode, _ reader: NodeReader) throws(RuleFileError) -> DeploymentTarget {
        do { return try parse(text) } catch { throw reader.error(node, error.description) }
    }
}

extension InputDType {
    static func parse(_ text: String, at node: DocumentNode, _ reader: NodeReader) throws(RuleFileError) -> InputDType {
        do { return try parse(text) } catch { throw reader.error(node, error.description) }
    }
}

extension ComputePrecision {
    static func parse(_ text: String, at node: DocumentNode, _ reader: NodeReader) throws(RuleFileError) -> ComputePrecision {
        do { return try parse(text) } catch { throw reader.error(node, error.description) }
    }
}
