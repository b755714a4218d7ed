import Foundation
import TensorlintEngine
import TensorlintIR
import TensorlintJSON

/// Machine-readable findings. Format version 1 (README, "Output formats"); fields are only ever added.
public struct JSONReporter: Reporter {
    public static let identifier = "json"
    public static let formatVersion = 1
    public static let description = "machine-readable findings (format version 1)"

    public init() {}

    public func render(_ report: LintReport) -> String {
        let files: [JSONValue] = report.files.map { file in
            var entry: [String: JSONValue] = ["path": .string(report.relative(file.path)),
                                              "findings": .array(file.findings.map { finding(report, $0) })]
            if !file.suppressed.isEmpty { entry["suppressed"] = .array(file.suppressed.map { finding(report, $0) }) }
            if let format = file.format { entry["format"] = .string(format.rawValue) }
            if let layout = file.layout { entry["layout"] = .string(layout) }
            if let error = file.error { entry["error"] = .string(error) }
            if let settings = file.settings { entry["settings"] = Self.settings(settings, knowledgeVersion: file.knowledgeVersion) }
            return .object(entry)
        }
        let document: JSONValue = [
            "format_version": .int(Self.formatVersion),
            "tool": ["name": "tensorlint", "version": .string(report.toolVersion)],
            "settings": Self.settings(report.settings, knowledgeVersion: report.knowledgeVersion),
            "files": .array(files),
            "summary": [
                "files": .int(report.files.count),
                "errors": .int(report.count(.error)),
                "warnings": .int(report.count(.warning)),
                "notes": .int(report.count(.note)),
                "unreadable": .int(report.unreadableCount),
                "suppressed": .int(report.suppressedCount),
            ],
        ]
        return serialize(document)
    }

    private static func settings(_ settings: Settings, knowledgeVersion: Version?) -> JSONValue {
        var entry: [String: JSONValue] = [
            "target": .string(settings.target),
            "converter_version": .string(settings.converterVersion.description),
            "minimum_deployment_target": .string(settings.deploymentTarget.name),
            "compute_precision": .string(settings.computePrecision.rawValue),
            "input_dtype": .string(settings.inputDType.rawValue),
        ]
        if let knowledgeVersion { entry["knowledge_version"] = .string(knowledgeVersion.description) }
        return .object(entry)
    }

    private func finding(_ report: LintReport, _ finding: Finding) -> JSONValue {
        var entry: [String: JSONValue] = [
            "rule": .string(finding.ruleId),
            "severity": .string(finding.severity.rawValue),
            "headline": .string(finding.headline),
            "message": .string(finding.message),
            "fix": ["suggestion": .string(finding.fix), "applicability": .string(finding.fixApplicability.rawValue),
                    "automatic": JSONValue(finding.automaticFix)],
        ]
        func node(_ finding: Finding) -> JSONValue? {
            finding.node.map { node in
                ["graph": .string(finding.graph ?? "main"), "name": .string(node), "op": .string(finding.op ?? ""),
                 "module": JSONValue(finding.source?.modulePath), "module_type": JSONValue(finding.source?.moduleType)]
            }
        }
        if let node = node(finding) { entry["node"] = node }
        // A finding grouped by cause: every node that has it, the first one included.
        if !finding.others.isEmpty {
            entry["nodes"] = .array(finding.occurrences.compactMap(node))
            entry["count"] = .int(finding.occurrences.count)
        }
        if let suppression = finding.suppression {
            entry["suppression"] = ["kind": .string(suppression.kind.rawValue), "justification": .string(suppression.justification)]
        }
        if let frame = finding.source?.userFrame {
            entry["source"] = ["file": .string(frame.file), "line": .int(frame.line), "code": JSONValue(frame.code)]
        }
        return .object(entry)
    }
}

/// The report's bytes: JSONSerialization's pretty, sorted layout (the golden files'), written by `JSONWriter`.
public func serialize(_ document: JSONValue) -> String {
    JSONWriter.pretty(document) + "\n"
}
