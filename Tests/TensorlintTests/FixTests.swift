import Foundation
import Testing
@testable import ONNX
@testable import TorchExport
import TorchArchive
@testable import TensorlintCLI
@testable import TensorlintEngine
import TensorlintIR
@testable import TensorlintPacks

/// `tensorlint fix` on the example ONNX models, without Python: each fix cures what it claims to, the
/// tensors it does not convert keep their bytes, and failures leave the original untouched.
@Suite(.serialized) struct FixTests {
    /// Each initializer's TensorProto bytes, by name (dense ones in the main graph).
    func initializerBytes(_ path: String) throws -> [String: [UInt8]] {
        let file = try MappedFile(path: path)
        var parser = ModelParser(bytes: file.bytes, modelFolder: "")
        _ = try parser.parseModel(path: path)
        var reader = WireReader(file.bytes, range: parser.graphRanges[0], message: "GraphProto")
        var tensors: [String: [UInt8]] = [:]
        while let field = try reader.nextField() {
            guard field.number == 5 else { try reader.skip(field.wireType); continue }
            let range = try reader.lengthDelimited()
            let header = try ModelParser.tensorHeader(WireReader(file.bytes, range: range, message: "TensorProto"))
            tensors[header.name] = Array(file.bytes[range])
        }
        return tensors
    }

    func errors(_ path: String) throws -> [Finding] {
        try Engine.lint(path, converter: ONNXRuntimePack.self).filter { $0.severity == .error }
    }

    /// `rounds`: the fix narrows a value (an fp32 initializer to fp16, or a Cast down before the node), so it
    /// is unsafe for that occurrence and runs only with `--unsafe-fixes`.
    @Test(arguments: [
        ("add_fp16_fp32_initializer.onnx", "ort-type-parameter-mismatch", ["b"], true),
        ("max_variadic_mixed.onnx", "ort-type-parameter-mismatch", ["c"], true),
        ("add_fp16_fp32_sparse_initializer.onnx", "ort-type-parameter-mismatch", [], true),
        ("cast_to_fp32_declared_fp16.onnx", "ort-declared-type-mismatch", [], false),
        ("resize_fp16_scales.onnx", "ort-disallowed-input-type", ["scales"], false),
        ("gemm_bf16.onnx", "ort-missing-cpu-kernel", [], false),
        ("leaky_relu_bf16.onnx", "ort-missing-cpu-kernel", [], false),
        ("overridable_input_conflict.onnx", "ort-initializer-type-conflict", ["w"], false),
    ])
    func fixCuresTheFindingAndKeepsOtherTensors(_ fixture: String, _ rule: String, _ converted: [String], _ rounds: Bool) throws {
        let original = Repo.example(fixture)
        let finding = try #require(try errors(original).first { $0.ruleId == rule })
        #expect(finding.fixApplicability == (rounds ? .unsafe : .safe))
        let fixed = temporaryDirectory().appendingPathComponent(fixture).path
        if rounds {
            #expect(runTensorlint(["fix", "--target", "onnxruntime", original, "--output", fixed]) == 1, "an unsafe fix ran without --unsafe-fixes")
            #expect(!FileManager.default.fileExists(atPath: fixed))
        }
        #expect(runTensorlint(["fix", "--target", "onnxruntime", original, "--output", fixed] + (rounds ? ["--unsafe-fixes"] : [])) == 0)
        let left = try errors(fixed)
        #expect(left.isEmpty, "errors left in the fixed \(fixture): \(left.map(\.message))")
        let before = try initializerBytes(original), after = try initializerBytes(fixed)
        for (name, bytes) in before where !converted.contains(name) {
            #expect(after[name] == bytes, "\(name) changed")
        }
        for name in converted {
            #expect(after[name] != nil && after[name] != before[name], "\(name) was not converted")
        }
    }

