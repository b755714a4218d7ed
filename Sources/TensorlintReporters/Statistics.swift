import TensorlintEngine

/// `--statistics`: how many findings each rule has, most first, as Ruff's `--statistics` prints them;
/// `[*]` marks a rule whose findings `tensorlint fix` repairs.
public enum Statistics {
    public static func render(_ report: LintReport) -> String {
        var counts: [String: (count: Int, fixable: Bool, severity: Severity)] = [:]
        for finding in report.findings.flatMap(\.occurrences) {
            let known = counts[finding.ruleId]
            counts[finding.ruleId] = ((known?.count ?? 0) + 1, (known?.fixable ?? false) || finding.automaticFix != nil, finding.severity)
        }
        let summaries = Dictionary(report.rules.map { ($0.id, $0.summary) }, uniquingKeysWith: { first, _ in first })
        let rows = counts.sorted { ($1.value.count, $0.key) < ($0.value.count, $1.key) }
        let countWidth = rows.map { String($0.value.count).count }.max() ?? 1
        let idWidth = rows.map(\.key.count).max() ?? 0
        var lines = rows.map { id, entry in
            String(repeating: " ", count: countWidth - String(entry.count).count) + "\(entry.count)  "
                + id.padding(toLength: idWidth, withPad: " ", startingAt: 0) + "  "
                + entry.severity.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0) + "  "
                + (entry.fixable ? "[*] " : "    ") + (summaries[id] ?? "")
        }
        if report.unreadableCount > 0 {
            lines.append(String(repeating: " ", count: max(0, countWidth - String(report.unreadableCount).count)) + "\(report.unreadableCount)  unreadable")
        }
        lines.append(report.summary)
        return lines.joined(separator: "\n") + "\n"
    }
}
