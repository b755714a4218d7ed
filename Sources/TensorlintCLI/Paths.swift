import Foundation
import TensorlintEngine
import TensorlintIR
import TensorlintReporters

extension Configuration {
    /// The folder its relative paths and globs are relative to: its own (the working directory for the defaults).
    var folder: URL {
        path.map { URL(fileURLWithPath: $0).deletingLastPathComponent() } ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }
}

/// A path as the command line gives it (relative to the working directory), relative to `folder` when it
/// lies below it, else absolute.
func commandLinePath(_ path: String, relativeTo folder: URL) -> String {
    LintReport.relativePath(standardizedPath(path), toStandardized: standardizedPath(folder.path))
}