    @Test func convertedWeightsKeepTheirValues() throws {
        // resize's scales [1, 1, 2, 2] in fp16 become fp32 raw_data holding the same numbers.
        let fixed = temporaryDirectory().appendingPathComponent("resize.onnx").path
        #expect(runTensorlint(["fix", "--target", "onnxruntime", Repo.example("resize_fp16_scales.onnx"), "-o", fixed]) == 0)
        let scales = try #require(try initializerBytes(fixed)["scales"])
        let payload: [UInt8] = [1, 1, 2, 2].flatMap { (value: Float) in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
        #expect(scales.suffix(payload.count).elementsEqual(payload))
    }

    /// The byte replacements in a SARIF result's `fixes`, applied to the model, give what `fix` writes.
    @Test func sarifFixesReproduceTheWrittenFix() throws {
        let original = Repo.example("max_variadic_mixed.onnx")
        let directory = temporaryDirectory()
        let fixed = directory.appendingPathComponent("fixed.onnx").path, log = directory.appendingPathComponent("out.sarif").path
        #expect(runTensorlint(["fix", "--target", "onnxruntime", "--unsafe-fixes", original, "-o", fixed]) == 0)
        #expect(runTensorlint(["lint", "--target", "onnxruntime", "--format", "sarif", original, "-o", log]) == 1)
        let sarif = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: log))) as? [String: Any]
        let result = try #require(((sarif?["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first)
        let change = try #require(((result["fixes"] as? [[String: Any]])?.first?["artifactChanges"] as? [[String: Any]])?.first)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: original)))
        let replacements = try #require(change["replacements"] as? [[String: Any]])
        for replacement in replacements.reversed() {
            let region = try #require(replacement["deletedRegion"] as? [String: Int])
            let inserted = try #require(Data(base64Encoded: (replacement["insertedContent"] as? [String: String])?["binary"] ?? ""))
            bytes.replaceSubrange(region["byteOffset"]!..<region["byteOffset"]! + region["byteLength"]!, with: inserted)
        }
        #expect(bytes == [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixed))))
    }

    @Test func nothingToFixIsExitOneAndWritesNothing() throws {
        let output = temporaryDirectory().appendingPathComponent("out.onnx").path
        #expect(runTensorlint(["fix", "--target", "onnxruntime", Repo.example("add_fp16.onnx"), "-o", output]) == 1)
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(runTensorlint(["fix", "--target", "onnxruntime", "--dry-run", Repo.example("resize_fp16_scales.onnx")]) == 0)
    }

    @Test func inPlaceReplacesTheFileAtomically() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("model.onnx").path
        try FileManager.default.copyItem(atPath: Repo.example("cast_to_fp32_declared_fp16.onnx"), toPath: path)
        #expect(runTensorlint(["fix", "--target", "onnxruntime", "--in-place", path]) == 0)
        #expect(try errors(path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.onnx"], "no temporary file left")
    }

    @Test func failuresExitTwoAndLeaveTheOriginal() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("model.onnx").path
        try FileManager.default.copyItem(atPath: Repo.example("add_fp16_fp32_initializer.onnx"), toPath: path)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(runTensorlint(["fix", "--target", "onnxruntime", directory.appendingPathComponent("missing.onnx").path, "-o", path + ".out"]) == 2)
        #expect(runTensorlint(["fix", "--target", "onnxruntime", path, "-o", "/no/such/folder/out.onnx"]) == 2)
        #expect(runTensorlint(["fix", "--target", "onnxruntime", path]) == 2, "one of --output, --in-place, --dry-run is required")
        #expect(runTensorlint(["fix", "--target", "onnxruntime", Repo.broken("truncated.onnx"), "-o", path + ".out"]) == 2)
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
        if getuid() != 0 {  // root may write anyway
            #expect(runTensorlint(["fix", "--target", "onnxruntime", "--in-place", path]) == 2)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.onnx"])
    }
}

