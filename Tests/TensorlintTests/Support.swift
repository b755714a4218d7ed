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
    static let knowledge = RuleSet.builtinKnowledge(vocabulary)
    /// The shipped versions, named: tests must not depend on which of several versions a dictionary lists first.
    static let coreml = try! knowledge.knowledge(CoreMLKnowledge.self, target: CoreMLToolsPack.target, version: Version("9.0")!)!
    static let onnxruntime = try! knowledge.knowledge(ONNXRuntimeKnowledge.self, target: ONNXRuntimePack.target, version: Version("1.32.0")!)!

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

/// The lines the CLI writes to standard error while `body` runs, collected for this test's task alone
/// (tests run in parallel, and standard error is the process's).
func captureStandardError(_ body: () throws -> Void) throws -> String {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var text: String { lock.withLock { lines.map { $0 + "\n" }.joined() } }
    }
    let lines = Lines()
    try StandardError.$collector.withValue({ lines.append($0) }) { try body() }
    return lines.text
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
