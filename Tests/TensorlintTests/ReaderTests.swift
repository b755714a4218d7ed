import Foundation
import Testing
import TensorlintCLI
import TensorlintIR
@testable import TorchExport

/// What formats open of a file is opened once, for all of them, errors included.
@Suite struct ModelFileTests {
    final class Count: @unchecked Sendable { var value = 0 }

    @Test func aViewIsOpenedOnceAndItsErrorKept() throws {
        let file = try ModelFile(path: Repo.example("leaky_relu.fp16.aten.pt2"))
        #expect(file.prefix.starts(with: [0x50, 0x4B]))
        let opened = Count()
        for _ in 0..<3 {
            let name = try file.view { (path: String) throws(ReadError) -> String in
                opened.value += 1
                return URL(fileURLWithPath: path).lastPathComponent
            }
            #expect(name == "leaky_relu.fp16.aten.pt2")
        }
        #expect(opened.value == 1)
        let failed = Count()
        for _ in 0..<2 {
            #expect(throws: ReadError.malformed("no")) {
                try file.view { (_: String) throws(ReadError) -> [String] in
                    failed.value += 1
                    throw .malformed("no")
                }
            }
        }
        #expect(failed.value == 1)
        #expect(throws: ReadError.unreadable("no such file")) { try ModelFile(path: "/nonexistent/model.pt2") }
    }
}

@Suite struct ReaderTests {
    @Test func readsTheTorch27FlatZip() throws {
        let model = try TorchExportFormat.read(fileAt: Repo.example("linear.fp32.aten.pt2"))
        #expect(model.layout == "legacy flat zip, schema 8.7")
        #expect(model.dialect == "ATEN")
        #expect(model.producerVersion == "2.7.1")
        let graph = model.mainGraph
        #expect(graph.inputs == ["x", "p_fc_weight", "p_fc_bias"])
        #expect(graph.value("p_fc_weight")?.role == .parameter("fc.weight"))
        #expect(graph.value("p_fc_weight")?.dtype == .float32)
        #expect(graph.value("p_fc_weight")?.shape == [6, 8])
        #expect(graph.value("x")?.role == .userInput)
        let node = try #require(graph.nodes.first)
        #expect(node.op == OpName(namespace: "aten", name: "linear", overload: "default"))
        #expect(node.name == "linear", "torch 2.7 files have no node name: it comes from the single output")
        #expect(node.source.modulePath == "fc")
        #expect(node.source.userFrame == SourceInfo.Frame(file: "examples/model.py", line: 12, function: "forward", code: "return self.fc(x)"))
    }

    @Test func readsThePT2ArchiveLayout() throws {
        let model = try TorchExportFormat.read(fileAt: Repo.example("leaky_relu.fp16.aten.pt2"))
        #expect(model.layout == "pt2 archive, schema 8.20")
        let node = try #require(model.mainGraph.nodes.first)
        #expect(node.input(named: "negative_slope")?.argument == .float(0.1))
        #expect(node.input(named: "self")?.argument == .tensor("x"))
        #expect(model.mainGraph.dtype(of: "leaky_relu") == .float16)
    }

    @Test func namesMultiOutputNodesOfOldFilesAfterTheirUnusedOutputs() {
        #expect(ExportedProgramParser.derivedNodeName(target: "torch.ops.aten.x.default", outputs: ["getitem", "bn_unused_1", "bn_unused_2"]) == "bn")
    }

    @Test func readsTheTrainingDialectAndBuffers() throws {
        #expect(try TorchExportFormat.read(fileAt: Repo.example("leaky_relu.fp32.train.pt2")).dialect == "TRAINING")
        let model = try TorchExportFormat.read(fileAt: Repo.example("batch_norm.fp32.aten.pt2"))
        #expect(model.mainGraph.value("b_bn_running_mean")?.role == .buffer("bn.running_mean"))
        #expect(model.mainGraph.nodes[0].name == "_native_batch_norm_legit_no_training")
    }

