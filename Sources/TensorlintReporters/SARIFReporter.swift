import Foundation
import TensorlintEngine
import TensorlintIR
import TensorlintJSON

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
        var notifications: [JSONValue] = report.warnings.map { ["level": "warning", "message": ["text": .string($0)]] }
        // Fingerprints are issued in the files' order: a model named twice numbers its second findings.
        var fingerprints = FingerprintIssuer()
        var findings: [ModelFinding] = []
        let jobs = max(1, report.jobs)
        // A folder's paths are made URIs on the run's threads.
        let models = report.repositoryRelativePaths().parallelMap(jobs: jobs) { ModelLocation(path: $0) }
        for (file, model) in zip(report.files, models) {
            if let error = file.error {
                notifications.append([
                    "level": "error",
                    "message": ["text": "\(model.path): \(error)"],
                    "locations": [["physicalLocation": model.physicalLocation]],
                ])
            }
            for finding in file.findings + file.suppressed {
                findings.append(ModelFinding(model: model, finding: finding, fingerprint: fingerprints.next(finding, model: model.path)))
            }
        }
        // The results are most of a large report: written on the run's threads, a run of findings each, in order
        // (a folder's files or one large model's nodes alike). Python source files are looked up once a run.
        let runLength = jobs == 1 ? max(1, findings.count) : max(1, findings.count / 4 / jobs)
        let runs = stride(from: 0, to: findings.count, by: runLength).map { findings[$0..<min($0 + runLength, findings.count)] }
        // The rules' descriptors are written beside them.
        let parts = ([Part.descriptors] + runs.map(Part.results)).parallelMap(jobs: jobs) { part in
            switch part {
            case .descriptors:
                return JSONWriter.rendered(report.rules.map { descriptor($0, toolVersion: report.toolVersion) }, depth: Self.descriptorDepth)
            case .results(let run):
                var locations = FindingLocations(report: report)
                return JSONWriter.rendered(run.map { item in
                    result(item.finding, in: item.model, locations: &locations, fingerprint: item.fingerprint, ruleIndex: ruleIndex[item.finding.ruleId])
                }, depth: Self.resultDepth)
            }
        }
        let (descriptors, results) = (parts[0], Array(parts.dropFirst().joined()))
        let run: JSONValue = [
            "tool": ["driver": [
                "name": "tensorlint",
                "semanticVersion": .string(report.toolVersion),
                "informationUri": .string(Self.informationUri),
                "rules": .array(descriptors),
            ]],
            "invocations": [[
                // Unreadable files were not checked: the run did not do all it was asked.
                "executionSuccessful": .bool(report.unreadableCount == 0),
                "toolExecutionNotifications": .array(notifications),
                "workingDirectory": ["uri": .string(Self.folderURI(report.workingDirectory))],
            ]],
            "originalUriBaseIds": ["SRCROOT": ["uri": .string(Self.folderURI(report.sourceRoot))]],
            "results": .array(results),
            "columnKind": "unicodeCodePoints",
            "automationDetails": ["id": .string(Self.automationID(report))],
        ]
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

    private func descriptor(_ rule: Rule, toolVersion: String) -> JSONValue {
        var markdown = "\(rule.description)\n\n**Fix:** \(rule.documented(rule.fix.suggestion, markdown: true))"
        if !rule.references.isEmpty {
            markdown += "\n\n**References:**\n" + rule.references.map { "- <\($0)>" }.joined(separator: "\n")
        }
        var descriptor: [String: JSONValue] = [
            "id": .string(rule.id),
            "name": .string(rule.name.split(separator: " ").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
                .filter { $0.isLetter || $0.isNumber }),
            "shortDescription": ["text": .string(Self.fitted(rule.summary))],
            "fullDescription": ["text": .string(Self.fitted(rule.description))],
            "help": ["text": "\(rule.description)\nFix: \(rule.documented(rule.fix.suggestion, markdown: false))", "markdown": .string(markdown)],
            "defaultConfiguration": ["level": .string(level(rule.severity)), "enabled": .bool(rule.enabledByDefault)],
            "properties": [
                "tags": JSONValue(rule.targets.sorted() + rule.formats.map(\.rawValue).sorted()),
                "fixApplicability": .string(rule.fix.applicability.rawValue),
                // Built-in rules are measured against the real converters' verdicts on the labelled corpora
                // (README, "Accuracy"); a user's rule has no such measure.
                "precision": rule.origin.hasPrefix("builtin:") ? "very-high" : "medium",
                "problem.severity": .string(problemSeverity(rule.severity)),
            ],
        ]
        if let url = Self.helpURI(rule, toolVersion: toolVersion) { descriptor["helpUri"] = .string(url) }
        return .object(descriptor)
    }

    /// At most GitHub's limit: whole sentences when they fit, else cut at a word with an ellipsis.
    static func fitted(_ text: String) -> String {
        // No more bytes than the limit is no more characters either: most texts are not counted by character.
        guard text.utf8.count > descriptionLimit, text.count > descriptionLimit else { return text }
        let head = text.prefix(descriptionLimit - 1)
        if let end = head.range(of: ". ", options: .backwards) { return String(head[..<end.lowerBound]) + "." }
        let cut = head.lastIndex(of: " ") ?? head.endIndex
        return String(head[..<cut]) + "…"
    }

    /// A finding, the model it is in, and the fingerprint issued to it.
    private struct ModelFinding: Sendable {
        let model: ModelLocation
        let finding: Finding
        let fingerprint: String
    }

    /// What the run's threads write of the document.
    private enum Part: Sendable {
        case descriptors
        case results(ArraySlice<ModelFinding>)
    }

    /// Where a result is in the document: in the run's `results`, in the run, in `runs`, in the top object.
    private static let resultDepth = 4
    /// Where a rule's descriptor is: in the driver's `rules`, in the driver, in the tool, in the run, in `runs`, in
    /// the top object.
    private static let descriptorDepth = 6

    /// GitHub reads at most this many locations of a result.
    static let locationLimit = 1000

    private func result(_ finding: Finding, in model: ModelLocation, locations: inout FindingLocations, fingerprint: String,
                        ruleIndex: Int?) -> JSONValue {
        var related: [JSONValue] = []
        // One location per node with the cause (GitHub shows the first). The Python line that made the node
        // is where a reviewer acts; the model file stays in the result.
        let nodes = finding.occurrences.prefix(Self.locationLimit).map { occurrence -> JSONValue in
            var location: [String: JSONValue] = ["physicalLocation": model.physicalLocation]
            if let source = locations.sourceLine(of: occurrence), source.usable {
                location["physicalLocation"] = ["artifactLocation": ModelLocation.artifact(source.path), "region": ["startLine": .int(source.line)]]
                if related.isEmpty { related.append(["id": 1, "physicalLocation": model.physicalLocation, "message": ["text": "the model file"]]) }
            }
            if let nodePath = occurrence.nodePath {
                location["logicalLocations"] = [[
                    "name": .string(occurrence.node ?? nodePath),
                    "fullyQualifiedName": .string(nodePath),
                    "kind": "function",
                ]]
            }
            return .object(location)
        }
        let nodeText = finding.nodePath.map { " (node \($0)\(finding.moreNodes))" } ?? ""
        var result: [String: JSONValue] = [
            "ruleId": .string(finding.ruleId),
            "level": .string(level(finding.severity)),
            // The first line is what code scanning lists; the message with the converter's words follows.
            "message": ["text": .string(finding.headline + nodeText + (finding.message == finding.headline ? "" : "\n" + finding.message)
                + "\nFix: " + finding.fix)],
            "locations": .array(nodes),
            // Given here, code scanning keeps this identity (rule, model, node) instead of hashing line 1 of a binary file.
            "partialFingerprints": ["primaryLocationLineHash": .string(fingerprint + ":1"), "tensorlintFinding/v1": .string(fingerprint)],
            "properties": ["fix": .string(finding.fix), "fixApplicability": .string(finding.fixApplicability.rawValue)],
        ]
        if !related.isEmpty { result["relatedLocations"] = .array(related) }
        if let ruleIndex { result["ruleIndex"] = .int(ruleIndex) }
        if let suppression = finding.suppression {
            result["suppressions"] = [["kind": "external", "status": "accepted", "justification": .string(suppression.justification)]]
        }
        // One fix for the cause: the writer computed it for every node's edits at once.
        if let replacements = finding.replacements, !replacements.isEmpty {
            result["fixes"] = [[
                "description": ["text": .string(finding.fix)],
                "artifactChanges": [[
                    "artifactLocation": model.artifact,
                    "replacements": .array(replacements.map { replacement in
                        ["deletedRegion": ["byteOffset": .int(replacement.offset), "byteLength": .int(replacement.length)],
                         "insertedContent": ["binary": .string(Data(replacement.inserted).base64EncodedString())]]
                    }),
                ]],
            ]]
        }
        return .object(result)
    }

    /// A model file, by its path relative to the source root. Code scanning needs a region to show and track a
    /// result; a model is binary, so the region is its first line: the file as a whole.
    private struct ModelLocation: Sendable {
        let path: String
        /// Made once a model: every result, and every node of one, names it (its URI is percent-encoded).
        let artifact: JSONValue
        let physicalLocation: JSONValue

        init(path: String) {
            self.path = path
            artifact = Self.artifact(path)
            physicalLocation = ["artifactLocation": artifact, "region": ["startLine": 1]]
        }

        static func artifact(_ path: String) -> JSONValue {
            if path.hasPrefix("/") { return ["uri": .string(URL(fileURLWithPath: path).absoluteString)] }
            return ["uri": .string(path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path), "uriBaseId": "SRCROOT"]
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
