import Foundation
import Testing
import TensorlintCLI
import TensorlintEngine
import TensorlintIR
import TensorlintReporters
@testable import TensorlintPacks

/// One of a rule's own examples, as a test argument.
struct ExampleCase: Sendable, CustomTestStringConvertible {
    var rule: Rule
    var example: RuleExample
    var triggers: Bool

    var testDescription: String { "\(rule.id) on \(example.fixture)\(example.deploymentTarget.map { " at \($0.name)" } ?? "")" }

    var settings: Settings {
        Settings(pack: Engine.vocabulary.pack(rule.targets.sorted().first!)!,
                 deploymentTarget: example.deploymentTarget ?? DeploymentTarget("iOS15")!,
                 computePrecision: example.computePrecision ?? .float16, inputDType: example.inputDType ?? .default)
    }

    /// The findings of this rule alone on the example.
    func findings(at path: String? = nil) throws -> [Finding] {
        Linter(rules: [rule], knowledge: Engine.knowledge).lint(try ModelLoader.load(path: path ?? Repo.example(example.fixture)), settings: settings)
    }
}

/// Every rule carries its own triggering and non-triggering examples, with the nodes it fires on, and the
/// corrections its fix makes (as SwiftLint's rule descriptions do); each runs with that rule alone.
@Suite struct RuleExampleTests {
    /// Each rule's own form and its variants for other formats, with their examples.
    static let variants = Engine.rules.flatMap(\.allVariants)
    static let cases: [ExampleCase] = variants.flatMap { rule in
        rule.triggering.map { ExampleCase(rule: rule, example: $0, triggers: true) }
            + rule.nonTriggering.map { ExampleCase(rule: rule, example: $0, triggers: false) }
    }
    static let corrections: [(ExampleCase, RuleCorrection)] = variants.flatMap { rule in
        rule.corrections.map { (ExampleCase(rule: rule, example: $0.example, triggers: true), $0) }
    }

    @Test func everyBuiltinRuleHasBothKindsOfExampleAndFixableOnesACorrection() {
        for rule in Self.variants {
            #expect(!rule.triggering.isEmpty, "\(rule.id) has no triggering example")
            #expect(!rule.nonTriggering.isEmpty, "\(rule.id) has no non-triggering example")
            if rule.fix.applicability != .displayOnly, !rule.fix.automatic.isEmpty {
                #expect(!rule.corrections.isEmpty, "\(rule.id) has an automatic fix but no correction example")
            }
        }
    }

    @Test(arguments: cases)
    func exampleBehavesAsDeclared(_ testCase: ExampleCase) throws {
        let findings = try testCase.findings()
        let origin = "\(testCase.rule.origin):\(testCase.example.line)"
        #expect(findings.isEmpty != testCase.triggers, "\(origin): should \(testCase.triggers ? "" : "not ")trigger")
        if testCase.triggers, testCase.rule.scope == .node {
            let nodes = try #require(testCase.example.nodes, "\(origin): a triggering example of a node rule names its nodes")
            #expect(findings.map(\.node) == nodes, "\(origin): fires on other nodes")
        }
        for finding in findings {
            #expect(finding.message.firstMatch(of: /\{[a-z_]+\}/) == nil, "\(origin): placeholder left in \(finding.message)")
            #expect(finding.fix.firstMatch(of: /\{[a-z_]+\}/) == nil, "\(origin): placeholder left in the fix \(finding.fix)")
        }
    }

    /// `tensorlint fix` (unsafe fixes included) cures what the rule found, clears the other rules the
    /// correction names, and leaves the ops it declares.
    @Test(arguments: corrections)
    func correctionLeavesWhatItDeclares(_ testCase: ExampleCase, _ correction: RuleCorrection) throws {
        let origin = "\(testCase.rule.origin):\(correction.example.line)"
        let original = Repo.example(correction.example.fixture)
        let fixed = temporaryDirectory().appendingPathComponent(correction.example.fixture).path
        let settings = testCase.settings
        var arguments = ["fix", "--target", settings.target, "--unsafe-fixes", original, "-o", fixed]
        arguments += ["--minimum-deployment-target", settings.deploymentTarget.name, "--compute-precision", settings.computePrecision.rawValue,
                      "--input-dtype", settings.inputDType.rawValue]
        #expect(!(try testCase.findings()).isEmpty, "\(origin): the correction's fixture does not trigger the rule")
        #expect(runTensorlint(arguments) == 0, "\(origin): no fix applied")
        #expect(try testCase.findings(at: fixed).isEmpty, "\(origin): the rule still fires after the fix")
        let all = Linter(rules: Engine.rules, knowledge: Engine.knowledge)
        let before = Set(all.lint(try ModelLoader.load(path: original), settings: settings).map(\.ruleId))
        let model = try ModelLoader.load(path: fixed)
        let after = Set(all.lint(model, settings: settings).map(\.ruleId))
        for id in correction.alsoClears {
            #expect(before.contains(id) && !after.contains(id), "\(origin): \(id) is not cleared by the fix")
        }
        if let ops = correction.ops {
            #expect(model.mainGraph.nodes.map(\.op.description) == ops, "\(origin): the fixed graph's ops")
        }
    }

