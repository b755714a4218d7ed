import Foundation
import TensorlintEngine
import TensorlintIR

/// SARIF 2.1.0 as GitHub code scanning takes it (`sarif-support-for-code-scanning`): every result has a
/// region, paths are relative to the repository's top folder, descriptions fit GitHub's limits, and each run
/// has a category of its own.
public struct SARIFReporter: Reporter {
    public static let identifier = "sarif"
    public static let description = "SARIF 2.1.0, for GitHub code scanning and other dashboards"
    public static let showsByteReplacements = true
    public static let informationUri = "https://github.com/tensorlint/tensorlint"
    /// GitHub refuses longer `shortDescription` and `fullDescription` texts.
    static let descriptionLimit = 1024

    public init() {}

    public func render(_ report: LintReport) -> String {
        let ruleIndex = Dictionary(report.rules.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        var results: [[String: Any]] = []
        var notifications: [[String: Any]] = []
        // Python source files are looked up once each, not per finding.
        var locations = FindingLocations(report: report)
        var fingerprints = FingerprintIssuer()
        notifications += report.warnings.map { ["level": "warning", "message": ["text": $0]] }
        for file in report.files {
            let model = ModelLocation(path: report.repositoryRelative(file.path))
            if let error = file.error {
                notifications.append([
                    "level": "error",
                    "message": ["text": "\(model.path): \(error)"],
                    "locations": [["physicalLocation": model.physicalLocation]],
                ])
            }
            for finding in file.findings + file.suppressed {
                results.append(result(finding, in: model, locations: &locations, fingerprint: fingerprints.next(finding, model: model.path),
                                      ruleIndex: ruleIndex[finding.ruleId]))
            }
        }
        var run: [String: Any] = [
            "tool": ["driver": [
                "name": "tensorlint",
                "semanticVersion": report.toolVersion,
                "informationUri": Self.informationUri,
                "rules": report.rules.map { descriptor($0, toolVersion: report.toolVersion) },
            ]],
            "invocations": [[
                // Unreadable files were not checked: the run did not do all it was asked.
                "executionSuccessful": report.unreadableCount == 0,
                "toolExecutionNotifications": notifications,
                "workingDirectory": ["uri": Self.folderURI(report.workingDirectory)],
            ]],
            "originalUriBaseIds": ["SRCROOT": ["uri": Self.folderURI(report.sourceRoot)]],
            "results": results,
            "columnKind": "unicodeCodePoints",
        ]
        run["automationDetails"] = ["id": Self.automationID(report)]
        return serialize([
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [run],
        ])
    }

    /// The category (`--category`, else `tensorlint/` and the `--target` given): a coremltools run and an
    /// onnxruntime run of the same repository keep their alerts apart, and a run's category never depends on
    /// which models it happened to read. GitHub takes the text up to the last `/` as the category.
    static func automationID(_ report: LintReport) -> String {
        let category = report.category ?? "tensorlint"
        return category.hasSuffix("/") ? category : category + "/"
    }

    static func folderURI(_ path: String) -> String { URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL.absoluteString }

    /// The page each built-in rule has in `docs/rules`, at the tag of this version.
    static func helpURI(_ rule: Rule, toolVersion: String) -> String? {
        guard rule.origin.hasPrefix("builtin:") else { return nil }
        return "\(informationUri)/blob/v\(toolVersion)/docs/rules/\(rule.id).md"
    }

    private func descriptor(_ rule: Rule, toolVersion: String) -> [String: Any] {
        var markdown = "\(rule.description)\n\n**Fix:** \(rule.documented(rule.fix.suggestion, markdown: true))"
        if !rule.references.isEmpty {
            markdown += "\n\n**References:**\n" + rule.references.map { "- <\($0)>" }.joined(separator: "\n")
        }
        var descriptor: [String: Any] = [
            "id": rule.id,
            "name": rule.name.split(separator: " ").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
                .filter { $0.isLetter || $0.isNumber },
            "shortDescription": ["text": Self.fitted(rule.summary)],
            "fullDescription": ["text": Self.fitted(rule.description)],
            "help": ["text": "\(rule.description)\nFix: \(rule.documented(rule.fix.suggestion, markdown: false))", "markdown": markdown],
            "defaultConfiguration": ["level": level(rule.severity), "enabled": rule.enabledByDefault],
            "properties": [
                "tags": [rule.targets.sorted(), rule.formats.map(\.rawValue).sorted()].flatMap { $0 },
                "fixApplicability": rule.fix.applicability.rawValue,
                // Built-in rules are measured against the real converters' verdicts on the labelled corpora
                // (README, "Accuracy"); a user's rule has no such measure.
                "precision": rule.origin.hasPrefix("builtin:") ? "very-high" : "medium",
                "problem.severity": problemSeverity(rule.severity),
            ],
        ]
        if let url = Self.helpURI(rule, toolVersion: toolVersion) { descriptor["helpUri"] = url }
        return descriptor
    }

    /// At most GitHub's limit: whole sentences when they fit, else cut at a word with an ellipsis.
    static func fitted(_ text: String) -> String {
        guard text.count > descriptionLimit else { return text }
        let head = text.prefix(descriptionLimit - 1)
        if let end = head.range(of: ". ", options: .backwards) { return String(head[..<end.lowerBound]) + "." }
        let cut = head.lastIndex(of: " ") ?? head.endIndex
        return String(head[..<cut]) + "…"
    }

    /// GitHub reads at most this many locations of a result.
    static let locationLimit = 1000

    private func result(_ finding: Finding, in model: ModelLocation, locations: inout FindingLocations, fingerprint: String,
                        ruleIndex: Int?) -> [String: Any] {
        var related: [[String: Any]] = []
        // One location per node with the cause (GitHub shows the first). The Python line that made the node
        // is where a reviewer acts; the model file stays in the result.
        let nodes = finding.occurrences.prefix(Self.locationLimit).map { occurrence -> [String: Any] in
            var location: [String: Any] = ["physicalLocation": model.physicalLocation]
            if let source = locations.sourceLine(of: occurrence), source.usable {
                location["physicalLocation"] = ["artifactLocation": ModelLocation.artifact(source.path), "region": ["startLine": source.line]]
                if related.isEmpty { related.append(["id": 1, "physicalLocation": model.physicalLocation, "message": ["text": "the model file"]]) }
            }
            if let nodePath = occurrence.nodePath {
                location["logicalLocations"] = [[
                    "name": occurrence.node ?? nodePath,
                    "fullyQualifiedName": nodePath,
                    "kind": "function",
                ]]
            }
            return location
        }
        let nodeText = finding.nodePath.map { " (node \($0)\(finding.moreNodes))" } ?? ""
        var result: [String: Any] = [
            "ruleId": finding.ruleId,
            "level": level(finding.severity),
            // The first line is what code scanning lists; the message with the converter's words follows.
            "message": ["text": finding.headline + nodeText + (finding.message == finding.headline ? "" : "\n" + finding.message)
                + "\nFix: " + finding.fix],
            "locations": nodes,
            // Given here, code scanning keeps this identity (rule, model, node) instead of hashing line 1 of a binary file.
            "partialFingerprints": ["primaryLocationLineHash": fingerprint + ":1", "tensorlintFinding/v1": fingerprint],
            "properties": ["fix": finding.fix, "fixApplicability": finding.fixApplicability.rawValue],
        ]
        if !related.isEmpty { result["relatedLocations"] = related }
        if let ruleIndex { result["ruleIndex"] = ruleIndex }
        if let suppression = finding.suppression {
            result["suppressions"] = [["kind": "external", "status": "accepted", "justification": suppression.justification]]
        }
        // One fix for the cause: the writer computed it for every node's edits at once.
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

    /// A model file, by its path relative to the source root. Code scanning needs a region to show and track a
    /// result; a model is binary, so the region is its first line: the file as a whole.
    private struct ModelLocation {
        let path: String
        var artifact: [String: Any] { Self.artifact(path) }
        var physicalLocation: [String: Any] { ["artifactLocation": artifact, "region": ["startLine": 1]] }

        static func artifact(_ path: String) -> [String: Any] {
            if path.hasPrefix("/") { return ["uri": URL(fileURLWithPath: path).absoluteString] }
            return ["uri": path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path, "uriBaseId": "SRCROOT"]
        }
    }

    private func level(_ severity: Severity) -> String {
        switch severity {
        case .error: return "error"
        case .warning: return "warning"
        case .note: return "note"
        }
    }

    private func problemSeverity(_ severity: Severity) -> String {
        switch severity {
        case .error: return "error"
        case .warning: return "warning"
        case .note: return "recommendation"
        }
    }
}
