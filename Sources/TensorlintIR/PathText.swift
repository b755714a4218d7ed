import Foundation

/// `path` made absolute (against `base`, else the working directory) with its `.` and `..` components and
/// repeated or trailing slashes removed: what `URL(fileURLWithPath:).standardizedFileURL.path` gives,
/// without building URLs, which cost thousands of instructions each in a folder walk that does this for
/// every file. Links are not resolved.
public func standardizedPath(_ path: String, relativeTo base: String? = nil) -> String {
    var result: [UInt8] = []
    // Where each component of `result` starts (at its slash), for `..` to remove the last.
    var starts: [Int] = []
    func add(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var index = 0
            while index < bytes.count {
                while index < bytes.count, bytes[index] == UInt8(ascii: "/") { index += 1 }
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "/") { index += 1 }
                switch index - start {
                case 0: continue
                case 1 where bytes[start] == UInt8(ascii: "."): continue
                case 2 where bytes[start] == UInt8(ascii: ".") && bytes[start + 1] == UInt8(ascii: "."):
                    if let last = starts.popLast() { result.removeSubrange(last...) }
                default:
                    starts.append(result.count)
                    result.append(UInt8(ascii: "/"))
                    result.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                }
            }
        }
    }
    if !path.hasPrefix("/") {
        let folder = base ?? FileManager.default.currentDirectoryPath
        if !folder.hasPrefix("/") { add(FileManager.default.currentDirectoryPath) }
        add(folder)
    }
    add(path)
    return result.isEmpty ? "/" : String(decoding: result, as: UTF8.self)
}

/// An absolute, standardized `path` with its symbolic links resolved: `realpath`'s answer, or the path as it is
/// when it does not exist (what `URL.resolvingSymlinksInPath()` gives on Linux; on macOS that also drops
/// `/private`). A report resolves every model's path, where building and resolving URLs cost 60 k
/// instructions a file.
public func resolvingLinks(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}
