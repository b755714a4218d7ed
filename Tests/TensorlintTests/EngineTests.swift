import Foundation
import Testing
@testable import TensorlintEngine
import TensorlintIR
@testable import TensorlintPacks

@Suite struct KnowledgeTests {
    let coreml = Engine.coreml

    @Test func sanitizesOpKindsAsCoremltools() {
        let cases: [(String, String, String?, String)] = [
            ("aten", "leaky_relu", "default", "leaky_relu"), ("aten", "add", "Tensor", "add"),
            ("aten", "div", "Tensor_mode", "div"), ("aten", "mean", "dim", "mean.dim"),
            ("aten", "sum", "dim_IntList", "sum.dim_intlist"), ("aten", "where", "ScalarOther", "where.scalarother"),
            ("aten", "lstm", "input", "lstm.input"), ("_operator", "getitem", nil, "getitem"),
            ("quantized_decomposed", "dequantize_per_tensor", "default", "quantized_decomposed::dequantize_per_tensor"),
        ]
        for (namespace, name, overload, kind) in cases {
            #expect(CoreMLKnowledge.sanitizedKind(OpName(namespace: namespace, name: name, overload: overload)) == kind)
        }
    }

    @Test func registryIsTheGeneratedOne() {
        #expect(coreml.registeredKinds.count == 447)
        #expect(coreml.registeredKinds.contains("where.self"))
        #expect(!coreml.registeredKinds.contains("where.scalarother"))
        #expect(coreml.promotingConverters.contains("linear"))
    }

    @Test func everyLoweringNamesARealConverterAndRealMILInputs() {
        let converters = Set(coreml.converterOf.values)
        for (op, lowering) in coreml.lowerings {
            #expect(converters.contains(lowering.converter), "\(op): no converter \(lowering.converter) in coremltools \(coreml.version)")
            for emitted in lowering.emits where emitted.values.isEmpty {
                let domains = coreml.typeDomains(of: emitted.milOp, at: DeploymentTarget("iOS15")!)
                #expect(domains != nil, "\(op): MIL op \(emitted.milOp) unknown")
                for (input, _) in emitted.bindings {
                    #expect(domains?[input] != nil, "\(op): MIL op \(emitted.milOp) has no typed input \(input)")
                }
            }
        }
    }

    /// Type-domain entries are read when first asked for: every one of them must read, most with domains.
    @Test func everyTypeDomainEntryReads() throws {
        let table = coreml.typeDomainTable
        #expect(table.opsets.map(\.opsetName) == ["iOS15", "iOS16", "iOS17", "iOS18"])
        var withDomains = 0
        for (opset, op) in table.allOps {
            if try table.entry(opset: opset, op: op) != nil { withDomains += 1 }
        }
        #expect(withDomains > table.allOps.count / 2, "\(withDomains) of \(table.allOps.count) entries have type domains")
        #expect(table.entry(of: "no_such_op", at: DeploymentTarget("iOS18")!) == nil)
    }

    @Test func iOS17SeparatesActivationAlphaButNotClip() {
        let ios16 = DeploymentTarget("iOS16")!, ios17 = DeploymentTarget("iOS17")!
        #expect(coreml.typeDomains(of: "leaky_relu", at: ios16)?["alpha"] == coreml.typeDomains(of: "leaky_relu", at: ios16)?["x"])
        #expect(coreml.typeDomains(of: "leaky_relu", at: ios17)?["alpha"] != coreml.typeDomains(of: "leaky_relu", at: ios17)?["x"])
        #expect(coreml.typeDomains(of: "clip", at: ios17)?["alpha"] == coreml.typeDomains(of: "clip", at: ios17)?["x"])
    }

    @Test func deploymentTargetAliasesShareAnOpset() {
        #expect(DeploymentTarget("macOS13") == DeploymentTarget("iOS16"))
        #expect(DeploymentTarget("watchOS10")! == DeploymentTarget("iOS17")!)
        #expect(DeploymentTarget("tvOS18")!.opsetName == "iOS18")
        #expect(DeploymentTarget("iOS14") == nil)
    }

