import TensorlintEngine

/// The text of `tensorlint explain` and of the generated `docs/rules/<id>.md` pages.
public enum RuleDocumentation {
    public static func markdown(_ rule: Rule) -> String {
        var text = "# \(rule.id): \(rule.name)\n\n"
        text += "\(rule.summary)\n\n"
        text += "- Severity: \(rule.severity.rawValue)\n"
        text += "- Default: \(rule.enabledByDefault ? "enabled" : "opt-in")\n"
        text += "- Applies to: \(rule.formats.map(\.rawValue).sorted().joined(separator: ", ")) for \(rule.targets.map(\.rawValue).sorted().joined(separator: ", "))"
        if rule.converterVersions.minimum != nil || rule.converterVersions.below != nil { text += " \(rule.converterVersions)" }
        text += "\n\n## Why\n\n\(rule.description.trimmingCharacters(in: .whitespacesAndNewlines))\n\n"
        text += "## Fix\n\n\(rule.fix.suggestion)\n\n"
        text += "## Fix safety\n\n"
        switch (rule.fix.automatic, rule.fix.applicability) {
        case (let name?, .safe): text += "Safe: the automatic fix `\(name)` gives a model that computes what the original was meant to compute.\n\n"
        case (let name?, .unsafe): text += "Unsafe: the automatic fix `\(name)` may change numerics; it runs only with `--unsafe-fixes`.\n\n"
        default: text += "Display-only: no file edit carries this out; the advice above says what to change.\n\n"
        }
        if !rule.triggering.isEmpty || !rule.nonTriggering.isEmpty {
            text += "## Examples\n\n"
            for example in rule.triggering { text += "- triggers: `\(describe(example))`\n" }
            for example in rule.nonTriggering { text += "- does not trigger: `\(describe(example))`\n" }
            text += "\n"
        }
        if !rule.references.isEmpty {
            text += "## References\n\n" + rule.references.map { "- <\($0)>" }.joined(separator: "\n") + "\n"
        }
        return text
    }

    static func describe(_ example: RuleExample) -> String {
        var parts = ["examples/models/\(example.fixture)"]
        if let target = example.deploymentTarget { parts.append("--minimum-deployment-target \(target.name)") }
        if let precision = example.computePrecision { parts.append("--compute-precision \(precision.rawValue)") }
        return parts.joined(separator: " ")
    }
}
