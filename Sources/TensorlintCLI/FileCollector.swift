import Foundation

/// Expands the paths on the command line into the files to lint.
public enum FileCollector {
    public struct Item {
        public var path: String
        /// Named on the command line (errors are reported) rather than found in a folder (non-models skipped).
        public var explicit: Bool
    }

    public static func collect(_ paths: [String], isIncluded: (String) -> Bool, relativeTo base: String) -> [Item] {
        var items: [Item] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                items.append(Item(path: path, explicit: true))
                continue
            }
            let root = URL(fileURLWithPath: path)
            let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                            options: [.skipsHiddenFiles])
            var found: [String] = []
            while let url = enumerator?.nextObject() as? URL {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
                let relative = relativePath(url.standardizedFileURL.path, to: base)
                guard isIncluded(relative), ModelLoader.isModel(path: url.path) else { continue }
                found.append(url.path)
            }
            items += found.sorted().map { Item(path: $0, explicit: false) }
        }
        return items
    }

    static func relativePath(_ path: String, to base: String) -> String {
        let base = URL(fileURLWithPath: base).standardizedFileURL.path
        return path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
    }
}
