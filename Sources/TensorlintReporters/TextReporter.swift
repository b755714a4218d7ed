import TensorlintEngine
import TensorlintIR

/// Compiler-style text: `path: severity: message [rule-id]`, then where and how to fix.
public struct TextReporter: Reporter {
    public static let identifier = "text"
    public init() {}

    public func render(_ report: LintReport) -> String {
        var lines: [String] = []
        for file in report.files {
            let path = report.relative(file.path)
            if let error = file.error { lines.append("\(path): error: \(error) [read-error]") }
            for finding in file.findings {
                lines.append("\(path): \(finding.severity.rawValue): \(finding.message) [\(finding.ruleId)]")
                if let nodePath = finding.nodePath {
                    var location = "  node: \(nodePath)"
                    if let op = finding.op { location += " (\(op))" }
                    if let module = finding.source?.modulePath { location += ", module \(module)" }
                    if let type = finding.source?.moduleType { location += " (\(type))" }
                    lines.append(location)
                }
                if let frame = finding.source?.userFrame {
                    lines.append("  source: \(frame.file):\(frame.line)" + (frame.code.map { ": \($0)" } ?? ""))
                }
                lines.append("  fix: \(finding.fix)")
            }
        }
        let errors = report.count(.error)
        let warnings = report.count(.warning)
        let unreadable = report.files.filter { $0.error != nil }.count
        var summary = "\(report.files.count) file\(report.files.count == 1 ? "" : "s") linted: \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
        if unreadable > 0 { summary += ", \(unreadable) unreadable" }
        lines.append(summary)
        return lines.joined(separator: "\n") + "\n"
    }
}
