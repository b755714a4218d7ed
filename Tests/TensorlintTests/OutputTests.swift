import Foundation
import Testing
import TensorlintCLI
import TensorlintEngine
import TensorlintIR
@testable import TensorlintPacks
import TensorlintReporters

@Suite struct OutputTests {
    func report(_ fixtures: [String], target: String = "iOS16", broken: [String] = []) throws -> LintReport {
        var files = try fixtures.map { fixture in
            LintReport.FileResult(path: Repo.example(fixture), format: .torchExport, layout: nil,
                                  findings: try Engine.lint(Repo.example(fixture), target: target), error: nil)
        }
        files += broken.map { LintReport.FileResult(path: Repo.broken($0), format: nil, layout: nil, findings: [], error: "not a model file: x") }
        let settings = Settings(pack: CoreMLToolsPack.self, deploymentTarget: DeploymentTarget(target)!)
        return LintReport(files: files, rules: Engine.rules,
                          settings: settings, knowledgeVersion: settings.converterVersion, toolVersion: toolVersion,
                          workingDirectory: Repo.root.path)
    }

    @Test func sarifCarriesRulesResultsAndNotifications() throws {
        let text = SARIFReporter().render(try report(["leaky_relu.fp16.aten.pt2"], broken: ["text.pt2"]))
        let log = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.count == Engine.rules.count)
        for rule in rules {
            for key in ["shortDescription", "fullDescription", "help", "defaultConfiguration"] { #expect(rule[key] != nil, "rule lacks \(key)") }
        }
        let results = try #require(run["results"] as? [[String: Any]])
        let error = try #require(results.first { $0["level"] as? String == "error" })
        let index = try #require(error["ruleIndex"] as? Int)
        #expect(rules[index]["id"] as? String == error["ruleId"] as? String)
        let location = try #require((error["locations"] as? [[String: Any]])?.first)
        let logical = try #require((location["logicalLocations"] as? [[String: Any]])?.first)
        #expect(logical["fullyQualifiedName"] as? String == "main/leaky_relu")
        let artifact = (location["physicalLocation"] as? [String: Any])?["artifactLocation"] as? [String: Any]
        #expect(artifact?["uri"] as? String == "examples/models/leaky_relu.fp16.aten.pt2")
        #expect((error["message"] as? [String: Any])?["text"] as? String ?? "" != "")
        #expect((error["partialFingerprints"] as? [String: String])?.isEmpty == false)
        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        #expect((invocation["toolExecutionNotifications"] as? [[String: Any]])?.count == 1)
    }

    @Test func fingerprintsAreStableAcrossRuns() throws {
        let first = SARIFReporter().render(try report(["hardtanh.fp16.aten.pt2"]))
        let second = SARIFReporter().render(try report(["hardtanh.fp16.aten.pt2"]))
        #expect(first == second)
    }

    @Test func jsonIsVersionedAndCountsFindings() throws {
        let text = JSONReporter().render(try report(["leaky_relu.fp16.aten.pt2", "leaky_relu.fp32.aten.pt2"]))
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(document["format_version"] as? Int == 1)
        let summary = try #require(document["summary"] as? [String: Int])
        #expect(summary["errors"] == 1 && summary["warnings"] == 1 && summary["files"] == 2)
        let files = try #require(document["files"] as? [[String: Any]])
        let finding = try #require((files[0]["findings"] as? [[String: Any]])?.first)
        #expect((finding["node"] as? [String: Any])?["op"] as? String == "aten.leaky_relu.default")
        #expect((finding["fix"] as? [String: Any])?["applicability"] as? String == "safe")
    }

    @Test func textIsCompilerStyle() throws {
        let text = TextReporter().render(try report(["celu.fp32.aten.pt2"]))
        let first = try #require(text.split(separator: "\n").first)
        #expect(first == "examples/models/celu.fp32.aten.pt2: error: node `celu`: coremltools 9.0 has no converter for `aten.celu.default` [coreml-unsupported-op]")
        #expect(text.contains("  why: `aten.celu.default` node `celu` (module act, examples/model.py:12) has no coremltools 9.0 converter"))
        #expect(first.hasSuffix("[coreml-unsupported-op]"))
        #expect(text.contains("  source: examples/model.py:12: return self.act(x)"))
        #expect(text.hasSuffix("1 file linted: 1 error, 0 warnings\n"))
    }

    /// The fix's code runs as pasted: one named `ct.TensorType` per model input (a list of another length
    /// raises "Inconsistent number of inputs between user and EXIR specifications"), static shapes written out.
    @Test func fixCodeListsEveryModelInput() throws {
        let findings = try Engine.lint(Repo.example("add_leaky_relu_two_inputs.fp16.aten.pt2"), target: "iOS16")
        let fix = try #require(findings.first { $0.ruleId == "coreml-scalar-fp32-constant" }?.fix)
        #expect(fix.contains("inputs=[ct.TensorType(name=\"x\", shape=(1, 4, 8, 8), dtype=np.float16), ct.TensorType(name=\"y\", shape=(1, 4, 8, 8), dtype=np.float16)]"))
        let dynamic = try Engine.lint(Repo.example("leaky_relu_dynamic.fp16.aten.pt2"), target: "iOS16")
        #expect(dynamic.first { $0.ruleId == "coreml-scalar-fp32-constant" }?.fix.contains("inputs=[ct.TensorType(name=\"x\", dtype=np.float16)]") == true,
                "a symbolic shape is left to the program")
    }

    @Test func explainCoversWhyFixAndSafety() throws {
        let rule = try #require(Engine.rules.first { $0.id == "coreml-scalar-fp32-constant" })
        let text = RuleDocumentation.markdown(rule)
        for heading in ["## Why", "## Fix", "## Fix safety", "## Examples", "## References"] { #expect(text.contains(heading)) }
        #expect(text.contains("Safe: the automatic fixes `keep-fp32` and `rewrite-op` give a model"))
    }
}

