import Foundation
import Testing
import TensorlintCLI
import TensorlintIR
import TorchArchive
@testable import TorchScript

/// The TorchScript reader: pickles walked as data, the printed code parsed, submodules inlined as
/// coremltools' frontend sees them; and its writer's keep-fp32.
@Suite struct TorchScriptReaderTests {
    @Test func submoduleCallsAreInlinedWithTheirWeightsByStateDictPath() throws {
        let model = try TorchScriptFormat.read(fileAt: Repo.example("conv2d.fp16.pt"))
        #expect(model.format == .torchScript)
        let graph = model.mainGraph
        #expect(graph.inputs == ["x", "inner.bias", "inner.weight"])
        #expect(graph.values["x"]?.dtype == .float16, "the traced input's dtype, from traced_inputs.pkl")
        #expect(graph.values["x"]?.shape == [1, 4, 8, 8])
        #expect(graph.values["inner.weight"]?.role == .parameter("inner.weight"))
        #expect(graph.values["inner.weight"]?.shape == [2, 4, 3, 3])
        let conv = try #require(graph.nodes.first)
        #expect(graph.nodes.count == 1)
        #expect(conv.op.description == "aten::_convolution")
        #expect(conv.input(named: "bias")?.argument == .tensor("inner.bias"))
        #expect(conv.input(named: "transposed")?.argument == .bool(false))
        #expect(conv.inputs.count == 13, "every argument of the schema the importer binds")
        #expect(conv.source.modulePath == "inner")
        #expect(conv.source.moduleType == "Conv2d")
        #expect(graph.outputs == [conv.name])
    }

    @Test func omittedArgumentsTakeTheSchemaDefaults() throws {
        let norm = try #require(try TorchScriptFormat.read(fileAt: Repo.example("layer_norm.fp16.pt")).mainGraph.nodes.first)
        #expect(norm.inputs.map(\.name) == ["input", "normalized_shape", "weight", "bias", "eps", "cudnn_enable"])
        #expect(norm.input(named: "eps")?.argument == .float(1e-5))
        #expect(norm.input(named: "cudnn_enable")?.argument == .bool(true))
        let cast = try #require(try TorchScriptFormat.read(fileAt: Repo.example("leaky_relu.island.pt")).mainGraph.nodes.first)
        #expect(cast.op.description == "aten::to")
        #expect(cast.input(named: "dtype")?.argument == .scalarType(.float16), "ScalarType 5 is float16")
        #expect(cast.inputs.count == 5, "to.dtype: self, dtype, non_blocking, copy, memory_format")
    }

    /// Submodule code is peephole-optimised before coremltools inlines it, the top forward is not.
    @Test func intOfNumToTensorFoldsInSubmodulesOnly() throws {
        let top = try TorchScriptFormat.read(fileAt: Repo.example("flatten_view.fp32.pt")).mainGraph
        let child = try TorchScriptFormat.read(fileAt: Repo.example("flatten_view.child.fp32.pt")).mainGraph
        #expect(top.nodes.map(\.op.description) == ["aten::size", "prim::NumToTensor", "aten::Int", "aten::view"])
        #expect(!child.nodes.map(\.op.description).contains("aten::Int"))
    }

    /// What `torch.jit.script` prints: loops and branches convert as their bodies, a list built by `append`
    /// is that list, a free function is inlined; without traced inputs, tensors are taken as fp32.
    @Test func scriptedCodeIsReadAsItsGraph() throws {
        let model = try TorchScriptFormat.read(fileAt: Repo.example("scripted_control.fp32.pt"))
        let graph = model.mainGraph
        #expect(graph.inputs == ["x", "n"])
        #expect(graph.values["x"]?.dtype == .float32 && graph.values["n"]?.dtype == .int64)
        #expect(model.metadata["inputs"] != nil, "says what it assumed")
        #expect(graph.nodes.map(\.op.description) == ["aten::relu", "aten::sum", "aten::gt", "aten::Bool", "aten::mul", "aten::leaky_relu"])
        #expect(graph.outputs == [graph.nodes.last!.name])
    }

