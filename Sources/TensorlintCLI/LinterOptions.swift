import ArgumentParser
import Foundation
import TensorlintEngine
import TensorlintIR

/// Options that say what the model will be run through; shared by every command that lints.
struct TargetOptions: ParsableArguments {
    @Option(help: "Converter or runtime for every model: \(Registry.vocabulary.targets.joined(separator: " or ")) (default: each model's format decides, \(Registry.packs.map { "\($0.target) for \($0.nativeFormats.map(\.rawValue).sorted().joined(separator: "/"))" }.joined(separator: ", ")), unless configured).")
    var target: String?

    @Option(name: .customLong("converter-version"), help: "Converter version: VERSION with --target, else CONVERTER=VERSION[,CONVERTER=VERSION] (default: the newest tensorlint knows, \(Registry.packs.map { "\($0.target) \($0.defaultVersion)" }.joined(separator: ", "))).")
    var converterVersion: String?

    @Option(name: .customLong("minimum-deployment-target"), help: "Core ML deployment target: iOS15…iOS18, iOS26, or the macOS/tvOS/watchOS equivalents.")
    var minimumDeploymentTarget: String?

    @Option(name: .customLong("compute-precision"), help: "float16 or float32, as ct.precision.")
    var computePrecision: String?

    @Option(name: .customLong("input-dtype"), help: "TorchScript models: the dtype given to ct.TensorType for floating inputs: default (none: fp32, or fp16 from iOS16 with FLOAT16), float16 or float32.")
    var inputDType: String?

    /// What a model of this format is checked against: the command line over the configuration's `paths:`
    /// block for the model (by index), over its block for the format, over its `target:`, over the converter
    /// that natively runs the format (or the first pack).
    /// `--converter-version`, by converter: a bare version belongs to `--target`, since without it each model's
    /// converter follows its format and one version cannot fit two converters.
    func converterVersions() throws -> [String: Version] {
        guard let converterVersion else { return [:] }
        var versions: [String: Version] = [:]
        for part in converterVersion.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
            let (converter, text) = pieces.count == 2 ? (pieces[0], pieces[1]) : (target, part)
            guard let converter else {
                throw CommandFailure(description: "--converter-version \(part): say which converter (\(Registry.vocabulary.targets.map { "\($0)=\(part)" }.joined(separator: " or "))) or give --target: each model's converter follows its format")
            }
            guard Registry.vocabulary.targets.contains(converter) else {
                throw CommandFailure(description: "--converter-version: '\(converter)' is not a converter (\(Registry.vocabulary.targets.joined(separator: " or ")))")
            }
            guard let version = Version(text) else { throw CommandFailure(description: "--converter-version '\(text)' is not a version number") }
            versions[converter] = version
        }
        return versions
    }

    func settings(_ configuration: Configuration, format: Model.Format?, pathBlock: Int? = nil) throws -> Settings {
        let formatBlock = format.flatMap { configuration.formatTargets[$0] }
        let pathTarget = pathBlock.map { configuration.pathTargets[$0].target }
        let native = format.flatMap { format in Registry.packs.first { $0.nativeFormats.contains(format) } }?.target
        let configured = formatBlock?.converter ?? configuration.target.converter ?? native ?? Registry.packs[0].target
        var target = pathTarget?.converter ?? configured
        if let text = self.target {
            guard Registry.vocabulary.targets.contains(text) else {
                throw CommandFailure(description: "--target must be \(Registry.vocabulary.targets.joined(separator: " or ")), not '\(text)'")
            }
            target = text
        }
        var settings = Settings(pack: Registry.vocabulary.pack(target)!)
        // A configured version belongs to its block's converter (the first pack's, in a block without one),
        // never to a converter chosen elsewhere.
        configuration.target.apply(to: &settings, versionBelongsTo: configuration.target.converter ?? Registry.packs[0].target)
        formatBlock?.apply(to: &settings, versionBelongsTo: configured)
        pathTarget?.apply(to: &settings, versionBelongsTo: pathTarget?.converter ?? configured)
        if let version = try converterVersions()[settings.target] { settings.converterVersion = version }
        if let text = minimumDeploymentTarget {
            do { settings.deploymentTarget = try DeploymentTarget.parse(text) } catch {
                throw CommandFailure(description: "--minimum-deployment-target: \(error)")
            }
        }
        if let text = computePrecision {
            do { settings.computePrecision = try ComputePrecision.parse(text) } catch {
                throw CommandFailure(description: "--compute-precision: \(error)")
            }
        }
        if let text = inputDType {
            do { settings.inputDType = try InputDType.parse(text) } catch {
                throw CommandFailure(description: "--input-dtype: \(error)")
            }
        }
        return settings
    }
}