@Suite(.serialized) struct CommandLineTests {
    @Test func exitStatusesFollowTheFindings() {
        let out = temporaryDirectory().appendingPathComponent("out.sarif").path
        #expect(runTensorlint(["lint", Repo.example("leaky_relu.fp32.aten.pt2"), "-o", out]) == 0)
        #expect(runTensorlint(["lint", "--format", "sarif", "--minimum-deployment-target", "iOS16",
                               Repo.example("leaky_relu.fp16.aten.pt2"), "-o", out]) == 1)
        #expect(runTensorlint(["lint", "--minimum-deployment-target", "iOS17", Repo.example("leaky_relu.fp16.aten.pt2"), "-o", out]) == 0)
        #expect(runTensorlint(["lint", "--target", "onnxruntime", Repo.example("leaky_relu.fp16.aten.pt2"), "-o", out]) == 0)
    }

    @Test func badInputAndUsageExitWithTwo() {
        let out = temporaryDirectory().appendingPathComponent("out.txt").path
        for name in Repo.brokenFiles {
            #expect(runTensorlint(["lint", Repo.broken(name), "-o", out]) == 2, "\(name)")
        }
        #expect(runTensorlint(["lint", "/no/such/model.pt2", "-o", out]) == 2)
        #expect(runTensorlint(["lint", "--minimum-deployment-target", "iOS14", Repo.example("celu.fp32.aten.pt2")]) == 2)
        #expect(runTensorlint(["lint", "--format", "xml", Repo.example("celu.fp32.aten.pt2")]) == 2)
        #expect(runTensorlint(["lint", "--no-such-flag"]) == 2)
        #expect(runTensorlint(["explain", "no-such-rule"]) == 2)
    }

    /// Files linted in parallel are reported as one thread would report them: same report, same lines on
    /// standard error, in the same order.
    @Test func parallelJobsReportWhatOneJobReports() throws {
        let directory = temporaryDirectory()
        for folder in ["examples/models", "examples/broken"] {
            let copy = directory.appendingPathComponent(folder.replacingOccurrences(of: "/", with: "_"))
            try FileManager.default.copyItem(at: Repo.root.appendingPathComponent(folder), to: copy)
        }
        var reports: [String] = []
        var statuses: [Int32] = []
        for jobs in ["1", "4"] {
            let out = directory.appendingPathComponent("report-\(jobs).sarif").path
            statuses.append(runTensorlint(["lint", "--format", "sarif", "--jobs", jobs, directory.path, "-o", out]))
            reports.append(try String(contentsOfFile: out, encoding: .utf8))
        }
        #expect(statuses == [2, 2], "the broken examples are read errors")
        #expect(reports[0] == reports[1])
        #expect(reports[0].contains("celu.fp32.aten.pt2"))
        #expect(runTensorlint(["lint", "--jobs", "0", Repo.example("celu.fp32.aten.pt2")]) == 2)
    }

    @Test func foldersAreWalkedAndNonModelsSkipped() throws {
        let directory = temporaryDirectory()
        try FileManager.default.copyItem(atPath: Repo.example("celu.fp32.aten.pt2"), toPath: directory.appendingPathComponent("renamed.bin").path)
        try FileManager.default.copyItem(atPath: Repo.broken("not_torch.pt2"), toPath: directory.appendingPathComponent("other.pt2").path)
        try "notes".write(to: directory.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("report.json").path
        #expect(runTensorlint(["lint", "--format", "json", directory.path, "-o", out]) == 1)
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        #expect((document?["files"] as? [Any])?.count == 1, "only the model, recognised by content, is linted")
    }

    @Test func configurationFileIsHonouredAndFlagsWin() throws {
        let directory = temporaryDirectory()
        let config = directory.appendingPathComponent(".tensorlint.yml").path
        try "target:\n  minimum_deployment_target: iOS17\n".write(toFile: config, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("out.txt").path
        let model = Repo.example("leaky_relu.fp16.aten.pt2")
        #expect(runTensorlint(["lint", "--config", config, model, "-o", out]) == 0)
        #expect(runTensorlint(["lint", "--config", config, "--minimum-deployment-target", "iOS16", model, "-o", out]) == 1)
        try "rules: [missing-folder]\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(runTensorlint(["lint", "--config", config, model, "-o", out]) == 2)
    }
}

@Suite struct RuleDocumentationTests {
    /// docs/rules is generated; this keeps it in step with the rules (regenerate with
    /// `tensorlint rules --write-docs docs/rules`).
    @Test func docsRulesIsCurrent() throws {
        let directory = Repo.root.appendingPathComponent("docs/rules")
        for rule in Engine.rules {
            let page = try String(contentsOf: directory.appendingPathComponent("\(rule.id).md"), encoding: .utf8)
            #expect(page == RuleDocumentation.markdown(rule), "docs/rules/\(rule.id).md is stale")
        }
        let index = try String(contentsOf: directory.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(index == RuleDocumentation.index(Engine.rules))
    }
}
