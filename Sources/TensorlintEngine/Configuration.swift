import Foundation
import TensorlintIR
import RuleDocument

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
    /// `per_file_ignores:`: glob (relative to the file) → rule ids or prefixes whose findings there are suppressed.
    public var perFileIgnores: [(glob: String, rules: [String])] = []
    /// `ignore:`: single known findings, suppressed with their reason.
    public var ignores: [IgnoredFinding] = []
    /// `baseline:`: a baseline file (relative to this file), as `--baseline` gives one.
    public var baseline: String?
    /// `source_roots:`: the exporting machine's path prefixes in stack traces → where those files are here
    /// (relative to this file).
    public var sourceRoots: [(from: String, to: String)] = []
    /// Where the file was found; `nil` for the defaults.
    public var path: String?

    public static let fileName = ".tensorlint.yml"
    static let topKeys: Set<String> = ["disabled_rules", "opt_in_rules", "only_rules", "rules", "severity",
                                       "included", "excluded", "target", "formats", "paths",
                                       "per_file_ignores", "ignore", "baseline", "source_roots"]

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
        // Every value is read as text, as in rule files.
        guard let root = try RuleLoader.document(yaml: yaml, origin: path) else { return configuration }
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
                configuration.target = try targetBlock(value, name, reader: reader, targets: targets)
            case "formats":
                for (formatKey, block) in try reader.mapping(value, name) {
                    let format = Model.Format(rawValue: formatKey.string ?? "")
                    guard formats.isEmpty || formats.contains(format) else {
                        throw reader.error(formatKey, "formats: `\(format)` is not a format (\(formats.map(\.rawValue).joined(separator: ", ")))")
                    }
                    configuration.formatTargets[format] = try targetBlock(block, "formats.\(format)", reader: reader, targets: targets)
                }
            case "per_file_ignores":
                for (globKey, rules) in try reader.mapping(value, name) {
                    configuration.perFileIgnores.append((globKey.string ?? "", try reader.strings(rules, "per_file_ignores.\(globKey.string ?? "")")))
                }
            case "ignore":
                guard let entries = value.sequence else { throw reader.error(value, "`ignore` must be a list of {path, rule, node, reason}") }
                for entry in entries {
                    let fields = try reader.mapping(entry, "an ignore entry")
                    try reader.rejectUnknown(fields, allowed: IgnoredFinding.keys, in: "an ignore entry")
                    configuration.ignores.append(IgnoredFinding(
                        path: try reader.string(fields, "path"), rule: try reader.string(fields, "rule"),
                        node: fields["node"] == nil ? nil : try reader.string(fields, "node"),
                        reason: fields["reason"] == nil ? nil : try reader.string(fields, "reason")))
                }
            case "baseline":
                configuration.baseline = try reader.scalar(value, name)
            case "source_roots":
                for (from, to) in try reader.mapping(value, name) {
                    configuration.sourceRoots.append((from.string ?? "", try reader.scalar(to, "source_roots.\(from.string ?? "")")))
                }
            case "paths":
                for (globKey, block) in try reader.mapping(value, name) {
                    let glob = globKey.string ?? ""
                    configuration.pathTargets.append((glob, try targetBlock(block, "paths.\(glob)", reader: reader, targets: targets)))
                }
            default:
                throw Self.unknownKey(name, at: key, known: topKeys, reader: reader)
            }
        }
        return configuration
    }

    /// A key no configuration has: an error (a misspelt `excluded:` must not lint what it meant to leave out),
    /// with the key it most likely meant.
    private static func unknownKey(_ name: String, at key: DocumentNode, known: Set<String>, reader: NodeReader) -> RuleFileError {
        let last = String(name.split(separator: ".").last ?? "")
        let hint = closestWord(to: last, among: known.sorted()).map { "; did you mean `\($0)`?" } ?? " (known: \(known.sorted().joined(separator: ", ")))"
        return reader.error(key, "unknown configuration key `\(name)`" + hint)
    }

    private static func targetBlock(_ node: DocumentNode, _ name: String, reader: NodeReader, targets: [String]) throws(RuleFileError) -> TargetConfiguration {
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
                throw Self.unknownKey("\(name).\(key.string ?? "?")", at: key, known: TargetConfiguration.keys, reader: reader)
            }
        }
        return block
    }

    /// The rules that run: defaults, minus disabled, plus opted-in; or exactly `only_rules`. Severities overridden.
    /// `enablingAll`: every rule given runs (the command line selected them), only severities are applied.
    public func select(from rules: [Rule], enablingAll: Bool = false) -> [Rule] {
        rules.filter { rule in
            if enablingAll { return true }
            if let onlyRules { return onlyRules.contains(rule.id) }
            if disabledRules.contains(rule.id) { return false }
            return rule.enabledByDefault || optInRules.contains(rule.id)
        }.map { rule in
            var rule = rule
            if let severity = severities[rule.id] { rule.severity = severity }
            return rule
        }
    }

    /// Rule ids (and, in `per_file_ignores` and `ignore`, prefixes) the configuration names that no loaded rule has.
    public func unknownRuleIds(among rules: [Rule]) -> [String] {
        let known = Set(rules.map(\.id))
        let named = disabledRules.union(optInRules).union(onlyRules ?? []).union(severities.keys).union(ignores.map(\.rule))
        let prefixes = perFileIgnores.flatMap(\.rules).filter { prefix in !rules.contains { RuleSelector.matches(prefix, $0.id) } }
        return (named.subtracting(known).sorted() + prefixes).uniquedStrings()
    }

    /// The last `paths:` block whose glob matches a path relative to the configuration's folder (its index).
    public func pathTarget(for relativePath: String) -> Int? {
        pathTargets.lastIndex { Glob.matches($0.glob, relativePath) }
    }

    /// Why the configuration suppresses a finding on the model at `relativePath` (relative to its folder), if it does.
    public func suppression(of finding: Finding, relativePath: String) -> Suppression? {
        let origin = path.map { URL(fileURLWithPath: $0).lastPathComponent } ?? Self.fileName
        if let ignore = ignores.first(where: { $0.matches(finding, relativePath: relativePath) }) {
            return Suppression(kind: .configuration, justification: "\(origin) ignore: " + (ignore.reason ?? "no reason given"))
        }
        if let entry = perFileIgnores.first(where: { entry in
            Glob.matches(entry.glob, relativePath) && entry.rules.contains { RuleSelector.matches($0, finding.ruleId) }
        }) {
            return Suppression(kind: .configuration, justification: "\(origin) per_file_ignores: \(entry.glob)")
        }
        return nil
    }

    /// Whether `excluded:` names a path (relative to the configuration's folder): with `--force-exclude`, also
    /// for files named on the command line.
    public func excludes(relativePath: String) -> Bool {
        excluded.contains { Glob.matches($0, relativePath) }
    }

    /// Whether a path found while walking a folder is linted (`included`/`excluded` globs, relative to the config).
    public func includes(relativePath: String) -> Bool {
        if excluded.contains(where: { Glob.matches($0, relativePath) }) { return false }
        return included.isEmpty || included.contains { Glob.matches($0, relativePath) }
    }
}

