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
        let files: [[String: Any]] = report.files.map { file in
            var entry: [String: Any] = ["path": report.relative(file.path),
                                        "findings": file.findings.map { finding(report, $0) }]
            if !file.suppressed.isEmpty { entry["suppressed"] = file.suppressed.map { finding(report, $0) } }
            if let format = file.format { entry["format"] = format.rawValue }
            if let layout = file.layout { entry["layout"] = layout }
            if let error = file.error { entry["error"] = error }
            if let settings = file.settings { entry["settings"] = Self.settings(settings, knowledgeVersion: file.knowledgeVersion) }
            return entry
        }
        let document: [String: Any] = [
            "format_version": Self.formatVersion,
            "tool": ["name": "tensorlint", "version": report.toolVersion],
            "settings": Self.settings(report.settings, knowledgeVersion: report.knowledgeVersion),
            "files": files,
            "summary": [
                "files": report.files.count,
                "errors": report.count(.error),
                "warnings": report.count(.warning),
                "notes": report.count(.note),
                "unreadable": report.files.filter { $0.error != nil }.count,
                "suppressed": report.suppressedCount,
            ],
        ]
        return serialize(document)
    }

    private static func settings(_ settings: Settings, knowledgeVersion: Version?) -> [String: Any] {
        var entry: [String: Any] = [
            "target": settings.target,
            "converter_version": settings.converterVersion.description,
            "minimum_deployment_target": settings.deploymentTarget.name,
            "compute_precision": settings.computePrecision.rawValue,
            "input_dtype": settings.inputDType.rawValue,
        ]
        if let knowledgeVersion { entry["knowledge_version"] = knowledgeVersion.description }
        return entry
    }

    private func finding(_ report: LintReport, _ finding: Finding) -> [String: Any] {
        var entry: [String: Any] = [
            "rule": finding.ruleId,
            "severity": finding.severity.rawValue,
            "headline": finding.headline,
            "message": finding.message,
            "fix": ["suggestion": finding.fix, "applicability": finding.fixApplicability.rawValue,
                    "automatic": finding.automaticFix as Any? ?? NSNull()],
        ]
        func node(_ finding: Finding) -> [String: Any]? {
            finding.node.map { node in
                ["graph": finding.graph ?? "main", "name": node, "op": finding.op ?? "",
                 "module": finding.source?.modulePath as Any? ?? NSNull(),
                 "module_type": finding.source?.moduleType as Any? ?? NSNull()]
            }
        }
        if let node = node(finding) { entry["node"] = node }
        // A finding grouped by cause: every node that has it, the first one included.
        if !finding.others.isEmpty {
            entry["nodes"] = finding.occurrences.compactMap(node)
            entry["count"] = finding.occurrences.count
        }
        if let suppression = finding.suppression {
            entry["suppression"] = ["kind": suppression.kind.rawValue, "justification": suppression.justification]
        }
        if let frame = finding.source?.userFrame {
            entry["source"] = ["file": frame.file, "line": frame.line, "code": frame.code as Any? ?? NSNull()]
        }
        return entry
    }
}

/// The report's bytes: JSONSerialization's pretty, sorted layout (the golden files'), written by `JSONWriter`.
public func serialize(_ object: Any) -> String {
    guard let text = try? JSONWriter.pretty(object) else { return "{}" }
    return text + "\n"
}
