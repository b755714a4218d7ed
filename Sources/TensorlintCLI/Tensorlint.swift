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

func warn(_ line: String) {
    if let collector = StandardError.collector { return collector(line) }
    FileHandle.standardError.write(Data((line + "\n").utf8))
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