    /// The deployment targets are the generated table's (`coremltools.target`), not a list in the code.
    @Test func deploymentTargetsAreTheGeneratedOnes() throws {
        let file = Repo.root.appendingPathComponent("rules/knowledge/coremltools-9.0/deployment-targets.json")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let targets = try #require(root["targets"] as? [String: Int])
        #expect(Set(DeploymentTarget.knownNames) == Set(targets.keys))
        for (name, version) in targets { #expect(DeploymentTarget(name)?.specificationVersion == version, "\(name)") }
        #expect(DeploymentTarget("macOS26")?.opsetName == "iOS26")
    }

    @Test func versionsCompareNumerically() {
        #expect(Version("9.0")! < Version("10.0")!)
        #expect(Version("9")! == Version("9.0.0")!)
        #expect(VersionRange(parsing: ">=9.0, <10")!.contains(Version("9.1")!))
        #expect(!VersionRange(parsing: ">=9.0, <10")!.contains(Version("10")!))
    }
}

@Suite struct RuleLoaderTests {
    static let valid = """
    id: my-rule
    name: My rule
    severity: warning
    summary: s
    description: d
    message: "{op} at {node}"
    fix: {suggestion: do this}
    scope: node
    match:
      op: [aten.celu]
    examples:
      triggering:
        - fixture: celu.fp32.aten.pt2
    """

    @Test func loadsAUserRuleAndRunsIt() throws {
        let rule = try RuleLoader.parse(yaml: Self.valid, origin: "my-rule.yml", vocabulary: Engine.vocabulary)
        #expect(rule.severity == .warning && rule.enabledByDefault)
        let findings = try Engine.lint(Repo.example("celu.fp32.aten.pt2"), rules: [rule])
        #expect(findings.map(\.message) == ["aten.celu.default at celu"])
    }

