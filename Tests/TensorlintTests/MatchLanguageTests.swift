import Foundation
import Testing
@testable import TensorlintCLI
@testable import TensorlintEngine
import TensorlintIR
import TensorlintPacks
import TensorlintReporters

/// A case of the declarative match language: a user rule with this `match`, run on a fixture.
struct MatchCase: Sendable, CustomTestStringConvertible {
    var match: String
    var fixture: String
    var scope = "node"
    var message = "matched"
    var target = "iOS15"
    var precision = ComputePrecision.float16
    var version = "9.0"
    /// The messages of the findings, in order; empty: the rule does not fire.
    var expected: [String]

    var testDescription: String { "\(match.replacingOccurrences(of: "\n", with: " ")) on \(fixture)" }
}

@Suite struct MatchLanguageTests {
    static let cases: [MatchCase] = [
        MatchCase(match: "op: [aten.leaky_relu]", fixture: "leaky_relu.fp32.aten.pt2", message: "{op} at {node}",
                  expected: ["aten.leaky_relu.default at leaky_relu"]),
        MatchCase(match: "op: [aten.where.ScalarOther]", fixture: "where_scalar_other.fp32.aten.pt2", expected: ["matched"]),
        MatchCase(match: "op: [aten.where.self]", fixture: "where_scalar_other.fp32.aten.pt2", expected: []),
        MatchCase(match: "input_dtype: [float16]", fixture: "leaky_relu.fp16.aten.pt2", message: "{input} {input_tensor} {dtype}",
                  expected: ["self x float16"]),
        MatchCase(match: "input_dtype: [float16]", fixture: "leaky_relu.fp32.aten.pt2", expected: []),
        MatchCase(match: "input_dtype: {argument: self, dtype: [fp16]}", fixture: "leaky_relu.fp16.aten.pt2", expected: ["matched"]),
        MatchCase(match: "input_dtype: {argument: negative_slope, dtype: [fp16]}", fixture: "leaky_relu.fp16.aten.pt2", expected: []),
        MatchCase(match: "output_dtype: [float16]", fixture: "leaky_relu.fp16.aten.pt2", message: "{output} {dtype}",
                  expected: ["leaky_relu float16"]),
        MatchCase(match: "literal: any", fixture: "leaky_relu.fp32.aten.pt2", message: "{argument}={value}", expected: ["negative_slope=0.1"]),
        MatchCase(match: "literal: negative_slope", fixture: "leaky_relu.fp32.aten.pt2", expected: ["matched"]),
        MatchCase(match: "literal: {argument: alpha}", fixture: "leaky_relu.fp32.aten.pt2", expected: []),
        MatchCase(match: "format: [onnx]", fixture: "add_fp16.onnx", scope: "model", message: "{format}", expected: ["onnx"]),
        MatchCase(match: "format: [onnx]", fixture: "leaky_relu.fp32.aten.pt2", scope: "model", expected: []),
        MatchCase(match: "dialect: [TRAINING]", fixture: "leaky_relu.fp32.train.pt2", scope: "model", message: "{dialect}", expected: ["TRAINING"]),
        MatchCase(match: "dialect: [TRAINING]", fixture: "leaky_relu.fp32.aten.pt2", scope: "model", expected: []),
        MatchCase(match: "weight_dtype: [bfloat16]", fixture: "linear.bf16.aten.pt2", scope: "model", message: "{weights}; {count}",
                  expected: ["p_fc_weight (bfloat16), p_fc_bias (bfloat16); 2"]),
        MatchCase(match: "user_input_dtype: [float16]", fixture: "leaky_relu.fp16.aten.pt2", scope: "model", message: "{inputs}",
                  expected: ["x (float16)"]),
        MatchCase(match: "user_input_dtype: [float16]", fixture: "linear.bf16.aten.pt2", scope: "model", expected: []),
        MatchCase(match: "any_tensor_dtype: [float16]", fixture: "leaky_relu.fp16.aten.pt2", scope: "model", message: "{tensors}; {count}",
                  expected: ["x (float16), leaky_relu (float16); 2"]),
        MatchCase(match: "deployment_target: {min: iOS17}", fixture: "leaky_relu.fp32.aten.pt2", scope: "model", target: "iOS16", expected: []),
        MatchCase(match: "deployment_target: {min: iOS17}", fixture: "leaky_relu.fp32.aten.pt2", scope: "model", target: "macOS14",
                  expected: ["matched"]),
        MatchCase(match: "deployment_target: {below: iOS17}", fixture: "leaky_relu.fp32.aten.pt2", scope: "model", target: "iOS16",
                  expected: ["matched"]),
        MatchCase(match: "compute_precision: [float32]", fixture: "leaky_relu.fp32.aten.pt2", scope: "model", expected: []),
        MatchCase(match: "compute_precision: [float32]", fixture: "leaky_relu.fp32.aten.pt2", scope: "model", precision: .float32,
                  expected: ["matched"]),
        MatchCase(match: "converter_version: \">=9.0, <10\"", fixture: "leaky_relu.fp32.aten.pt2", scope: "model", expected: ["matched"]),
        MatchCase(match: "converter_version: \"<9\"", fixture: "leaky_relu.fp32.aten.pt2", scope: "model", expected: []),
        MatchCase(match: "converter_version: \"<9\"", fixture: "leaky_relu.fp32.aten.pt2", scope: "model", version: "8.3", expected: ["matched"]),
        MatchCase(match: "all:\n  - op: [aten.leaky_relu]\n  - output_dtype: [float16]", fixture: "leaky_relu.fp16.aten.pt2",
                  message: "{op} {output}", expected: ["aten.leaky_relu.default leaky_relu"]),
        MatchCase(match: "all:\n  - op: [aten.leaky_relu]\n  - output_dtype: [float16]", fixture: "leaky_relu.fp32.aten.pt2", expected: []),
        MatchCase(match: "any:\n  - op: [aten.celu]\n  - op: [aten.leaky_relu]", fixture: "leaky_relu.fp32.aten.pt2", expected: ["matched"]),
        MatchCase(match: "not: {op: [aten.celu]}", fixture: "hardshrink.fp32.aten.pt2", message: "{node}", expected: ["abs_1", "le", "where"]),
        MatchCase(match: "op: [aten.abs]\noutput_dtype: [float32]", fixture: "hardshrink.fp32.aten.pt2", message: "{node} {dtype}",
                  expected: ["abs_1 float32"]),
        MatchCase(match: "predicate: coremltools-unregistered-op", fixture: "celu.fp32.aten.pt2", message: "{kind}", expected: ["celu"]),
    ]

