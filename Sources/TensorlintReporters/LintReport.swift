import Foundation
import TensorlintEngine
import TensorlintIR

/// Everything one `tensorlint lint` run produced, as reporters see it.
public struct LintReport: Sendable {
    public struct FileResult: Sendable {
        public var path: String
        public var format: Model.Format?
        public var layout: String?
        public var findings: [Finding]
        /// Findings set aside by the configuration or the baseline: reported as such, never counted.
        public var suppressed: [Finding] = []
        /// Set when the file could not be read: the one-line reason.
        public var error: String?
        /// What this file was checked against (a file's target follows its format and the nearest configuration).
        public var settings: Settings?
        /// The converter version whose knowledge was used for this file.
        public var knowledgeVersion: Version?

        public init(path: String, format: Model.Format?, layout: String?, findings: [Finding], error: String?,
                    settings: Settings? = nil, knowledgeVersion: Version? = nil) {
            self.path = path
            self.format = format
            self.layout = layout
            self.findings = findings
            self.error = error
            self.settings = settings
            self.knowledgeVersion = knowledgeVersion
        }
    }

    public var files: [FileResult]
    public var rules: [Rule]
    /// The settings the command line and the top configuration give; each file says what it was checked against.
    public var settings: Settings
    /// The converter version whose knowledge was used.
    public var knowledgeVersion: Version?
    public var toolVersion: String
    /// Directory that relative paths and source locations are resolved against.
    public var workingDirectory: String
    /// The repository's top folder, links resolved: SARIF, GitHub and GitLab paths are relative to it (code
    /// scanning resolves them against the checkout). The working directory when there is no repository.
    public var sourceRoot: String
    /// SARIF `automationDetails.id`: keeps the alerts of different runs (targets) apart in code scanning.
    public var category: String?
    /// Whether text is coloured for a terminal.
    public var color = false
    /// What the run says about itself beyond the files (nothing found to lint): reports for CI show them,
    /// since standard error is where nobody looks.
    public var warnings: [String] = []
    /// `--quiet`: the findings and nothing else (reports for people leave out their summary line).
    public var quiet = false
    /// Path prefixes of the exporting machine and where those files are here (`source_roots:`,
    /// `--source-root-map`): `/home/ci/project` → the checkout, as an absolute path.
    public var sourceRootMap: [(from: String, to: String)] = []
    /// Threads a large report may be rendered on (`--jobs`).
    public var jobs = 1

    public init(files: [FileResult], rules: [Rule], settings: Settings, knowledgeVersion: Version?,
                toolVersion: String, workingDirectory: String, sourceRoot: String? = nil, category: String? = nil) {
        self.files = files
        self.rules = rules
        self.settings = settings
        self.knowledgeVersion = knowledgeVersion
        self.toolVersion = toolVersion
        self.workingDirectory = workingDirectory
        // Resolved as each model's path is (`repositoryRelativePaths`), so that the two compare.
        self.sourceRoot = resolvingLinks(standardizedPath(sourceRoot ?? workingDirectory))
        self.category = category
    }

    public var findings: [Finding] { files.flatMap(\.findings) }

    /// How many findings were set aside, over all files (each node counted).
    public var suppressedCount: Int { files.reduce(0) { $0 + $1.suppressed.reduce(0) { $0 + $1.occurrences.count } } }

    /// How many findings have this severity, over all files.
    public func count(_ severity: Severity) -> Int {
        files.reduce(0) { total, file in total + file.findings.count { $0.severity == severity } }
    }

    public var unreadableCount: Int { files.count { $0.error != nil } }

    /// `3 files linted: 1 error, 2 warnings, 1 note, 1 unreadable`: the last line of the text report, and
    /// what goes to standard error when the report goes to a file.
    public var summary: String {
        func counted(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
        // Grouped findings say on how many nodes they are.
        func severity(_ severity: Severity, _ noun: String) -> String {
            let nodes = files.reduce(0) { $0 + $1.findings.filter { $0.severity == severity }.reduce(0) { $0 + $1.occurrences.count } }
            return counted(count(severity), noun) + (nodes > count(severity) ? " (\(nodes) nodes)" : "")
        }
        var summary = "\(counted(files.count, "file")) linted: \(severity(.error, "error")), \(severity(.warning, "warning"))"
        if count(.note) > 0 { summary += ", \(severity(.note, "note"))" }
        if suppressedCount > 0 { summary += ", \(suppressedCount) suppressed" }
        if unreadableCount > 0 { summary += ", \(unreadableCount) unreadable" }
        return summary
    }

    /// `path` relative to the working directory when it lies below it.
    func relative(_ path: String) -> String { Self.relativePath(path, to: workingDirectory) }

    /// Each file's path relative to the source root when it lies below it (else absolute), links resolved on
    /// both sides: a model reached through a symbolic link into the repository is still the repository's file.
    /// Each folder's links are resolved once, and the files on the run's threads.
    func repositoryRelativePaths() -> [String] {
        let paths = files.map { standardizedPath($0.path, relativeTo: workingDirectory) }
        // Keyed by bytes: two folders named alike but for their Unicode form are two folders to Linux.
        var resolvedByFolder: [BytewiseKey: String] = [:]
        let resolvedFolders = paths.map { path in
            let folder = BytewiseKey(parentFolder(of: path))
            if let known = resolvedByFolder[folder] { return known }
            let resolved = resolvingLinks(folder.text)
            resolvedByFolder[folder] = resolved
            return resolved
        }
        return Array(zip(paths, resolvedFolders)).parallelMap(jobs: max(1, jobs)) { path, folder in
            Self.relativePath(resolvingLinks(path, inResolvedFolder: folder), toStandardized: sourceRoot)
        }
    }

    /// `path` (absolute, or relative to `base`) relative to the folder `base` when it lies below it, else absolute.
    public static func relativePath(_ path: String, to base: String) -> String {
        relativePath(standardizedPath(path, relativeTo: base), toStandardized: standardizedPath(base))
    }

    /// The same, for a path and a base already absolute and standardized (no `.` or `..` components).
    public static func relativePath(_ absolute: String, toStandardized base: String) -> String {
        absolute.hasPrefix(base + "/") ? String(absolute.dropFirst(base.count + 1)) : absolute
    }

    /// The folder at or above `directory` that holds `.git` (a folder, or a file in a worktree or submodule).
    public static func repositoryRoot(containing directory: String) -> String? {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(".git").path) { return url.path }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return nil }
            url = parent
        }
    }
}