/// "Keep the model fp32" on torch.export archives: the PT2 layout is rewritten, the pickled one is not.
@Suite(.serialized) struct KeepFP32Tests {
    @Test func pt2ArchiveBecomesFP32WithWidenedWeights() throws {
        let original = Repo.example("linear.bf16.aten.pt2")
        #expect(try Engine.lint(original).contains { $0.ruleId == "coreml-bfloat16-tensor" })
        let fixed = temporaryDirectory().appendingPathComponent("linear.pt2").path
        #expect(runTensorlint(["fix", original, "--output", fixed]) == 0)
        let model = try ModelLoader.load(path: fixed)
        let dtypes = Set(model.graphs.flatMap { $0.values.values.compactMap(\.dtype) })
        #expect(dtypes == [.float32])
        #expect(try Engine.lint(fixed).isEmpty)

        let before = try ZipEntries(path: original), after = try ZipEntries(path: fixed)
        #expect(before.names == after.names)
        for name in before.names {
            let old = try before.data(name, limit: .max), new = try after.data(name, limit: .max)
            if name.contains("/data/weights/weight_") {
                #expect(new.count == 2 * old.count, "\(name) widened from 2 to 4 bytes per element")
            } else if name.hasSuffix(".json") {
                #expect(!String(decoding: new, as: UTF8.self).contains("\"dtype\": 13"))
            } else {
                #expect(new == old, "\(name) copied unchanged")
            }
        }
    }

    @Test func bf16WeightsWidenExactly() throws {
        // 1.0, -2.5 and 0.1 (rounded to bf16) keep their values as float32.
        let values: [Float] = [1.0, -2.5, Float(bitPattern: 0x3DCC_0000)]
        let bf16 = Data(values.flatMap { value -> [UInt8] in
            let bits = UInt16(value.bitPattern >> 16)
            return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
        })
        let widened = try #require(HalfPrecision.widenedToFloat32(bf16, from: .bfloat16))
        let floats = stride(from: 0, to: widened.count, by: 4).map { offset in
            Float(bitPattern: widened[offset..<offset + 4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) })
        }
        #expect(floats == values)
    }

    /// The torch 2.7 layout: the state dict's pickle is rewritten at the opcode level, its storages widened.
    @Test func flatZipStateDictIsWidenedThroughThePickle() throws {
        let original = Repo.example("linear.bf16.torch27.pt2")
        let fixed = temporaryDirectory().appendingPathComponent("linear27.pt2").path
        #expect(runTensorlint(["fix", original, "--output", fixed]) == 0)
        #expect(try Engine.lint(fixed).isEmpty)
        let nested = try ZipEntries(path: fixed).data("serialized_state_dict.pt", limit: .max)
        let directory = temporaryDirectory()
        let nestedPath = directory.appendingPathComponent("state.pt").path
        try nested.write(to: URL(fileURLWithPath: nestedPath))
        let state = try ZipEntries(path: nestedPath)
        let pickle = try [UInt8](state.data("archive/data.pkl"))
        let storages = try PickleStorages(pickle)
        #expect(Set(storages.classOfKey.values) == ["FloatStorage"])
        #expect(try state.data("archive/data/0").count == 6 * 4, "fc.bias: 6 elements, now 4 bytes each")
        #expect(try state.data("archive/data/1").count == 48 * 4, "fc.weight: 6×8 elements")
    }

    @Test func picklesWithOtherOpcodesAreRefused() {
        // PROTO 4 with a FRAME opcode: outside the subset torch.save writes at protocol 2.
        #expect(throws: PickleError.self) { try PickleStorages([0x80, 0x04, 0x95, 1, 0, 0, 0, 0, 0, 0, 0, 0x7D, 0x2E]) }
    }
}

