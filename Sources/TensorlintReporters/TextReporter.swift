import Foundation
import TensorlintEngine
import TensorlintIR

/// Compiler-style text: `path: severity: message [rule-id]`, then where and how to fix.
public struct TextReporter: Reporter {
    public static let identifier = "text"
    public static let description = "for people: each finding with its node, Python source line and fix"
    public static let isForPeople = true
    public init() {}

    public func render(_ report: LintReport) -> String {
        let style = TerminalStyle(enabled: report.color)
        var locations = FindingLocations(report: report)
        var lines: [String] = []
        for file in report.files {
            // Everything a model contributes (names, targets, source lines) is shown, never obeyed by the terminal.
            let path = TerminalText.safe(report.relative(file.path))
            if let error = file.error { lines.append("\(style.bold(path)): \(style.severity(.error)): \(TerminalText.safe(error)) \(style.dim("[read-error]"))") }
            for finding in file.findings {
                lines.append("\(style.bold(path)): \(style.severity(finding.severity)): \(TerminalText.safe(finding.headline)) \(style.dim("[\(finding.ruleId)]"))")
                if finding.message != finding.headline { lines.append("  why: \(TerminalText.safe(finding.message))") }
                if let nodePath = finding.nodePath {
                    var location = "  node: \(nodePath)"
                    if let op = finding.op { location += " (\(op))" }
                    if let module = finding.source?.modulePath { location += ", module \(module)" }
                    if let type = finding.source?.moduleType { location += " (\(type))" }
                    lines.append(TerminalText.safe(location))
                }
                if let frame = finding.source?.userFrame {
                    // The file as it is here when it is (prefixes mapped), else as the trace names it.
                    let here = locations.sourceLine(of: finding)
                    let file = here.flatMap { $0.exists ? $0.path : nil } ?? frame.file
                    lines.append(TerminalText.safe("  source: \(file):\(frame.line)" + (frame.code.map { ": \($0)" } ?? "")
                                 + (here?.stale == true ? " (edited since the export)" : "")))
                }
                if !finding.others.isEmpty {
                    lines.append(TerminalText.safe("  same cause on \(finding.others.count) more node\(finding.others.count == 1 ? "" : "s"): \(finding.otherNodesText())"))
                }
                lines.append("  \(style.fixLabel("fix:")) \(TerminalText.safe(finding.fix))")
            }
        }
        if !report.quiet { lines.append(report.summary) }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }
}

/// One line per finding, as Ruff's `concise` output: `path: severity: message [rule-id] (node main/x)`.
public struct ConciseReporter: Reporter {
    public static let identifier = "concise"
    public static let description = "for people: one line per finding"
    public static let isForPeople = true
    public init() {}

    public func render(_ report: LintReport) -> String {
        let style = TerminalStyle(enabled: report.color)
        var lines: [String] = []
        for file in report.files {
            let path = style.bold(TerminalText.safe(report.relative(file.path)))
            if let error = file.error { lines.append("\(path): \(style.severity(.error)): \(TerminalText.safe(error)) \(style.dim("[read-error]"))") }
            for finding in file.findings {
                // The headline names the node; a grouped finding says how many more have the cause.
                let node = finding.others.isEmpty ? "" : " (\(finding.moreNodes.dropFirst()))"
                lines.append("\(path): \(style.severity(finding.severity)): \(TerminalText.safe(finding.headline)) \(style.dim("[\(finding.ruleId)]"))\(node)")
            }
        }
        if !report.quiet { lines.append(report.summary) }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }
}

/// ANSI colours for a terminal; plain text when off (`NO_COLOR`, `--no-color`, or not a terminal).
struct TerminalStyle {
    let enabled: Bool

    private func wrap(_ text: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    func bold(_ text: String) -> String { wrap(text, "1") }
    func dim(_ text: String) -> String { wrap(text, "2") }
    func fixLabel(_ text: String) -> String { wrap(text, "32") }

    func severity(_ severity: Severity) -> String {
        switch severity {
        case .error: return wrap("error", "1;31")
        case .warning: return wrap("warning", "1;33")
        case .note: return wrap("note", "1;36")
        }
    }
}

/// Text from a model made harmless for a terminal: control characters (a newline that forges a summary line,
/// `ESC[2K`, a carriage return, NUL) and C1 controls are shown escaped (`\x1b`), never sent as such.
public enum TerminalText {
    public static func safe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                result += scalar.value <= 0xFF ? "\\x" + String(format: "%02x", scalar.value) : "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}
