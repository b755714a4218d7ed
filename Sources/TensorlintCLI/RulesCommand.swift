import ArgumentParser
import Foundation
import TensorlintEngine
import TensorlintJSON
import TensorlintReporters

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rules", abstract: "List the rules: id, severity, default, fix, summary.")

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .customLong("write-docs"), help: "Write one Markdown page per rule, and an index, into this folder (docs/rules).")
    var docsDirectory: String?

    @Option(help: "Output format: text or json.")
    var format: String = "text"

    @Option(help: "Only the rules of this converter or runtime: \(Registry.vocabulary.targets.joined(separator: " or ")).")
    var target: String?

    func run() throws {
        if let docsDirectory {
            let rules = try configOptions.allRules(try configOptions.load())
            do {
                try RuleDocumentation.write(rules, to: docsDirectory)
            } catch {
                throw CommandFailure(description: "\(docsDirectory): cannot write the rule pages: \(error.localizedDescription)")
            }
            return
        }
        print(try render(), terminator: "")
    }

    /// The table or the JSON list of the rules asked for.
    func render() throws -> String {
        let configuration = try configOptions.load()
        let rules = try configOptions.allRules(configuration)
        if let target, !Registry.vocabulary.targets.contains(target) {
            throw CommandFailure(description: "--target must be \(Registry.vocabulary.targets.joined(separator: " or ")), not '\(target)'")
        }
        let shown = rules.filter { rule in target.map { rule.targets.contains($0) } ?? true }
        let active = Set(configuration.select(from: rules).map(\.id))
        switch format {
        case "text": return Self.table(shown, active: active) + "\n"
        case "json": return Self.json(shown, active: active)
        default: throw CommandFailure(description: "--format must be text or json, not '\(format)'")
        }
    }

    /// The same columns, and the rule's name, targets, formats and description, as a JSON array.
    static func json(_ rules: [Rule], active: Set<String>) -> String {
        serialize(.array(rules.map { rule in
            ["id": .string(rule.id), "name": .string(rule.name), "severity": .string(rule.severity.rawValue),
             "enabled_by_default": .bool(rule.enabledByDefault), "active": .bool(active.contains(rule.id)),
             "summary": .string(rule.summary), "description": .string(rule.description),
             "targets": JSONValue(rule.targets.sorted()), "formats": JSONValue(rule.formats.map(\.rawValue).sorted()),
             "converter_versions": .string(rule.converterVersions.description),
             "fix": ["applicability": .string(rule.fix.applicability.rawValue), "automatic": .bool(!rule.fix.automatic.isEmpty)]]
        }))
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
