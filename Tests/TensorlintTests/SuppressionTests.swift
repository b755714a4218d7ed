import Foundation
import Testing
@testable import TensorlintCLI
import TensorlintEngine

/// Selecting rules and setting findings aside: every path (command line, per file, one finding, baseline),
/// and that what is set aside is still said.
@Suite(.serialized) struct SuppressionTests {
    /// Copies of two example models in a fresh folder, and a report path in it.
    func workspace() throws -> (folder: URL, leaky: String, celu: String, out: String) {
        let folder = temporaryDirectory()
        let models = folder.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        for name in ["leaky_relu.fp16.aten.pt2", "celu.fp32.aten.pt2"] {
            try FileManager.default.copyItem(atPath: Repo.example(name), toPath: models.appendingPathComponent(name).path)
        }
        return (folder, models.appendingPathComponent("leaky_relu.fp16.aten.pt2").path,
                models.appendingPathComponent("celu.fp32.aten.pt2").path, folder.appendingPathComponent("report.json").path)
    }

    /// (rule ids of the counted findings, of the suppressed ones, the summary's suppressed count).
    func lint(_ arguments: [String], out: String) throws -> (status: Int32, rules: [String], suppressed: [String], count: Int) {
        let status = runTensorlint(["lint", "--format", "json", "--minimum-deployment-target", "iOS16"] + arguments + ["-o", out])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let files = document["files"] as? [[String: Any]] ?? []
        let rules = files.flatMap { ($0["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String } }
        let suppressed = files.flatMap { ($0["suppressed"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String } }
        return (status, rules.sorted(), suppressed.sorted(), (document["summary"] as? [String: Any])?["suppressed"] as? Int ?? -1)
    }

    @Test func selectAndIgnoreTakeIdsAndPrefixes() throws {
        let (_, leaky, celu, out) = try workspace()
        #expect(try lint([leaky, celu], out: out).rules == ["coreml-fp16-source-model", "coreml-scalar-fp32-constant", "coreml-unsupported-op"])
        #expect(try lint(["--select", "coreml-fp16", leaky, celu], out: out).rules == ["coreml-fp16-source-model"])
        let ignored = try lint(["--ignore", "coreml-unsupported-op,coreml-scalar", leaky, celu], out: out)
        #expect(ignored.rules == ["coreml-fp16-source-model"] && ignored.status == 0)
        // `coreml-fp1` is no prefix of a rule id's words: an unknown selector is an error, not an empty run.
        #expect(runTensorlint(["lint", "--select", "coreml-fp1", leaky, "-o", out]) == 2)
    }

    @Test func perFileIgnoresAndSingleFindingsAreSuppressedAndSaid() throws {
        let (folder, leaky, celu, out) = try workspace()
        let config = folder.appendingPathComponent(".tensorlint.yml").path
        try """
        per_file_ignores:
          "models/celu*": [coreml-unsupported]
        ignore:
          - path: models/leaky_relu.fp16.aten.pt2
            rule: coreml-scalar-fp32-constant
            node: act
            reason: converted at iOS17
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try lint([leaky, celu], out: out)
        #expect(result.status == 0, "both errors are suppressed")
        #expect(result.rules == ["coreml-fp16-source-model"])
        #expect(result.suppressed == ["coreml-scalar-fp32-constant", "coreml-unsupported-op"] && result.count == 2)
        let text = folder.appendingPathComponent("report.txt").path
        #expect(runTensorlint(["lint", "--minimum-deployment-target", "iOS16", leaky, celu, "-o", text]) == 0)
        #expect(try String(contentsOfFile: text, encoding: .utf8).hasSuffix("2 files linted: 0 errors, 1 warning, 2 suppressed\n"))
        // SARIF keeps them, as suppressed results with their justification.
        let sarif = folder.appendingPathComponent("report.sarif").path
        _ = runTensorlint(["lint", "--format", "sarif", "--minimum-deployment-target", "iOS16", leaky, celu, "-o", sarif])
        let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sarif))) as? [String: Any]
        let results = ((log?["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]]) ?? []
        let suppressions = results.compactMap { ($0["suppressions"] as? [[String: String]])?.first }
        #expect(suppressions.count == 2 && suppressions.allSatisfy { $0["kind"] == "external" })
        #expect(suppressions.contains { $0["justification"] == ".tensorlint.yml ignore: converted at iOS17" })
        // A node the ignore entry does not name is not suppressed.
        try "ignore:\n  - {path: models/*.pt2, rule: coreml-scalar-fp32-constant, node: main/other}\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try lint([leaky], out: out).rules.contains("coreml-scalar-fp32-constant"))
    }

    @Test func forceExcludeAppliesExcludedToNamedFiles() throws {
        let (folder, leaky, _, out) = try workspace()
        try "excluded: [models/leaky*]\n".write(to: folder.appendingPathComponent(".tensorlint.yml"), atomically: true, encoding: .utf8)
        #expect(try lint([leaky], out: out).rules.isEmpty == false, "a named file is linted")
        var status: Int32 = 0
        let said = try captureStandardError { status = runTensorlint(["lint", "--force-exclude", leaky, "-o", out]) }
        #expect(status == 0 && said.contains("no model found") && said.contains("1 excluded by the configuration"))
    }

    @Test func aBaselineSetsAsideTodaysFindingsAndSaysWhichNoLongerMatch() throws {
        let (folder, leaky, celu, out) = try workspace()
        let baseline = folder.appendingPathComponent("baseline.json").path
        #expect(runTensorlint(["lint", "--minimum-deployment-target", "iOS16", "--write-baseline", baseline, leaky, celu]) == 0)
        let written = try String(contentsOfFile: baseline, encoding: .utf8)
        #expect(written.contains("\"path\" : \"models/celu.fp32.aten.pt2\"") && written.contains("\"node\" : \"main/celu\""))
        let applied = try lint(["--baseline", baseline, leaky, celu], out: out)
        #expect(applied.status == 0 && applied.rules.isEmpty && applied.count == 3)
        // A new finding fails; a finding gone leaves a stale entry, said once.
        try FileManager.default.removeItem(atPath: celu)
        try FileManager.default.copyItem(atPath: Repo.example("where_scalar_other.fp32.aten.pt2"), toPath: celu)
        var result: (status: Int32, rules: [String], suppressed: [String], count: Int) = (0, [], [], 0)
        let said = try captureStandardError { result = try lint(["--baseline", baseline, leaky, celu], out: out) }
        #expect(result.status == 1 && result.rules == ["coreml-unsupported-op"] && result.count == 2)
        #expect(said.contains("1 baseline entry matches no finding any more") && said.contains("coreml-unsupported-op on models/celu.fp32.aten.pt2 main/celu"))
        // The configuration's `baseline:` is relative to it.
        // (The working directory is the process's, which tests running beside this one share: --config stands
        // for the configuration found from it.)
        let config = folder.appendingPathComponent(".tensorlint.yml").path
        try "baseline: baseline.json\n".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try lint(["--config", config, leaky], out: out).count == 2)
        #expect(runTensorlint(["lint", "--baseline", leaky, leaky, "-o", out]) == 2, "a model is not a baseline")
    }
}

/// What the review of the first baseline found: a known cause does not hide a new node, a model not linted
/// has no stale entries, accepted findings are not fixed, and a grouped fix is one consistent change.
@Suite(.serialized) struct BaselineEdgeTests {
    @Test func aModelNotLintedHasNoStaleEntries() throws {
        let folder = temporaryDirectory()
        let one = folder.appendingPathComponent("one.pt2").path
        let other = folder.appendingPathComponent("other.pt2").path
        try FileManager.default.copyItem(atPath: Repo.example("leaky_relu.fp16.aten.pt2"), toPath: one)
        try FileManager.default.copyItem(atPath: Repo.example("celu.fp32.aten.pt2"), toPath: other)
        let baseline = folder.appendingPathComponent("baseline.json").path
        #expect(runTensorlint(["lint", "--minimum-deployment-target", "iOS16", "--write-baseline", baseline, one, other]) == 0)
        let out = folder.appendingPathComponent("report.txt").path
        var status: Int32 = 1
        var said = try captureStandardError {
            status = runTensorlint(["lint", "--minimum-deployment-target", "iOS16", "--baseline", baseline, one, "-o", out])
        }
        #expect(status == 0 && !said.contains("no finding any more"), "\(said)")
        // Nor has a rule that did not run.
        said = try captureStandardError {
            status = runTensorlint(["lint", "--minimum-deployment-target", "iOS16", "--baseline", baseline, "--select", "coreml-fp16", one, other, "-o", out])
        }
        #expect(status == 0 && !said.contains("no finding any more"), "\(said)")
        #expect(runTensorlint(["lint", "--write-baseline", baseline, "--select", "coreml-fp16", one]) == 2, "a baseline records every rule")
    }

    /// Baselines already written keep working: a cause is recorded as its fingerprint, which must not change
    /// with how it is computed (this entry was written by tensorlint 0.1.0 at c64e34c, which kept the cause's
    /// text). A change of the rule's message or fix text, or of the default converter version they name,
    /// changes it, and then needs saying in the changelog.
    @Test func aCauseWrittenByAnEarlierVersionStillMatches() throws {
        let folder = temporaryDirectory()
        let model = folder.appendingPathComponent("m.pt2").path
        try FileManager.default.copyItem(atPath: Repo.example("leaky_relu.fp16.aten.pt2"), toPath: model)
        let baseline = folder.appendingPathComponent("baseline.json").path
        // The node was renamed since: only the rule, module and cause can match it.
        try """
        {"tensorlint_baseline": 1, "findings": [
          {"rule": "coreml-scalar-fp32-constant", "path": "m.pt2", "node": "main/renamed", "module": "act", "cause": "c6cce2ae2cd4a1e2"}]}
        """.write(toFile: baseline, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("report.json").path
        _ = try captureStandardError {
            _ = runTensorlint(["lint", "--baseline", baseline, "--select", "coreml-scalar-fp32-constant", "--format", "json", model, "-o", out])
        }
        let report = try String(contentsOfFile: out, encoding: .utf8)
        #expect(report.contains("\"kind\" : \"baseline\""), "\(report)")
    }

    @Test func acceptedFindingsAreNotFixed() throws {
        let folder = temporaryDirectory()
        let model = folder.appendingPathComponent("m.onnx").path
        try FileManager.default.copyItem(atPath: Repo.example("add_fp16_fp32_initializer.onnx"), toPath: model)
        try "ignore:\n  - {path: m.onnx, rule: ort-type-parameter-mismatch}\n".write(to: folder.appendingPathComponent(".tensorlint.yml"), atomically: true, encoding: .utf8)
        let original = try Data(contentsOf: URL(fileURLWithPath: model))
        let out = folder.appendingPathComponent("report.txt").path
        #expect(runTensorlint(["lint", "--fix", "--unsafe-fixes", model, "-o", out]) == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == original, "an ignored finding is not fixed")
        #expect(runTensorlint(["fix", "--unsafe-fixes", "--dry-run", model]) == 1, "no fix applies to what is accepted")
    }
}

/// Findings of one rule and one cause are one finding with every node.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 makes the 100-block fixture"))
struct GroupingTests {
    @Test func oneCauseIsOneFindingWithEveryNode() throws {
        let folder = temporaryDirectory()
        let model = folder.appendingPathComponent("blocks.fp16.pt2").path
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        script.arguments = [Repo.root.appendingPathComponent("scripts/make_large_program.py").path, "100", model]
        script.standardOutput = FileHandle.nullDevice
        try script.run()
        script.waitUntilExit()
        #expect(script.terminationStatus == 0)
        let out = folder.appendingPathComponent("report.json").path
        let grouped = runTensorlint(["lint", "--format", "json", "--minimum-deployment-target", "iOS16", model, "-o", out])
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        let findings = (((document?["files"] as? [[String: Any]])?.first)?["findings"] as? [[String: Any]]) ?? []
        let counts = findings.map { ($0["rule"] as? String ?? "", $0["count"] as? Int ?? 1, ($0["nodes"] as? [Any])?.count ?? 1) }
        // layer_norm's epsilon on 100 nodes, leaky_relu's alpha on 300, and the model-level fp16 warning.
        #expect(counts.map(\.0) == ["coreml-scalar-fp32-constant", "coreml-scalar-fp32-constant", "coreml-fp16-source-model"])
        #expect(counts.map(\.1) == [100, 300, 1] && counts.map(\.2) == [100, 300, 1])
        let ungrouped = runTensorlint(["lint", "--format", "json", "--no-group", "--minimum-deployment-target", "iOS16", model, "-o", out])
        #expect(grouped == ungrouped && grouped == 1, "grouping changes no verdict")
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        #expect((((all?["files"] as? [[String: Any]])?.first)?["findings"] as? [Any])?.count == 401)
    }

    /// A baseline of 10 blocks does not hide the 10 blocks added since: their nodes share the baseline's
    /// causes, but each entry stands for one finding.
    @Test func aKnownCauseOnANewNodeIsNew() throws {
        let folder = temporaryDirectory()
        let model = folder.appendingPathComponent("blocks.fp16.pt2").path
        let baseline = folder.appendingPathComponent("baseline.json").path
        for (blocks, step) in [("10", 0), ("20", 1)] {
            let script = Process()
            script.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            script.arguments = [Repo.root.appendingPathComponent("scripts/make_large_program.py").path, blocks, model]
            script.standardOutput = FileHandle.nullDevice
            try script.run()
            script.waitUntilExit()
            if step == 0 { #expect(runTensorlint(["lint", "--minimum-deployment-target", "iOS16", "--write-baseline", baseline, model]) == 0) }
        }
        let out = folder.appendingPathComponent("report.json").path
        #expect(runTensorlint(["lint", "--format", "json", "--minimum-deployment-target", "iOS16", "--baseline", baseline, model, "-o", out]) == 1)
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
        let file = try #require((document?["files"] as? [[String: Any]])?.first)
        let counts = (file["findings"] as? [[String: Any]] ?? []).map { $0["count"] as? Int ?? 1 }
        #expect(counts == [10, 30], "the new blocks' layer norms and leaky relus")
        #expect((document?["summary"] as? [String: Any])?["suppressed"] as? Int == 41)
    }

}

/// Stack traces name the exporting machine's paths: mapped to the checkout, and checked against the line.
@Suite struct SourceRootTests {
    func primaryURI(_ sarif: String) throws -> String? {
        let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sarif))) as? [String: Any]
        let result = ((log?["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first
        let physical = (result?["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any]
        return (physical?["artifactLocation"] as? [String: Any])?["uri"] as? String
    }

    @Test func tracesAreMappedAndAChangedLineIsNotPointedAt() throws {
        let folder = temporaryDirectory()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("src"), withIntermediateDirectories: true)
        let source = folder.appendingPathComponent("src/model.py")
        let lines = (1...11).map { "# line \($0)" } + ["        return self.act(x)"]
        try lines.joined(separator: "\n").write(to: source, atomically: true, encoding: .utf8)
        let model = Repo.example("celu.fp32.aten.pt2")
        let sarif = folder.appendingPathComponent("report.sarif").path
        let arguments = ["lint", "--format", "sarif", "--source-root", folder.path, model, "-o", sarif]
        #expect(runTensorlint(arguments) == 1)
        #expect(try primaryURI(sarif) == "examples/models/celu.fp32.aten.pt2" || primaryURI(sarif)?.hasSuffix("celu.fp32.aten.pt2") == true,
                "the trace's examples/model.py is not in this checkout")
        #expect(runTensorlint(arguments + ["--source-root-map", "examples=" + folder.appendingPathComponent("src").path]) == 1)
        #expect(try primaryURI(sarif) == "src/model.py")
        try (lines.dropLast() + ["        return self.other(x)"]).joined(separator: "\n").write(to: source, atomically: true, encoding: .utf8)
        #expect(runTensorlint(arguments + ["--source-root-map", "examples=" + folder.appendingPathComponent("src").path]) == 1)
        #expect(try primaryURI(sarif)?.hasSuffix("celu.fp32.aten.pt2") == true, "an edited line is not the export's")
        let text = folder.appendingPathComponent("report.txt").path
        _ = runTensorlint(["lint", "--source-root", folder.path, "--source-root-map", "examples=" + folder.appendingPathComponent("src").path, model, "-o", text])
        #expect(try String(contentsOfFile: text, encoding: .utf8).contains("  source: src/model.py:12: return self.act(x) (edited since the export)"))
        #expect(runTensorlint(["lint", "--source-root-map", "no-equals", model, "-o", text]) == 2)
    }
}
