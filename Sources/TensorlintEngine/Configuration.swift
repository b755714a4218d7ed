import Foundation
import TensorlintIR
import Yams

/// What a `target:` block says: the converter and its settings. Unset values fall through to the next
/// source (the command line wins over a format's block, which wins over `target:`, which wins over defaults).
public struct TargetConfiguration: Sendable, Equatable {
    /// A converter pack's target id.
    public var converter: String?
    /// The converter version; it belongs to `converter` (or, in a block without one, to the default target).
    public var version: Version?
    public var deploymentTarget: DeploymentTarget?
    public var computePrecision: ComputePrecision?
    public var inputDType: InputDType?

    public init() {}

    static let keys: Set<String> = ["converter", "version", "minimum_deployment_target", "compute_precision", "input_dtype"]

    /// The block's settings over `settings`; `version` only when it belongs to the converter in use.
    public func apply(to settings: inout Settings, versionBelongsTo owner: String) {
        if let version, owner == settings.target { settings.converterVersion = version }
        if let deploymentTarget { settings.deploymentTarget = deploymentTarget }
        if let computePrecision { settings.computePrecision = computePrecision }
        if let inputDType { settings.inputDType = inputDType }
    }
}

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
    /// `target:`: for every model the file applies to.
    public var target = TargetConfiguration()
    /// `formats:`: per format id (`onnx`, `torch.export`, `torchscript`), over `target:`.
    public var formatTargets: [Model.Format: TargetConfiguration] = [:]
    /// `paths:`: per glob (relative to the configuration's folder), over `formats:`; in the file's order.
    public var pathTargets: [(glob: String, target: TargetConfiguration)] = []
    /// Keys the file has that tensorlint does not know: reported as a warning.
    public var unknownKeys: [String] = []
    /// Where the file was found; `nil` for the defaults.
    public var path: String?

    public static let fileName = ".tensorlint.yml"
    static let topKeys: Set<String> = ["disabled_rules", "opt_in_rules", "only_rules", "rules", "severity",
                                       "included", "excluded", "target", "formats", "paths"]

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

    /// `targets`: the converter packs' ids, which `target.converter` may name; `formats`: the format ids
    /// `formats:` may name.
    public static func load(path: String, targets: [String], formats: [Model.Format] = []) throws(RuleFileError) -> Configuration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RuleFileError(file: path, line: nil, reason: "cannot read the configuration file")
        }
        return try parse(yaml: text, path: path, targets: targets, formats: formats)
    }

    public static func parse(yaml: String, path: String, targets: [String], formats: [Model.Format] = []) throws(RuleFileError) -> Configuration {
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
                configuration.target = try targetBlock(value, name, reader: reader, targets: targets, unknownKeys: &configuration.unknownKeys)
            case "formats":
                for (formatKey, block) in try reader.mapping(value, name) {
                    let format = Model.Format(rawValue: formatKey.string ?? "")
                    guard formats.isEmpty || formats.contains(format) else {
                        throw reader.error(formatKey, "formats: `\(format)` is not a format (\(formats.map(\.rawValue).joined(separator: ", ")))")
                    }
                    configuration.formatTargets[format] = try targetBlock(block, "formats.\(format)", reader: reader, targets: targets,
                                                                         unknownKeys: &configuration.unknownKeys)
                }
            case "paths":
                for (globKey, block) in try reader.mapping(value, name) {
                    let glob = globKey.string ?? ""
                    configuration.pathTargets.append((glob, try targetBlock(block, "paths.\(glob)", reader: reader, targets: targets,
                                                                            unknownKeys: &configuration.unknownKeys)))
                }
            default:
                configuration.unknownKeys.append(name)
            }
        }
        return configuration
    }

    private static func targetBlock(_ node: Yams.Node, _ name: String, reader: NodeReader, targets: [String],
                                    unknownKeys: inout [String]) throws(RuleFileError) -> TargetConfiguration {
        var block = TargetConfiguration()
        for (key, value) in try reader.mapping(node, name) {
            let text = try reader.scalar(value, key.string ?? "")
            switch key.string ?? "" {
            case "converter":
                guard targets.contains(text) else { throw reader.error(value, "converter must be \(targets.joined(separator: " or "))") }
                block.converter = text
            case "version":
                guard let version = Version(text) else { throw reader.error(value, "version `\(text)` is not a version number") }
                block.version = version
            case "minimum_deployment_target":
                block.deploymentTarget = try DeploymentTarget.parse(text, at: value, reader)
            case "compute_precision":
                block.computePrecision = try ComputePrecision.parse(text, at: value, reader)
            case "input_dtype":
                block.inputDType = try InputDType.parse(text, at: value, reader)
            default:
                unknownKeys.append("\(name).\(key.string ?? "?")")
            }
        }
        return block
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

    /// The last `paths:` block whose glob matches a path relative to the configuration's folder (its index).
    public func pathTarget(for relativePath: String) -> Int? {
        pathTargets.lastIndex { Glob.matches($0.glob, relativePath) }
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
