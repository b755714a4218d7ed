import Foundation
import Testing
import TensorlintCLI
import TensorlintIR
import TorchArchive
@testable import TorchArchive

/// Every global a model's pickles name is checked against what torch's loaders resolve; nothing is run, and
/// a file that names anything else is a finding that `fix` never copies.
@Suite struct PickleSecurityTests {
    private func names(_ pickle: [UInt8]) -> [String] {
        PickleGlobalScan.scan(pickle).globals.map { "\($0.module).\($0.name)" }
    }

    @Test func everyWayAPickleNamesAGlobalIsFound() {
        // GLOBAL and INST (protocol 0), with their arguments as lines.
        #expect(names(Array("cposix\nsystem\n(S'id'\ntR.".utf8)) == ["posix.system"])
        #expect(names(Array("(S'id'\nios\nsystem\n.".utf8)) == ["os.system"])
        // STACK_GLOBAL (protocol 4) from strings pushed before it, directly and through the memo.
        let stack: [UInt8] = [0x80, 0x04, 0x8C, 0x02] + Array("os".utf8) + [0x94, 0x8C, 0x06] + Array("system".utf8) + [0x94, 0x93, 0x2E]
        #expect(names(stack) == ["os.system"])
        let memo: [UInt8] = [0x80, 0x04, 0x8C, 0x08] + Array("builtins".utf8) + [0x94, 0x8C, 0x04] + Array("eval".utf8) + [0x94, 0x93]
            + [0x68, 0x00, 0x68, 0x01, 0x93, 0x2E]
        #expect(names(memo) == ["builtins.eval", "builtins.eval"])
        // Names built at run time, and the copyreg registry, cannot be told: they are reported as unknown.
        #expect(names([0x80, 0x04, 0x4E, 0x4E, 0x93, 0x2E]) == ["?.?"])
        #expect(names([0x80, 0x02, 0x82, 0x07, 0x2E]) == ["?.copyreg extension 7"])
        // Byte strings and long arguments are skipped whole, so their bytes are never read as opcodes.
        #expect(names([0x80, 0x03, 0x43, 0x03] + Array("c\n\n".utf8) + [0x2E]).isEmpty)
    }

    @Test func theScanStopsWherePythonWouldAndKeepsWhatItFound() {
        let truncated = Array("ctorch\nFloatStorage\ncos\nsys".utf8)
        let scan = PickleGlobalScan.scan(truncated)
        #expect(scan.globals.map(\.name) == ["FloatStorage"])
        #expect(scan.end == nil)
        let two = Array("N.cos\nsystem\n.".utf8)
        #expect(PickleGlobalScan.scan(two).end == 2)
        #expect(PickleGlobalScan.scan(two, from: 2).globals.map(\.module) == ["os"])
    }

    @Test func aNestedStateDictAndATorchScriptPickleNamingCodeAreReported() throws {
        let export = try ModelLoader.load(path: Repo.example("linear.fp32.os_system.torch27.pt2"))
        #expect(export.unsafePickleGlobals.map(\.qualifiedName) == ["posix.system"])
        #expect(export.unsafePickleGlobals.first?.pickle == "serialized_state_dict.pt/archive/data.pkl")
        #expect(export.unsafePickleGlobals.first?.loader == "torch.load(weights_only=True)")
        let script = try ModelLoader.load(path: Repo.example("os_system.fp32.pt"))
        #expect(script.unsafePickleGlobals.map(\.qualifiedName) == ["os.system"])
        #expect(script.unsafePickleGlobals.first?.loader == "torch.jit.load")
    }

    @Test func noExampleModelWithoutAPayloadIsReported() throws {
        let folder = Repo.root.appendingPathComponent("examples/models").path
        let torchFiles = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { ($0.hasSuffix(".pt2") || $0.hasSuffix(".pt")) && !$0.contains("os_system") }
        #expect(torchFiles.count > 20)
        for file in torchFiles {
            #expect(try ModelLoader.load(path: "\(folder)/\(file)").unsafePickleGlobals.isEmpty, "\(file)")
        }
    }

    @Test func fixWritesNoCopyOfAFileWhosePicklesNameCode() throws {
        let folder = temporaryDirectory().path
        let model = "\(folder)/model.pt2"
        try FileManager.default.copyItem(atPath: Repo.example("linear.fp32.os_system.torch27.pt2"), toPath: model)
        var status: Int32 = 0
        var stderr = try captureStandardError { status = runTensorlint(["fix", model, "-o", "\(folder)/fixed.pt2"]) }
        #expect(status == 1)
        #expect(stderr.contains("not fixed: pickle `serialized_state_dict.pt/archive/data.pkl` names `posix.system`"), "\(stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.pt2"])
        stderr = try captureStandardError { status = runTensorlint(["lint", model, "--fix", "--format", "json", "-o", "\(folder)/report.json"]) }
        #expect(status == 1)
        #expect(stderr.contains("not fixed"), "\(stderr)")
        #expect(FileManager.default.contentsEqual(atPath: model, andPath: Repo.example("linear.fp32.os_system.torch27.pt2")))
    }

    @Test(.enabled(if: Repo.shared != nil, "../shared/corpus is absent"))
    func noCorpusArchiveIsReported() throws {
        var checked = 0
        for corpus in ["synthetic", "synthetic-torch2.13", "torchscript"] {
            let folder = Repo.shared!.appendingPathComponent("corpus/\(corpus)/models").path
            for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".pt2") || file.hasSuffix(".pt") {
                let loader: ArchivePickles.Loader = file.hasSuffix(".pt") ? .torchScript : .weightsOnly
                let found = try ArchivePickles.unsafeGlobals(in: ZipEntries(path: "\(folder)/\(file)"), loader: loader)
                #expect(found.isEmpty, "\(corpus)/\(file): \(found.map(\.qualifiedName))")
                checked += 1
            }
        }
        #expect(checked > 1000)
    }
}
