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
        var results: [LintReport.FileResult] = []
        for item in items {
            do throws(ReadError) {
                var model = try ModelLoader.load(item)
                // A model that cannot be fixed is still linted; why it was not fixed is said once.
                if fix {
                    do {
                        if let fixed = try ModelFixer.fixInPlace(model, linter: linter, settings: settings, allowUnsafe: unsafeFixes) {
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
                if reporterType.showsByteReplacements { ModelFixer.attachReplacements(&findings, model: model, path: item.path) }
                results.append(.init(path: item.path, format: model.format, layout: model.layout, findings: findings, error: nil))
            } catch {
                warn("\(item.path): \(error)")
                results.append(.init(path: item.path, format: nil, layout: nil, findings: [], error: error.description))
            }
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
}
