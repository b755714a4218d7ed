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
        /// Set when the file could not be read: the one-line reason.
        public var error: String?

        public init(path: String, format: Model.Format?, layout: String?, findings: [Finding], error: String?) {
            self.path = path
            self.format = format
            self.layout = layout
            self.findings = findings
            self.error = error
        }
    }

    public var files: [FileResult]
    public var rules: [Rule]
    public var settings: Settings
    /// The converter version whose knowledge was used.
    public var knowledgeVersion: Version?
    public var toolVersion: String
    /// Directory that relative paths and source locations are resolved against.
    public var workingDirectory: String

    public init(files: [FileResult], rules: [Rule], settings: Settings, knowledgeVersion: Version?,
                toolVersion: String, workingDirectory: String) {
        self.files = files
        self.rules = rules
        self.settings = settings
        self.knowledgeVersion = knowledgeVersion
        self.toolVersion = toolVersion
        self.workingDirectory = workingDirectory
    }

    public var findings: [Finding] { files.flatMap(\.findings) }

    /// How many findings have this severity, over all files.
    public func count(_ severity: Severity) -> Int {
        files.reduce(0) { total, file in total + file.findings.count { $0.severity == severity } }
    }

    /// `path` relative to the working directory when it lies below it.
    func relative(_ path: String) -> String { Self.relativePath(path, to: workingDirectory) }

    /// `path` (absolute, or relative to `base`) relative to the folder `base` when it lies below it, else absolute.
    public static func relativePath(_ path: String, to base: String) -> String {
        relativePath(URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: base)).standardizedFileURL.path,
                     toStandardized: URL(fileURLWithPath: base).standardizedFileURL.path)
    }

    /// The same, for a path and a base already absolute and standardized (no `.` or `..` components).
    public static func relativePath(_ absolute: String, toStandardized base: String) -> String {
        absolute.hasPrefix(base + "/") ? String(absolute.dropFirst(base.count + 1)) : absolute
    }
}

/// A report format, as `--format` names it (SwiftLint keeps its reporters the same way).
public protocol Reporter {
    static var identifier: String { get }
    /// Whether the findings it renders should carry their fixes as byte replacements (SARIF `fixes`).
    static var showsByteReplacements: Bool { get }
    init()
    func render(_ report: LintReport) -> String
}

extension Reporter {
    public static var showsByteReplacements: Bool { false }
}

/// Every report format, in the order `--format` lists them.
public enum Reporters {
    public static let all: [any Reporter.Type] = [TextReporter.self, JSONReporter.self, SARIFReporter.self]

    public static func named(_ identifier: String) -> (any Reporter.Type)? { all.first { $0.identifier == identifier } }
}