    @Test(arguments: Repo.brokenFiles)
    func damagedFilesGiveOneLineErrors(_ name: String) {
        #expect(throws: ReadError.self) { try ModelLoader.load(path: Repo.broken(name)) }
        do {
            _ = try ModelLoader.load(path: Repo.broken(name))
        } catch {
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func missingAndUnreadablePathsAreReadErrors() {
        #expect(throws: ReadError.unreadable("no such file")) { try ModelLoader.load(path: "/nonexistent/model.pt2") }
        #expect(throws: ReadError.unreadable("is a directory")) { try ModelLoader.load(path: Repo.root.path) }
    }

    /// Deterministic corruption of a real archive: every variant is read or refused with one line, never a
    /// crash; a truncated archive (its central directory cut off) is always refused.
    @Test func corruptedArchivesAreReadOrRefusedWithOneLine() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Repo.example("batch_norm_relu.fp32.aten.pt2")))
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SplitMix64(seed: 42)
        var refused = 0
        for round in 0..<200 {
            var bytes = [UInt8](original)
            switch round % 3 {
            case 0: bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
            case 1: for _ in 0..<8 { bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            default: bytes.removeSubrange(Int(generator.next() % UInt64(bytes.count / 2))..<(bytes.count / 2 + 10))
            }
            let path = directory.appendingPathComponent("case\(round).pt2").path
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            do {
                _ = try ModelLoader.load(path: path)
                #expect(round % 3 != 0, "a truncated archive (\(bytes.count) of \(original.count) bytes) was read")
            } catch {
                refused += 1
                #expect(!error.description.contains("\n"))
            }
        }
        #expect(refused >= 67, "at least every truncation is refused")
    }
}

/// A seeded generator: random inputs that a failure's seed gives again.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// torch.export programs beyond static shapes and straight-line graphs, and programs that break the schema.
@Suite struct ExportedProgramSchemaTests {
    @Test func dynamicShapesAreSymbolicSizesAndSymIntsAreSymbols() throws {
        let model = try TorchExportFormat.read(fileAt: Repo.example("leaky_relu_dynamic.fp16.aten.pt2"))
        #expect(model.mainGraph.value("x")?.shape == [nil, 4, 8, 8])
        let size = try #require(model.mainGraph.nodes.first)
        #expect(size.op == OpName(namespace: "aten", name: "sym_size", overload: "int"))
        #expect(size.outputs == ["sym_size_int_1"])
        #expect(size.input(named: "dim")?.argument == .int(0))
    }

    @Test func condBranchesAreGraphsOwnedByTheirNode() throws {
        let model = try TorchExportFormat.read(fileAt: Repo.example("cond.fp32.aten.pt2"))
        #expect(model.graphs.map(\.name) == ["main", "true_graph_0", "false_graph_0"])
        let cond = try #require(model.mainGraph.nodes.first { $0.op.name == "cond" })
        #expect(cond.input(named: "true_fn")?.argument == .subgraph(1))
        #expect(cond.input(named: "false_fn")?.argument == .subgraph(2))
        #expect(cond.input(named: "operands")?.argument == .tensors(["x"]))
        #expect(model.graphs[1].owner == .node(graph: 0, node: "cond", attribute: "true_fn"))
        #expect(model.graphs[2].nodes.map(\.op.name) == ["neg"])
        #expect(model.graphs[1].inputs == ["x_1"] && model.graphs[1].dtype(of: "relu") == .float32)
    }

    static let program = """
    {"graph_module": {"graph": {"inputs": [{"as_tensor": {"name": "x"}}], "outputs": [{"as_tensor": {"name": "y"}}],
      "nodes": [{"target": "torch.ops.aten.leaky_relu.default", "name": "y",
                 "inputs": [{"name": "self", "arg": {"as_tensor": {"name": "x"}}}, {"name": "negative_slope", "arg": {"as_float": 0.1}}],
                 "outputs": [{"as_tensor": {"name": "y"}}]}],
      "tensor_values": {"x": {"dtype": 6, "sizes": [{"as_int": 2}]}, "y": {"dtype": 6, "sizes": [{"as_int": 2}]}}}},
     "verifiers": ["ATEN"]}
    """

