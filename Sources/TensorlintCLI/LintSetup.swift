import Foundation
import TensorlintEngine
import TensorlintIR
import TensorlintReporters

/// Which configuration applies to each model, and what the model is checked against. The nearest
/// `.tensorlint.yml` above a model applies to it alone (as Ruff resolves configurations), `--config` to every
/// model; a model's converter follows its format unless configured. Each configuration is read once, and
/// rules, knowledge and linters are built once each, when a model first needs them.
final class LintSetup: @unchecked Sendable {
    /// What one model is checked against.
    struct Checker: Sendable {
        let settings: Settings
        let linter: Linter
        let knowledgeVersion: Version
        /// Said once per run: the version asked for has no knowledge of its own.
        let warning: String?
    }

    private struct CheckerKey: Hashable {
        let configuration: String
        let format: Model.Format?
        let pathBlock: Int?
    }

    private let targetOptions: TargetOptions
    private let selectionOptions: SelectionOptions
    private let explicit: Configuration?
    private let lock = NSLock()
    /// Each folder's configuration (its nearest file's, else the defaults): a folder's files ask for it in turn.
    private var configurationByFolder: [String: Configuration] = [:]
    private var configurationByPath: [String: Configuration] = [:]
    private var rulesByConfiguration: [String: [Rule]] = [:]
    /// Configuration keys in the order they were first read: the report lists their rules in that order.
    private var configurationOrder: [String] = []
    private var checkers: [CheckerKey: Result<Checker, CommandFailure>] = [:]

    init(_ options: LinterOptions) throws {
        targetOptions = options.targetOptions
        selectionOptions = options.selectionOptions
        // The command line's own mistakes are said before any model is read.
        _ = try targetOptions.settings(Configuration(), format: nil)
        explicit = try options.configOptions.config.map { try ConfigOptions.load($0) }
        if let explicit { try register(explicit) }
    }

    /// The configuration for a model file: `--config`, else the nearest `.tensorlint.yml` above it.
    func configuration(forFile path: String) throws -> Configuration {
        if let explicit { return explicit }
        let folder = parentFolder(of: path)
        return try configuration(inFolder: folder)
    }

    /// Not for concurrent callers (two could read one file and warn twice): `lint` resolves every file's
    /// configuration in order before it lints in parallel.
    private func configuration(inFolder folder: String) throws -> Configuration {
        if let known = lock.withLock({ configurationByFolder[folder] }) { return known }
        let configuration: Configuration
        if let found = Configuration.discover(from: folder) {
            if let known = lock.withLock({ configurationByPath[found] }) {
                configuration = known
            } else {
                configuration = try ConfigOptions.load(found)
            }
        } else {
            configuration = Configuration()
        }
        try register(configuration)
        lock.withLock { configurationByFolder[folder] = configuration }
        return configuration
    }

    /// Reads a configuration's rules (once) and warns about rule ids it names that no rule has.
    private func register(_ configuration: Configuration) throws {
        let key = configuration.path ?? ""
        guard lock.withLock({ rulesByConfiguration[key] == nil }) else { return }
        let builtin = try BuiltinRules.shared.rules()
        let all = try ConfigOptions.allRules(configuration, builtin: builtin)
        for id in configuration.unknownRuleIds(among: all) {
            warn("\(configuration.path ?? Configuration.fileName): warning: no rule has the id '\(id)'")
        }
        let selected = try selectionOptions.apply(configuration.select(from: all), all: all, configuration: configuration)
        // `baseline:` and `source_roots:` belong to the run (--config, or the working directory's file): said
        // when a file that is not the run's sets them, rather than ignored in silence.
        if let path = configuration.path, explicit == nil, path != Configuration.discover(from: FileManager.default.currentDirectoryPath),
           configuration.baseline != nil || !configuration.sourceRoots.isEmpty {
            warn("\(path): warning: `baseline:` and `source_roots:` apply only in the configuration of the working directory (or --config); ignored here")
        }
        lock.withLock {
            if let path = configuration.path { configurationByPath[path] = configuration }
            if rulesByConfiguration[key] == nil { configurationOrder.append(key) }
            rulesByConfiguration[key] = selected
        }
    }

    /// Whether a file met in a folder walk is linted: its configuration's `included`/`excluded` globs, relative
    /// to the configuration's folder.
    func includes(_ path: String) throws -> Bool {
        let configuration = try configuration(forFile: path)
        // No glob, no path to work out: a folder's walk asks this of every file.
        guard !configuration.included.isEmpty || !configuration.excluded.isEmpty else { return true }
        return configuration.includes(relativePath: commandLinePath(path, relativeTo: configuration.folder))
    }

    /// Why the model's configuration suppresses a finding (`ignore:`, `per_file_ignores:`), if it does.
    func suppression(of finding: Finding, configuration: Configuration, file: String) -> Suppression? {
        guard !configuration.ignores.isEmpty || !configuration.perFileIgnores.isEmpty else { return nil }
        return configuration.suppression(of: finding, relativePath: commandLinePath(file, relativeTo: configuration.folder))
    }

    /// Whether `--force-exclude` drops a file named on the command line: its configuration's `excluded:`.
    func excludes(_ path: String) throws -> Bool {
        let configuration = try configuration(forFile: path)
        guard !configuration.excluded.isEmpty else { return false }
        return configuration.excludes(relativePath: commandLinePath(path, relativeTo: configuration.folder))
    }

