import Foundation
import Testing
import TensorlintCLI
import TensorlintEngine
import TensorlintIR
@testable import TensorlintPacks

@Suite struct ONNXReaderTests {
    @Test func readsGraphInitializersAndDeclarations() throws {
        let model = try ModelLoader.load(path: Repo.example("add_fp16_fp32_initializer.onnx"))
        #expect(model.format == .onnx)
        #expect(model.opsetImports == ["ai.onnx": 17])
        #expect(model.layout.contains("IR 8"))
        #expect(model.producerVersion == "tensorlint-examples 1")
        let graph = model.mainGraph
        #expect(graph.nodes.map(\.op.description) == ["Add"])
        #expect(graph.nodes[0].name == "add_0")
        #expect(graph.nodes[0].inputs.map(\.argument) == [.tensor("a"), .tensor("b")])
        #expect(graph.values["a"]?.dtype == .float16)
        #expect(graph.values["a"]?.declaredDType == .float16)
        #expect(graph.values["a"]?.role == .userInput)
        #expect(graph.values["b"]?.dtype == .float32)
        #expect(graph.values["b"]?.role == .constant("b"))
        #expect(graph.values["b"]?.shape == [4])
        #expect(graph.inputs == ["a", "b"] && graph.outputs == ["y"])
        // The dynamo exporter's module hierarchy and stack trace.
        let source = graph.nodes[0].source
        #expect(source.modulePath == "head.bias")
        #expect(source.moduleType == "torch.nn.modules.linear.Bias")
        #expect(source.userFrame == SourceInfo.Frame(file: "examples/model.py", line: 21, function: "forward",
                                                     code: "return self.head(x) + self.bias"))
    }

    @Test func readsAttributesSubgraphsAndFunctions() throws {
        let cast = try ModelLoader.load(path: Repo.example("cast_to_fp32_declared_fp16.onnx"))
        #expect(cast.mainGraph.nodes[0].attributes["to"] == .int(1))

        let branches = try ModelLoader.load(path: Repo.example("if_branches_disagree.onnx"))
        #expect(branches.graphs.count == 3)
        guard case .subgraph(let then)? = branches.mainGraph.nodes[0].attributes["then_branch"] else {
            Issue.record("then_branch is not a subgraph reference")
            return
        }
        #expect(branches.graphs[then].owner == .node(graph: 0, node: "if_0", attribute: "then_branch"))
        #expect(branches.graphs[then].outputs == ["then_out"])

        let call = try ModelLoader.load(path: Repo.example("local_function_fp32_constant.onnx"))
        let function = try #require(call.graphs.first { if case .function = $0.owner { return true } else { return false } })
        #expect(function.owner == .function(OpName(namespace: "local", name: "ScaleAdd"), opsetImports: ["ai.onnx": 17]))
        #expect(function.nodes.map(\.name) == ["f_const", "f_mul", "f_add"])
        #expect(call.mainGraph.nodes[0].op == OpName(namespace: "local", name: "ScaleAdd"))
        guard case .tensorLiteral(let dtype)? = function.nodes[0].attributes["value"] else {
            Issue.record("Constant value is not a tensor literal")
            return
        }
        #expect(dtype == .float32)
    }

    @Test func externalDataIsLocatedNotRead() throws {
        let present = try ModelLoader.load(path: Repo.example("external_data_present.onnx"))
        #expect(present.mainGraph.values["w"]?.external == Value.ExternalData(location: "external_data_present.bin", offset: 0,
                                                                                length: 32, availableBytes: 32))
        let missing = try ModelLoader.load(path: Repo.example("external_data_missing.onnx"))
        #expect(missing.mainGraph.values["w"]?.external?.availableBytes == nil)
        #expect(missing.mainGraph.values["w"]?.dtype == .float16)
    }

    @Test(arguments: [
        ("truncated.onnx", "runs past the end"),
        ("wrong_wire_type.onnx", "field 7 has wire type 0, expected 2"),
        ("absurd_length.onnx", "length 1099511627776 runs past the end"),
        ("deep_nesting.onnx", "nested more than 64 levels deep"),
        ("endless_varint.onnx", "varint longer than 10 bytes"),
    ])
    func damagedFilesAreOneLineErrors(_ name: String, _ cause: String) {
        #expect {
            _ = try ModelLoader.load(path: Repo.broken(name))
        } throws: { error in
            let text = "\(error)"
            return text.contains(cause) && !text.contains("\n")
        }
    }

    /// Every truncation and a few hundred deterministic byte changes of each example model: each either
    /// reads or throws a ReadError; none crashes, hangs or traps.
    @Test func corruptedModelsNeverCrash() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("corrupt.onnx").path
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        var damaged = 0
        for name in ["add_fp16_fp32_initializer.onnx", "if_branches_disagree.onnx", "local_function_fp32_constant.onnx"] {
            let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Repo.example(name))))
            var variants = (1..<original.count).map { Array(original[..<$0]) }
            for _ in 0..<300 {
                var bytes = original
                for _ in 0..<(1 + next() % 3) { bytes[next() % bytes.count] = UInt8(next() % 256) }
                variants.append(bytes)
            }
            for bytes in variants {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                do {
                    let model = try ModelLoader.load(path: path)
                    _ = Linter(rules: Engine.rules, knowledge: Engine.knowledge)
                        .lint(model, settings: Settings(pack: ONNXRuntimePack.self))
                } catch {
                    damaged += 1
                }
            }
        }
        #expect(damaged > 0)
    }

    /// Protobuf fields may come in any order: a model whose first field is not `ir_version` has no
    /// recognisable signature, and is still read by its content.
    @Test func readsFieldsInAnyOrder() throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Repo.example("add_fp16.onnx"))))
        #expect(Array(original.prefix(2)) == [0x08, 0x08], "ir_version 8 comes first as onnx writes it")
        let path = temporaryDirectory().appendingPathComponent("reordered.bin").path
        try Data(original.dropFirst(2) + original.prefix(2)).write(to: URL(fileURLWithPath: path))
        let model = try ModelLoader.load(path: path)
        #expect(model.layout.hasPrefix("ONNX IR 8"))
        #expect(ModelLoader.format(ofFoundFile: path) != nil)
    }

    @Test func foldersYieldONNXModelsByContent() throws {
        let directory = temporaryDirectory()
        try FileManager.default.copyItem(atPath: Repo.example("add_fp16.onnx"), toPath: directory.appendingPathComponent("model.onnx").path)
        try "ir_version".write(to: directory.appendingPathComponent("notes.onnx"), atomically: true, encoding: .utf8)
        #expect(ModelLoader.format(ofFoundFile: directory.appendingPathComponent("model.onnx").path) != nil)
        #expect(ModelLoader.format(ofFoundFile: directory.appendingPathComponent("notes.onnx").path) == nil)
    }
}

