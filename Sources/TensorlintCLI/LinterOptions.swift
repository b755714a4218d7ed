import ArgumentParser
import Foundation
import TensorlintEngine
import TensorlintIR

/// Options that say what the model will be run through; shared by every command that lints.
struct TargetOptions: ParsableArguments {
    @Option(help: "Converter or runtime: \(Registry.vocabulary.targets.joined(separator: " or ")) (default: \(Registry.packs[0].target)).")
    var target: String?

    @Option(name: .customLong("converter-version"), help: "Version of the converter (default: the newest tensorlint knows, \(Registry.packs.map { "\($0.target) \($0.defaultVersion)" }.joined(separator: ", "))).")
    var converterVersion: String?

    @Option(name: .customLong("minimum-deployment-target"), help: "Core ML deployment target: iOS15…iOS18, iOS26, or the macOS/tvOS/watchOS equivalents.")
    var minimumDeploymentTarget: String?

    @Option(name: .customLong("compute-precision"), help: "float16 or float32, as ct.precision.")
    var computePrecision: String?

    @Option(name: .customLong("input-dtype"), help: "TorchScript models: the dtype given to ct.TensorType for floating inputs: default (none: fp32, or fp16 from iOS16 with FLOAT16), float16 or float32.")
    var inputDType: String?

    func settings(_ configuration: Configuration) throws -> Settings {
        var target = configuration.target ?? Registry.packs[0].target
        if let text = self.target {
            guard Registry.vocabulary.targets.contains(text) else {
                throw CommandFailure(description: "--target must be \(Registry.vocabulary.targets.joined(separator: " or ")), not '\(text)'")
            }
            target = text
        }
        var settings = Settings(pack: Registry.vocabulary.pack(target)!)
        // A configured version belongs to the configured converter, not to one chosen on the command line.
        if let version = configuration.converterVersion, configuration.target == nil || configuration.target == target {
            settings.converterVersion = version
        }
        if let text = converterVersion {
            guard let version = Version(text) else { throw CommandFailure(description: "--converter-version '\(text)' is not a version number") }
            settings.converterVersion = version
        }
        if let deploymentTarget = configuration.deploymentTarget { settings.deploymentTarget = deploymentTarget }
        if let text = minimumDeploymentTarget {
            do { settings.deploymentTarget = try DeploymentTarget.parse(text) } catch {
                throw CommandFailure(description: "--minimum-deployment-target: \(error)")
            }
        }
        if let precision = configuration.computePrecision { settings.computePrecision = precision }
        if let text = computePrecision {
            do { settings.computePrecision = try ComputePrecision.parse(text) } catch {
                throw CommandFailure(description: "--compute-precision: \(error)")
            }
        }
        if let dtype = configuration.inputDType { settings.inputDType = dtype }
        if let text = inputDType {
            do { settings.inputDType = try InputDType.parse(text) } catch {
                throw CommandFailure(description: "--input-dtype: \(error)")
            }
        }
        return settings
    }
}

struct ConfigOptions: ParsableArguments {
    @Option(help: "Configuration file (default: .tensorlint.yml in the working directory or a parent).")
    var config: String?

    func load() throws -> Configuration {
        let path = config ?? Configuration.discover(from: FileManager.default.currentDirectoryPath)
        guard let path else { return Configuration() }
        guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure(description: "\(path): no such configuration file") }
        let configuration = try Configuration.load(path: path, targets: Registry.vocabulary.targets)
        if !configuration.unknownKeys.isEmpty {
            warn("\(path): warning: unknown configuration key\(configuration.unknownKeys.count == 1 ? "" : "s") \(configuration.unknownKeys.map { "'\($0)'" }.joined(separator: ", ")) ignored")
        }
        return configuration
    }

    /// The rules the configuration selects and a linter for them with the knowledge the target needs;
    /// configured rule ids that no rule has are warned about.
    func linter(_ configuration: Configuration, settings: Settings) throws -> (rules: [Rule], linter: Linter) {
        let allRules = try allRules(configuration)
        for id in configuration.unknownRuleIds(among: allRules) {
            warn("\(configuration.path ?? Configuration.fileName): warning: no rule has the id '\(id)'")
        }
        let rules = configuration.select(from: allRules)
        let linter = Linter(rules: rules, knowledge: try RuleSet.builtinKnowledge(Registry.vocabulary, targets: [settings.target]))
        guard let used = linter.knowledgeVersion(for: settings) else {
            throw CommandFailure(description: "no knowledge of \(settings.target) is built in (rules/knowledge/\(settings.target)-<version>/)")
        }
        if used != settings.converterVersion {
            warn("tensorlint: warning: no knowledge of \(settings.target) \(settings.converterVersion); checking against \(settings.target) \(used)")
        }
        return (rules, linter)
    }

    /// Built-in rules plus those the configuration names, before selection.
    func allRules(_ configuration: Configuration) throws -> [Rule] {
        var rules = try RuleSet.builtin(Registry.vocabulary)
        let base = configuration.path.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
            ?? FileManager.default.currentDirectoryPath
        for location in configuration.ruleLocations {
            rules += try RuleSet.load(from: location.hasPrefix("/") ? location : base + "/" + location, vocabulary: Registry.vocabulary)
        }
        var seen: [String: String] = [:]
        for rule in rules {
            if let other = seen[rule.id] { throw CommandFailure(description: "\(rule.origin): rule id '\(rule.id)' is already defined by \(other)") }
            seen[rule.id] = rule.origin
        }
        return rules
    }
}

/// What every command that lints takes: the target and the configuration.
struct LinterOptions: ParsableArguments {
    @OptionGroup var targetOptions: TargetOptions
    @OptionGroup var configOptions: ConfigOptions

    /// The configuration, the settings it and the flags give, the rules it selects and a linter for them.
    func prepare() throws -> (configuration: Configuration, settings: Settings, rules: [Rule], linter: Linter) {
        let configuration = try configOptions.load()
        let settings = try targetOptions.settings(configuration)
        let (rules, linter) = try configOptions.linter(configuration, settings: settings)
        return (configuration, settings, rules, linter)
    }
}