    @Test func hostileArchivesAreRefusedWithoutRunningAnything() {
        let cases = [
            "ts_unknown_reconstructor.pt": "malformed model: data.pkl: names the global `torch._utils._rebuild_qtensor`, a reconstructor tensorlint does not interpret; nothing was run",
            "ts_protocol4.pt": "malformed model: data.pkl: pickle protocol 4; torch writes protocol 2",
            "ts_frame_opcode.pt": "malformed model: data.pkl: pickle opcode 0x95 (at byte 2) is not one torch's pickler writes",
            "ts_truncated_pickle.pt": "malformed model: data.pkl: truncated pickle (at byte 40)",
            "ts_bad_code.pt": "malformed model: code/__torch__.py:8: expected the end of the statement, found `@`",
            "ts_deep_nesting.pt": "malformed model: code/__torch__.py:8: brackets nested deeper than 200",
            "ts_deep_blocks.pt": "malformed model: code/__torch__.py:206: nesting deeper than 200 blocks",
        ]
        for (name, message) in cases {
            #expect(throws: ReadError.self) { try ModelLoader.load(path: Repo.broken(name)) }
            do { _ = try ModelLoader.load(path: Repo.broken(name)) } catch { #expect(error.description == message, "\(name)") }
            var status: Int32 = 0
            let errors = try? captureStandardError { status = runTensorlint(["lint", "--format", "json", Repo.broken(name)]) }
            #expect(status == 2, "\(name)")
            #expect(errors == "\(Repo.broken(name)): \(message)\n")
        }
    }

    /// A `torch.save` checkpoint has TorchScript's container but no code: named, it is refused as such.
    @Test func aTorchSaveArchiveIsNamedForWhatItIs() throws {
        let path = temporaryDirectory().appendingPathComponent("checkpoint.pt").path
        try ZipFixture.write(["checkpoint/data.pkl": [0x80, 0x02, 0x7D, 0x2E], "checkpoint/version": Array("3\n".utf8)], to: path)
        #expect(ModelLoader.format(ofFoundFile: path) == nil, "a folder walk passes it by")
        #expect(throws: ReadError.notThisFormat("a torch.save archive (pickled tensors or objects, no TorchScript code): nothing to convert")) {
            try ModelLoader.load(path: path)
        }
    }

    @Test func thePickleMachineReadsTorchsDialectAsData() throws {
        // {'a': (1, -2, 0.5)} with a memoized key read back, LONG1 for a negative integer, BINFLOAT big-endian.
        let bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x28, 0x58, 1, 0, 0, 0, 0x61, 0x71, 0, 0x4B, 1, 0x8A, 1, 0xFE,
                              0x47, 0x3F, 0xE0, 0, 0, 0, 0, 0, 0, 0x87, 0x68, 0, 0x4E, 0x75, 0x2E]
        guard case .dict(let pairs) = try PickleMachine.load(bytes, name: "test") else { Issue.record("not a dict"); return }
        #expect(pairs.count == 2)
        #expect(pairs[0].key.string == "a" && pairs[1].key.string == "a", "BINGET returns the memoized key")
        guard case .tuple(let items) = pairs[0].value else { Issue.record("not a tuple"); return }
        #expect(items.count == 3 && items[0].int == 1 && items[1].int == -2)
        if case .float(let half) = items[2] { #expect(half == 0.5) } else { Issue.record("not a float") }
        #expect(throws: PickleError.self) { try PickleMachine.load([0x80, 0x02, 0x68, 5, 0x2E], name: "memo") }
        #expect(throws: PickleError.self) { try PickleMachine.load([0x80, 0x02, 0x29, 0x29, 0x2E], name: "two values") }
        #expect(throws: PickleError.self) { try PickleMachine.load([0x80, 0x02, 0x28, 0x74, 0x2E].dropLast(), name: "no STOP") }
    }

