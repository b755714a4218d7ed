import TensorlintIR

public enum Severity: String, Sendable, CaseIterable, Codable, Comparable {
    case note, warning, error

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How far an automatic fix may be trusted, as in Ruff.
public enum FixApplicability: String, Sendable, Codable {
    /// The fixed model computes what the original was meant to compute.
    case safe
    /// May change numerics or structure; opt-in.
    case unsafe
    /// Advice that no file edit carries out.
    case displayOnly = "display-only"
}

public struct RuleFix: Sendable {
    /// What a person should do, as a message template.
    public var suggestion: String
    /// The automatic fixes, tried in this order (their edits are applied together); empty when none exists.
    public var automatic: [Fixer]
    public var applicability: FixApplicability
    /// Why the automatic fixes may (or may not) be trusted, for this rule: the "Fix safety" of its documentation.
    public var safety: String?
}

/// A model the rule's own tests run it on, with the settings that matter.
public struct RuleExample: Sendable {
    public var fixture: String
    public var deploymentTarget: DeploymentTarget?
    public var computePrecision: ComputePrecision?
    public var inputDType: InputDType?
    /// For a triggering example of a node rule: the nodes it fires on, in graph order (SwiftLint's `↓` markers).
    public var nodes: [String]?
    public var line: Int
}

/// What `tensorlint fix` leaves of a fixture (SwiftLint's `corrections`): the rule no longer fires, nor do
/// the other rules listed, and the main graph holds these ops, in order.
public struct RuleCorrection: Sendable {
    public var example: RuleExample
    /// Rules that fire before the fix and not after, besides this one.
    public var alsoClears: [String]
    /// The fixed main graph's ops, in node order; `nil` when the fix changes types, not ops.
    public var ops: [String]?
}

/// A rule as declared in a YAML file under `rules/` (or a user's rule folder).
public struct Rule: Sendable {
    public enum Scope: String, Sendable {
        /// Evaluated once per node of every graph.
        case node
        /// Evaluated once per model.
        case model
    }

    public var id: String
    public var name: String
    public var severity: Severity
    public var enabledByDefault: Bool
    public var summary: String
    public var description: String
    /// The first line a person reads: what fails and where, in one glance (a template, as `message`); the
    /// message when the rule has none.
    public var headline: String?
    /// Message template: `{placeholder}` names a binding (see `MessageTemplate`): the whole story, with the
    /// converter's own error text.
    public var message: String
    public var fix: RuleFix
    public var references: [String]
    public var formats: Set<Model.Format>
    /// Converter pack target ids.
    public var targets: Set<String>
    public var converterVersions: VersionRange
    public var scope: Scope
    /// Conditions on the settings (deployment target, precision), checked before the model is looked at.
    public var when: Condition?
    public var match: Condition
    public var triggering: [RuleExample]
    public var nonTriggering: [RuleExample]
    public var corrections: [RuleCorrection]
    /// The binding keys its message and fix may use, with what they hold: those every match fills and
    /// the generic ones (checked when the rule loads).
    public var bindingKeys: [String: String]
    /// Where the rule was loaded from (`builtin:coremltools/fp16-source-model.yml` or a path).
    public var origin: String
    /// The same failure as other formats meet it (`variants:` in the file): the rule for those formats, with
    /// the match, message, fix and examples that fit them; id, name, severity and description are shared.
    public var variants: [Rule] = []

    public func applies(to model: Model, settings: Settings) -> Bool {
        formats.contains(model.format) && targets.contains(settings.target)
            && converterVersions.contains(settings.converterVersion)
    }

    /// The form of the rule for this format: a variant's, or its own; what the configuration sets on the rule
    /// (severity) holds for its variants.
    public func variant(for format: Model.Format) -> Rule {
        guard let index = variantIndex(for: format) else { return self }
        var variant = variants[index]
        variant.severity = severity
        variant.enabledByDefault = enabledByDefault
        return variant
    }

    /// Which of `variants` is the rule's form for this format; `nil` for the rule itself.
    public func variantIndex(for format: Model.Format) -> Int? {
        variants.firstIndex { $0.formats.contains(format) }
    }

    /// The rule and its variants, each with its own examples.
    public var allVariants: [Rule] { [self] + variants }
}

/// `>=9.0, <10` style ranges.
public struct VersionRange: Sendable, CustomStringConvertible {
    public var minimum: Version?
    public var below: Version?

    public static let any = VersionRange(minimum: nil, below: nil)

    public func contains(_ version: Version) -> Bool {
        if let minimum, version < minimum { return false }
        if let below, !(version < below) { return false }
        return true
    }

    public var description: String {
        [minimum.map { ">=\($0)" }, below.map { "<\($0)" }].compactMap { $0 }.joined(separator: ", ")
    }

    /// Parses `">=9.0, <10"`; `nil` when a part is not understood.
    public init?(parsing text: String) {
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            if part.hasPrefix(">="), let version = Version(String(part.dropFirst(2))) {
                minimum = version
            } else if part.hasPrefix("<"), let version = Version(String(part.dropFirst(1))) {
                below = version
            } else if let version = Version(part) {
                minimum = version
            } else {
                return nil
            }
        }
    }

    public init(minimum: Version?, below: Version?) {
        self.minimum = minimum
        self.below = below
    }
}