/// Where a finding points in the repository: the Python line of its stack trace when that file is in the
/// checkout (the line a reviewer can change), and always the model file. Each source file is read once.
struct FindingLocations {
    struct SourceLine {
        /// Relative to the source root (absolute when the file is outside it).
        let path: String
        let line: Int
        /// Whether the file exists here.
        let exists: Bool
        /// The file exists but its line is not the code the export recorded: edited since.
        let stale: Bool
        /// A line a reviewer can act on: in the checkout, and what the export ran.
        var usable: Bool { exists && !stale && !path.hasPrefix("/") }
    }

    let report: LintReport
    /// Each file's lines, `nil` when it cannot be read here.
    private var lines: [String: [Substring]?] = [:]
    /// Each trace path as `mappedPath` gives it: a report names the same few files for every node.
    private var mapped: [String: String] = [:]

    init(report: LintReport) {
        self.report = report
    }

    /// The trace's path with the exporting machine's prefix mapped (the longest prefix that applies), and
    /// a relative path taken as relative to the source root.
    func mappedPath(_ file: String) -> String {
        // A prefix is a folder: `/home/ci/proj` and `/home/ci/proj/` are one, and match whole path components.
        let prefixes = report.sourceRootMap.map { (from: $0.from.hasSuffix("/") && $0.from.count > 1 ? String($0.from.dropLast()) : $0.from, to: $0.to) }
        let mapping = prefixes.filter { file == $0.from || file.hasPrefix($0.from + "/") }.max { $0.from.count < $1.from.count }
        let mapped = mapping.map { $0.to + file.dropFirst($0.from.count) } ?? file
        return LintReport.relativePath(mapped, to: report.sourceRoot)
    }

    /// The finding's Python source line as it is here, if the trace has one.
    mutating func sourceLine(of finding: Finding) -> SourceLine? {
        guard let frame = finding.source?.userFrame, frame.line > 0 else { return nil }
        let path = mapped[frame.file] ?? mappedPath(frame.file)
        mapped[frame.file] = path
        if lines[path] == nil {
            let absolute = path.hasPrefix("/") ? path : report.sourceRoot + "/" + path
            lines[path] = .some((try? String(contentsOfFile: absolute, encoding: .utf8)).map { $0.split(separator: "\n", omittingEmptySubsequences: false) })
        }
        guard let text = lines[path] ?? nil else { return SourceLine(path: path, line: frame.line, exists: false, stale: false) }
        let stale = frame.code.map { code in
            !text.indices.contains(frame.line - 1) || text[frame.line - 1].trimmingCharacters(in: .whitespaces) != code.trimmingCharacters(in: .whitespaces)
        } ?? false
        return SourceLine(path: path, line: frame.line, exists: true, stale: stale)
    }
}

extension Finding {
    /// ` and 99 more nodes` for a grouped finding; empty otherwise.
    var moreNodes: String { others.isEmpty ? "" : " and \(others.count) more node\(others.count == 1 ? "" : "s")" }

    /// The other nodes, the first few and the last, each with its module: `main/ln_1 (blocks.1.ln), …`.
    func otherNodesText(shown: Int = 3) -> String {
        func name(_ finding: Finding) -> String {
            (finding.nodePath ?? "?") + (finding.source?.modulePath.map { " (\($0))" } ?? "")
        }
        guard others.count > shown + 1 else { return others.map(name).joined(separator: ", ") }
        return others.prefix(shown).map(name).joined(separator: ", ") + ", … " + name(others[others.count - 1])
    }
}

/// A report format, as `--format` names it (SwiftLint keeps its reporters the same way).
public protocol Reporter: Sendable {
    static var identifier: String { get }
    /// One line for `--help`: what the format is for.
    static var description: String { get }
    /// Whether the findings it renders should carry their fixes as byte replacements (SARIF `fixes`).
    static var showsByteReplacements: Bool { get }
    /// Whether the report is for a person to read: then the summary is its last line, not repeated on
    /// standard error.
    static var isForPeople: Bool { get }
    init()
    func render(_ report: LintReport) -> String
}

extension Reporter {
    public static var showsByteReplacements: Bool { false }
    public static var isForPeople: Bool { false }
}

/// Every report format, in the order `--format` lists them.
public enum Reporters {
    public static let all: [any Reporter.Type] = [
        TextReporter.self, ConciseReporter.self, JSONReporter.self, SARIFReporter.self,
        GitHubReporter.self, GitLabReporter.self, JUnitReporter.self,
    ]

    public static func named(_ identifier: String) -> (any Reporter.Type)? { all.first { $0.identifier == identifier } }
}
