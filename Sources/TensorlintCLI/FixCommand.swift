import ArgumentParser
import Foundation
import TensorlintEngine
import TensorlintIR

struct FixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fix",
        abstract: "Repair a model: apply the automatic fixes of its findings (safe ones; unsafe ones with --unsafe-fixes).",
        discussion: "Exit status: 0 a fix was applied (or would be, with --dry-run), 1 no fix applies, 2 errors.")

    @ArgumentParser.Argument(help: "The model file.")
    var path: String

    @Option(name: [.short, .customLong("output")], help: "Write the fixed model here.")
    var output: String?

    @Flag(name: .customLong("in-place"), help: "Replace the model (a temporary file renamed over it).")
    var inPlace = false

    @Flag(name: .customLong("dry-run"), help: "Say what would change; write nothing.")
    var dryRun = false

    @Flag(name: .customLong("unsafe-fixes"), help: "Also apply fixes that may change numerics or structure.")
    var unsafeFixes = false

    @OptionGroup var linterOptions: LinterOptions

    func run() throws {
        guard [output != nil, inPlace, dryRun].filter({ $0 }).count == 1 else {
            throw CommandFailure(description: "fix needs exactly one of --output FILE, --in-place or --dry-run")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CommandFailure(description: "\(path): \(FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file")")
        }
        if inPlace, access(path, W_OK) != 0 { throw CommandFailure(description: "\(path): the file is read-only") }
        if let output { try Self.checkDestination(output, source: path) }
        // The format decides the converter (unless configured), as in `lint`.
        let setup = try LintSetup(linterOptions)
        // Read once: its format picks the checker, and the fixer starts from it.
        let model: Model
        do throws(ReadError) { model = try ModelLoader.load(path: path) } catch {
            throw CommandFailure(description: "\(path): \(error)")
        }
        let configuration = try setup.configuration(forFile: path)
        let checker = try setup.checker(configuration, format: model.format, pathBlock: setup.pathBlock(configuration, file: path)).get()
        if let warning = checker.warning { warn(warning) }
        let (settings, linter) = (checker.settings, checker.linter)
        let destination = inPlace ? path : output
        // A dry run works in a private folder of its own, removed afterwards.
        var template = Array((NSTemporaryDirectory() + "/tensorlint-dry-run-XXXXXX").utf8CString)
        let scratch = destination == nil ? mkdtemp(&template).map { String(cString: $0) } : nil
        if destination == nil, scratch == nil { throw CommandFailure(description: "cannot create a temporary folder for the dry run") }
        defer { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        let folder = try scratch ?? ModelFixer.writableFolder(of: destination!)
        // What the configuration accepts (`ignore:`, `per_file_ignores:`) is left as it is.
        let outcome = try ModelFixer.fix(path: path, in: folder, linter: linter, settings: settings, allowUnsafe: unsafeFixes,
                                         loaded: model) { finding in
            setup.suppression(of: finding, configuration: configuration, file: path) != nil
        }
        report(outcome, dryRun: dryRun)
        guard let fixed = outcome.fixedFile, let destination, !dryRun else {
            outcome.discard()
            throw ExitCode(outcome.fixedFile == nil ? ExitStatus.findings : ExitStatus.clean)
        }
        do {
            try ModelFixer.move(fixed, to: destination, modeOf: path)
        } catch {
            outcome.discard()
            throw error
        }
        for file in outcome.providedFiles { print("  external data: \(file)") }
    }

    /// A fixed model is written to a new regular file, or over one that is not the model itself: the
    /// original is replaced only with --in-place (whatever spelling or link names it), and a device, FIFO or
    /// link is never replaced by a regular file.
    static func checkDestination(_ output: String, source: String) throws {
        var destination = stat()
        guard lstat(output, &destination) == 0 else { return }
        switch destination.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: throw CommandFailure(description: "\(output): a symbolic link; the fixed model goes to a file of its own (or the original, with --in-place)")
        default: throw CommandFailure(description: "\(output): not a regular file; the fixed model goes to a file")
        }
        var original = stat()
        if stat(source, &original) == 0, original.st_dev == destination.st_dev, original.st_ino == destination.st_ino {
            throw CommandFailure(description: "\(output): is the model itself; use --in-place to replace it")
        }
    }

    private func report(_ outcome: ModelFixer.Outcome, dryRun: Bool) {
        if let refusal = outcome.refusal {
            warn("\(path): \(refusal)")
            return
        }
        guard !outcome.changes.isEmpty else {
            let fixable = outcome.remaining.filter { !$0.edits.isEmpty && $0.fixApplicability == .unsafe }
            warn("\(path): no fix applies" + (fixable.isEmpty ? "" : " (\(fixable.count) unsafe fix\(fixable.count == 1 ? "" : "es") available with --unsafe-fixes)"))
            return
        }
        let verb = dryRun ? "would apply" : "applied"
        var lines = ["\(path): \(verb) fixes:"]
        lines += outcome.changes.map { "  \($0)" }
        if let fixed = outcome.fixedFile, let size = try? FileManager.default.attributesOfItem(atPath: fixed)[.size] as? Int {
            lines.append("  fixed model: \(size) bytes")
        }
        let errors = outcome.remaining.filter { $0.severity == .error }
        lines.append(errors.isEmpty ? "  no error left" : "  \(errors.count) error\(errors.count == 1 ? "" : "s") left:")
        lines += errors.map { "    [\($0.ruleId)] \($0.node.map { "node `\($0)`: " } ?? "")\($0.fix)" }
        print(lines.joined(separator: "\n"))
    }
}