    /// The configuration of the run as a whole: `--config`, else the working directory's, when it applies to a
    /// model of this run (one that applies to none is not read for this: it may not even be valid).
    private func runConfiguration() -> Configuration? {
        if let explicit { return explicit }
        guard let path = Configuration.discover(from: FileManager.default.currentDirectoryPath) else { return nil }
        return lock.withLock { configurationByPath[path] }
    }

    /// `--baseline`, else the run configuration's `baseline:` (relative to it).
    func baselinePath(_ flag: String?) -> String? {
        if let flag { return flag }
        guard let configuration = runConfiguration() else { return nil }
        guard let baseline = configuration.baseline, !baseline.hasPrefix("/") else { return configuration.baseline }
        return configuration.folder.appendingPathComponent(baseline).path
    }

    /// `source_roots:` of the run configuration, replacements made absolute
    /// (they are relative to the configuration's folder).
    func sourceRoots() -> [(from: String, to: String)] {
        guard let configuration = runConfiguration() else { return [] }
        return configuration.sourceRoots.map { root in
            (root.from, root.to.hasPrefix("/") ? root.to : configuration.folder.appendingPathComponent(root.to).standardizedFileURL.path)
        }
    }

    /// The `paths:` block of a model's configuration that applies to it, if any.
    func pathBlock(_ configuration: Configuration, file: String) -> Int? {
        guard !configuration.pathTargets.isEmpty else { return nil }
        return configuration.pathTarget(for: commandLinePath(file, relativeTo: configuration.folder))
    }

    /// What a model of this format (and `paths:` block) under this configuration is checked against; built
    /// once for each.
    func checker(_ configuration: Configuration, format: Model.Format?, pathBlock: Int? = nil) -> Result<Checker, CommandFailure> {
        let key = CheckerKey(configuration: configuration.path ?? "", format: format, pathBlock: pathBlock)
        return lock.withLock {
            if let known = checkers[key] { return known }
            let checker = makeChecker(configuration, format: format, key: key)
            checkers[key] = checker
            return checker
        }
    }

    /// Called with the lock held.
    private func makeChecker(_ configuration: Configuration, format: Model.Format?, key: CheckerKey) -> Result<Checker, CommandFailure> {
        Result { () throws(CommandFailure) -> Checker in
            let settings: Settings
            do { settings = try targetOptions.settings(configuration, format: format, pathBlock: key.pathBlock) } catch {
                throw (error as? CommandFailure) ?? CommandFailure(description: "\(error)")
            }
            let knowledge = BuiltinRules.shared.knowledge(settings.target)
            let linter = Linter(rules: rulesByConfiguration[key.configuration] ?? [], knowledge: knowledge)
            let used: Version
            do {
                guard let (version, _) = try knowledge.resolve(target: settings.target, version: settings.converterVersion) else {
                    throw CommandFailure(description: "no knowledge of \(settings.target) is built in (rules/knowledge/\(settings.target)-<version>/)")
                }
                used = version
            } catch let failure as CommandFailure { throw failure } catch { throw CommandFailure(description: "\(error)") }
            let warning = Knowledge.sameSeries(used, settings.converterVersion) ? nil
                : "tensorlint: warning: no knowledge of \(settings.target) \(settings.converterVersion); checking against \(settings.target) \(used)"
            return Checker(settings: settings, linter: linter, knowledgeVersion: used, warning: warning)
        }
    }

    /// The settings of the run as a whole, as reports give them: those every model was checked against when
    /// they agree, else what the command line (and `--config`) alone say. No configuration is read for them.
    func runSettings(files: [LintReport.FileResult]) throws -> (settings: Settings, knowledgeVersion: Version?) {
        let checked = files.filter { $0.settings != nil }
        if let first = checked.first, let settings = first.settings,
           checked.allSatisfy({ $0.settings == settings && $0.knowledgeVersion == first.knowledgeVersion }) {
            return (settings, first.knowledgeVersion)
        }
        return (try targetOptions.settings(explicit ?? Configuration(), format: nil), nil)
    }

    /// The rules of every configuration read, each id once, in the order the configurations were read.
    var rules: [Rule] {
        lock.withLock {
            var seen: Set<String> = []
            return configurationOrder.flatMap { rulesByConfiguration[$0] ?? [] }.filter { seen.insert($0.id).inserted }
        }
    }
}

/// The embedded rules and knowledge, the same for every run in a process: parsed once, however many runs a
/// process makes (the tests', a fuzzer's), and each target's knowledge only when a run needs it.
final class BuiltinRules: @unchecked Sendable {
    static let shared = BuiltinRules()
    private let lock = NSLock()
    private var parsedRules: [Rule]?
    private var knowledgeByTarget: [String: Knowledge] = [:]

    func rules() throws -> [Rule] {
        try lock.withLock {
            if let parsedRules { return parsedRules }
            let rules = try RuleSet.builtin(Registry.vocabulary)
            parsedRules = rules
            return rules
        }
    }

    /// Starts reading the rules on another thread; `rules()` waits for it (an error is left for it to say).
    func readInTheBackground() {
        DispatchQueue.global(qos: .userInitiated).async { _ = try? self.rules() }
    }

    func knowledge(_ target: String) -> Knowledge {
        lock.withLock {
            if let known = knowledgeByTarget[target] { return known }
            let knowledge = RuleSet.builtinKnowledge(Registry.vocabulary, targets: [target])
            knowledgeByTarget[target] = knowledge
            return knowledge
        }
    }
}