    static func rule(_ testCase: MatchCase) throws -> Rule {
        try RuleLoader.parse(yaml: """
        id: language-case
        name: Language case
        severity: error
        summary: s
        description: d
        message: "\(testCase.message)"
        fix: {suggestion: none}
        applies_to: {targets: [coremltools]}
        scope: \(testCase.scope)
        match:
        \(testCase.match.split(separator: "\n").map { "  \($0)" }.joined(separator: "\n"))
        """, origin: "language-case.yml", vocabulary: Engine.vocabulary)
    }

    @Test(arguments: cases)
    func everyLeafMatchesAsDocumented(_ testCase: MatchCase) throws {
        let settings = Settings(pack: CoreMLToolsPack.self, converterVersion: Version(testCase.version)!,
                                deploymentTarget: DeploymentTarget(testCase.target)!, computePrecision: testCase.precision)
        let model = try ModelLoader.load(path: Repo.example(testCase.fixture))
        let findings = Linter(rules: [try Self.rule(testCase)], knowledge: Engine.knowledge).lint(model, settings: settings)
        #expect(findings.map(\.message) == testCase.expected)
    }
}

/// The command line end to end: user rule folders, `lint --fix`, the fix loop's refusal, the JSON layout.
@Suite struct CommandLineEndToEndTests {
    static let userRule = """
    id: team-no-leaky-relu
    name: No leaky relu
    severity: error
    summary: The team converts no LeakyReLU.
    description: A user rule.
    message: "{op} node {node} is not allowed here"
    fix: {suggestion: use relu}
    applies_to: {formats: [torch.export], targets: [coremltools]}
    match:
      op: [aten.leaky_relu]
    """

