import Foundation
import Testing
import TensorlintIR

/// The folder walk standardizes every path without URLs: it must give what Foundation's URLs give.
@Suite struct PathTextTests {
    /// Bases are existing folders, as the working directory and configuration folders are: Foundation takes a
    /// path that is not an existing folder for a file and resolves against its parent.
    @Test func standardizedPathsAreFoundations() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tensorlint-paths-\(UUID().uuidString)/base").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder + "/..") }
        let paths = ["a.pt2", "./a.pt2", "models/../a.pt2", "/x/y/../../z", "/", "/..", "/../..", "x//y///z/", "x/./y/.",
                     "../up/file.onnx", "../../../../../../../../x", "/abs/./path/", "naïve/dir/f.pt2", "a/b/c/../../../..", "."]
        for path in paths {
            #expect(standardizedPath(path) == URL(fileURLWithPath: path).standardizedFileURL.path, "\(path)")
            for base in [folder, folder + "/", "/", ".", ".."] {
                let expected = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: base)).standardizedFileURL.path
                #expect(standardizedPath(path, relativeTo: base) == expected, "\(path) against \(base)")
            }
        }
    }
}