    /// APPEND after APPEND on one list copies it each time: the machine bounds that work instead of hanging.
    @Test func quadraticPicklesStopWithAnError() {
        var bytes: [UInt8] = [0x80, 0x02, 0x5D]
        for _ in 0..<20_000 { bytes += [0x4E, 0x61] }
        bytes.append(0x2E)
        #expect(throws: PickleError("quadratic: builds containers of more than 50000000 items in all")) {
            try PickleMachine.load(bytes, name: "quadratic")
        }
    }

    @Test func theCodeParserReadsThePrintersLiterals() throws {
        let text = "class A(Module):\n  __parameters__ = [\"w\", ]\n  w : Tensor\n  def forward(self: __torch__.A,\n    x: Tensor,\n    n: int=2) -> Tensor:\n    _0 = torch.add(x, 1.)\n    _1 = torch.clamp(_0, -inf, 0.20000000000000001)\n    s = \"a\\101\\n\"\n    a, b, = (_0, _1)\n    return _1\n"
        let file = try SourceFile(parsing: text)
        let forward = try #require(file.classes.first?.methods["forward"])
        #expect(file.classes.first?.parameters == ["w"])
        #expect(forward.parameters.map(\.name) == ["self", "x", "n"])
        #expect(forward.parameters[2].type == "int")
        guard case .assign(_, .call(_, let arguments, _, _)) = forward.body[1].kind, case .negate(.float(let low)) = arguments[1],
              case .float(let high) = arguments[2] else { Issue.record("clamp not parsed"); return }
        #expect(low == .infinity && high == 0.2)
        guard case .assign(_, .string(let string)) = forward.body[2].kind else { Issue.record("string not parsed"); return }
        #expect(string == "aA\n", "octal and simple escapes")
        guard case .assign(let targets, _) = forward.body[3].kind else { Issue.record("unpack not parsed"); return }
        #expect(targets == ["a", "b"])
    }
}

@Suite(.serialized) struct TorchScriptWriterTests {
    @Test func keepFP32WidensStoragesAndCastsAndCopiesEverythingElse() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for fixture in ["conv2d.fp16.pt", "leaky_relu.island.pt"] {
            let fixed = directory.appendingPathComponent(fixture).path
            #expect(runTensorlint(["fix", Repo.example(fixture), "-o", fixed, "--minimum-deployment-target", "iOS16"]) == 0)
            let model = try TorchScriptFormat.read(fileAt: fixed)
            let narrow = model.mainGraph.values.values.filter { [.float16, .bfloat16].contains($0.dtype) }
            #expect(narrow.isEmpty, "\(fixture): \(narrow.map(\.name))")
            #expect(!model.mainGraph.nodes.contains { $0.inputs.contains { $0.argument == .scalarType(.float16) } })
            if fixture == "leaky_relu.island.pt" {
                let code = String(decoding: try ZipEntries(path: fixed).data("leaky_relu.island/code/__torch__.py"), as: UTF8.self)
                #expect(code.contains("input = torch.to(x, 6)"), "the fp16 cast is a float32 one")
            }
            let before = try ZipEntries(path: Repo.example(fixture)), after = try ZipEntries(path: fixed)
            #expect(before.names == after.names, "the entries in their order")
            for name in before.names {
                let old = try before.data(name), new = try after.data(name)
                if name.hasSuffix("/data/0") || name.hasSuffix("/data/1") {
                    // fp16 → fp32 of each element: 2 bytes become 4, with the same value.
                    let halves = old.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
                    let floats = new.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                    #expect(floats == halves.map { Float(Float16(bitPattern: $0)) }, "\(name)")
                } else if name.hasSuffix(".py") {
                    #expect(new.count == old.count, "\(name): the same length, so debug ranges still point where they did")
                    #expect(zip(old, new).filter { $0 != $1 }.count <= 2, "\(name): only the dtype numbers change")
                } else if !name.hasSuffix(".pkl") {
                    #expect(old == new, "\(name) copied byte for byte")
                }
            }
        }
    }

    /// `rewrite-op` puts torch's decomposition in place of the call, as one expression of the call's arguments.
    @Test func rewriteOpReplacesTheCallInTheCode() throws {
        let fixed = temporaryDirectory().appendingPathComponent("celu.pt").path
        #expect(runTensorlint(["fix", Repo.example("celu.fp32.pt"), "-o", fixed]) == 0)
        let code = String(decoding: try ZipEntries(path: fixed).data("celu.fp32/code/__torch__.py"), as: UTF8.self)
        #expect(code.contains("return torch.where(torch.gt(x, 0), x, torch.mul(torch.expm1(torch.mul(x, 1.0)), 1.0))"))
        #expect(try TorchScriptFormat.read(fileAt: fixed).mainGraph.nodes.map(\.op.description)
                == ["aten::gt", "aten::mul", "aten::expm1", "aten::mul", "aten::where"])
    }
}