/// `rewrite-op` on torch.export archives: ops coremltools cannot convert give way to torch's own
/// decomposition of them, with tensor metadata for every new value, in both archive layouts.
@Suite(.serialized) struct RewriteTests {
    @Test(arguments: [
        ("celu.fp32.aten.pt2", "iOS15", "coreml-unsupported-op", "aten.celu.default",
         ["aten.gt.Scalar", "aten.mul.Scalar", "aten.expm1.default", "aten.mul.Scalar", "aten.where.self"]),
        ("where_scalar_other.fp32.aten.pt2", "iOS15", "coreml-unsupported-op", "aten.where.ScalarOther",
         ["aten.logical_not.default", "aten.where.ScalarSelf"]),
        ("hardshrink.fp32.aten.pt2", "iOS17", "coreml-scalar-fp32-constant", "aten.where.ScalarSelf", ["aten.where.ScalarSelf"]),
        ("fmod.fp32.aten.pt2", "iOS15", "coreml-unsupported-op", "aten.fmod.Scalar",
         ["aten.abs.default", "aten.remainder.Scalar", "aten.sign.default", "aten.mul.Tensor"]),
        ("batch_norm_relu.fp32.aten.pt2", "iOS15", "coreml-unbound-op-output", "aten._native_batch_norm_legit_no_training.default",
         ["aten.batch_norm.default"]),
        ("lerp_tensor.fp16.torch27.pt2", "iOS15", "coreml-unsupported-op", "aten.lerp.Tensor",
         ["aten.abs.default", "aten.lt.Scalar", "aten.sub.Tensor", "aten.mul.Tensor", "aten.add.Tensor", "aten.rsub.Scalar",
          "aten.mul.Tensor", "aten.sub.Tensor", "aten.where.self"]),
    ])
    func rewriteCuresTheFinding(_ fixture: String, _ target: String, _ rule: String, _ op: String, _ inserted: [String]) throws {
        let original = Repo.example(fixture)
        #expect(try Engine.lint(original, target: target).contains { $0.ruleId == rule && $0.op == op })
        let fixed = temporaryDirectory().appendingPathComponent(fixture).path
        #expect(runTensorlint(["fix", "--minimum-deployment-target", target, original, "--output", fixed]) == 0)
        let left = try Engine.lint(fixed, target: target).filter { $0.severity == .error }
        #expect(left.isEmpty, "errors left in the fixed \(fixture): \(left.map(\.message))")

        let before = try ModelLoader.load(path: original).mainGraph, after = try ModelLoader.load(path: fixed).mainGraph
        let position = try #require(before.nodes.firstIndex { $0.op.description == op })
        let expected = before.nodes[..<position].map(\.op.description) + inserted + before.nodes[(position + 1)...].map(\.op.description)
        #expect(after.nodes.map(\.op.description) == expected)
        #expect(after.inputs == before.inputs && after.outputs == before.outputs)
        // Every value a node reads is written before it or is a graph input, and has a dtype and a shape.
        var available = Set(after.inputs)
        for node in after.nodes {
            for name in node.inputs.flatMap(\.argument.tensorNames) {
                #expect(available.contains(name), "`\(name)` read before it is written")
            }
            for name in node.outputs.compactMap({ $0 }) {
                #expect(after.values[name]?.dtype != nil && after.values[name]?.shape != nil, "`\(name)` has no metadata")
                available.insert(name)
            }
        }
        // Weights and other entries are carried over; only the program changes (and widens, for fp16).
        let entriesBefore = try ZipEntries(path: original), entriesAfter = try ZipEntries(path: fixed)
        #expect(entriesBefore.names == entriesAfter.names)
        let widened = fixture.contains(".fp16.")
        let widenedEntries = ["serialized_state_dict.pt", "serialized_constants.pt"]
        for name in entriesBefore.names where !name.hasSuffix(".json") && !(widened && widenedEntries.contains(name)) {
            #expect(try entriesBefore.data(name, limit: .max) == entriesAfter.data(name, limit: .max), "\(name) changed")
        }
    }

    /// fmod's divisor is written as its magnitude: the sign of the result comes from the dividend alone.
    @Test func fmodDividesByTheDivisorsMagnitude() throws {
        let fixed = temporaryDirectory().appendingPathComponent("fmod.pt2").path
        #expect(runTensorlint(["fix", Repo.example("fmod.fp32.aten.pt2"), "--output", fixed]) == 0)
        let remainder = try #require(try ModelLoader.load(path: fixed).mainGraph.nodes.first { $0.op.name == "remainder" })
        #expect(remainder.input(named: "other")?.argument == .float(1.5))
    }

