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
    /// configuration excludes, folders that cannot be listed), counted by reason. Recognising files by content is left to whoever reads them.
    public static func collect(_ paths: [String], isIncluded: (String) throws -> Bool) rethrows -> (items: [Item], passedBy: [String: Int]) {
        var items: [Item] = []
        var passedBy: [String: Int] = [:]
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                items.append(Item(path: path, foundInFolder: false))
                continue
            }
            // Paths under the folder are spelled as Foundation spells the folder's own (absolute, from the working folder).
            var found: [Item] = []
            try walk(URL(fileURLWithPath: path, isDirectory: true).path, into: &found, passedBy: &passedBy, isIncluded: isIncluded)
            items += found.sorted { $0.path < $1.path }
        }
        return (items, passedBy)
    }

    /// The regular files under `folder`, read with `readdir`, whose entry types save a `stat` per file (a URL
    /// enumerator built, resolved and stat'ed a URL per file, in the serial part of a folder's lint). Hidden
    /// entries and links (never followed) are passed by and counted, as are folders that cannot be listed.
    private static func walk(_ folder: String, into found: inout [Item], passedBy: inout [String: Int],
                             isIncluded: (String) throws -> Bool) rethrows {
        var pending = [folder]
        while let current = pending.popLast() {
            guard let directory = opendir(current) else {
                passedBy["folders that cannot be listed", default: 0] += 1
                continue
            }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                guard name != ".", name != ".." else { continue }
                let file = current.hasSuffix("/") ? current + name : current + "/" + name
                var kind = Int(entry.pointee.d_type)
                if kind == DT_UNKNOWN {
                    // File systems that do not fill in the type: it is asked for.
                    var status = stat()
                    guard lstat(file, &status) == 0 else { continue }
                    kind = switch status.st_mode & S_IFMT {
                    case S_IFLNK: DT_LNK
                    case S_IFDIR: DT_DIR
                    case S_IFREG: DT_REG
                    default: DT_UNKNOWN
                    }
                }
                if kind == DT_LNK || name.hasPrefix(".") {
                    passedBy[kind == DT_LNK ? "symbolic links (not followed)" : "hidden", default: 0] += 1
                    continue
                }
                if kind == DT_DIR {
                    pending.append(file)
                    continue
                }
                guard kind == DT_REG else { continue }
                guard try isIncluded(file) else {
                    passedBy["excluded by the configuration", default: 0] += 1
                    continue
                }
                found.append(Item(path: file, foundInFolder: true))
            }
        }
    }
}
