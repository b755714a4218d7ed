import Foundation
import TensorlintIR
import TensorlintReporters

/// Expands the paths on the command line into the files to lint.
public enum FileCollector {
    public struct Item {
        public var path: String
        /// For a file found in a folder, the format it was recognised as; `nil` for a file named on the
        /// command line, which is recognised when it is read (and whose errors are reported).
        public var format: (any ModelFormat.Type)?
    }

    public static func collect(_ paths: [String], isIncluded: (String) -> Bool, relativeTo base: String) -> [Item] {
        var items: [Item] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                items.append(Item(path: path, format: nil))
                continue
            }
            let root = URL(fileURLWithPath: path)
            let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                            options: [.skipsHiddenFiles])
            var found: [Item] = []
            while let url = enumerator?.nextObject() as? URL {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
                let relative = LintReport.relativePath(url.standardizedFileURL.path, to: base)
                guard isIncluded(relative), let format = ModelLoader.format(ofFoundFile: url.path) else { continue }
                found.append(Item(path: url.path, format: format))
            }
            items += found.sorted { $0.path < $1.path }
        }
        return items
    }
}