    /// The text output of each triggering example, and what its automatic fix would do, as golden files
    /// (Ruff's snapshot tests). `TENSORLINT_RECORD_SNAPSHOTS=1 swift test` writes them anew.
    @Test(arguments: cases.filter(\.triggers))
    func textOutputMatchesItsSnapshot(_ testCase: ExampleCase) throws {
        let findings = try testCase.findings()
        let report = LintReport(files: [.init(path: Repo.example(testCase.example.fixture), format: nil, layout: nil, findings: findings, error: nil)],
                                rules: [testCase.rule], settings: testCase.settings, knowledgeVersion: nil,
                                toolVersion: toolVersion, workingDirectory: Repo.root.path)
        var text = TextReporter().render(report)
        for finding in findings where !finding.edits.isEmpty {
            text += "automatic fix \(finding.automaticFix ?? "") (\(finding.fixApplicability.rawValue)): "
                + finding.edits.map(\.description).joined(separator: "; ") + "\n"
        }
        let name = testCase.example.fixture + (testCase.example.deploymentTarget.map { "@\($0.name)" } ?? "")
            + (testCase.example.computePrecision.map { "@\($0.rawValue)" } ?? "")
            + (testCase.example.inputDType.map { "@input-\($0.rawValue)" } ?? "") + ".txt"
        let file = Repo.root.appendingPathComponent("Tests/Snapshots/\(testCase.rule.id)/\(name)")
        if ProcessInfo.processInfo.environment["TENSORLINT_RECORD_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        let recorded = try? String(contentsOf: file, encoding: .utf8)
        #expect(recorded == text, "Tests/Snapshots/\(testCase.rule.id)/\(name) differs (TENSORLINT_RECORD_SNAPSHOTS=1 records it)")
    }

    @Test func findingsNameTheOpsTheConverterNames() throws {
        let leaky = try Engine.lint(Repo.example("leaky_relu.fp16.aten.pt2"), target: "iOS16")
        let clash = try #require(leaky.first { $0.ruleId == "coreml-scalar-fp32-constant" })
        #expect(clash.message.contains("aten.leaky_relu.default"))
        #expect(clash.message.contains("MIL `leaky_relu`"))
        #expect(clash.message.contains("alpha has dtype fp32 whereas x has dtype fp16"))
        #expect(clash.node == "leaky_relu")
        #expect(clash.source?.modulePath == "act")

        let hardshrink = try Engine.lint(Repo.example("hardshrink.fp32.aten.pt2"), target: "iOS18")
        #expect(hardshrink.contains { $0.message.contains("a has dtype int32 whereas b has dtype fp32") })

        let batchNorm = try Engine.lint(Repo.example("batch_norm_relu.fp32.aten.pt2"))
        #expect(batchNorm.contains { $0.message.contains("operator.getitem") && $0.message.contains("_unused_1") })
    }

    @Test func deploymentTargetDecidesTheActivationFamilyButNotClip() throws {
        for (target, fails) in [("iOS16", true), ("iOS17", false), ("iOS18", false), ("macOS13", true), ("macOS14", false)] {
            let findings = try Engine.lint(Repo.example("leaky_relu.fp16.aten.pt2"), target: target)
            #expect(findings.contains { $0.ruleId == "coreml-scalar-fp32-constant" } == fails, "leaky_relu at \(target)")
        }
        for target in ["iOS16", "iOS17", "iOS18"] {
            let findings = try Engine.lint(Repo.example("hardtanh.fp16.aten.pt2"), target: target)
            let clip = findings.first { $0.message.contains("MIL `clip`") }
            #expect(clip != nil, "hardtanh at \(target)")
            #expect(clip?.fix.contains("No deployment target") == true)
        }
        let leaky = try Engine.lint(Repo.example("leaky_relu.fp16.aten.pt2"), target: "iOS16")
        #expect(leaky.contains { $0.fix.contains("raising `minimum_deployment_target` to iOS17 alone also fixes this") })
    }

    @Test func fp32ModelsWithConvertingOpsAreClean() throws {
        for fixture in ["leaky_relu.fp32.aten.pt2", "linear.fp32.aten.pt2", "batch_norm.fp32.aten.pt2", "clamp_min.fp32.aten.pt2"] {
            for target in ["iOS15", "iOS16", "iOS17", "iOS18"] {
                for precision in ComputePrecision.allCases {
                    #expect(try Engine.lint(Repo.example(fixture), target: target, precision: precision).isEmpty, "\(fixture) at \(target)")
                }
            }
        }
    }
}
