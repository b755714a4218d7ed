import Foundation
import TensorlintEngine
import TensorlintIR
import TensorlintJSON

/// GitHub Actions workflow commands (`::error file=…,title=…::message`): annotations on the pull request,
/// with no SARIF upload and no GitHub Code Security needed.
public struct GitHubReporter: Reporter {
    public static let identifier = "github"
    public static let description = "GitHub Actions annotations (workflow commands)"
    public init() {}

    public func render(_ report: LintReport) -> String {
        var locations = FindingLocations(report: report)
        var lines = report.warnings.map { Self.command("warning", ["title": "tensorlint"], $0) }
        for (file, model) in zip(report.files, report.repositoryRelativePaths()) {
            if let error = file.error {
                lines.append(Self.command("error", ["file": model, "title": "tensorlint (read-error)"], "\(model): \(error)"))
            }
            for finding in file.findings {
                // A model is binary: the annotation is on the file; on the Python line when the checkout has it.
                var properties = ["file": model, "title": "tensorlint (\(finding.ruleId))"]
                var message = finding.headline + (finding.message == finding.headline ? "" : "\n" + finding.message)
                if let source = locations.sourceLine(of: finding), source.usable {
                    properties["file"] = source.path
                    properties["line"] = String(source.line)
                    message += "\nModel: \(model)"
                }
                if let nodePath = finding.nodePath { message += "\nNode: \(nodePath)" }
                if !finding.others.isEmpty { message += "\nSame cause on \(finding.others.count) more nodes: \(finding.otherNodesText())" }
                message += "\nFix: \(finding.fix)"
                lines.append(Self.command(Self.command(for: finding.severity), properties, message))
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    static func command(for severity: Severity) -> String {
        switch severity {
        case .error: return "error"
        case .warning: return "warning"
        case .note: return "notice"
        }
    }

    /// One workflow command, escaped as the Actions toolkit escapes it (`escapeData`, `escapeProperty`).
    static func command(_ name: String, _ properties: [String: String], _ message: String) -> String {
        let order = ["file", "line", "title"]
        let list = order.compactMap { key in properties[key].map { "\(key)=\(escapeProperty($0))" } }.joined(separator: ",")
        return "::\(name) \(list)::\(escapeData(message))"
    }

    static func escapeData(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    static func escapeProperty(_ text: String) -> String {
        escapeData(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}

/// GitLab Code Quality report (the `codequality` artifact): a JSON array of issues.
public struct GitLabReporter: Reporter {
    public static let identifier = "gitlab"
    public static let description = "GitLab Code Quality report (JSON)"
    public init() {}

    public func render(_ report: LintReport) -> String {
        var locations = FindingLocations(report: report)
        var fingerprints = FingerprintIssuer()
        var issues: [JSONValue] = []
        for (file, model) in zip(report.files, report.repositoryRelativePaths()) {
            if let error = file.error {
                issues.append(issue("read-error", "\(model): \(error)", severity: "blocker",
                                    fingerprint: Fingerprint.of(["read-error", model]), path: model, line: 1))
            }
            for finding in file.findings {
                let source = locations.sourceLine(of: finding).flatMap { $0.usable ? $0 : nil }
                var description = finding.headline
                if let nodePath = finding.nodePath { description += " (node \(nodePath)\(finding.moreNodes))" }
                if source != nil { description += " in \(model)" }
                issues.append(issue(finding.ruleId, description, severity: Self.severity(finding.severity),
                                    fingerprint: fingerprints.next(finding, model: model),
                                    path: source?.path ?? model, line: source?.line ?? 1))
            }
        }
        return serialize(.array(issues))
    }

    private func issue(_ check: String, _ description: String, severity: String, fingerprint: String, path: String, line: Int) -> JSONValue {
        ["type": "issue", "check_name": .string(check), "description": .string(description), "severity": .string(severity),
         "categories": ["Bug Risk"], "fingerprint": .string(fingerprint),
         "location": ["path": .string(path), "lines": ["begin": .int(line)]]]
    }

    static func severity(_ severity: Severity) -> String {
        switch severity {
        case .error: return "major"
        case .warning: return "minor"
        case .note: return "info"
        }
    }
}

/// JUnit XML, for CI systems that show test reports: one suite per model file, one failing case per error
/// or warning, one passing case per note or for a clean file, an erroring case for an unreadable file.
public struct JUnitReporter: Reporter {
    public static let identifier = "junit"
    public static let description = "JUnit XML test report"
    public init() {}

    public func render(_ report: LintReport) -> String {
        var suites: [String] = []
        var failures = 0
        var cases = 0
        for file in report.files {
            let path = Self.escape(report.relative(file.path))
            var body: [String] = []
            var suiteFailures = 0
            if let error = file.error {
                body.append("    <testcase classname=\"\(path)\" name=\"read\">\n      <error message=\"\(Self.escape(error))\"/>\n    </testcase>")
            }
            for finding in file.findings {
                let name = Self.escape("\(finding.ruleId)" + (finding.nodePath.map { " \($0)\(finding.moreNodes)" } ?? ""))
                let detail = Self.escape("\(finding.message)\nFix: \(finding.fix)")
                let headline = Self.escape(finding.headline)
                if finding.severity == .note {
                    body.append("    <testcase classname=\"\(path)\" name=\"\(name)\">\n      <system-out>\(detail)</system-out>\n    </testcase>")
                } else {
                    suiteFailures += 1
                    body.append("    <testcase classname=\"\(path)\" name=\"\(name)\">\n      <failure type=\"\(finding.severity.rawValue)\" message=\"\(headline)\">\(detail)</failure>\n    </testcase>")
                }
            }
            if body.isEmpty { body.append("    <testcase classname=\"\(path)\" name=\"lint\"/>") }
            let errors = file.error == nil ? 0 : 1
            suites.append("  <testsuite name=\"\(path)\" tests=\"\(body.count)\" failures=\"\(suiteFailures)\" errors=\"\(errors)\">\n"
                          + body.joined(separator: "\n") + "\n  </testsuite>")
            failures += suiteFailures
            cases += body.count
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<testsuites name=\"tensorlint\" tests=\"\(cases)\" failures=\"\(failures)\" errors=\"\(report.unreadableCount)\">\n"
            + suites.map { $0 + "\n" }.joined() + "</testsuites>\n"
    }

    /// Text for an XML attribute or element: markup escaped, and characters XML 1.0 cannot hold replaced.
    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\n": result += "&#10;"
            case "\t", "\r": result += "&#\(scalar.value);"
            default:
                result.unicodeScalars.append(scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) ? "\u{FFFD}" : scalar)
            }
        }
        return result
    }
}

/// Hands out each finding's fingerprint once per report: a model may repeat a node name (ONNX does not
/// require them unique), and the second finding of a rule on such a name is told apart by its rank.
struct FingerprintIssuer {
    private var issued: [String: Int] = [:]

    mutating func next(_ finding: Finding, model: String) -> String {
        let base = Fingerprint.of(finding, model: model)
        let rank = issued[base, default: 0] + 1
        issued[base] = rank
        return rank == 1 ? base : "\(base)-\(rank)"
    }
}
