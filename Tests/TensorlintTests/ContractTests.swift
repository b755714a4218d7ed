import Foundation
import Testing
import ONNX
import TensorlintCLI
@testable import TensorlintEngine
import TensorlintIR
import TorchScript
@testable import TensorlintPacks
import TensorlintReporters
import Yams

/// What joins a rule's parts: the placeholders its texts use, the bindings its predicates declare and
/// fill, the fixers it names, and the files the binary embeds.
@Suite struct RuleContractTests {
    /// The first `{key}` left in a text.
    static func placeholder(in text: String) -> String? { text.firstMatch(of: /\{[a-z_0-9]+\}/).map { String($0.0) } }

    @Test func noPlaceholderSurvivesInExplainDocsOrSARIFHelp() throws {
        for rule in Engine.rules {
            let page = RuleDocumentation.markdown(rule)
            #expect(Self.placeholder(in: page) == nil, "explain \(rule.id): \(Self.placeholder(in: page) ?? "")")
            let file = Repo.root.appendingPathComponent("docs/rules/\(rule.id).md")
            let onDisk = try String(contentsOf: file, encoding: .utf8)
            #expect(Self.placeholder(in: onDisk) == nil, "docs/rules/\(rule.id).md")
        }
        let settings = Settings(pack: CoreMLToolsPack.self)
        let report = LintReport(files: [], rules: Engine.rules, settings: settings, knowledgeVersion: nil,
                                toolVersion: toolVersion, workingDirectory: Repo.root.path)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(SARIFReporter().render(report).utf8)) as? [String: Any])
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.count == Engine.rules.count)
        for rule in rules {
            let help = try #require(rule["help"] as? [String: String])
            for (kind, text) in help {
                #expect(Self.placeholder(in: text) == nil, "SARIF help \(kind) of \(rule["id"] ?? "?")")
            }
        }
    }

    @Test func docsRulesHoldsExactlyTheRulePages() throws {
        let pages = try FileManager.default.contentsOfDirectory(atPath: Repo.root.appendingPathComponent("docs/rules").path)
        #expect(Set(pages) == Set(Engine.rules.map { "\($0.id).md" } + ["README.md"]), "a page without a rule, or a rule without a page")
    }

    /// The binary embeds `rules/` at build time; a file added since is missing until the plugin runs again.
    @Test func theEmbeddedFilesAreTheFilesUnderRules() throws {
        let folder = Repo.root.appendingPathComponent("rules")
        let enumerator = try #require(FileManager.default.enumerator(atPath: folder.path))
        let onDisk = (enumerator.allObjects as? [String] ?? []).filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        #expect(Set(RuleSet.embeddedPaths) == Set(onDisk), "rules/ changed since the last build planned the plugin: `touch Package.swift`")
    }

    /// The built-in rules are compiled into the binary at build time; each must be the rule its YAML file on
    /// disk gives when loaded as a user's rule file is.
    @Test func eachCompiledRuleIsTheRuleItsYAMLGives() throws {
        func summary(_ rule: Rule) -> String {
            let examples = (rule.triggering + rule.nonTriggering + rule.corrections.map(\.example))
                .map { "\($0.fixture)@\($0.line)\($0.nodes ?? [])\($0.deploymentTarget?.name ?? "")" }
            return [rule.id, rule.name, rule.severity.rawValue, "\(rule.enabledByDefault)", rule.summary, rule.description, rule.headline ?? "",
                    rule.message, rule.fix.suggestion, rule.fix.applicability.rawValue, rule.fix.safety ?? "", rule.fix.automatic.map(\.name).joined(),
                    rule.references.joined(), rule.formats.map(\.rawValue).sorted().joined(), rule.targets.sorted().joined(),
                    rule.converterVersions.description, rule.scope.rawValue, rule.match.predicateNames.sorted().joined(),
                    examples.joined(separator: ","), rule.bindingKeys.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(),
                    rule.variants.map(summary).joined(separator: "|")].joined(separator: "\u{0}")
        }
        let compiled = Dictionary(uniqueKeysWithValues: Engine.rules.map { ($0.origin, $0) })
        var files = 0
        for path in RuleSet.embeddedPaths where !path.hasPrefix("knowledge/") {
            let yaml = try String(contentsOf: Repo.root.appendingPathComponent("rules/\(path)"), encoding: .utf8)
            let fromYAML = try RuleLoader.parse(yaml: yaml, origin: "builtin:\(path)", vocabulary: Engine.vocabulary)
            let fromBinary = try #require(compiled["builtin:\(path)"], "\(path) is not among the built-in rules")
            #expect(summary(fromBinary) == summary(fromYAML), "\(path)")
            files += 1
        }
        #expect(files == Engine.rules.count)
    }

    /// A knowledge table written in YAML is embedded as the JSON of its values: read back, it is what a YAML
    /// loader gives for the file, type for type (an int stays an int, `1.0` a float).
    @Test func embeddedYAMLTablesReadAsTheirYAML() throws {
        func shape(_ value: Any) -> String {
            switch value {
            case is NSNull: return "null"
            case let flag as Bool: return "bool(\(flag))"
            case let integer as Int: return "int(\(integer))"
            case let number as Double: return "float(\(number))"
            case let text as String: return "str(\(text))"
            case let list as [Any]: return "[" + list.map(shape).joined(separator: ", ") + "]"
            case let mapping as [AnyHashable: Any]:
                return "{" + mapping.map { "\($0.key.base): \(shape($0.value))" }.sorted().joined(separator: ", ") + "}"
            default: return "?\(type(of: value))"
            }
        }
        var tables = 0
        for file in EmbeddedFiles.all where file.path.hasPrefix("knowledge/") && file.path.hasSuffix(".yml") {
            let yaml = try String(contentsOf: Repo.root.appendingPathComponent("rules/\(file.path)"), encoding: .utf8)
            let expected = try #require(try Yams.load(yaml: yaml))
            #expect(shape(try knowledgeTable(file.contents, file: file.path)) == shape(expected), "\(file.path)")
            tables += 1
        }
        #expect(tables >= 3)
    }

    /// Every time a predicate fires on a rule's examples, it fills every key it declares, so that no message
    /// it may be used in is left with a hole.
    @Test func predicatesFillTheKeysTheyDeclare() throws {
        var fired = 0
        for rule in Engine.rules.flatMap(\.allVariants) {
            let predicates = rule.match.predicateNames.compactMap(Engine.vocabulary.predicate(named:))
            guard !predicates.isEmpty else { continue }
            for example in rule.triggering {
                let model = try ModelLoader.load(path: Repo.example(example.fixture))
                for target in rule.targets.sorted() {
                    let pack = try #require(Engine.vocabulary.pack(target))
                    let settings = Settings(pack: pack, deploymentTarget: example.deploymentTarget ?? DeploymentTarget("iOS15")!,
                                            computePrecision: example.computePrecision ?? .float16, inputDType: example.inputDType ?? .default)
                    let (_, knowledge) = try #require(try Engine.knowledge.resolve(target: target, version: settings.converterVersion))
                    let state = pack.prepare(model, knowledge: knowledge, settings: settings)
                    let valueTypes = Set(model.graphs.flatMap { $0.values.values.compactMap(\.dtype) })
                    var contexts = [MatchContext(model: model, valueTypes: valueTypes, graph: 0, node: nil, settings: settings, packState: state)]
                    for (graph, nodes) in model.graphs.enumerated().map({ ($0.offset, $0.element.nodes.indices) }) {
                        contexts += nodes.map { MatchContext(model: model, valueTypes: valueTypes, graph: graph, node: $0, settings: settings, packState: state) }
                    }
                    for predicate in predicates {
                        for context in contexts {
                            guard let bindings = predicate.evaluate(context) else { continue }
                            fired += 1
                            let missing = Set(predicate.bindingKeys.keys).subtracting(bindings.keys)
                            #expect(missing.isEmpty, "\(predicate.name) on \(example.fixture) leaves \(missing.sorted()) unfilled")
                        }
                    }
                }
            }
        }
        #expect(fired > 0)
    }

    static func rule(message: String, suggestion: String = "do this", match: String, targets: String = "[coremltools]",
                     automatic: String? = nil, scope: String = "node", when: String? = nil) -> String {
        """
        id: contract-rule
        name: Contract rule
        severity: warning
        summary: s
        description: d
        message: "\(message)"
        fix: {suggestion: "\(suggestion)"\(automatic.map { ", automatic: \($0), applicability: safe" } ?? "")}
        applies_to: {targets: \(targets)}
        scope: \(scope)\(when.map { "\nwhen: {\($0)}" } ?? "")
        match:
        \(match.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))
        """
    }

    @Test(arguments: [
        (rule(message: "{op} clashes at {mil_op}", match: "op: [aten.celu]"), "message uses `{mil_op}`, which nothing fills"),
        (rule(message: "{op}", suggestion: "use {alternative}", match: "op: [aten.celu]"), "suggestion uses `{alternative}`"),
        (rule(message: "{node}", match: "op: [aten.celu]", scope: "model"), "message uses `{node}`"),
        (rule(message: "{dtype}", match: "any:\n  - op: [aten.celu]\n  - input_dtype: [float16]"), "message uses `{dtype}`"),
        (rule(message: "{op}", match: "predicate: onnxruntime-missing-kernel"), "belongs to the onnxruntime pack"),
        (rule(message: "{op}", match: "op: [aten.celu]", automatic: "cast-to-bound-type"), "belongs to the onnxruntime pack"),
        (rule(message: "{op}", match: "predicate: onnxruntime-missing-kernel", targets: "[onnxruntime]", automatic: "cast-to-bound-type"),
         "cures what predicate `onnxruntime-type-parameter-mismatch` finds"),
        (rule(message: "{op}", match: "op: [aten.celu]", automatic: "no-such-fix"), "unknown automatic fix `no-such-fix`"),
        (rule(message: "{op}", match: "op: [aten.celu]", targets: "[tflite]"), "unknown target `tflite` (coremltools, onnxruntime)"),
        (rule(message: "{op}: {tensors}", match: "op: [aten.celu]", when: "any_tensor_dtype: [float16]"), "message uses `{tensors}`"),
        (rule(message: "{op}", match: "op: [aten.celu]", when: "predicate: onnxruntime-missing-kernel"), "belongs to the onnxruntime pack"),
        (rule(message: "{op} at {minimum_deployment_target}", match: "op: [aten.celu]", targets: "[coremltools, onnxruntime]"),
         "message uses `{minimum_deployment_target}`, which nothing fills"),
    ])
    func theLoaderRefusesBrokenContracts(_ yaml: String, _ reason: String) {
        do {
            _ = try RuleLoader.parse(yaml: yaml, origin: "contract.yml", vocabulary: Engine.vocabulary)
            Issue.record("accepted: \(reason)")
        } catch {
            #expect(error.reason.contains(reason), "\(error.reason)")
            #expect(error.line != nil, "no line for: \(error.reason)")
        }
    }

    @Test func keysEveryBranchFillsAndLiteralBracesAreAccepted() throws {
        let rule = try RuleLoader.parse(yaml: Self.rule(message: "{dtype} input of {op} at {minimum_deployment_target}; `f({})`",
                                                        match: "any:\n  - input_dtype: [float16]\n  - output_dtype: [float16]"),
                                        origin: "contract.yml", vocabulary: Engine.vocabulary)
        #expect(rule.bindingKeys["dtype"] != nil)
        #expect(rule.bindingKeys["input"] == nil, "only one branch fills `input`")
        #expect(rule.documented("{dtype}", markdown: true) == "_its dtype_")
    }
}