@Suite struct ONNXRuleTests {
    func findings(_ fixture: String) throws -> [Finding] {
        try Engine.lint(Repo.example(fixture), converter: ONNXRuntimePack.self)
    }

    @Test func findingsNameNodeOpInputsAndBothTypes() throws {
        let finding = try #require(try findings("add_fp16_fp32_initializer.onnx").first)
        #expect(finding.ruleId == "ort-type-parameter-mismatch")
        #expect(finding.node == "add_0" && finding.op == "Add")
        for part in ["`a`", "`b`", "float16", "float32", "Type parameter (T) of Optype (Add) bound to different types (tensor(float16) and tensor(float)"] {
            #expect(finding.message.contains(part), "message lacks \(part): \(finding.message)")
        }
        #expect(finding.fix.contains("retype initializer `b` from float32 to float16"))
        #expect(finding.fixApplicability == .unsafe, "rounding the fp32 initializer to fp16 is unsafe")
    }

    @Test func castOutputTypeComesFromItsAttribute() throws {
        let finding = try #require(try findings("cast_to_fp32_declared_fp16.onnx").first)
        #expect(finding.ruleId == "ort-declared-type-mismatch")
        #expect(finding.message.contains("computes `c` as float32, but the model declares it float16"))
        #expect(try findings("cast_to_fp16_declared_fp16.onnx").isEmpty)
    }

    @Test func fp16NodesWithoutAnFP16KernelAreCastByTheRuntime() throws {
        // Gemm's CPU kernel takes float32 only: fp16 gets Casts inserted, bf16 fails, LeakyRelu bf16 fails in its body.
        #expect(try findings("gemm_fp16.onnx").isEmpty)
        #expect(try findings("gemm_bf16.onnx").map(\.ruleId) == ["ort-missing-cpu-kernel"])
        let leaky = try #require(try findings("leaky_relu_bf16.onnx").first)
        #expect(leaky.message.contains("Could not find an implementation for Less"))
    }

