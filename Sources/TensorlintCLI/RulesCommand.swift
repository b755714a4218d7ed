import ArgumentParser
import Foundation
import TensorlintEngine

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rules", abstract: "List the rules: id, severity, default, fix, summary.")

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
        print(Self.table(rules, active: Set(configuration.select(from: rules).map(\.id))))
    }

    /// One line per rule: id, severity, default, whether the configuration runs it, fix applicability, summary.
    static func table(_ rules: [Rule], active: Set<String>) -> String {
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
        return lines.joined(separator: "\n")
    }
}
