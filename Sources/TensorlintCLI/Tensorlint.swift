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
        subcommands: [LintCommand.self, FixCommand.self, RulesCommand.self, ExplainCommand.self],
        defaultSubcommand: LintCommand.self
    )

    public init() {}
}

/// Where the lines for standard error go: the process's, unless a caller (a test running commands in
/// parallel) collects them for its own task.
public enum StandardError {
    @TaskLocal public static var collector: (@Sendable (String) -> Void)?
}

/// One line for standard error; what a model put in it (file and node names, reasons) is escaped there.
func warn(_ line: String) {
    let line = TerminalText.safe(line)
    if let collector = StandardError.collector { return collector(line) }
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// `lint` is the default command, so a mistyped command would be taken for a model path: a first word that
/// is neither a command nor an existing file is an unknown command, with the closest one.
func unknownCommand(_ arguments: [String]) -> CommandFailure? {
    guard let word = arguments.first, !word.hasPrefix("-"), !word.contains("/"), !word.contains("."),
          !FileManager.default.fileExists(atPath: word) else { return nil }
    let commands = Tensorlint.configuration.subcommands.map { $0.configuration.commandName ?? "" }
    guard !commands.contains(word), word != "help" else { return nil }
    let flags = ["version": "--version", "help": "--help"]
    let closest = flags[word] ?? closestWord(to: word, among: commands)
    return CommandFailure(description: "unknown command '\(word)' (no file of that name either)"
        + (closest.map { "; did you mean `tensorlint \($0)`?" } ?? "; commands: \(commands.joined(separator: ", "))"))
}


/// Flags that rewrite models: never offered as the "did you mean" of a mistyped flag.
let modelWritingFlags = ["--fix", "--unsafe-fixes", "--in-place"]

/// ArgumentParser's message, without a suggestion that would rewrite models in place of a read-only flag.
func usageMessage(_ message: String) -> String {
    var message = message
    for flag in modelWritingFlags {
        message = message.replacingOccurrences(of: " Did you mean '\(flag)'?", with: "")
    }
    return message
}

/// Runs the command line and returns the exit status: usage errors are 2, not ArgumentParser's 64.
public func runTensorlint(_ arguments: [String]) -> Int32 {
    exitStatus {
        if let failure = unknownCommand(arguments) { throw failure }
        // Every command reads the built-in rules: they are read on another core while the command line is parsed,
        // which takes as long (`--version` and `--help` read none).
        if !arguments.contains(where: { ["--version", "--help", "-h"].contains($0) }) { BuiltinRules.shared.readInTheBackground() }
        var command = try Tensorlint.parseAsRoot(arguments)
        try command.run()
    }
}

/// A command line parsed once and run many times: the fuzzing harnesses run the same `fix` on every input,
/// where parsing (which reflects on every option) took most of each run.
public struct ParsedCommandLine {
    private let command: any ParsableCommand

    public init(_ arguments: [String]) throws {
        if let failure = unknownCommand(arguments) { throw failure }
        command = try Tensorlint.parseAsRoot(arguments)
    }

    /// The exit status of one run, as `runTensorlint` gives it.
    public func run() -> Int32 {
        exitStatus {
            var command = command
            try command.run()
        }
    }
}

private func exitStatus(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
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
        warn(usageMessage(Tensorlint.fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "tensorlint: \(error)"))
        return ExitStatus.failure
    }
}
