import Foundation
import TensorlintEngine
import TensorlintJSON
import TensorlintReporters

/// Today's findings, accepted: `lint --write-baseline FILE` records them, `--baseline FILE` (or `baseline:`)
/// sets them aside and fails only on new ones. A finding is known by its rule, its model (relative to the
/// baseline's folder) and its node; or, when a re-export renamed the node, by its rule, model, module and
/// cause (the message with every name masked), which an unchanged model keeps.
final class Baseline: @unchecked Sendable {
    struct Entry: Hashable {
        var rule: String
        var path: String
        var node: String?
        var module: String?
        var cause: String?
    }

    static let formatVersion = 1
    let path: String
    let entries: [Entry]
    private let byNode: [Entry: [Int]]
    private let byCause: [Entry: [Int]]
    /// Entries that matched a finding in this run; files are matched from several threads.
    private var matched: Set<Int> = []
    private let lock = NSLock()

    init(path: String, entries: [Entry]) {
        self.path = path
        self.entries = entries
        var byNode: [Entry: [Int]] = [:]
        var byCause: [Entry: [Int]] = [:]
        for (index, entry) in entries.enumerated() {
            byNode[Entry(rule: entry.rule, path: entry.path, node: entry.node), default: []].append(index)
            if entry.cause != nil { byCause[Self.causeKey(entry), default: []].append(index) }
        }
        self.byNode = byNode
        self.byCause = byCause
    }


    static func entry(_ finding: Finding, path: String) -> Entry {
        Entry(rule: finding.ruleId, path: path, node: finding.nodePath, module: finding.source?.modulePath,
              cause: finding.cause.map(Fingerprint.text))
    }

    private static func causeKey(_ entry: Entry) -> Entry { Entry(rule: entry.rule, path: entry.path, module: entry.module, cause: entry.cause) }

    /// A model's path as the baseline holds it: relative to the baseline's folder.
    func relative(_ modelPath: String) -> String { Self.relative(modelPath, baseline: path) }

    static func relative(_ modelPath: String, baseline: String) -> String {
        commandLinePath(modelPath, relativeTo: URL(fileURLWithPath: baseline).deletingLastPathComponent())
    }

    /// Marks the findings of one model that the baseline holds as suppressed. A finding is held by the entry
    /// of its node; failing that (a re-export renamed the node), by an entry of the same rule, module and
    /// cause that no finding has used: each such entry stands for one finding, so a new node with a known
    /// cause is new.
    func suppress(_ findings: inout [Finding], modelPath: String) {
        let relative = relative(modelPath)
        let suppression = Suppression(kind: .baseline, justification: "in the baseline \(path)")
        lock.lock()
        defer { lock.unlock() }
        var pending: [Int] = []
        for index in findings.indices where findings[index].suppression == nil {
            let wanted = Self.entry(findings[index], path: relative)
            if let hits = byNode[Entry(rule: wanted.rule, path: wanted.path, node: wanted.node)] {
                matched.formUnion(hits)
                findings[index].suppression = suppression
            } else if wanted.cause != nil {
                pending.append(index)
            }
        }
        for index in pending {
            let wanted = Self.entry(findings[index], path: relative)
            guard let free = byCause[Self.causeKey(wanted)]?.first(where: { !matched.contains($0) }) else { continue }
            matched.insert(free)
            findings[index].suppression = suppression
        }
    }

    /// Whether the baseline holds a finding, by its node (for `--fix`, which must leave accepted findings alone).
    func holds(_ finding: Finding, modelPath: String) -> Bool {
        let wanted = Self.entry(finding, path: relative(modelPath))
        return byNode[Entry(rule: wanted.rule, path: wanted.path, node: wanted.node)] != nil
    }

    /// Entries no finding matched, among those this run could have matched (a model it linted, a rule that ran
    /// on it): fixed, or changed past recognition. An entry of a model not linted this time is not stale.
    func stale(checked: [String: Set<String>]) -> [Entry] {
        lock.withLock {
            entries.indices.filter { index in
                !matched.contains(index) && checked[entries[index].path]?.contains(entries[index].rule) == true
            }.map { entries[$0] }
        }
    }

    static func read(_ path: String) throws -> Baseline {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure(description: "\(path): cannot read the baseline") }
        var version: Int64?
        var entries: [Entry] = []
        do throws(JSONError) {
            try JSONReader.read(data) { (reader: inout JSONReader) throws(JSONError) in
                try reader.readObject { (reader: inout JSONReader, key: String) throws(JSONError) in
                    switch key {
                    case "tensorlint_baseline": version = try reader.readInt()
                    case "findings":
                        entries = try reader.readList { (reader: inout JSONReader) throws(JSONError) -> Entry in
                            var entry = Entry(rule: "", path: "")
                            try reader.readObject { (reader: inout JSONReader, key: String) throws(JSONError) in
                                switch key {
                                case "rule": entry.rule = try reader.readString()
                                case "path": entry.path = try reader.readString()
                                case "node": entry.node = try reader.optional(JSONReader.string)
                                case "module": entry.module = try reader.optional(JSONReader.string)
                                case "cause": entry.cause = try reader.optional(JSONReader.string)
                                default: try reader.skipValue()
                                }
                            }
                            return entry
                        }
                    default: try reader.skipValue()
                    }
                }
            }
        } catch {
            throw CommandFailure(description: "\(path): not a tensorlint baseline: \(error)")
        }
        guard let version else {
            throw CommandFailure(description: "\(path): not a tensorlint baseline (no `tensorlint_baseline` version); write one with --write-baseline")
        }
        guard version == Int64(formatVersion) else {
            throw CommandFailure(description: "\(path): a version \(version) baseline; this tensorlint reads version \(formatVersion)")
        }
        if let bad = entries.firstIndex(where: { $0.rule.isEmpty || $0.path.isEmpty }) {
            throw CommandFailure(description: "\(path): not a tensorlint baseline: findings[\(bad)] has no rule or path")
        }
        return Baseline(path: path, entries: entries)
    }

    /// Writes the findings of these files (each occurrence), sorted, so that the file diffs well.
    static func write(_ files: [LintReport.FileResult], to path: String) throws -> Int {
        var entries: [Entry] = []
        for file in files {
            let relative = relative(file.path, baseline: path)
            entries += file.findings.flatMap(\.occurrences).map { entry($0, path: relative) }
        }
        let sorted = Set(entries).sorted { ($0.path, $0.rule, $0.node ?? "", $0.cause ?? "") < ($1.path, $1.rule, $1.node ?? "", $1.cause ?? "") }
        let document: JSONValue = [
            "tensorlint_baseline": .int(formatVersion),
            "findings": .array(sorted.map { entry in
                ["rule": .string(entry.rule), "path": .string(entry.path), "node": JSONValue(entry.node),
                 "module": JSONValue(entry.module), "cause": JSONValue(entry.cause)]
            }),
        ]
        do {
            try serialize(document).write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CommandFailure(description: "\(path): cannot write the baseline: \(error.localizedDescription)")
        }
        return sorted.count
    }
}