    @Test func userRuleFoldersNamedInTheConfigurationRun() throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("team/nested"), withIntermediateDirectories: true)
        try Self.userRule.write(to: directory.appendingPathComponent("team/nested/no-leaky-relu.yml"), atomically: true, encoding: .utf8)
        try "not a rule".write(to: directory.appendingPathComponent("team/README.md"), atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent(".tensorlint.yml").path
        try "rules: [team]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("report.json").path
        #expect(runTensorlint(["lint", "--config", config, "--format", "json", Repo.example("leaky_relu.fp32.aten.pt2"), "-o", out]) == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let findings = try #require(((report["files"] as? [[String: Any]])?.first?["findings"]) as? [[String: Any]])
        #expect(findings.map { $0["rule"] as? String } == ["team-no-leaky-relu"])
        #expect(findings.first?["message"] as? String == "aten.leaky_relu.default node leaky_relu is not allowed here")
        // The same id twice is refused, naming both files.
        try Self.userRule.write(to: directory.appendingPathComponent("team/again.yml"), atomically: true, encoding: .utf8)
        var status: Int32 = 0
        let message = try captureStandardError {
            status = runTensorlint(["lint", "--config", config, Repo.example("leaky_relu.fp32.aten.pt2"), "-o", out])
        }
        #expect(status == 2)
        #expect(message.contains("rule id 'team-no-leaky-relu' is already defined by"))
    }

    @Test func lintFixRepairsInPlaceAndReportsWhatIsLeft() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("model.onnx").path
        try FileManager.default.copyItem(atPath: Repo.example("resize_fp16_scales.onnx"), toPath: path)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let out = directory.appendingPathComponent("report.txt").path
        var status: Int32 = 0
        let messages = try captureStandardError {
            status = runTensorlint(["lint", "--fix", "--target", "onnxruntime", path, "-o", out])
        }
        #expect(status == 0, "the fixed model lints clean")
        #expect(messages.contains("model.onnx: fixed ("))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) != original)
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains("0 errors"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["model.onnx", "report.txt"], "no temporary file left")
    }

    /// A configuration whose three rules flag float32 tensors: the fp32 copy `keep-fp32` makes of
    /// leaky_relu.fp16 (two errors at iOS15: fp16 input, scalar clash) would have three.
    static func configurationPenalisingFP32(in directory: URL) throws -> String {
        let rules = directory.appendingPathComponent("rules")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        for (id, scope, match) in [("fp32-node", "node", "output_dtype: [float32]"), ("fp32-input", "node", "input_dtype: [float32]"),
                                   ("fp32-model", "model", "any_tensor_dtype: [float32]")] {
            try """
            id: \(id)
            name: n
            severity: error
            summary: s
            description: d
            message: m
            fix: {suggestion: s}
            applies_to: {targets: [coremltools]}
            scope: \(scope)
            match: {\(match)}
            """.write(to: rules.appendingPathComponent("\(id).yml"), atomically: true, encoding: .utf8)
        }
        let config = directory.appendingPathComponent(".tensorlint.yml").path
        try "rules: [rules]\n".write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    /// A fix that would leave more errors than it cures is refused, and nothing is written.
    @Test func aFixThatLeavesMoreErrorsIsRefused() throws {
        let directory = temporaryDirectory()
        let config = try Self.configurationPenalisingFP32(in: directory)
        let output = directory.appendingPathComponent("fixed.pt2").path
        var status: Int32 = 0
        let message = try captureStandardError {
            status = runTensorlint(["fix", "--config", config, Repo.example("leaky_relu.fp16.aten.pt2"), "-o", output])
        }
        #expect(status == 2)
        #expect(message.contains("the fixes would leave 3 errors where there were 2; nothing written"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == [".tensorlint.yml", "rules"])
    }

    /// `lint --fix` says why a model was not fixed, leaves it as it was, and still reports its findings.
    @Test func lintFixSaysWhyAModelWasNotFixed() throws {
        let directory = temporaryDirectory()
        let config = try Self.configurationPenalisingFP32(in: directory)
        let path = directory.appendingPathComponent("model.pt2").path
        try FileManager.default.copyItem(atPath: Repo.example("leaky_relu.fp16.aten.pt2"), toPath: path)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        var status: Int32 = 0
        let message = try captureStandardError {
            status = runTensorlint(["lint", "--fix", "--config", config, path, "-o", directory.appendingPathComponent("report.txt").path])
        }
        #expect(status == 1)
        #expect(message.contains("tensorlint: not fixed: \(path): the fixes would leave 3 errors"), "\(message)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)
    }

    /// JSON format version 1, pinned by golden files for each target: a renamed or dropped key fails here.
    @Test(arguments: [
        ("leaky_relu.fp16.aten.pt2@iOS16", ["--minimum-deployment-target", "iOS16", Repo.example("leaky_relu.fp16.aten.pt2")]),
        ("add_fp16_fp32_initializer.onnx@onnxruntime", ["--target", "onnxruntime", Repo.example("add_fp16_fp32_initializer.onnx")]),
    ])
    func jsonLayoutMatchesItsGoldenFile(_ name: String, _ arguments: [String]) throws {
        let out = temporaryDirectory().appendingPathComponent("report.json").path
        #expect(runTensorlint(["lint", "--format", "json"] + arguments + [Repo.broken("text.pt2"), "-o", out]) == 2)
        // Paths are written relative to the working directory, which tests do not change: the repository's
        // own path is taken out, and the tool version.
        var text = try String(contentsOfFile: out, encoding: .utf8).replacingOccurrences(of: Repo.root.path + "/", with: "")
        text = text.replacingOccurrences(of: "\"version\" : \"\(toolVersion)\"", with: "\"version\" : \"VERSION\"")
        let golden = Repo.root.appendingPathComponent("Tests/Snapshots/json/\(name).json")
        if ProcessInfo.processInfo.environment["TENSORLINT_RECORD_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: golden, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOf: golden, encoding: .utf8) == text)
    }
}

@Suite struct RulesCommandTests {
    @Test func theTableListsEveryRuleWithWhetherItRunsAndItsFix() throws {
        let configuration = try Configuration.parse(yaml: "disabled_rules: [coreml-fp16-source-model]", path: "c.yml",
                                                    targets: Engine.vocabulary.targets)
        let lines = RulesCommand.table(Engine.rules, active: Set(configuration.select(from: Engine.rules).map(\.id)))
            .split(separator: "\n").map(String.init)
        #expect(lines.count == Engine.rules.count + 1)
        #expect(lines[0].hasPrefix("id ") && lines[0].hasSuffix("fix           summary"))
        let columns = { (id: String) in lines.first { $0.hasPrefix(id + " ") }?.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(columns("coreml-fp16-source-model")?[1...4] == ["warning", "enabled", "no", "safe"])
        #expect(columns("coreml-training-dialect")?[1...4] == ["error", "enabled", "yes", "-"])
        #expect(columns("coreml-no-onnx-frontend")?[1] == "note")
        // A folder that cannot be made (its parent is a file) is an error.
        let file = temporaryDirectory().appendingPathComponent("file.txt")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        #expect(runTensorlint(["rules", "--write-docs", file.appendingPathComponent("docs").path]) == 2)
    }
}
