import ArgumentParser
import Foundation
import TensorlintEngine
import TensorlintIR
import TensorlintReporters

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Lint model files or folders (folders are walked; models are recognised by content).")

    @ArgumentParser.Argument(help: "Model files or folders.")
    var paths: [String] = []

    @Option(help: "Output format: \(Reporters.all.map { $0.identifier }.joined(separator: ", ")).")
    var format: String = Reporters.all[0].identifier

    @Option(name: [.short, .customLong("output")], help: "Write the report to this file instead of standard output.")
    var output: String?

    @Flag(help: "Apply safe automatic fixes to the models in place first, then report what is left.")
    var fix = false

    @Flag(name: .customLong("unsafe-fixes"), help: "With --fix, also apply unsafe fixes.")
    var unsafeFixes = false

    @Option(name: [.short, .customLong("jobs")], help: "Files linted at once (default: the number of cores).")
    var jobs: Int?

    @OptionGroup var linterOptions: LinterOptions

    func run() throws {
        guard let reporterType = Reporters.named(format) else {
            throw CommandFailure(description: "--format must be \(Reporters.all.map { $0.identifier }.joined(separator: ", ")), not '\(format)'")
        }
        guard !paths.isEmpty else { throw CommandFailure(description: "no model file or folder given (usage: tensorlint lint PATH...)") }
        let (configuration, settings, rules, linter) = try linterOptions.prepare()
        let base = configuration.path.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
            ?? FileManager.default.currentDirectoryPath
        let items = FileCollector.collect(paths, isIncluded: configuration.includes(relativePath:), relativeTo: base)
        let (fix, unsafeFixes, showsByteReplacements) = (fix, unsafeFixes, reporterType.showsByteReplacements)
        let outcomes = items.parallelMap(jobs: try jobCount()) { item in
            Self.lint(item, linter: linter, settings: settings, fix: fix, unsafeFixes: unsafeFixes,
                      attachReplacements: showsByteReplacements)
        }
        // What each file says goes out in the files' order, whichever thread finished first.
        var results: [LintReport.FileResult] = []
        for outcome in outcomes {
            outcome.lines.forEach(warn)
            if let result = outcome.result { results.append(result) }
        }
        let report = LintReport(files: results, rules: rules, settings: settings,
                                knowledgeVersion: linter.knowledgeVersion(for: settings), toolVersion: toolVersion,
                                workingDirectory: FileManager.default.currentDirectoryPath)
        let text = reporterType.init().render(report)
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

    private func jobCount() throws -> Int {
        guard let jobs else { return ProcessInfo.processInfo.activeProcessorCount }
        guard jobs >= 1 else { throw CommandFailure(description: "--jobs must be at least 1, not \(jobs)") }
        return jobs
    }

    /// One file's result (none for a file in a folder that no format recognises) and the lines it has for
    /// standard error.
    private static func lint(_ item: FileCollector.Item, linter: Linter, settings: Settings, fix: Bool, unsafeFixes: Bool,
                             attachReplacements: Bool) -> (result: LintReport.FileResult?, lines: [String]) {
        var lines: [String] = []
        do throws(ReadError) {
            guard var model = try ModelLoader.load(item) else { return (nil, []) }
            // A model that cannot be fixed is still linted; why it was not fixed is said once.
            if fix {
                do {
                    if let fixed = try ModelFixer.fixInPlace(model, linter: linter, settings: settings, allowUnsafe: unsafeFixes) {
                        lines.append("\(item.path): fixed (\(fixed.joined(separator: "; ")))")
                        model = try ModelLoader.load(path: item.path)
                    }
                } catch let error as ReadError {
                    throw error
                } catch {
                    lines.append("tensorlint: not fixed: \(error)")
                }
            }
            var findings = linter.lint(model, settings: settings)
            if attachReplacements { ModelFixer.attachReplacements(&findings, model: model, path: item.path) }
            return (.init(path: item.path, format: model.format, layout: model.layout, findings: findings, error: nil), lines)
        } catch {
            lines.append("\(item.path): \(error)")
            return (.init(path: item.path, format: nil, layout: nil, findings: [], error: error.description), lines)
        }
    }
}
