import Foundation
import Testing
import TensorlintEngine
import TensorlintIR
import TensorlintPacks
@testable import TensorlintReporters

/// The folder walk standardizes every path without URLs: it must give what Foundation's URLs give.
@Suite struct PathTextTests {
    /// Bases are existing folders, as the working directory and configuration folders are: Foundation takes a
    /// path that is not an existing folder for a file and resolves against its parent.
    @Test func standardizedPathsAreFoundations() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tensorlint-paths-\(UUID().uuidString)/base").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder + "/..") }
        let paths = ["a.pt2", "./a.pt2", "models/../a.pt2", "/x/y/../../z", "/", "/..", "/../..", "x//y///z/", "x/./y/.",
                     "../up/file.onnx", "../../../../../../../../x", "/abs/./path/", "naïve/dir/f.pt2", "a/b/c/../../../..", ".",
                     // Standard already, and names that only look like `.` or `..`.
                     "/abs/path/f.pt2", "/a/.hidden", "/a/..b/c", "/a/b.", "/a/...", "/a/.b./..c.", "/x", "/caf\u{E9}/cafe\u{301}",
                     // Absolute, and standard but for one thing.
                     "//", "//a", "/a//b", "/a/", "/.", "/a/.", "/./a", "/a/..", "/a/b/.."]
        for path in paths {
            #expect(Array(parentFolder(of: path).utf8) == Array(standardizedPath(path + "/..").utf8), "\(path)")
            #expect(Array(standardizedPath(path).utf8) == Array(URL(fileURLWithPath: path).standardizedFileURL.path.utf8), "\(path)")
            for base in [folder, folder + "/", "/", ".", ".."] {
                let expected = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: base)).standardizedFileURL.path
                #expect(standardizedPath(path, relativeTo: base) == expected, "\(path) against \(base)")
            }
        }
    }

    /// Reports resolve each model's links without URLs: what Foundation's `resolvingSymlinksInPath` gives on
    /// Linux, for files reached through links to folders and files, relative links, and paths that do not exist.
    @Test func resolvedLinksAreFoundations() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tensorlint-links-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/real/deeper", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/real/model.pt2", contents: Data())
        try FileManager.default.createSymbolicLink(atPath: root + "/folder-link", withDestinationPath: root + "/real")
        try FileManager.default.createSymbolicLink(atPath: root + "/relative-link", withDestinationPath: "real/deeper")
        try FileManager.default.createSymbolicLink(atPath: root + "/real/file-link.pt2", withDestinationPath: "model.pt2")
        let paths = ["/real/model.pt2", "/folder-link/model.pt2", "/folder-link/file-link.pt2", "/relative-link", "/relative-link/../model.pt2",
                     "/folder-link/missing.pt2", "/folder-link/missing/deeper.pt2", "/missing/model.pt2", "/real", ""]
        #if os(Linux)
        for path in paths.map({ root + $0 }) + ["/", "/nonexistent-root-folder/x"] {
            #expect(resolvingLinks(path) == URL(fileURLWithPath: path).resolvingSymlinksInPath().path, "\(path)")
        }
        #endif
        // A folder's files resolve alike when the folder is resolved once for all of them.
        for path in paths.map({ standardizedPath(root + $0) }) + ["/", "/nonexistent-root-folder/x"] {
            #expect(resolvingLinks(path, inResolvedFolder: resolvingLinks(parentFolder(of: path))) == resolvingLinks(path), "\(path)")
        }
        // On every platform: a link and what it names resolve alike; a path that does not exist stays as it is.
        #expect(resolvingLinks(root + "/folder-link/file-link.pt2") == resolvingLinks(root + "/real/model.pt2"))
        #expect(resolvingLinks(root + "/relative-link") == resolvingLinks(root + "/real/deeper"))
        #expect(resolvingLinks(root + "/missing/model.pt2") == root + "/missing/model.pt2")
    }

    /// A report resolves each folder's links once for its files: two folders named alike but for their Unicode
    /// form (two folders to Linux), one of them a link, keep their own resolutions, byte for byte.
    @Test func reportsResolveEachFolderByItsBytes() throws {
        #if os(Linux)
        let root = resolvingLinks(FileManager.default.temporaryDirectory.path) + "/tensorlint-forms-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let composed = root + "/caf\u{E9}", decomposed = root + "/cafe\u{301}"
        #expect(mkdir(root, 0o755) == 0 && mkdir(root + "/real", 0o755) == 0 && mkdir(composed, 0o755) == 0)
        #expect(symlink(root + "/real", decomposed) == 0)
        for file in [composed + "/a.onnx", root + "/real/b.onnx"] {
            let descriptor = open(file, O_CREAT | O_WRONLY, 0o644)
            #expect(descriptor >= 0)
            close(descriptor)
        }
        let files = [composed + "/a.onnx", decomposed + "/b.onnx", root + "/missing/c.onnx", composed + "/../real/b.onnx"]
        let report = LintReport(files: files.map { .init(path: $0, format: nil, layout: nil, findings: [], error: nil) }, rules: [],
                                settings: Settings(pack: CoreMLToolsPack.self), knowledgeVersion: nil, toolVersion: "0",
                                workingDirectory: root, sourceRoot: root)
        let expected = ["caf\u{E9}/a.onnx", "real/b.onnx", "missing/c.onnx", "real/b.onnx"]
        #expect(report.repositoryRelativePaths().map { Array($0.utf8) } == expected.map { Array($0.utf8) })
        #endif
    }
}