    @Test func functionBodiesAreCheckedAtEachCall() throws {
        let mixed = try #require(try findings("local_function_fp32_constant.onnx").first)
        #expect(mixed.node == "call_0")
        #expect(mixed.message.contains("node `f_mul`, op `Mul`"))
        #expect(try findings("local_function_fp16_constant.onnx").isEmpty)
    }

    /// Functions calling functions, each twice: the innermost mixed-type Mul is reported once at the
    /// model's call, with the chain of bodies it sits in (each body is checked once per signature).
    @Test func nestedFunctionCallsReportAtTheOutermostCall() throws {
        let depth = 12
        func call(_ level: Int, _ input: String, _ output: String, name: String) -> Node {
            Node(name: name, op: OpName(namespace: "local", name: "F\(level)"), inputs: [NodeInput(name: "", argument: .tensor(input))],
                 outputs: [output], source: SourceInfo())
        }
        var graphs = [Graph(name: "main", nodes: [call(0, "x", "y", name: "call_main")],
                            values: ["x": Value(name: "x", dtype: .float16, declaredDType: .float16, shape: [4], role: .userInput)],
                            inputs: ["x"], outputs: ["y"])]
        for level in 0..<depth {
            let nodes = level == depth - 1
                ? [Node(name: "k", op: OpName(namespace: "", name: "Constant"), inputs: [], outputs: ["c"],
                        attributes: ["value": .tensorLiteral(.float32)], source: SourceInfo()),
                   Node(name: "mixed_mul", op: OpName(namespace: "", name: "Mul"),
                        inputs: [NodeInput(name: "", argument: .tensor("a")), NodeInput(name: "", argument: .tensor("c"))],
                        outputs: ["b"], source: SourceInfo())]
                : [call(level + 1, "a", "t", name: "first"), call(level + 1, "t", "b", name: "second")]
            graphs.append(Graph(name: "local.F\(level)", nodes: nodes, values: [:], inputs: ["a"], outputs: ["b"],
                                owner: .function(OpName(namespace: "local", name: "F\(level)"), opsetImports: ["ai.onnx": 17])))
        }
        let model = Model(path: "nested.onnx", format: .onnx, layout: "test", graphs: graphs, opsetImports: ["ai.onnx": 17, "local": 1])
        let findings = Linter(rules: Engine.rules, knowledge: Engine.knowledge).lint(model, settings: Settings(pack: ONNXRuntimePack.self))
        let mismatch = try #require(findings.first { $0.ruleId == "ort-type-parameter-mismatch" })
        #expect(mismatch.node == "call_main")
        #expect(mismatch.message.contains("node `mixed_mul`, op `Mul`"))
        #expect(mismatch.message.contains("(in the body of `local.F0`: node `first`, op `local.F1`)"))
    }

    @Test func coremltoolsUsersAreToldToConvertFromTorch() throws {
        let findings = try Engine.lint(Repo.example("add_fp16.onnx"))
        #expect(Set(findings.map(\.ruleId)) == ["coreml-no-onnx-frontend", "coreml-fp16-onnx-model"])
        #expect(findings.allSatisfy { $0.severity != .error })
    }

    @Test func attributeTypingNamesRealOpsAndAttributes() throws {
        let runtime = Engine.onnxruntime
        for (op, typing) in runtime.schemas.attributeTypes {
            let schema = try #require(runtime.schemas.schema(domain: "ai.onnx", name: op, opset: 1_000), "\(op) is not an onnx op")
            let attributes = [typing.dataTypeAttribute].compactMap { $0 } + typing.tensorAttributes + Array(typing.presenceTypes.keys)
            for attribute in attributes {
                #expect(schema.attributes[attribute] != nil, "\(op) has no attribute \(attribute)")
            }
        }
        #expect(runtime.newestSupportedOpset["ai.onnx"] == 28)
        try runtime.validateTables()
        #expect(runtime.kernels(domain: "ai.onnx", op: "Gemm")?.contains { $0.versions.contains(13) && $0.types["T"] == ["float32"] } == true)
    }
}