    @Test func aProgramThatFollowsTheSchemaReads() throws {
        var parser = ExportedProgramParser(entryName: "p.json")
        var pages = PassedPages.kept
        let program = try parser.parse(Data(Self.program.utf8), passing: &pages)
        #expect(program.dialect == "ATEN")
        #expect(program.graphs[0].dtype(of: "y") == .float16)
        #expect(program.graphs[0].nodes[0].input(named: "negative_slope")?.argument == .float(0.1))
    }

    /// Each schema violation is a one-line error naming where it is, never a default value.
    @Test(arguments: [
        ("\"dtype\": 6, \"sizes\": [{\"as_int\": 2}]}, \"y\"", "\"dtype\": \"float16\", \"sizes\": [{\"as_int\": 2}]}, \"y\"", "tensor_values.x.dtype is not a number"),
        ("\"dtype\": 6, \"sizes\": [{\"as_int\": 2}]}, \"y\"", "\"dtype\": 18446744073709551616, \"sizes\": [{\"as_int\": 2}]}, \"y\"",
         "tensor_values.x.dtype: 18446744073709551616 does not fit in 64 bits"),
        ("\"dtype\": 6, \"sizes\": [{\"as_int\": 2}]}, \"y\"", "\"dtype\": 6.5, \"sizes\": [{\"as_int\": 2}]}, \"y\"", "tensor_values.x.dtype is not an integer (6.5)"),
        ("\"verifiers\": [\"ATEN\"]}", "\"verifiers\": [\"ATEN\"]", "p.json is not valid JSON: `,` or `}` expected in an object"),
        ("\"dtype\": 6, \"sizes\": [{\"as_int\": 2}]}, \"y\"", "\"dtype\": -1, \"sizes\": [{\"as_int\": 2}]}, \"y\"", "dtype code -1"),
        ("\"dtype\": 6, \"sizes\": [{\"as_int\": 2}]}, \"y\"", "\"dtype\": true, \"sizes\": [{\"as_int\": 2}]}, \"y\"", "tensor_values.x.dtype is not a number"),
        ("\"tensor_values\"", "\"tensor_valuez\"", "graph_module.graph.tensor_values is missing"),
        ("\"nodes\": [{\"target\": \"torch.ops.aten.leaky_relu.default\", \"name\": \"y\",", "\"nodes\": {\"n\": [{\"target\": \"torch.ops.aten.leaky_relu.default\", \"name\": \"y\",",
         "graph_module.graph.nodes is not a list"),
        ("\"inputs\": [{\"as_tensor\": {\"name\": \"x\"}}]", "\"inputs\": \"x\"", "graph_module.graph.inputs is not a list"),
        ("{\"as_float\": 0.1}", "{\"as_float\": \"0.1\"}", "`0.1` is not a float"),
        ("{\"as_float\": 0.1}", "{\"as_float\": 0.1, \"as_int\": 1}", "a union object has 2 keys, not one"),
        ("\"target\": \"torch.ops.aten.leaky_relu.default\", ", "", "nodes[0].target is missing"),
    ])
    func schemaViolationsAreOneLineErrors(_ replacing: String, _ with: String, _ reason: String) {
        var parser = ExportedProgramParser(entryName: "p.json")
        var text = Self.program.replacingOccurrences(of: replacing, with: with)
        if with.hasPrefix("\"nodes\": {") { text = text.replacingOccurrences(of: "}}]}],\n  \"tensor_values\"", with: "}}]}]},\n  \"tensor_values\"") }
        #expect(text != Self.program)
        do {
            var pages = PassedPages.kept
            _ = try parser.parse(Data(text.utf8), passing: &pages)
            Issue.record("accepted: \(reason)")
        } catch {
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }
}
