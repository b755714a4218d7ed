import Foundation
import TensorlintCLI
import TensorlintEngine
import TensorlintIR
import ZIPFoundation
@testable import TensorlintPacks

/// Paths in the repository, found from this file so that tests run from any working directory.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func example(_ name: String) -> String { root.appendingPathComponent("examples/models/\(name)").path }
    static func broken(_ name: String) -> String { root.appendingPathComponent("examples/broken/\(name)").path }
    static var brokenFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("examples/broken").path)) ?? []).sorted()
    }
    /// `../shared` beside the repository, when this machine has it.
    static var shared: URL? {
        let url = root.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("corpus").path) ? url : nil
    }
}

enum Engine {
    static let vocabulary = Registry.vocabulary
    static let rules = try! RuleSet.builtin(vocabulary)
    static let knowledge = try! RuleSet.builtinKnowledge(vocabulary)
    /// The shipped versions, named: tests must not depend on which of several versions a dictionary lists first.
    static let coreml = knowledge.knowledge(CoreMLKnowledge.self, target: CoreMLToolsPack.target, version: Version("9.0")!)!
    static let onnxruntime = knowledge.knowledge(ONNXRuntimeKnowledge.self, target: ONNXRuntimePack.target, version: Version("1.32.0")!)!

    static func lint(_ path: String, rules: [Rule] = Engine.rules, converter: any ConverterPack.Type = CoreMLToolsPack.self,
                     target: String = "iOS15", precision: ComputePrecision = .float16) throws -> [Finding] {
        let model = try ModelLoader.load(path: path)
        let settings = Settings(pack: converter, deploymentTarget: DeploymentTarget(target)!, computePrecision: precision)
        return Linter(rules: rules, knowledge: knowledge).lint(model, settings: settings)
    }
}

/// A fresh temporary directory for one test.
func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tensorlint-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// What `body` writes to standard error (the CLI's warnings), captured through a temporary file.
func captureStandardError(_ body: () throws -> Void) throws -> String {
    let file = temporaryDirectory().appendingPathComponent("stderr.txt").path
    FileManager.default.createFile(atPath: file, contents: nil)
    let saved = dup(STDERR_FILENO), target = open(file, O_WRONLY)
    dup2(target, STDERR_FILENO)
    close(target)
    defer {
        dup2(saved, STDERR_FILENO)
        close(saved)
    }
    try body()
    return try String(contentsOfFile: file, encoding: .utf8)
}

/// Writes a stored zip archive with the given entries, in order (for archives of other formats).
enum ZipFixture {
    static func write(_ entries: KeyValuePairs<String, [UInt8]>, to path: String) throws {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (name, bytes) in entries {
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .none) { position, size in
                Data(bytes[Int(position)..<Int(position) + size])
            }
        }
    }
}