/// Formats and packs come from one registry; knowledge says which version it is.
@Suite struct RegistryTests {
    @Test func unrecognisedFilesNameEveryRegisteredFormat() throws {
        let path = temporaryDirectory().appendingPathComponent("notes.bin").path
        try "just text".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ReadError.notThisFormat("unrecognized content (expected a torch.export .pt2 archive, a TorchScript .pt archive or an ONNX model)")) {
            try ModelLoader.load(path: path)
        }
    }

    @Test func aTorchScriptZipIsReadAsTorchScriptNotAsTorchExport() throws {
        // The layout `torch.jit.save` writes: a zip whose entries are no exported program; here its pickle is empty.
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("scripted.pt").path
        try ZipFixture.write(["scripted/data.pkl": [0x80, 0x02, 0x2E], "scripted/code/__torch__.py": Array("class A(Module):\n  pass\n".utf8),
                              "scripted/version": Array("6\n".utf8)], to: path)
        #expect(ModelLoader.format(ofFoundFile: path) == TorchScriptFormat.self)
        #expect(throws: ReadError.malformed("data.pkl: pickle ends with 0 values on its stack")) { try ModelLoader.load(path: path) }
    }

    /// A pt2 archive without an exported program (what AOTInductor packages) is not claimed by a folder walk.
    @Test func aPT2ArchiveWithoutAProgramIsNoTorchExportArchive() throws {
        let path = temporaryDirectory().appendingPathComponent("package.pt2").path
        try ZipFixture.write(["package/archive_format": Array("pt2".utf8), "package/data/aotinductor/model.so": [0x7F, 0x45]], to: path)
        #expect(ModelLoader.format(ofFoundFile: path) == nil)
        #expect(throws: ReadError.notThisFormat("pt2 archive has no models/*.json program")) { try ModelLoader.load(path: path) }
    }

    /// A large graph's nodes are checked on several threads, a run of nodes each: the findings are the ones
    /// one thread finds, in the same order, and a run's edge does not lose or repeat a node. Big enough that at
    /// two jobs runs are longer than the smallest (and the last is shorter), and at three they are the smallest.
    @Test func nodesCheckedOnSeveralThreadsGiveTheSameFindingsInOrder() throws {
        var model = try ModelLoader.load(path: Repo.example("add_leaky_relu_two_inputs.fp16.aten.pt2"))
        let nodes = model.graphs[0].nodes
        let copies = 3 * Linter.runsPerJob * Linter.smallestRun / nodes.count + 3
        model.graphs[0].nodes = (0..<copies).flatMap { copy in
            nodes.map { node in
                var node = node
                node.name += "_\(copy)"
                return node
            }
        }
        let settings = Settings(pack: CoreMLToolsPack.self, deploymentTarget: DeploymentTarget("iOS16")!)
        let linter = Linter(rules: Engine.rules, knowledge: Engine.knowledge)
        let one = linter.lint(model, settings: settings, jobs: 1).map { "\($0.ruleId) \($0.node ?? "-") \($0.message) \($0.cause ?? 0)" }
        let nodeFindings = one.filter { !$0.contains(" - ") }
        #expect(nodeFindings.count >= copies && nodeFindings.count % copies == 0, "every copy of a node has its findings")
        for jobs in [2, 3] {
            #expect(linter.lint(model, settings: settings, jobs: jobs).map { "\($0.ruleId) \($0.node ?? "-") \($0.message) \($0.cause ?? 0)" } == one)
        }
    }

    @Test func messagesNameTheVersionWhoseKnowledgeWasUsed() throws {
        let model = try ModelLoader.load(path: Repo.example("leaky_relu.fp16.aten.pt2"))
        let settings = Settings(pack: CoreMLToolsPack.self, converterVersion: Version("8.0")!, deploymentTarget: DeploymentTarget("iOS16")!)
        let linter = Linter(rules: Engine.rules, knowledge: Engine.knowledge)
        #expect(linter.knowledgeVersion(for: settings) == Version("9.0"))
        let clash = try #require(linter.lint(model, settings: settings).first { $0.ruleId == "coreml-scalar-fp32-constant" })
        #expect(clash.message.contains("coremltools 9.0 lowers it"))
        #expect(!clash.message.contains("8.0"))
    }

    @Test func theCLIWarnsWhenItUsesAnotherVersionsKnowledge() throws {
        let out = temporaryDirectory().appendingPathComponent("out.txt").path
        var status: Int32 = 1
        let warning = try captureStandardError {
            status = runTensorlint(["lint", "--converter-version", "coremltools=8.0", Repo.example("leaky_relu.fp32.aten.pt2"), "-o", out])
        }
        #expect(status == 0)
        #expect(warning.contains("no knowledge of coremltools 8.0; checking against coremltools 9.0"))
        // A bare version belongs to --target: without it, each model's converter follows its format.
        #expect(runTensorlint(["lint", "--target", "coremltools", "--converter-version", "8.0", Repo.example("leaky_relu.fp32.aten.pt2"), "-o", out]) == 0)
        #expect(runTensorlint(["lint", "--converter-version", "8.0", Repo.example("leaky_relu.fp32.aten.pt2"), "-o", out]) == 2)
    }

    @Test func onnxruntimeKnowledgeIsPairedWithTheSchemasItNames() {
        #expect(Engine.onnxruntime.schemas.onnxVersion == "1.23.2")
    }

    /// The reader's and writer's `TensorProto.DataType` table agrees with the one generated from onnx.
    @Test func onnxDataTypeNumbersAreTheGeneratedOnes() {
        let generated = Engine.onnxruntime.schemas.dataTypes
        #expect(Set(generated.keys) == Set(ONNXDataType.table.map(\.number)), "element types the table lacks or invents")
        for (number, dtype) in ONNXDataType.table {
            #expect(generated[number] == dtype, "TensorProto.DataType \(number)")
            #expect(ONNXDataType.number(dtype) == number && ONNXDataType.dtype(number) == dtype)
        }
    }
}

