import Foundation
import Yams

/// `.tensorlint.yml`, in SwiftLint's style. Command-line flags override what it says.
public struct Configuration: Sendable {
    public var disabledRules: Set<String> = []
    public var optInRules: Set<String> = []
    /// When set, exactly these rules run.
    public var onlyRules: Set<String>?
    /// Extra rule files or folders, relative to the configuration file.
    public var ruleLocations: [String] = []
    public var severities: [String: Severity] = [:]
    public var included: [String] = []
    public var excluded: [String] = []
    /// A converter pack's target id.
    public var target: String?
    public var converterVersion: Version?
    public var deploymentTarget: DeploymentTarget?
    public var computePrecision: ComputePrecision?
    public var inputDType: InputDType?
    /// Keys the file has that tensorlint does not know: reported as a warning.
    public var unknownKeys: [String] = []
    /// Where the file was found; `nil` for the defaults.
    public var path: String?

    public static let fileName = ".tensorlint.yml"
    static let topKeys: Set<String> = ["disabled_rules", "opt_in_rules", "only_rules", "rules", "severity",
                                       "included", "excluded", "target"]
    static let targetKeys: Set<String> = ["converter", "version", "minimum_deployment_target", "compute_precision", "input_dtype"]

    public init() {}

    /// `.tensorlint.yml` in the directory or the nearest parent that has one.
    public static func discover(from directory: String) -> String? {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = url.appendingPathComponent(fileName).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
    }

    /// `targets`: the converter packs' ids, which `target.converter` may name.
    public static func load(path: String, targets: [String]) throws(RuleFileError) -> Configuration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RuleFileError(file: path, line: nil, reason: "cannot read the configuration file")
        }
        return try parse(yaml: text, path: path, targets: targets)
    }

    public static func parse(yaml: String, path: String, targets: [String]) throws(RuleFileError) -> Configuration {
        var configuration = Configuration()
        configuration.path = path
        let reader = NodeReader(origin: path)
        let root: Yams.Node?
        do {
            // Every value is read as text, as in rule files: no regular expressions to type the scalars.
            root = try Yams.compose(yaml: yaml, .basic, .default, .utf8)
        } catch {
            throw RuleFileError(file: path, line: (error as? YamlError).flatMap(RuleLoader.line),
                                reason: "invalid YAML: \(RuleLoader.firstLine(error))")
        }
        guard let root else { return configuration }
        let mapping = try reader.mapping(root, "configuration")
        for (key, value) in mapping {
            let name = key.string ?? ""
            switch name {
            case "disabled_rules": configuration.disabledRules = Set(try reader.strings(value, name))
            case "opt_in_rules": configuration.optInRules = Set(try reader.strings(value, name))
            case "only_rules": configuration.onlyRules = Set(try reader.strings(value, name))
            case "rules": configuration.ruleLocations = try reader.strings(value, name)
            case "included": configuration.included = try reader.strings(value, name)
            case "excluded": configuration.excluded = try reader.strings(value, name)
            case "severity":
                for (ruleKey, severityNode) in try reader.mapping(value, name) {
                    let text = try reader.scalar(severityNode, "severity")
                    guard let severity = Severity(rawValue: text) else { throw reader.error(severityNode, "severity must be error, warning or note") }
                    configuration.severities[ruleKey.string ?? ""] = severity
                }
            case "target":
                for (targetKey, targetValue) in try reader.mapping(value, name) {
                    let text = try reader.scalar(targetValue, targetKey.string ?? "")
                    switch targetKey.string ?? "" {
                    case "converter":
                        guard targets.contains(text) else { throw reader.error(targetValue, "converter must be \(targets.joined(separator: " or "))") }
                        configuration.target = text
                    case "version":
                        guard let version = Version(text) else { throw reader.error(targetValue, "version `\(text)` is not a version number") }
                        configuration.converterVersion = version
                    case "minimum_deployment_target":
                        configuration.deploymentTarget = try DeploymentTarget.parse(text, at: targetValue, reader)
                    case "compute_precision":
                        configuration.computePrecision = try ComputePrecision.parse(text, at: targetValue, reader)
                    case "input_dtype":
                        configuration.inputDType = try InputDType.parse(text, at: targetValue, reader)
                    default:
                        configuration.unknownKeys.append("target.\(targetKey.string ?? "?")")
                    }
                }
            default:
                configuration.unknownKeys.append(name)
            }
        }
        return configuration
    }

    /// The rules that run: defaults, minus disabled, plus opted-in; or exactly `only_rules`. Severities overridden.
    public func select(from rules: [Rule]) -> [Rule] {
        rules.filter { rule in
            if let onlyRules { return onlyRules.contains(rule.id) }
            if disabledRules.contains(rule.id) { return false }
            return rule.enabledByDefault || optInRules.contains(rule.id)
        }.map { rule in
            var rule = rule
            if let severity = severities[rule.id] { rule.severity = severity }
            return rule
        }
    }

    /// Rule ids the configuration names that no loaded rule has.
    public func unknownRuleIds(among rules: [Rule]) -> [String] {
        let known = Set(rules.map(\.id))
        let named = disabledRules.union(optInRules).union(onlyRules ?? []).union(severities.keys)
        return named.subtracting(known).sorted()
    }

    /// Whether a path found while walking a folder is linted (`included`/`excluded` globs, relative to the config).
    public func includes(relativePath: String) -> Bool {
        if excluded.contains(where: { Glob.matches($0, relativePath) }) { return false }
        return included.isEmpty || included.contains { Glob.matches($0, relativePath) }
    }
}

/// Shell-style globs: `*` within a path component, `**` across components, `?` one character.
/// A pattern without a wildcard also matches everything below it (`models/legacy`).
enum Glob {
    static func matches(_ pattern: String, _ path: String) -> Bool {
        let pattern = pattern.hasPrefix("./") ? String(pattern.dropFirst(2)) : pattern
        if !pattern.contains(where: { "*?".contains($0) }) {
            let trimmed = pattern.hasSuffix("/") ? String(pattern.dropLast()) : pattern
            return path == trimmed || path.hasPrefix(trimmed + "/")
        }
        return match(Array(pattern), 0, Array(path), 0)
    }

    private static func match(_ pattern: [Character], _ p: Int, _ path: [Character], _ s: Int) -> Bool {
        if p == pattern.count { return s == path.count }
        if pattern[p] == "*" {
            let doubleStar = p + 1 < pattern.count && pattern[p + 1] == "*"
            var next = p + (doubleStar ? 2 : 1)
            if doubleStar, next < pattern.count, pattern[next] == "/" { next += 1 }
            var index = s
            while true {
                if match(pattern, next, path, index) { return true }
                guard index < path.count, doubleStar || path[index] != "/" else { return false }
                index += 1
            }
        }
        guard s < path.count else { return false }
        if pattern[p] == "?" ? path[s] != "/" : pattern[p] == path[s] { return match(pattern, p + 1, path, s + 1) }
        return false
    }
}