@Suite struct ONNXRuntimeVersionTests {
    /// Every release's tables load through their chain of bases and decode line by line, and each names the
    /// onnx schema folder it was built with.
    @Test func everyReleaseLoads() throws {
        let versions = Engine.knowledge.versions(of: ONNXRuntimePack.target)
        #expect(versions.count >= 15 && versions.first.map { Knowledge.sameSeries($0, Version("1.18")!) } == true)
        var newest = 0
        for version in versions {
            let runtime = try #require(try Engine.knowledge.knowledge(ONNXRuntimeKnowledge.self, target: ONNXRuntimePack.target, version: version))
            try runtime.validateTables()
            let opset = try #require(runtime.newestSupportedOpset["ai.onnx"])
            #expect(opset >= newest, "onnxruntime \(version) supports opset \(opset), an older release \(newest)")
            newest = opset
            let newestSchema = runtime.schemas.schemas.keys.filter { $0.domain == "ai.onnx" }
                .compactMap { runtime.schemas.schemas.row(domain: $0.domain, op: $0.op)?.last?.since }.max()
            // The onnx a release embeds may already hold the next opset in development, which it does not load.
            #expect(newestSchema.map { [$0, $0 - 1].contains(opset) } == true,
                    "onnxruntime \(version)'s newest opset is that of the onnx it was built with (\(runtime.schemas.onnxVersion)) or the one before")
            #expect(runtime.registeredDomains.isSuperset(of: ["ai.onnx", "ai.onnx.ml", "com.microsoft"]))
        }
    }

    /// What `OpSchema::Verify` checks of attributes is in every release's schemas: the required ones, and the
    /// rare schema that accepts attributes it does not declare.
    @Test func schemasRecordWhatVerifyChecksOfAttributes() throws {
        for version in Engine.knowledge.versions(of: ONNXRuntimePack.target) {
            let schemas = try #require(try Engine.knowledge.knowledge(ONNXRuntimeKnowledge.self, target: ONNXRuntimePack.target, version: version)).schemas
            let cast = try #require(schemas.schema(domain: "ai.onnx", name: "Cast", opset: 19))
            #expect(cast.required == ["to"] && !cast.allowsUncheckedAttributes)
            #expect(try #require(schemas.schema(domain: "ai.onnx", name: "LayerNormalization", opset: 17)).allowsUncheckedAttributes)
            #expect(try #require(schemas.schema(domain: "ai.onnx", name: "Relu", opset: 14)).required.isEmpty)
        }
    }

    /// A request names a release series; the knowledge used is that series' release, and messages name it.
    @Test func aVersionResolvesWithinItsSeries() throws {
        let knowledge = Engine.knowledge, target = ONNXRuntimePack.target
        let known = knowledge.versions(of: target)
        for version in known {
            let series = Version(version.components.prefix(2).map(String.init).joined(separator: "."))!
            #expect(knowledge.resolvedVersion(target: target, version: series) == version)
        }
        #expect(knowledge.resolvedVersion(target: target, version: Version("99.0")!) == known.last)
        #expect(knowledge.resolvedVersion(target: target, version: Version("1.0")!) == known.first)
    }

    /// Knowledge a release lacks gives another verdict: bf16 Gemm has no kernel in any release, and the
    /// message names the release whose table was read.
    @Test func theMessageNamesTheReleaseUsed() throws {
        let model = try ModelLoader.load(path: Repo.example("gemm_bf16.onnx"))
        let linter = Linter(rules: Engine.rules, knowledge: Engine.knowledge)
        for version in Engine.knowledge.versions(of: ONNXRuntimePack.target) {
            let findings = linter.lint(model, settings: Settings(pack: ONNXRuntimePack.self, converterVersion: version))
            let finding = try #require(findings.first { $0.ruleId == "ort-missing-cpu-kernel" })
            #expect(finding.message.contains("onnxruntime \(version)'s CPU execution provider"))
        }
    }

    static func folders(_ delta: String, removed: String = "[]", base: String = "t-2") -> [String: KnowledgeFolder] {
        [
            "t-2": ["k.jsonl": """
                {"name":"two"}
                {"domain":"d","op":"A","rows":[1]}
                {"domain":"d","op":"B","rows":[2]}
                {"domain":"e","op":"C","rows":[3]}
                """],
            "t-1": ["k.jsonl": "{\"name\":\"one\",\"base\":\"\(base)\",\"removed\":\(removed)}\n" + delta],
        ]
    }

    struct Header: TableHeader {
        let name: String
        let base: String?
        let removed: [[String]]?
    }

    static func load(_ folders: [String: KnowledgeFolder], _ folder: String = "t-1") throws -> (Header, OperatorTable<[Int]>) {
        try OperatorTable<[Int]>.load(folder: folder, file: "k.jsonl", folders: folders, header: Header.self) { _, _, data in
            try JSONDecoder().decode(Line.self, from: data).rows
        }
    }

    struct Line: Decodable {
        let rows: [Int]
    }

    /// A table that builds on a base: its own lines replace the base's, `removed` drops them, the rest are the base's.
    @Test func aDeltaTableOverlaysItsBase() throws {
        let (header, table) = try Self.load(Self.folders(#"{"domain":"d","op":"A","rows":[10]}"# + "\n" + #"{"domain":"f","op":"D","rows":[4]}"#,
                                                         removed: #"[["e","C"]]"#))
        #expect(header.name == "one")
        #expect(table.row(domain: "d", op: "A") == [10])
        #expect(table.row(domain: "d", op: "B") == [2])
        #expect(table.row(domain: "e", op: "C") == nil)
        #expect(table.row(domain: "f", op: "D") == [4])
        #expect(table.domains == ["d", "f"])
        #expect(table.chain == ["t-1", "t-2"], "its own folder, then the base")
        try table.validate()
        #expect(try Self.load(Self.folders(""), "t-2").1.row(domain: "d", op: "A") == [1], "the base itself is untouched")
    }

    @Test func aBrokenChainIsRefusedWithTheFileNamed() throws {
        for (folders, reason) in [(Self.folders("", base: "t-0"), "t-0/k.jsonl: missing or empty"),
                                  (Self.folders("", base: "t-1"), "t-1/k.jsonl: builds on itself"),
                                  (Self.folders("", removed: #"[["d","Z"]]"#), "t-1/k.jsonl: removes [\"d\", \"Z\"]"),
                                  (Self.folders("not a line"), "t-1/k.jsonl: line 2 does not start")] {
            #expect { try Self.load(folders) } throws: { "\($0)".hasPrefix(reason) }
        }
    }
}

/// onnxruntime's kernel lookup on small made-up tables: which kernel serves which schema version, and which
/// function body a node without a kernel is expanded into.
@Suite struct KernelLookupTests {
    /// `Op` has schema versions 1, 5 and 9 (9 with a static body written for opset 9 that calls `Inner`,
    /// which changes at 11); `Ctx` has a context-dependent body built for two inputs of float32, and for one
    /// input only with attributes.
    static func runtime(kernels: String) throws -> ONNXRuntimeKnowledge {
        let formal = #"[["X","T","single",true]]"#
        let schemas = """
            {"onnx_version":"0","data_types":{"1":"float32","11":"float64"}}
            {"domain":"ai.onnx","op":"Op","versions":[{"since":1,"inputs":\(formal),"outputs":\(formal),"constraints":{"T":["float32","float64"]},"attributes":{}},{"since":5,"inputs":\(formal),"outputs":\(formal),"constraints":{"T":["float32","float64"]},"attributes":{}},{"since":9,"inputs":\(formal),"outputs":\(formal),"constraints":{"T":["float32","float64"]},"attributes":{},"functions":[{"opset":9,"context":false,"inputs":["X"],"outputs":["Y"],"nodes":[{"op":"Inner","in":["X"],"out":["Y"]}]}]}]}
            {"domain":"ai.onnx","op":"Inner","versions":[{"since":1,"inputs":\(formal),"outputs":\(formal),"constraints":{"T":["float32","float64"]},"attributes":{}},{"since":11,"inputs":\(formal),"outputs":\(formal),"constraints":{"T":["float32","float64"]},"attributes":{}}]}
            {"domain":"ai.onnx","op":"Ctx","versions":[{"since":1,"inputs":[["A","T","single",true],["B","T","optional",true]],"outputs":\(formal),"constraints":{"T":["float32","float64"]},"attributes":{},"functions":[{"opset":1,"context":true,"present":[2],"types":["float32"],"inputs":["A","B"],"outputs":["Y"],"nodes":[{"op":"Inner","in":["A"],"out":["Y"]}]},{"opset":1,"context":true,"present":[1],"types":["float32"],"inputs":["A"],"outputs":["Y"],"nodes":null}]}]}
            """
        let header = #"{"onnx_knowledge":"onnx-0","newest_supported_opset":{"ai.onnx":12},"registered_domains":["ai.onnx"]}"#
        return try ONNXRuntimeKnowledge(folder: "onnxruntime-0", version: Version("0")!, folders: [
            "onnx-0": ["operator-schemas.jsonl": schemas, "attribute-types.yml": "{}"],
            "onnxruntime-0": ["cpu-kernels.jsonl": header + "\n" + kernels],
        ])
    }

    static func schema(_ runtime: ONNXRuntimeKnowledge, _ op: String, since: Int) throws -> ONNXSchemas.OperatorSchema {
        try #require(runtime.schemas.schema(domain: "ai.onnx", name: op, opset: since))
    }

    /// `KernelRegistry::VerifyKernelDef`: a kernel serves the version it starts at, or a later one inside a
    /// closed range; a kernel open to all later versions does not serve a schema version newer than its start.
    @Test func aKernelServesTheVersionsItsRangeCloses() throws {
        let open = try Self.runtime(kernels: #"{"domain":"ai.onnx","op":"Op","kernels":[[1,null,{"T":["float32"]}]]}"#)
        #expect(open.kernels(for: try Self.schema(open, "Op", since: 1))?.count == 1)
        #expect(open.kernels(for: try Self.schema(open, "Op", since: 5))?.isEmpty == true, "Op-5 is newer than the open kernel's start")
        let closed = try Self.runtime(kernels: #"{"domain":"ai.onnx","op":"Op","kernels":[[1,6,{"T":["float32"]}],[9,null,{"T":["float64"]}]]}"#)
        #expect(closed.kernels(for: try Self.schema(closed, "Op", since: 5))?.count == 1, "1...6 reaches Op-5")
        #expect(closed.kernels(for: try Self.schema(closed, "Op", since: 9))?.map(\.types) == [["T": ["float64"]]])
        #expect(closed.kernels(for: try Self.schema(closed, "Inner", since: 1)) == nil)
    }

    /// A static body is used at its own opset and later ones while the ops it calls are unchanged; a
    /// context-dependent body as built for the node's inputs and type, none where the builder refuses a node
    /// without attributes.
    @Test func theBodyUsedIsTheOneOnnxGivesAtTheModelsOpset() throws {
        let runtime = try Self.runtime(kernels: "")
        let schemas = runtime.schemas
        func expansion(_ op: String, since: Int, opset: Int, present: Int = 1, type: DType? = .float32, attributes: Bool = false) throws -> String {
            switch schemas.expansion(of: try Self.schema(runtime, op, since: since), at: opset, presentInputs: present,
                                     firstInputType: type, hasAttributes: attributes) {
            case .none: return "none"
            case .unmodelled: return "unmodelled"
            case .body(let body): return body.nodes?.map(\.op).joined(separator: ",") ?? "nil"
            }
        }
        #expect(try expansion("Op", since: 5, opset: 8) == "none", "no body is written for an opset this old")
        #expect(try expansion("Op", since: 9, opset: 9) == "Inner")
        #expect(try expansion("Op", since: 9, opset: 10) == "Inner", "Inner is Inner-1 at 9 and at 10")
        #expect(try expansion("Op", since: 9, opset: 11) == "none", "Inner-11 is not the Inner the body was written against")
        #expect(try expansion("Ctx", since: 1, opset: 3, present: 2) == "Inner")
        #expect(try expansion("Ctx", since: 1, opset: 3, present: 2, type: .float64) == "unmodelled", "not built for float64")
        #expect(try expansion("Ctx", since: 1, opset: 3, present: 1) == "none", "the builder refuses a node without attributes")
        #expect(try expansion("Ctx", since: 1, opset: 3, present: 1, attributes: true) == "unmodelled")
    }
}

@Suite struct KernelAttributeCheckTests {
    static func check(_ requirement: AttributeCheck.Requirement, _ attributes: [String]) -> AttributeCheck {
        .init(versions: [1], requirement: requirement, attributes: attributes, source: "f.h:1", message: "m")
    }

    @Test func eachRequirementAcceptsWhatTheConstructorAccepts() {
        func accepts(_ requirement: AttributeCheck.Requirement, _ names: [String],
                     _ attributes: [String: Argument]) -> Bool {
            Self.check(requirement, names).accepts(attributes, inputCount: 1)
        }
        #expect(accepts(.present, ["a"], ["a": .ints([])]))
        #expect(!accepts(.present, ["a"], ["b": .int(1)]))
        #expect(accepts(.positive, ["n"], ["n": .int(3)]))
        #expect(!accepts(.positive, ["n"], ["n": .int(0)]))
        #expect(!accepts(.positive, ["n"], [:]))
        #expect(accepts(.nonEmpty, ["s"], ["s": .floats([1])]))
        #expect(!accepts(.nonEmpty, ["s"], ["s": .floats([])]))
        #expect(!accepts(.nonEmpty, ["s"], ["s": .other("strings []")]))
        #expect(accepts(.oneOf, ["f", "i"], ["f": .floats([1])]))
        #expect(!accepts(.oneOf, ["f", "i"], ["f": .floats([1]), "i": .ints([2])]), "both set")
        #expect(!accepts(.oneOf, ["f", "i"], [:]))
        #expect(accepts(.anyOf, ["f", "i"], ["f": .floats([1]), "i": .ints([2])]))
        #expect(!accepts(.anyOf, ["f", "i"], ["f": .floats([])]))
    }

    /// UpsampleBase reads the `scales` attribute only from a node with a single input (Upsample-7's form).
    @Test func aCheckConditionedOnTheInputCountSkipsOtherNodes() {
        var scales = Self.check(.present, ["scales"])
        scales.inputCount = 1
        #expect(!scales.accepts([:], inputCount: 1), "Resize-13 with X alone")
        #expect(scales.accepts([:], inputCount: 4), "with its scales or sizes input the constructor reads no attribute")
        #expect(scales.accepts(["scales": .floats([1, 2])], inputCount: 1))
    }

    /// The curated checks load, and releases without a file of their own use the newest's.
    @Test func everyReleaseHasTheCuratedChecks() throws {
        for version in Engine.knowledge.versions(of: ONNXRuntimePack.target) {
            let runtime = try #require(try Engine.knowledge.knowledge(ONNXRuntimeKnowledge.self, target: ONNXRuntimePack.target, version: version))
            let gru = try #require(runtime.attributeChecks["ai.onnx.GRU"]?.first)
            #expect(gru.requirement == .positive && gru.attributes == ["hidden_size"] && gru.source.hasSuffix("deep_cpu_gru.h:28"))
            // Each version a check names is a since-version of the op, unless it is newer than any this release knows.
            for (key, checks) in runtime.attributeChecks.merging(runtime.schemas.inferenceChecks, uniquingKeysWith: +) {
                let parts = key.split(separator: ".").map(String.init)
                let known = (runtime.schemas.schemas.row(domain: parts.dropLast().joined(separator: "."), op: parts.last!) ?? []).map(\.since)
                for since in checks.flatMap(\.versions) where since <= known.max() ?? 0 {
                    #expect(known.contains(since), "\(key): \(since) is no since-version of the op in onnxruntime \(version)")
                }
                #expect(!known.isEmpty, "\(key) has no schema in onnxruntime \(version)")
            }
            // onnxruntime 1.21 to 1.24 build a TreeEnsembleClassifier without class labels (`releases` of the entries).
            let refusesUnlabelledTrees = runtime.attributeChecks["ai.onnx.ml.TreeEnsembleClassifier"] != nil
            #expect(refusesUnlabelledTrees == !(Version("1.21")! <= version && version < Version("1.25")!), "\(version)")
            // onnx 1.18 (carried from onnxruntime 1.23) added CategoryMapper's inference checks.
            #expect((runtime.schemas.inferenceChecks["ai.onnx.ml.CategoryMapper"] != nil) == (version >= Version("1.23")!), "\(version)")
            #expect(runtime.schemas.inferenceChecks["ai.onnx.ml.OneHotEncoder"] != nil)
        }
    }
}
