import Foundation
import TensorlintIR

/// Expands the paths on the command line into the files to lint.
public enum FileCollector {
    public struct Item: Sendable {
        public var path: String
        /// A file met while walking a folder: linted only if a format recognises it. A file named on the
        /// command line is always read, and its errors are reported.
        public var foundInFolder: Bool
    }

    /// The files named and those under the folders named (that `isIncluded` takes, given the path), in order:
    /// each folder's files sorted by path, and what the walk passed by (hidden entries, links, files the
    /// configuration excludes), counted by reason. Recognising files by content is left to whoever reads them.
    public static func collect(_ paths: [String], isIncluded: (String) throws -> Bool) rethrows -> (items: [Item], passedBy: [String: Int]) {
        var items: [Item] = []
        var passedBy: [String: Int] = [:]
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                items.append(Item(path: path, foundInFolder: false))
                continue
            }
            let base = URL(fileURLWithPath: path, isDirectory: true)
            // The URL enumerator: the path one is built on it and rewrites each path it yields (most of a walk's cost).
            let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil)
            var found: [Item] = []
            while let url = enumerator?.nextObject() as? URL {
                // Hidden files and folders are passed by, as are links (never followed): only regular files are read.
                let file = url.path
                var status = stat()
                guard lstat(file, &status) == 0 else { continue }
                if status.st_mode & S_IFMT == S_IFLNK || url.lastPathComponent.hasPrefix(".") {
                    passedBy[status.st_mode & S_IFMT == S_IFLNK ? "symbolic links (not followed)" : "hidden", default: 0] += 1
                    enumerator?.skipDescendants()
                    continue
                }
                guard status.st_mode & S_IFMT == S_IFREG else { continue }
                guard try isIncluded(file) else {
                    passedBy["excluded by the configuration", default: 0] += 1
                    continue
                }
                found.append(Item(path: file, foundInFolder: true))
            }
            items += found.sorted { $0.path < $1.path }
        }
        return (items, passedBy)
    }
}
