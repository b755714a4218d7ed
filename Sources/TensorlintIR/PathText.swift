import Foundation

/// `path` made absolute (against `base`, else the working directory) with its `.` and `..` components and
/// repeated or trailing slashes removed: what `URL(fileURLWithPath:).standardizedFileURL.path` gives,
/// without building URLs, which cost thousands of instructions each in a folder walk that does this for
/// every file. Links are not resolved.
public func standardizedPath(_ path: String, relativeTo base: String? = nil) -> String {
    // Most paths a run meets are standard already (those a folder walk makes): they are returned as they are.
    if isStandardized(path) { return path }
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

/// Whether `path` is what `standardizedPath` makes of it: absolute, with no empty, `.` or `..` component and
/// no trailing slash.
private func isStandardized(_ path: String) -> Bool {
    var path = path
    return path.withUTF8 { bytes in
        guard bytes.first == UInt8(ascii: "/") else { return false }
        if bytes.count == 1 { return true }
        // Each component is checked at its slash: the one before it must not end an empty, `.` or `..` component.
        var componentStart = 1
        for index in 1...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: "/") {
            switch index - componentStart {
            case 0: return false
            case 1 where bytes[componentStart] == UInt8(ascii: "."): return false
            case 2 where bytes[componentStart] == UInt8(ascii: ".") && bytes[componentStart + 1] == UInt8(ascii: "."): return false
            default: componentStart = index + 1
            }
        }
        return true
    }
}

/// The folder that holds `path` (made absolute against the working directory): `standardizedPath(path + "/..")`,
/// without building that path when `path` is standard already.
public func parentFolder(of path: String) -> String {
    guard isStandardized(path) else { return standardizedPath(path + "/..") }
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")), slash != path.utf8.startIndex else { return "/" }
    return String(path[..<slash])
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

/// `resolvingLinks(path)` for a standardized `path` whose folder's `resolvingLinks` is `resolvedFolder`: on Linux
/// a file that is not itself a link is there under the name it was given. One `lstat`, instead of `realpath`'s
/// `readlink` of every folder above it, for each of a folder's files. macOS's `realpath` gives a name as the
/// volume stores it (its case, its Unicode form): it is asked there.
public func resolvingLinks(_ path: String, inResolvedFolder resolvedFolder: String) -> String {
    #if os(Linux)
    var status = stat()
    guard lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFLNK,
          let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return resolvingLinks(path) }
    let name = path[path.utf8.index(after: slash)...]
    guard !name.isEmpty, name != ".", name != ".." else { return resolvingLinks(path) }
    let resolved = resolvedFolder.hasSuffix("/") ? resolvedFolder + name : resolvedFolder + "/" + name
    // `realpath` gives up on a path as long as PATH_MAX, and the path stays as it is.
    return resolved.utf8.count < Int(PATH_MAX) ? resolved : resolvingLinks(path)
    #else
    return resolvingLinks(path)
    #endif
}
