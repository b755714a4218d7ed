import Foundation
import TensorlintIR
import TensorlintReporters

/// Expands the paths on the command line into the files to lint.
public enum FileCollector {
    public struct Item: Sendable {
        public var path: String
        /// A file met while walking a folder: linted only if a format recognises it. A file named on the
        /// command line is always read, and its errors are reported.
        public var foundInFolder: Bool
    }

    /// The files named and those under the folders named (included by the configuration), in order: each
    /// folder's files sorted by path. Recognising them by content is left to whoever reads them.
    public static func collect(_ paths: [String], isIncluded: (String) -> Bool, relativeTo base: String) -> [Item] {
        var items: [Item] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                items.append(Item(path: path, foundInFolder: false))
                continue
            }
            let root = URL(fileURLWithPath: path)
            let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                            options: [.skipsHiddenFiles])
            var found: [Item] = []
            while let url = enumerator?.nextObject() as? URL {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
                guard isIncluded(LintReport.relativePath(url.standardizedFileURL.path, to: base)) else { continue }
                found.append(Item(path: url.path, foundInFolder: true))
            }
            items += found.sorted { $0.path < $1.path }
        }
        return items
    }
}