    @Test(arguments: [
        ("severity: warning", "severity: fatal", 3, "severity must be error, warning or note"),
        ("scope: node", "scope: node\nextra: 1", 9, "unknown key `extra` in rule"),
        ("  op: [aten.celu]", "  predicate: no-such-thing", 10, "unknown predicate `no-such-thing`"),
        ("  op: [aten.celu]", "  opp: [aten.celu]", 10, "unknown key `opp` in condition"),
        ("id: my-rule", "id: My Rule", 1, "must be lower-case words"),
    ])
    func reportsTheFileLineAndCause(_ replacing: String, _ with: String, _ line: Int, _ reason: String) {
        do {
            _ = try RuleLoader.parse(yaml: Self.valid.replacingOccurrences(of: replacing, with: with), origin: "bad.yml", vocabulary: Engine.vocabulary)
            Issue.record("accepted an invalid rule")
        } catch {
            #expect(error.file == "bad.yml")
            #expect(error.line == line)
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test func rejectsBrokenYAMLWithALine() {
        #expect(throws: RuleFileError.self) { try RuleLoader.parse(yaml: "id: [unclosed\n", origin: "x.yml", vocabulary: Engine.vocabulary) }
    }
}

@Suite struct ConfigurationTests {
    @Test func selectsRulesLikeSwiftLint() throws {
        let configuration = try Configuration.parse(yaml: """
        disabled_rules: [coreml-fp16-source-model]
        severity:
          coreml-unsupported-op: warning
        target:
          minimum_deployment_target: iOS17
          compute_precision: float32
        """, path: ".tensorlint.yml", targets: Engine.vocabulary.targets)
        let selected = configuration.select(from: Engine.rules)
        #expect(!selected.contains { $0.id == "coreml-fp16-source-model" })
        #expect(selected.first { $0.id == "coreml-unsupported-op" }?.severity == .warning)
        #expect(configuration.target.deploymentTarget == DeploymentTarget("iOS17"))
        #expect(configuration.target.computePrecision == .float32)
        for (yaml, message) in [("mystery: 1", "c.yml:1: unknown configuration key `mystery` (known: "),
                                ("exclude: [x]", "c.yml:1: unknown configuration key `exclude`; did you mean `excluded`?"),
                                ("target:\n  converter: coremltools\n  versoin: '9.0'", "c.yml:3: unknown configuration key `target.versoin`; did you mean `version`?")] {
            #expect(throws: RuleFileError.self) { try Configuration.parse(yaml: yaml, path: "c.yml", targets: Engine.vocabulary.targets) }
            do { _ = try Configuration.parse(yaml: yaml, path: "c.yml", targets: Engine.vocabulary.targets) } catch {
                #expect(error.description.hasPrefix(message), "\(error.description)")
            }
        }

        let only = try Configuration.parse(yaml: "only_rules: [coreml-training-dialect]\nopt_in_rules: [x]", path: "c.yml", targets: Engine.vocabulary.targets)
        #expect(only.select(from: Engine.rules).map(\.id) == ["coreml-training-dialect"])
        #expect(only.unknownRuleIds(among: Engine.rules) == ["x"])
    }

    @Test func rejectsBadValuesWithALine() {
        do {
            _ = try Configuration.parse(yaml: "target:\n  minimum_deployment_target: iOS99\n", path: "c.yml", targets: Engine.vocabulary.targets)
            Issue.record("accepted iOS99")
        } catch {
            #expect(error.line == 2)
        }
    }

    @Test func globsMatchPathsAndFolders() {
        #expect(Glob.matches("models/**/*.pt2", "models/a/b/c.pt2"))
        #expect(Glob.matches("models/**/*.pt2", "models/c.pt2"))
        #expect(!Glob.matches("models/*.pt2", "models/a/c.pt2"))
        #expect(Glob.matches("legacy", "legacy/x.pt2"))
        #expect(!Glob.matches("legacy", "legacy2/x.pt2"))
        #expect(Glob.matches("**/old_*", "old_a.pt2") && Glob.matches("models/*.onnx", "models/a.onnx") && !Glob.matches("models/*.onnx", "models/x/a.onnx"))
        // Repeated `**` is linear, not exponential: 40 of them against a long path that does not match.
        let pattern = String(repeating: "**/", count: 40) + "z"
        #expect(!Glob.matches(pattern, String(repeating: "a/", count: 200) + "b"))
        let configuration = try! Configuration.parse(yaml: "included: [models]\nexcluded: ['**/old_*']", path: "c.yml", targets: Engine.vocabulary.targets)
        #expect(configuration.includes(relativePath: "models/a.pt2"))
        #expect(!configuration.includes(relativePath: "models/old_a.pt2"))
        #expect(!configuration.includes(relativePath: "other/a.pt2"))
    }

    /// Anchors and aliases are refused before YAML is composed (ten aliases of ten never finish composing);
    /// quotes, comments and block scalars that hold `*` or `&` are text, not aliases.
    @Test func aliasesAreRefusedAndTextIsNot() throws {
        #expect(YAMLAliasCheck.firstAliasOrAnchor(in: "a: &a [1, 2]\nb: [*a, *a]\n") == 1)
        #expect(YAMLAliasCheck.firstAliasOrAnchor(in: "excluded:\n  - \"**/old\"\n  - *old\n") == 3)
        #expect(YAMLAliasCheck.firstAliasOrAnchor(in: "x: {k: *v}\n") == 1)
        let text = "excluded: ['**/a', \"*b\"]  # *not\ndescription: |\n  **Fix:** use `*` & more\n  *still text\nsummary: a & b, 2*3\n"
        #expect(YAMLAliasCheck.firstAliasOrAnchor(in: text) == nil)
        let rules = Repo.root.appendingPathComponent("rules")
        // Rule files (the knowledge tables are data the build embeds, where an anchor is the repository's own).
        for name in (FileManager.default.enumerator(atPath: rules.path)?.allObjects as? [String] ?? []) where name.hasSuffix(".yml") && !name.hasPrefix("knowledge/") {
            let yaml = try String(contentsOf: rules.appendingPathComponent(name), encoding: .utf8)
            #expect(YAMLAliasCheck.firstAliasOrAnchor(in: yaml) == nil, "rules/\(name)")
        }
        #expect(YAMLAliasCheck.firstAliasOrAnchor(in: try String(contentsOf: Repo.root.appendingPathComponent(".tensorlint.yml"), encoding: .utf8)) == nil)
        #expect(throws: RuleFileError.self) { try Configuration.parse(yaml: "a: &a [1]\nb: *a\n", path: "c.yml", targets: Engine.vocabulary.targets) }
    }

    @Test func theRepositoryConfigurationDocumentsEveryKey() throws {
        let path = Repo.root.appendingPathComponent(Configuration.fileName).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for key in Configuration.topKeys.union(TargetConfiguration.keys) {
            #expect(text.contains("\(key):"), "\(Configuration.fileName) does not document \(key)")
        }
        _ = try Configuration.load(path: path, targets: Engine.vocabulary.targets)
    }
}

@Suite struct ValueConditionTests {
    /// The model-wide dtype conditions name the first matching values as a sort of all of them would: each
    /// graph's inputs in their order, then its other values by name; and count them all. Random graphs with
    /// values of no dtype, weights, repeated inputs and inputs that are no value.
    @Test(arguments: 0..<40) func nameTheFirstMatchingValuesInOrder(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        var graphs: [Graph] = []
        for index in 0..<Int.random(in: 1...3, using: &generator) {
            var values: [String: Value] = [:]
            for _ in 0..<Int.random(in: 0...12, using: &generator) {
                let name = "v\(index)_\(Int.random(in: 0...99, using: &generator))"
                let dtype = [DType.float16, .float32, nil].randomElement(using: &generator)!
                let role = [Value.Role.userInput, .intermediate, .parameter(name), .constant(name)].randomElement(using: &generator)!
                values[name] = Value(name: name, dtype: dtype, shape: [2], role: role)
            }
            var inputs = Array(values.keys.shuffled(using: &generator).prefix(Int.random(in: 0...3, using: &generator)))
            if Bool.random(using: &generator) { inputs += inputs.prefix(1) + ["missing\(index)"] }
            graphs.append(Graph(name: "g\(index)", nodes: [], values: values, inputs: inputs, outputs: []))
        }
        let model = Model(path: "m", format: "test", layout: "test", graphs: graphs)
        let context = MatchContext(model: model, valueTypes: [], graph: 0, node: nil,
                                   settings: Settings(target: "coremltools", converterVersion: Version("9.0")!), packState: 0)
        let conditions: [(Condition, String, (Value) -> Bool)] = [(.anyTensorDType([.float16]), "tensors", { _ in true }),
                                                                 (.weightDType([.float16]), "weights", { $0.role.isWeight }),
                                                                 (.userInputDType([.float16]), "inputs", { $0.role == .userInput })]
        for (condition, key, include) in conditions {
            var matching: [Value] = []
            for graph in graphs {
                let others = graph.values.values.filter { !graph.inputs.contains($0.name) }.sorted { $0.name < $1.name }
                matching += (graph.inputs.compactMap { graph.values[$0] } + others).filter { $0.dtype == .float16 && include($0) }
            }
            let bindings = condition.evaluate(context)
            guard let first = matching.first else {
                #expect(bindings == nil, "seed \(seed), \(key)")
                continue
            }
            let more = matching.count > 3 ? ", … \(matching.count - 3) more" : ""
            let shown = matching.prefix(3).map { "\($0.name) (float16)" }.joined(separator: ", ") + more
            var expected = ["tensors": shown, "count": String(matching.count), "dtype": first.dtype!.rawValue]
            expected[key] = shown
            #expect(bindings == expected, "seed \(seed)")
        }
    }
}
