import ArgumentParser
import Foundation
import TensorlintEngine

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Explain a rule: what it checks, why, how to fix, references.")

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