/// One known finding the configuration accepts: where, which rule, on which node (a node name, a node path
/// `graph/node`, or a module path; every node when absent), and why.
public struct IgnoredFinding: Sendable {
    public var path: String
    public var rule: String
    public var node: String?
    public var reason: String?

    static let keys: Set<String> = ["path", "rule", "node", "reason"]

    public func matches(_ finding: Finding, relativePath: String) -> Bool {
        guard finding.ruleId == rule, Glob.matches(path, relativePath) else { return false }
        guard let node else { return true }
        return node == finding.node || node == finding.nodePath || node == finding.source?.modulePath
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
        return match(Array(pattern.utf8), Array(path.utf8))
    }

    /// Whether the pattern matches the whole path, by dynamic programming over (pattern position, path
    /// position): linear in their product whatever the pattern (`**/**/**/…` backtracked exponentially).
    private static func match(_ pattern: [UInt8], _ path: [UInt8]) -> Bool {
        let star = UInt8(ascii: "*"), slash = UInt8(ascii: "/"), question = UInt8(ascii: "?")
        // reachable[s]: the pattern read so far matches path[..<s].
        var reachable = [Bool](repeating: false, count: path.count + 1)
        reachable[0] = true
        var p = 0
        while p < pattern.count {
            var next = [Bool](repeating: false, count: path.count + 1)
            if pattern[p] == star {
                // `*` runs within a folder name; `**` (and `**/`, which so also matches no folder at all) across folders.
                let doubleStar = p + 1 < pattern.count && pattern[p + 1] == star
                var carried = false
                for s in 0...path.count {
                    carried = reachable[s] || (carried && s > 0 && (doubleStar || path[s - 1] != slash))
                    next[s] = carried
                }
                p += doubleStar ? (p + 2 < pattern.count && pattern[p + 2] == slash ? 3 : 2) : 1
            } else {
                for s in 0..<path.count where reachable[s] {
                    if pattern[p] == question ? path[s] != slash : pattern[p] == path[s] { next[s + 1] = true }
                }
                p += 1
            }
            reachable = next
        }
        return reachable[path.count]
    }
}

/// Rule selectors, as Ruff's: a rule id, or a prefix of ids (`coreml-fp16`, `ort-`).
public enum RuleSelector {
    public static func matches(_ selector: String, _ ruleId: String) -> Bool {
        ruleId == selector || (ruleId.hasPrefix(selector) && (selector.hasSuffix("-") || ruleId.dropFirst(selector.count).hasPrefix("-")))
    }
}

extension Array where Element == String {
    func uniquedStrings() -> [String] {
        var seen: Set<String> = []
        return filter { seen.insert($0).inserted }
    }
}