    /// New values get the broadcast shape of their inputs and contiguous strides, even when no input has it.
    @Test func newValuesAreLaidOutByBroadcasting() throws {
        let fixed = temporaryDirectory().appendingPathComponent("lerp.pt2").path
        #expect(runTensorlint(["fix", Repo.example("lerp_tensor.fp16.torch27.pt2"), "--output", fixed]) == 0)
        let graph = try ModelLoader.load(path: fixed).mainGraph
        #expect(graph.values["lerp_difference"]?.shape == [1, 4, 8, 8], "y [1,1,1,8] - x [1,4,8,1]")
        #expect(graph.values["lerp_small"]?.shape == [8] && graph.values["lerp_small"]?.dtype == .bool)
        #expect(graph.values["lerp_far"]?.dtype == .float32)
        let program = try JSONSerialization.jsonObject(with: try ZipEntries(path: fixed).data("serialized_exported_program.json"))
        let values = (((program as? [String: Any])?["graph_module"] as? [String: Any])?["graph"] as? [String: Any])?["tensor_values"] as? [String: Any]
        let difference = try #require(values?["lerp_difference"] as? [String: Any])
        let strides = (difference["strides"] as? [[String: Int]])?.compactMap { $0["as_int"] }
        #expect(strides == [256, 64, 8, 1], "contiguous strides of [1, 4, 8, 8]")
    }

    /// A rewrite writes only the first output; a node whose other outputs are read keeps them.
    @Test func aNodeWhoseLaterOutputsAreReadIsNotRewritten() throws {
        var graph = try ModelLoader.load(path: Repo.example("batch_norm_relu.fp32.aten.pt2")).mainGraph
        let batchNorm = try #require(graph.nodes.first { $0.op.name == "_native_batch_norm_legit_no_training" })
        let rewrite = try #require(Engine.coreml.rewrites[batchNorm.op.description])
        #expect(rewrite.replacement(for: batchNorm, in: graph)?.count == 1)
        let savedMean = try #require(batchNorm.outputs[1])
        graph.nodes.append(Node(name: "reads_mean", op: OpName(namespace: "aten", name: "relu", overload: "default"),
                                inputs: [NodeInput(name: "self", argument: .tensor(savedMean))], outputs: ["reads_mean"], source: SourceInfo()))
        #expect(rewrite.replacement(for: batchNorm, in: graph) == nil)
    }

    /// Rewrites emit only ops the same coremltools version converts, and each variant's steps parse.
    @Test func rewritesEmitOnlyRegisteredOps() throws {
        for version in Engine.knowledge.versions(of: CoreMLToolsPack.target) {
            let knowledge = try #require(try Engine.knowledge.knowledge(CoreMLKnowledge.self, target: CoreMLToolsPack.target, version: version))
            #expect(!knowledge.rewrites.isEmpty)
            for (op, rewrite) in knowledge.rewrites {
                for variant in rewrite.variants {
                    for step in variant.steps {
                        #expect(knowledge.registeredKinds.contains(CoreMLKnowledge.sanitizedKind(step.op)),
                                "\(op) rewrite emits \(step.op), which coremltools \(version) does not register")
                    }
                }
            }
        }
    }

    @Test func stepsAndConditionsParse() {
        let step = TorchRewrite.step("scaled: aten.div.Scalar(self=self, other=1 - alpha) -> bool")
        #expect(step?.op == OpName(namespace: "aten", name: "div", overload: "Scalar"))
        #expect(step?.arguments.map(\.expression) == [.reference("self"), .difference(1, "alpha")])
        #expect(step?.isBoolean == true)
        #expect(TorchRewrite.step("where: aten.where.ScalarSelf(condition=c, self=like_output(self), other=x)")?.arguments[1].expression == .likeOutput("self"))
        #expect(TorchRewrite.step("r: aten.remainder.Scalar(self=m, other=abs(other))")?.arguments[1].expression == .absolute("other"))
        #expect(TorchRewrite.step("no op here") == nil)
        #expect(TorchRewrite.condition("abs(weight) < 0.5") == .absoluteBelow("weight", 0.5))
        #expect(TorchRewrite.condition("value == 1") == .equals("value", 1))
        #expect(TorchRewrite.condition("self is int") == .isInt("self"))
        #expect(TorchRewrite.condition("weight > 2") == nil)
    }
}

