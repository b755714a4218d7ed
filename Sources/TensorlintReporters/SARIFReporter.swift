import Foundation
import TensorlintEngine
import TensorlintIR

/// SARIF 2.1.0 for GitHub code scanning and CI dashboards.
public struct SARIFReporter: Reporter {
    public static let identifier = "sarif"
    public static let showsByteReplacements = true
    public static let informationUri = "https://github.com/tensorlint/tensorlint"

    public init() {}

    public func render(_ report: LintReport) -> String {
        let ruleIndex = Dictionary(uniqueKeysWithValues: report.rules.enumerated().map { ($1.id, $0) })
        var results: [[String: Any]] = []
        var notifications: [[String: Any]] = []
        // Paths are resolved once per model file and per Python source file, not per finding.
        var sources = SourceLocations(report: report)
        for file in report.files {
            let model = ModelLocation(relative: report.relative(file.path))
            if let error = file.error {
                notifications.append([
                    "level": "error",
                    "message": ["text": "\(model.relative): \(error)"],
                    "locations": [["physicalLocation": ["artifactLocation": model.artifact]]],
                ])
            }
            for finding in file.findings {
                results.append(result(finding, in: model, sources: &sources, ruleIndex: ruleIndex[finding.ruleId]))
            }
        }
        let run: [String: Any] = [
            "tool": ["driver": [
                "name": "tensorlint",
                "semanticVersion": report.toolVersion,
                "informationUri": Self.informationUri,
                "rules": report.rules.map(descriptor),
            ]],
            "invocations": [[
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            ]],
            "originalUriBaseIds": ["SRCROOT": ["uri": URL(fileURLWithPath: report.workingDirectory, isDirectory: true).absoluteString]],
            "results": results,
            "columnKind": "unicodeCodePoints",
        ]
        return serialize([
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [run],
        ])
    }

    private func descriptor(_ rule: Rule) -> [String: Any] {
        var markdown = "\(rule.description)\n\n**Fix:** \(rule.documented(rule.fix.suggestion, markdown: true))"
        if !rule.references.isEmpty {
            markdown += "\n\n**References:**\n" + rule.references.map { "- <\($0)>" }.joined(separator: "\n")
        }
        var descriptor: [String: Any] = [
            "id": rule.id,
            "name": rule.name.split(separator: " ").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
                .filter { $0.isLetter || $0.isNumber },
            "shortDescription": ["text": rule.summary],
            "fullDescription": ["text": rule.description],
            "help": ["text": "\(rule.description)\nFix: \(rule.documented(rule.fix.suggestion, markdown: false))", "markdown": markdown],
            "defaultConfiguration": ["level": level(rule.severity), "enabled": rule.enabledByDefault],
            "properties": ["tags": [rule.targets.sorted(), rule.formats.map(\.rawValue).sorted()].flatMap { $0 },
                           "fixApplicability": rule.fix.applicability.rawValue],
        ]
        if let url = rule.references.first { descriptor["helpUri"] = url }
        return descriptor
    }

    private func result(_ finding: Finding, in model: ModelLocation, sources: inout SourceLocations, ruleIndex: Int?) -> [String: Any] {
        var location: [String: Any] = ["physicalLocation": sources.location(of: finding) ?? ["artifactLocation": model.artifact]]
        if let nodePath = finding.nodePath {
            location["logicalLocations"] = [[
                "name": finding.node ?? nodePath,
                "fullyQualifiedName": nodePath,
                "kind": "function",
            ]]
        }
        let nodeText = finding.nodePath.map { " (node \($0))" } ?? ""
        var result: [String: Any] = [
            "ruleId": finding.ruleId,
            "level": level(finding.severity),
            "message": ["text": finding.message + nodeText + "\nFix: " + finding.fix],
            "locations": [location],
            "partialFingerprints": ["tensorlintFinding/v1": fingerprint(model.relative, finding)],
            "properties": ["fix": finding.fix, "fixApplicability": finding.fixApplicability.rawValue],
        ]
        if let ruleIndex { result["ruleIndex"] = ruleIndex }
        if let replacements = finding.replacements, !replacements.isEmpty {
            result["fixes"] = [[
                "description": ["text": finding.fix],
                "artifactChanges": [[
                    "artifactLocation": model.artifact,
                    "replacements": replacements.map { replacement in
                        ["deletedRegion": ["byteOffset": replacement.offset, "byteLength": replacement.length],
                         "insertedContent": ["binary": Data(replacement.inserted).base64EncodedString()]]
                    },
                ]],
            ]]
        }
        return result
    }

    /// A model file: its path relative to the working directory, and its SARIF artifact location.
    private struct ModelLocation {
        let relative: String
        var artifact: [String: Any] {
            if relative.hasPrefix("/") { return ["uri": URL(fileURLWithPath: relative).absoluteString] }
            return ["uri": relative.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? relative, "uriBaseId": "SRCROOT"]
        }
    }

    /// The Python line from the stack trace when that file exists under the working directory (code scanning
    /// shows it in the diff); `nil` (the model file itself, with no region) otherwise. Each file is looked up once.
    private struct SourceLocations {
        let report: LintReport
        private var existing: [String: String?] = [:]

        init(report: LintReport) {
            self.report = report
        }

        mutating func location(of finding: Finding) -> [String: Any]? {
            guard let frame = finding.source?.userFrame, frame.line > 0 else { return nil }
            if existing[frame.file] == nil {
                let relative = report.relative(frame.file)
                let exists = !relative.hasPrefix("/") && FileManager.default.fileExists(atPath: report.workingDirectory + "/" + relative)
                existing[frame.file] = .some(exists ? relative : nil)
            }
            guard let relative = existing[frame.file] ?? nil else { return nil }
            return ["artifactLocation": ["uri": relative, "uriBaseId": "SRCROOT"], "region": ["startLine": frame.line]]
        }
    }

    private func level(_ severity: Severity) -> String {
        switch severity {
        case .error: return "error"
        case .warning: return "warning"
        case .note: return "note"
        }
    }

    /// FNV-1a over rule, file and node: stable across runs and machines, so code scanning tracks a finding.
    private func fingerprint(_ file: String, _ finding: Finding) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(finding.ruleId)|\(file)|\(finding.nodePath ?? "")".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