/// A converter the repository does not have, declared here: a pack, a knowledge folder and a rule are all
/// it takes, with no edit to the engine.
enum ImaginaryConverterPack: ConverterPack {
    static let target = "imaginary"
    static let defaultVersion = Version("1.0")!

    /// The knowledge: the ops this converter refuses, one per line of `refused-ops.txt`.
    static func loadKnowledge(version: Version, folder: String, folders: [String: KnowledgeFolder]) throws -> any Sendable {
        guard let text = folders[folder]?["refused-ops.txt"] else { throw KnowledgeError(file: "imaginary-\(version)/refused-ops.txt", reason: "missing") }
        return Set(text.split(separator: "\n").map(String.init))
    }

    static func prepare(_ model: Model, knowledge: any Sendable, settings: Settings) -> any Sendable { knowledge }

    static let predicates = [
        Predicate("imaginary-refused-op", state: Set<String>.self, keys: ["refused": "the op it refuses"]) { context, refused in
            guard let op = context.node?.op.name, refused.contains(op) else { return nil }
            return ["refused": op]
        },
    ]
    static let fixers: [Fixer] = []
    static let settingKeys: [String: String] = [:]
    static func settingBindings(_ settings: Settings) -> Bindings { [:] }
}

@Suite struct NewConverterTests {
    @Test func aNewConverterIsAPackAKnowledgeFolderAndARule() throws {
        let vocabulary = RuleVocabulary(formats: Engine.vocabulary.formats, packs: [ImaginaryConverterPack.self])
        let knowledge = Knowledge.load(files: [("knowledge/imaginary-1.0/refused-ops.txt", "celu\nlerp\n"),
                                                   ("knowledge/imaginary-2.0/refused-ops.txt", "lerp\n")], vocabulary: vocabulary)
        let rule = try RuleLoader.parse(yaml: """
            id: imaginary-refused-op
            name: Refused op
            severity: error
            summary: s
            description: d
            message: "imaginary {converter_version} refuses `{refused}` (node {node})"
            fix: {suggestion: none}
            applies_to: {targets: [imaginary]}
            match: {predicate: imaginary-refused-op}
            """, origin: "imaginary.yml", vocabulary: vocabulary)
        let model = try ModelLoader.load(path: Repo.example("celu.fp32.aten.pt2"))
        let linter = Linter(rules: [rule], knowledge: knowledge)
        #expect(linter.lint(model, settings: Settings(pack: ImaginaryConverterPack.self)).map(\.message)
                == ["imaginary 1.0 refuses `celu` (node celu)"])
        #expect(linter.lint(model, settings: Settings(pack: ImaginaryConverterPack.self, converterVersion: Version("2.1")!)).isEmpty,
                "version 2.1 is judged by 2.0's knowledge, which refuses only lerp")
        #expect(throws: RuleFileError.self, "the shipped packs' predicates are not in this vocabulary") {
            try RuleLoader.parse(yaml: "id: x\nname: x\nseverity: error\nsummary: s\ndescription: d\nmessage: m\nfix: {suggestion: s}\nmatch: {predicate: coremltools-unregistered-op}",
                                 origin: "x.yml", vocabulary: vocabulary)
        }
    }
}
