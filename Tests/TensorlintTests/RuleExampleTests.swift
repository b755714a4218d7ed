import Testing
import TensorlintEngine
import TensorlintIR
@testable import TensorlintPacks

/// Every rule carries its own triggering and non-triggering examples (as SwiftLint's rule descriptions
/// do); this runs each one with that rule alone.
@Suite struct RuleExampleTests {
    static let cases: [(rule: String, fixture: String, triggers: Bool)] = Engine.rules.flatMap { rule in
        rule.triggering.map { (rule.id, $0.fixture, true) } + rule.nonTriggering.map { (rule.id, $0.fixture, false) }
    }

    @Test func everyBuiltinRuleHasBothKindsOfExample() {
        for rule in Engine.rules {
            #expect(!rule.triggering.isEmpty, "\(rule.id) has no triggering example")
            #expect(!rule.nonTriggering.isEmpty, "\(rule.id) has no non-triggering example")
        }
    }

    @Test func examplesBehaveAsDeclared() throws {
        for rule in Engine.rules {
            for (example, triggers) in rule.triggering.map({ ($0, true) }) + rule.nonTriggering.map({ ($0, false) }) {
                let findings = try Engine.lint(Repo.example(example.fixture), rules: [rule],
                                               converter: rule.targets.contains(CoreMLToolsPack.target) ? CoreMLToolsPack.self : ONNXRuntimePack.self,
                                               target: example.deploymentTarget?.name ?? "iOS15",
                                               precision: example.computePrecision ?? .float16)
                #expect(findings.isEmpty != triggers,
                        "\(rule.origin):\(example.line): \(rule.id) on \(example.fixture) should \(triggers ? "" : "not ")trigger")
                for finding in findings {
                    #expect(finding.message.firstMatch(of: /\{[a-z_]+\}/) == nil, "\(rule.id) left a placeholder unfilled: \(finding.message)")
                    #expect(finding.fix.firstMatch(of: /\{[a-z_]+\}/) == nil, "\(rule.id) left a placeholder unfilled in its fix: \(finding.fix)")
                }
            }
        }
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