/// Each rewrite on small IR graphs: which variant applies, what its steps read, and when it declines.
@Suite struct RewriteTableTests {
    let rewrites = Engine.coreml.rewrites

    /// A graph whose node `op` reads `inputs` (tensor names, or literals) and writes `out`; tensors are
    /// fp32 [2, 3] unless `dtypes` says otherwise.
    func graph(_ op: String, _ inputs: [(String, Argument)], dtypes: [String: DType] = [:], outputs: [String] = ["out"]) -> Graph {
        let parts = op.split(separator: ".").map(String.init)
        let node = Node(name: "out", op: OpName(namespace: parts[0], name: parts[1], overload: parts[2]),
                        inputs: inputs.map { NodeInput(name: $0.0, argument: $0.1) }, outputs: outputs, source: SourceInfo())
        var values: [String: Value] = [:]
        for name in inputs.flatMap({ $0.1.tensorNames }) + outputs {
            values[name] = Value(name: name, dtype: dtypes[name] ?? .float32, shape: [2, 3], role: .intermediate)
        }
        return Graph(name: "main", nodes: [node], values: values, inputs: inputs.flatMap { $0.1.tensorNames }, outputs: ["out"])
    }

    func ops(_ op: String, _ inputs: [(String, Argument)], dtypes: [String: DType] = [:]) -> [String]? {
        let graph = graph(op, inputs, dtypes: dtypes)
        return rewrites[op]?.replacement(for: graph.nodes[0], in: graph)?.map(\.op.description)
    }

    @Test func variantsFollowTheScalars() {
        let addcmul = [("self", Argument.tensor("x")), ("tensor1", .tensor("a")), ("tensor2", .tensor("b"))]
        #expect(ops("aten.addcmul.default", addcmul) == ["aten.mul.Tensor", "aten.add.Tensor"], "value defaults to 1")
        #expect(ops("aten.addcmul.default", addcmul + [("value", .float(0.5))]) == ["aten.mul.Scalar", "aten.mul.Tensor", "aten.add.Tensor"])
        let lerp = [("self", Argument.tensor("x")), ("end", .tensor("y"))]
        #expect(ops("aten.lerp.Scalar", lerp + [("weight", .float(0.25))])?.last == "aten.add.Tensor", "self + w * (end - self)")
        #expect(ops("aten.lerp.Scalar", lerp + [("weight", .float(0.75))])?.last == "aten.sub.Tensor", "end - (end - self) * (1 - w)")
        let graph = graph("aten.lerp.Scalar", lerp + [("weight", .float(0.75))])
        let step = rewrites["aten.lerp.Scalar"]?.replacement(for: graph.nodes[0], in: graph)?[1]
        #expect(step?.inputs.first { $0.name == "other" }?.argument == .float(0.25))
    }

    @Test func celuScalesByTheReciprocalAndDeclinesAZeroAlpha() {
        let graph = graph("aten.celu.default", [("self", .tensor("x")), ("alpha", .float(2))])
        let nodes = rewrites["aten.celu.default"]?.replacement(for: graph.nodes[0], in: graph)
        #expect(nodes?[1].inputs.last?.argument == .float(0.5))
        #expect(nodes?[0].dtype == .bool && nodes?[4].dtype == .float32 && nodes?[4].output == "out")
        #expect(ops("aten.celu.default", [("self", .tensor("x")), ("alpha", .float(0))]) == nil)
    }

