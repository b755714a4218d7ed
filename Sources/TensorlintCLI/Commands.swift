import ArgumentParser
import Foundation
import TensorlintEngine
import TensorlintIR
import TensorlintReporters

public let toolVersion = "0.1.0"

/// Exit statuses: 0 clean, 1 error findings, 2 usage, configuration or unreadable input.
public enum ExitStatus {
    public static let clean: Int32 = 0
    public static let findings: Int32 = 1
    public static let failure: Int32 = 2
}

/// A failure that ends the run with status 2 and one line on standard error.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

public struct Tensorlint: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tensorlint",
        abstract: "Static analysis of ML model files: predicts what coremltools or onnxruntime will do with them.",
        version: toolVersion,
        subcommands: [Lint.self, FixCommand.self, Rules.self, Explain.self],
        defaultSubcommand: Lint.self
    )

    public init() {}
}

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
        if let used = linter.knowledgeVersion(for: settings), used != settings.converterVersion {
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

/// Where the lines for standard error go: the process's, unless a caller (a test running commands in
/// parallel) collects them for its own task.
public enum StandardError {
    @TaskLocal public static var collector: (@Sendable (String) -> Void)?
}

func warn(_ line: String) {
    if let collector = StandardError.collector { return collector(line) }
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lint model files or folders (folders are walked; models are recognised by content).")

    @ArgumentParser.Argument(help: "Model files or folders.")
    var paths: [String] = []

    @Option(help: "Output format: text, json or sarif.")
    var format: String = "text"

    @Option(name: [.short, .customLong("output")], help: "Write the report to this file instead of standard output.")
    var output: String?

    @Flag(help: "Apply safe automatic fixes to the models in place first, then report what is left.")
    var fix = false

    @Flag(name: .customLong("unsafe-fixes"), help: "With --fix, also apply unsafe fixes.")
    var unsafeFixes = false

    @OptionGroup var targetOptions: TargetOptions
    @OptionGroup var configOptions: ConfigOptions

    func run() throws {
        let reporter: any Reporter
        switch format {
        case "text": reporter = TextReporter()
        case "json": reporter = JSONReporter()
        case "sarif": reporter = SARIFReporter()
        default: throw CommandFailure(description: "--format must be text, json or sarif, not '\(format)'")
        }
        guard !paths.isEmpty else { throw CommandFailure(description: "no model file or folder given (usage: tensorlint lint PATH...)") }
        let configuration = try configOptions.load()
        let settings = try targetOptions.settings(configuration)
        let (rules, linter) = try configOptions.linter(configuration, settings: settings)
        let base = configuration.path.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
            ?? FileManager.default.currentDirectoryPath
        let items = FileCollector.collect(paths, isIncluded: configuration.includes(relativePath:), relativeTo: base)
        var results: [LintReport.FileResult] = []
        for item in items {
            do throws(ReadError) {
                var model = try ModelLoader.load(item)
                // A model that cannot be fixed is still linted; why it was not fixed is said once.
                if fix {
                    do {
                        if let fixed = try ModelFixer.fixInPlace(item.path, linter: linter, settings: settings, allowUnsafe: unsafeFixes) {
                            warn("\(item.path): fixed (\(fixed.joined(separator: "; ")))")
                            model = try ModelLoader.load(path: item.path)
                        }
                    } catch let error as ReadError {
                        throw error
                    } catch {
                        warn("tensorlint: not fixed: \(error)")
                    }
                }
                var findings = linter.lint(model, settings: settings)
                if format == "sarif" { ModelFixer.attachReplacements(&findings, model: model, path: item.path) }
                results.append(.init(path: item.path, format: model.format, layout: model.layout, findings: findings, error: nil))
            } catch {
                warn("\(item.path): \(error)")
                results.append(.init(path: item.path, format: nil, layout: nil, findings: [], error: error.description))
            }
        }
        let report = LintReport(files: results, rules: rules, settings: settings,
                                converterSettings: Registry.vocabulary.pack(settings.target)?.settingBindings(settings) ?? [:],
                                knowledgeVersion: linter.knowledgeVersion(for: settings), toolVersion: toolVersion,
                                workingDirectory: FileManager.default.currentDirectoryPath)
        let text = reporter.render(report)
        if let output {
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure(description: "\(output): cannot write the report: \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if results.contains(where: { $0.error != nil }) { throw ExitCode(ExitStatus.failure) }
        if report.count(.error) > 0 { throw ExitCode(ExitStatus.findings) }
    }
}

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the rules: id, severity, default, fix, summary.")

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .customLong("write-docs"), help: "Write one Markdown page per rule, and an index, into this folder (docs/rules).")
    var docsDirectory: String?

    func run() throws {
        let configuration = try configOptions.load()
        let rules = try configOptions.allRules(configuration)
        if let docsDirectory {
            do {
                try RuleDocumentation.write(rules, to: docsDirectory)
            } catch {
                throw CommandFailure(description: "\(docsDirectory): cannot write the rule pages: \(error.localizedDescription)")
            }
            return
        }
        let active = Set(configuration.select(from: rules).map(\.id))
        let idWidth = rules.map(\.id.count).max() ?? 2
        var lines = ["\("id".padding(toLength: idWidth, withPad: " ", startingAt: 0))  severity  default  active  fix           summary"]
        for rule in rules {
            let fix = !rule.fix.automatic.isEmpty ? rule.fix.applicability.rawValue : "-"
            lines.append([
                rule.id.padding(toLength: idWidth, withPad: " ", startingAt: 0),
                rule.severity.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                (rule.enabledByDefault ? "enabled" : "opt-in").padding(toLength: 7, withPad: " ", startingAt: 0),
                (active.contains(rule.id) ? "yes" : "no").padding(toLength: 6, withPad: " ", startingAt: 0),
                fix.padding(toLength: 12, withPad: " ", startingAt: 0),
                rule.summary,
            ].joined(separator: "  "))
        }
        print(lines.joined(separator: "\n"))
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Explain a rule: what it checks, why, how to fix, references.")

    @ArgumentParser.Argument(help: "The rule id (see `tensorlint rules`).")
    var ruleId: String

    @OptionGroup var configOptions: ConfigOptions

    func run() throws {
        let rules = try configOptions.allRules(try configOptions.load())
        guard let rule = rules.first(where: { $0.id == ruleId }) else {
            throw CommandFailure(description: "no rule '\(ruleId)' (see `tensorlint rules`)")
        }
        print(RuleDocumentation.markdown(rule), terminator: "")
    }
}

/// Runs the command line and returns the exit status: usage errors are 2, not ArgumentParser's 64.
public func runTensorlint(_ arguments: [String]) -> Int32 {
    do {
        var command = try Tensorlint.parseAsRoot(arguments)
        try command.run()
        return ExitStatus.clean
    } catch let exit as ExitCode {
        return exit.rawValue
    } catch let failure as CommandFailure {
        warn("tensorlint: \(failure.description)")
        return ExitStatus.failure
    } catch let error as RuleFileError {
        warn("\(error.description)")
        return ExitStatus.failure
    } catch {
        let code = Tensorlint.exitCode(for: error)
        if code == .success {
            print(Tensorlint.fullMessage(for: error))
            return ExitStatus.clean
        }
        warn(Tensorlint.fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "tensorlint: \(error)")
        return ExitStatus.failure
    }
}