struct ConfigOptions: ParsableArguments {
    @Option(help: "Configuration file for every model (default: the nearest .tensorlint.yml above each model; for `rules`, above the working directory).")
    var config: String?

    /// `--config`, or the configuration found from the working directory.
    func load() throws -> Configuration {
        try Self.load(config ?? Configuration.discover(from: FileManager.default.currentDirectoryPath))
    }

    /// The configuration at `path` (the defaults for none).
    static func load(_ path: String?) throws -> Configuration {
        guard let path else { return Configuration() }
        guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure(description: "\(path): no such configuration file") }
        return try Configuration.load(path: path, targets: Registry.vocabulary.targets, formats: Registry.formats.map { $0.id })
    }

    func allRules(_ configuration: Configuration) throws -> [Rule] {
        try Self.allRules(configuration, builtin: try RuleSet.builtin(Registry.vocabulary))
    }

    /// Built-in rules plus those the configuration names, before selection.
    static func allRules(_ configuration: Configuration, builtin: [Rule]) throws -> [Rule] {
        var rules = builtin
        for location in configuration.ruleLocations {
            rules += try RuleSet.load(from: location.hasPrefix("/") ? location : configuration.folder.path + "/" + location,
                                      vocabulary: Registry.vocabulary)
        }
        var seen: [String: String] = [:]
        for rule in rules {
            if let other = seen[rule.id] { throw CommandFailure(description: "\(rule.origin): rule id '\(rule.id)' is already defined by \(other)") }
            seen[rule.id] = rule.origin
        }
        return rules
    }
}

/// Which rules run, over what the configuration selects (Ruff's `--select` / `--ignore`).
struct SelectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run only these rules: ids or prefixes (`coreml-fp16`, `ort-`), comma-separated or repeated.", valueName: "rules"))
    var select: [String] = []

    @Option(help: ArgumentHelp("Do not run these rules: ids or prefixes, comma-separated or repeated.", valueName: "rules"))
    var ignore: [String] = []

    var selectors: [String]? { select.isEmpty ? nil : select.flatMap { $0.split(separator: ",").map(String.init) } }
    var ignored: [String] { ignore.flatMap { $0.split(separator: ",").map(String.init) } }

    /// The configuration's selection, narrowed by the flags; a selector that names no rule is an error.
    func apply(_ selected: [Rule], all: [Rule], configuration: Configuration) throws -> [Rule] {
        if let selectors, selectors.allSatisfy(\.isEmpty) {
            throw CommandFailure(description: "--select names no rule (an empty value would run nothing)")
        }
        for selector in (selectors ?? []) + ignored where !all.contains(where: { RuleSelector.matches(selector, $0.id) }) {
            throw CommandFailure(description: "no rule id is or starts with '\(selector)' (see `tensorlint rules`)")
        }
        var rules = selected
        if let selectors {
            // --select enables what it names, opt-in rules too, with the configuration's severities.
            rules = configuration.select(from: all.filter { rule in selectors.contains { RuleSelector.matches($0, rule.id) } },
                                         enablingAll: true)
        }
        return rules.filter { rule in !ignored.contains { RuleSelector.matches($0, rule.id) } }
    }
}

/// What every command that lints takes: the target, the configuration and the rule selection.
struct LinterOptions: ParsableArguments {
    @OptionGroup var targetOptions: TargetOptions
    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var selectionOptions: SelectionOptions
}
