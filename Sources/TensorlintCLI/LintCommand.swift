import ArgumentParser
import Foundation
import TensorlintEngine
import TensorlintIR
import TensorlintReporters

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Lint model files or folders (folders are walked; models are recognised by content).",
        discussion: """
        Exit status: 0 no error finding, 1 error findings, 2 unreadable models (Git LFS pointers among them), \
        usage or configuration errors.

        Report formats:
        \(Reporters.all.map { "  \($0.identifier.padding(toLength: 9, withPad: " ", startingAt: 0)) \($0.description)" }.joined(separator: "\n"))
        """)

    @ArgumentParser.Argument(help: "Model files or folders.")
    var paths: [String] = []

    @Option(help: "Report format: \(Reporters.all.map { $0.identifier }.joined(separator: ", ")).")
    var format: String = Reporters.all[0].identifier

    @Option(name: [.short, .customLong("output")], help: "Write the report to this file instead of standard output (the summary still goes to standard error).")
    var output: String?

    @Flag(help: "Print how many findings each rule has, instead of the findings.")
    var statistics = false

    @Flag(name: .customLong("exit-zero"), help: "Exit with 0 even when there are error findings (unreadable models are still 2).")
    var exitZero = false

    @Flag(name: .customLong("no-color"), help: "No colours (also when NO_COLOR is set, or the output is not a terminal).")
    var noColor = false

    @Flag(name: [.short, .long], help: "Print the findings and nothing else: no summary line, no warnings (read errors are still said).")
    var quiet = false

    @Option(help: "SARIF: the run's category (automationDetails.id), to keep apart the alerts of runs with different targets (default: tensorlint/, or tensorlint/<target>/ with --target).")
    var category: String?

    @Option(name: .customLong("source-root-map"), help: ArgumentHelp("Where the exporting machine's source files are here: OLD=NEW path prefixes for the stack traces models record, NEW relative to the working directory (repeatable).", valueName: "old=new"))
    var sourceRootMap: [String] = []

    @Option(name: .customLong("source-root"), help: "Folder that SARIF, GitHub and GitLab paths are relative to (default: the Git repository's top folder, else the working directory).")
    var sourceRoot: String?

    @Flag(name: .customLong("no-group"), help: "List every node's finding, instead of one finding per rule and cause with the nodes that have it.")
    var noGroup = false

    @Flag(name: .customLong("force-exclude"), help: "Apply the configuration's `excluded:` to files named on the command line too (as pre-commit names them).")
    var forceExclude = false

    @Option(help: "Set aside the findings this baseline file holds (default: the configuration's `baseline:`); fail only on new ones.")
    var baseline: String?

    @Option(name: .customLong("write-baseline"), help: "Write today's findings to this baseline file and exit 0 (unless a model is unreadable).")
    var writeBaseline: String?

    @Flag(help: "Apply safe automatic fixes to the models in place first, then report what is left.")
    var fix = false

    @Flag(name: .customLong("unsafe-fixes"), help: "With --fix, also apply unsafe fixes.")
    var unsafeFixes = false

    @Option(name: [.short, .customLong("jobs")], help: "Threads: files linted at once, one large model's reading and nodes, a SARIF report's results (default: the number of cores).")
    var jobs: Int?

    @OptionGroup var linterOptions: LinterOptions

    /// One file's result, what it has for standard error, and the warning its settings carry.
    private struct Outcome: Sendable {
        var result: LintReport.FileResult?
        var lines: [String] = []
        /// Said on standard error unless the report on standard output, for people, says it already.
        var readError: String?
        var skipped: String?
        var settingsWarning: String?
        var failure: CommandFailure?
        /// The rules that ran on the model (a baseline entry of another rule is not stale for it).
        var ranRules: Set<String> = []
    }

    /// What every file's lint is asked to do.
    private struct Options: Sendable {
        let fix: Bool
        let unsafeFixes: Bool
        let attachReplacements: Bool
        let group: Bool
        let baseline: Baseline?
        /// Threads a file is read and its nodes checked on: the jobs that files leave idle (one large model, all of them).
        let nodeJobs: Int
    }

    func run() throws {
        guard let reporterType = Reporters.named(format) else {
            throw CommandFailure(description: "--format must be \(Reporters.all.map { $0.identifier }.joined(separator: ", ")), not '\(format)'")
        }
        guard !paths.isEmpty else { throw CommandFailure(description: "no model file or folder given (usage: tensorlint lint PATH...)") }
        if statistics, !reporterType.isForPeople {
            throw CommandFailure(description: "--statistics prints a table for people: it takes --format text or concise, not \(format)")
        }
        if let sourceRoot {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: sourceRoot, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CommandFailure(description: "--source-root \(sourceRoot): no such folder")
            }
        }
        _ = try sourceRootMapping([])
        let jobs = try jobCount()
        let setup = try LintSetup(linterOptions)
        var (items, passedBy) = try FileCollector.collect(paths, isIncluded: setup.includes)
        if forceExclude {
            let kept = try items.filter { item in try item.foundInFolder || !setup.excludes(item.path) }
            if kept.count < items.count { passedBy["excluded by the configuration", default: 0] += items.count - kept.count }
            items = kept
        }
        // Every file's configuration is read here, in order, so that its warnings come out in order.
        let configurations = try items.map { try setup.configuration(forFile: $0.path) }
        if writeBaseline != nil, baseline != nil || linterOptions.selectionOptions.selectors != nil || !linterOptions.selectionOptions.ignored.isEmpty {
            throw CommandFailure(description: "--write-baseline records every finding of every rule: it takes no --baseline, --select or --ignore")
        }
        let baselineFile = try writeBaseline == nil ? setup.baselinePath(baseline).map(Baseline.read) : nil
        let options = Options(fix: fix, unsafeFixes: unsafeFixes, attachReplacements: reporterType.showsByteReplacements,
                              group: !noGroup && writeBaseline == nil, baseline: baselineFile,
                              nodeJobs: max(1, jobs / max(1, items.count)))
        let outcomes = Array(zip(items, configurations)).parallelMap(jobs: jobs) { item, configuration in
            Self.lint(item, configuration: configuration, setup: setup, options: options)
        }
        // What each file says goes out in the files' order, whichever thread finished first.
        let reportSaysAll = output == nil && (reporterType.isForPeople || statistics)
        var results: [LintReport.FileResult] = []
        var skipped: [String: Int] = [:]
        var warned: Set<String> = []
        // Each model the run checked (relative to the baseline), with the rules that ran on it.
        var checked: [String: Set<String>] = [:]
        for outcome in outcomes {
            if let failure = outcome.failure { throw failure }
            if let warning = outcome.settingsWarning, !quiet, warned.insert(warning).inserted { warn(warning) }
            outcome.lines.forEach(warn)
            if let readError = outcome.readError, !reportSaysAll { warn(readError) }
            if let result = outcome.result {
                results.append(result)
                if let baselineFile, result.error == nil { checked[baselineFile.relative(result.path), default: []].formUnion(outcome.ranRules) }
            }
            if let reason = outcome.skipped { skipped[reason, default: 0] += 1 }
        }
        if let writeBaseline {
            let count = try Baseline.write(results, to: writeBaseline)
            warn("\(writeBaseline): \(count) finding\(count == 1 ? "" : "s") written to the baseline")
            if results.contains(where: { $0.error != nil }) { throw ExitCode(ExitStatus.failure) }
            return
        }
        if let stale = baselineFile?.stale(checked: checked), !stale.isEmpty, !quiet {
            let shown = stale.prefix(3).map { "\($0.rule) on \($0.path)\($0.node.map { " \($0)" } ?? "")" }.joined(separator: "; ")
            warn("\(baselineFile!.path): warning: \(stale.count) baseline entr\(stale.count == 1 ? "y matches" : "ies match") no finding any more (fixed, or changed): \(shown)\(stale.count > 3 ? "; …" : ""); write the baseline again to drop \(stale.count == 1 ? "it" : "them")")
        }
        let nothingLinted = results.isEmpty ? nothingLintedWarning(passedBy: skipped.merging(passedBy, uniquingKeysWith: +)) : nil
        if let nothingLinted, !quiet { warn(nothingLinted) }
        let run = try setup.runSettings(files: results)
        let workingDirectory = FileManager.default.currentDirectoryPath
        // The repository the working directory is in, else the one the models are in.
        let repository = LintReport.repositoryRoot(containing: workingDirectory)
            ?? items.first.flatMap { LintReport.repositoryRoot(containing: URL(fileURLWithPath: $0.path).deletingLastPathComponent().path) }
        var report = LintReport(files: results, rules: setup.rules, settings: run.settings, knowledgeVersion: run.knowledgeVersion,
                                toolVersion: toolVersion, workingDirectory: workingDirectory,
                                sourceRoot: sourceRoot ?? repository ?? workingDirectory,
                                category: category.flatMap { $0.isEmpty ? nil : $0 }
                                    ?? "tensorlint/" + (linterOptions.targetOptions.target.map { "\($0)/" } ?? ""))
        report.warnings = nothingLinted.map { [$0] } ?? []
        report.sourceRootMap = try sourceRootMapping(setup.sourceRoots())
        report.quiet = quiet
        report.jobs = jobs
        report.color = output == nil && !noColor && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) != false
            && isatty(STDOUT_FILENO) == 1
        let text = statistics ? Statistics.render(report) : reporterType.init().render(report)
        if let output {
            try Self.writeReport(text, to: output)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        // A report in a file leaves the CI log with no word of what was found: the summary says it.
        if output != nil, !quiet { warn(report.summary) }
        if report.unreadableCount > 0 { throw ExitCode(ExitStatus.failure) }
        if report.count(.error) > 0, !exitZero { throw ExitCode(ExitStatus.findings) }
    }

    /// `--source-root-map` (first) and the configuration's `source_roots:`, each an OLD=NEW prefix pair.
    private func sourceRootMapping(_ configured: [(from: String, to: String)]) throws -> [(from: String, to: String)] {
        let given = try sourceRootMap.map { pair -> (from: String, to: String) in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw CommandFailure(description: "--source-root-map must be OLD=NEW, not '\(pair)'") }
            return (parts[0], URL(fileURLWithPath: parts[1]).standardizedFileURL.path)
        }
        return given + configured
    }

    /// The report into a file, replaced atomically; into a device, FIFO or terminal (`/dev/stdout`, a pipe)
    /// written through, never replaced by a regular file.
    static func writeReport(_ text: String, to output: String) throws {
        var status = stat()
        if stat(output, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            guard status.st_mode & S_IFMT != S_IFDIR else { throw CommandFailure(description: "\(output): is a folder, not a report file") }
            guard let handle = FileHandle(forWritingAtPath: output) else { throw CommandFailure(description: "\(output): cannot write the report") }
            defer { try? handle.close() }
            handle.write(Data(text.utf8))
            return
        }
        do {
            try text.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            throw CommandFailure(description: "\(output): cannot write the report: \(error.localizedDescription)")
        }
    }

    /// Nothing checked is never a silent pass: what was passed by, and why.
    private func nothingLintedWarning(passedBy: [String: Int]) -> String {
        let reasons = passedBy.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        let total = passedBy.values.reduce(0, +)
        let detail = total == 0 ? "no file found" : "\(total) passed by: \(reasons.joined(separator: ", "))"
        return "tensorlint: warning: no model found in \(paths.joined(separator: ", ")) (\(detail))"
    }

    private func jobCount() throws -> Int {
        guard let jobs else { return ProcessInfo.processInfo.activeProcessorCount }
        guard jobs >= 1 else { throw CommandFailure(description: "--jobs must be at least 1, not \(jobs)") }
        return jobs
    }

    private static func lint(_ item: FileCollector.Item, configuration: Configuration, setup: LintSetup, options: Options) -> Outcome {
        var outcome = Outcome()
        do throws(ReadError) {
            var model: Model
            switch try ModelLoader.load(item, threads: options.nodeJobs) {
            case .model(let read): model = read
            case .skipped(let reason):
                outcome.skipped = reason
                return outcome
            }
            let checker: LintSetup.Checker
            switch setup.checker(configuration, format: model.format, pathBlock: setup.pathBlock(configuration, file: item.path)) {
            case .success(let found): checker = found
            case .failure(let failure):
                outcome.failure = failure
                return outcome
            }
            outcome.settingsWarning = checker.warning
            outcome.ranRules = Set(checker.linter.rules.map(\.id))
            // What the configuration or the baseline accepts is neither fixed nor counted.
            let accepted = { (finding: Finding) -> Bool in
                setup.suppression(of: finding, configuration: configuration, file: item.path) != nil
                    || options.baseline?.holds(finding, modelPath: item.path) == true
            }
            // A model that cannot be fixed is still linted; why it was not fixed is said once.
            if options.fix {
                do {
                    if let fixed = try ModelFixer.fixInPlace(model, linter: checker.linter, settings: checker.settings,
                                                             allowUnsafe: options.unsafeFixes, isAccepted: accepted) {
                        outcome.lines.append("\(item.path): fixed (\(fixed.joined(separator: "; ")))")
                        model = try ModelLoader.load(path: item.path, threads: options.nodeJobs)
                    }
                } catch let error as ReadError {
                    throw error
                } catch {
                    outcome.lines.append("tensorlint: not fixed: \(error)")
                }
            }
            var findings = checker.linter.lint(model, settings: checker.settings, jobs: options.nodeJobs)
            for index in findings.indices {
                findings[index].suppression = setup.suppression(of: findings[index], configuration: configuration, file: item.path)
            }
            options.baseline?.suppress(&findings, modelPath: item.path)
            var suppressed = findings.filter { $0.suppression != nil }
            findings.removeAll { $0.suppression != nil }
            if options.group {
                findings = findings.groupedByCause()
                suppressed = suppressed.groupedByCause()
            }
            // After grouping: a group's fix is every node's edits, written as one change of the file.
            if options.attachReplacements { ModelFixer.attachReplacements(&findings, model: model, path: item.path) }
            var result = LintReport.FileResult(path: item.path, format: model.format, layout: model.layout, findings: findings, error: nil,
                                               settings: checker.settings, knowledgeVersion: checker.knowledgeVersion)
            result.suppressed = suppressed
            outcome.result = result
            letGo(consume model, threads: options.nodeJobs)
        } catch {
            outcome.readError = "\(item.path): \(error)"
            outcome.result = .init(path: item.path, format: nil, layout: nil, findings: [], error: error.description)
        }
        return outcome
    }
}