    @Test func rewritesDeclineWhatTheyCannotWriteExactly() {
        // fp16 outputs are widened first, by the fixer; mixed inputs would need type promotion; symbols cannot be written.
        #expect(ops("aten.log_sigmoid.default", [("self", .tensor("x"))], dtypes: ["x": .float16, "out": .float16]) == nil)
        #expect(ops("aten.log_sigmoid.default", [("self", .tensor("x"))])?.count == 8)
        #expect(ops("aten.addcdiv.default", [("self", .tensor("x")), ("tensor1", .tensor("a")), ("tensor2", .tensor("b"))],
                    dtypes: ["a": .float16]) == nil)
        #expect(ops("aten.fmod.Scalar", [("self", .tensor("x")), ("other", .symbol("s0"))]) == nil)
        #expect(ops("aten.fmod.Scalar", [("self", .tensor("x")), ("other", .int(3))], dtypes: ["x": .int32, "out": .int32]) == nil)
        #expect(ops("aten.where.ScalarSelf", [("condition", .tensor("c")), ("self", .float(0)), ("other", .tensor("x"))],
                    dtypes: ["c": .bool]) == nil, "a float scalar needs no rewrite")
    }

    /// Two replacements in one round may name new values alike; the writer renames the later one.
    @Test func clashingNamesAcrossReplacementsAreRenamed() {
        let node = { (output: String, input: String) in
            InsertedNode(op: OpName(namespace: "aten", name: "neg", overload: "default"), inputs: [NodeInput(name: "self", argument: .tensor(input))],
                         output: output, dtype: .float32)
        }
        var taken = UniqueNames(taken: ["x"])
        let first = ProgramNodeReplacement.renamed([node("x_neg", "x"), node("a", "x_neg")], apartFrom: &taken)
        let second = ProgramNodeReplacement.renamed([node("x_neg", "x"), node("b", "x_neg")], apartFrom: &taken)
        #expect(first.map(\.output) == ["x_neg", "a"])
        #expect(second.map(\.output) == ["x_neg_1", "b"])
        #expect(second[1].inputs[0].argument == .tensor("x_neg_1"))
        // A name the program already uses (the rewrite names intermediates after the output alone).
        var programNames = UniqueNames(taken: ["x", "x_neg", "x_neg_1"])
        #expect(ProgramNodeReplacement.renamed([node("x_neg", "x"), node("c", "x_neg")], apartFrom: &programNames).first?.output == "x_neg_2")
    }

    /// The table as the build embeds it (the JSON of `torch-rewrites.yml`'s values): each defect is refused
    /// with the op and the reason.
    @Test(arguments: [
        (#"{"rewrites": {"aten.x.default": {"reference": "r", "step": []}}}"#, "aten.x.default: unknown key `step`"),
        (#"{"rewrites": {"aten.x.default": {"reference": "r", "steps": ["a: aten.neg.default(self=b)", "b: aten.neg.default(self=self)"]}}}"#,
         "aten.x.default: step `a` reads `b` before it is computed"),
        (#"{"rewrites": {"aten.x.default": {"reference": "r", "variants": 3}}}"#, "aten.x.default: `variants` must be a list of mappings"),
        (#"{"rewrites": "#, "not valid JSON"),
    ])
    func rewriteTablesAreChecked(_ table: String, _ reason: String) {
        do {
            _ = try TorchRewrite.load(table, file: "t.yml")
            Issue.record("accepted: \(reason)")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
    }

    @Test func spansDecodeEscapedKeysAndRefuseDuplicates() throws {
        let span = try JSONSpan.parse(Array(#"{"caf\u00e9": [1, {"b": "x\"y"}], "n": {}}"#.utf8))
        #expect(span["café"]?.elements.count == 2)
        #expect(span["n"]?.members.isEmpty == true)
        #expect(throws: JSONSpan.SyntaxError.self) { try JSONSpan.parse(Array(#"{"a": 1, "a": 2}"#.utf8)) }
        #expect(throws: JSONSpan.SyntaxError.self) { try JSONSpan.parse(Array(#"{"a": [1, 2}"#.utf8)) }
        #expect(try ProgramNodeReplacement.encode(.float(-.infinity)) == #"{"as_float": "-Infinity"}"#)
    }
}

/// Formats of the tests' own, whose writers misbehave: the fix loop's safety nets. A file that starts with
/// `BROKEN-WRITER-<kind>` is one fp16 input, which keep-fp32 widens; only writing differs.
protocol BrokenWriterFormat: ModelFormat, ModelWriter {
    static var kind: String { get }
}

extension BrokenWriterFormat {
    static var id: Model.Format { Model.Format(rawValue: "broken-writer-\(kind.lowercased())") }
    static var displayName: String { "a test model" }
    static var fileExtensions: [String] { ["test"] }
    static var writer: (any ModelWriter.Type)? { Self.self }

    static func recognize(_ file: ModelFile) -> Recognition {
        String(decoding: file.prefix, as: UTF8.self).hasPrefix("BROKEN-WRITER-\(kind)") ? .recognized : .unrecognized
    }

    static func read(_ file: ModelFile) throws(ReadError) -> Model {
        Model(path: file.path, format: id, layout: "test", graphs: [
            Graph(name: "main", nodes: [], values: ["x": Value(name: "x", dtype: .float16, shape: [4], role: .userInput)],
                  inputs: ["x"], outputs: ["x"]),
        ])
    }

    static func supports(_ edit: ModelEdit, in model: Model) -> Bool { true }
    static func replacements(_ editSets: [[ModelEdit]], model: Model, from source: String) -> [[ByteReplacement]?] { editSets.map { _ in nil } }
}

/// Writes bytes no format reads.
enum GarbageWritingFormat: BrokenWriterFormat {
    static let kind = "GARBAGE"
    static func write(_ edits: [ModelEdit], model: Model, from source: String, to destination: String) throws(WriteError) -> [String] {
        FileManager.default.createFile(atPath: destination, contents: Data("not a model".utf8))
        return ["wrote garbage"]
    }
}

/// Leaves half a file behind and fails.
enum FailingWriterFormat: BrokenWriterFormat {
    static let kind = "FAILING"
    static func write(_ edits: [ModelEdit], model: Model, from source: String, to destination: String) throws(WriteError) -> [String] {
        FileManager.default.createFile(atPath: destination, contents: Data("BROKEN-WRITER-FAILING half".utf8))
        throw WriteError("the disk is full")
    }
}

@Suite struct FixLoopSafetyTests {
    static let formats: [any ModelFormat.Type] = [GarbageWritingFormat.self, FailingWriterFormat.self]

    /// keep-fp32 on the test formats' fp16 models, so that their writers are asked to write.
    static func linter() throws -> Linter {
        let vocabulary = RuleVocabulary(formats: formats.map { $0.id }, packs: Registry.packs)
        let rule = try RuleLoader.parse(yaml: """
            id: fp16-test-model
            name: n
            severity: error
            summary: s
            description: d
            message: m
            fix: {suggestion: s, automatic: keep-fp32, applicability: safe, safety: widening is exact}
            applies_to: {targets: [coremltools]}
            scope: model
            match: {any_tensor_dtype: [float16]}
            """, origin: "test.yml", vocabulary: vocabulary)
        return Linter(rules: [rule], knowledge: Engine.knowledge)
    }

    @Test(arguments: [("GARBAGE", "the fixed model does not read back"), ("FAILING", "cannot write the fixed model: the disk is full")])
    func aFixThatCannotBeCompletedWritesNothing(_ kind: String, _ reason: String) throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("model.test").path
        try "BROKEN-WRITER-\(kind)".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try ModelFixer.fix(path: path, in: directory.path, linter: try Self.linter(), settings: Settings(pack: CoreMLToolsPack.self),
                                   allowUnsafe: false, formats: Self.formats)
            Issue.record("the fix was accepted")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.test"], "a temporary file was left")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "BROKEN-WRITER-\(kind)")
    }
}
