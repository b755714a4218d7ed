import Foundation
import Testing
import TensorlintCLI
import TensorlintEngine
import TensorlintIR

/// Checks the verdicts and messages against the labelled corpora in `../shared` (coremltools 9.0 or onnxruntime 1.32
/// run on each file). Skipped when `../shared` is absent, as on a clone without it.
@Suite(.enabled(if: Repo.shared != nil, "../shared/corpus is absent"))
struct CorpusTests {
    struct Label: Decodable {
        let id: String
        let file: String
        let target: String
        let minimum_deployment_target: String?
        let compute_precision: String?
        let input_dtype: String?
        let verdict: String
        let model_dtype: String?
        let mil_op: String?
        let torch_op: String?
        let onnx_op: String?
    }

    static func labels(_ corpus: String, _ file: String) throws -> [Label] {
        let path = Repo.shared!.appendingPathComponent("corpus/\(corpus)/\(file)").path
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(Label.self, from: Data($0.utf8))
        }
    }

    /// What score.py checks: the message names `aten.<op>` (namespace and name) or the full target otherwise.
    static func needle(_ torchOp: String) -> String {
        let parts = torchOp.split(separator: ".")
        return parts.count >= 2 && ["aten", "prims", "quantized_decomposed", "torchvision"].contains(String(parts[0]))
            ? parts.prefix(2).joined(separator: ".") : torchOp
    }

    @Test(arguments: [("synthetic", "export.jsonl"), ("synthetic-torch2.13", "export.jsonl"),
                      ("synthetic", "onnx.jsonl"), ("onnx", "onnx.jsonl"), ("torchscript", "torchscript.jsonl")])
    func verdictsAndMessagesMatchTheConverter(_ corpus: String, _ file: String) throws {
        var models: [String: Model] = [:]
        var right = 0, falseFailsOnFP32 = 0, namedONNXOps = 0, caughtONNXFails = 0
        let labels = try Self.labels(corpus, file)
        for label in labels {
            let path = Repo.shared!.appendingPathComponent("corpus/\(corpus)/\(label.file)").path
            let model = try models[path] ?? ModelLoader.load(path: path)
            models[path] = model
            let settings = Settings(pack: Engine.vocabulary.pack(label.target)!,
                                    deploymentTarget: DeploymentTarget(label.minimum_deployment_target ?? "iOS15")!,
                                    computePrecision: ComputePrecision(rawValue: label.compute_precision ?? "float16")!,
                                    inputDType: InputDType(rawValue: label.input_dtype ?? "default")!)
            let errors = Linter(rules: Engine.rules, knowledge: Engine.knowledge).lint(model, settings: settings)
                .filter { $0.severity == .error }
            let verdict = errors.isEmpty ? "ok" : "fails"
            if verdict == label.verdict { right += 1 }
            if verdict == "fails", label.verdict == "ok", label.model_dtype == "float32" { falseFailsOnFP32 += 1 }
            guard label.verdict == "fails", verdict == "fails" else { continue }
            if let milOp = label.mil_op {
                #expect(errors.contains { $0.message.contains(milOp) }, "\(label.id): no error names MIL op \(milOp)")
            }
            if let torchOp = label.torch_op {
                #expect(errors.contains { $0.message.contains(Self.needle(torchOp)) }, "\(label.id): no error names \(torchOp)")
            }
            if let onnxOp = label.onnx_op {
                namedONNXOps += errors.contains { $0.message.contains(onnxOp) } ? 1 : 0
                caughtONNXFails += 1
            }
        }
        #expect(falseFailsOnFP32 == 0)
        // onnxruntime sometimes names an op of a function body it expanded: most, not all, are named.
        #expect(Double(namedONNXOps) >= 0.95 * Double(caughtONNXFails), "onnx_op named in \(namedONNXOps)/\(caughtONNXFails)")
        #expect(Double(right) / Double(labels.count) >= 0.99, "\(right)/\(labels.count) right on \(corpus)")
    }

    /// The SARIF of every corpus folder, under each target, meets GitHub code scanning's documented requirements.
    @Test(arguments: ["synthetic", "synthetic-torch2.13", "onnx", "torchscript"])
    func sarifLogsMeetGitHubsRequirements(_ corpus: String) throws {
        let folder = Repo.shared!.appendingPathComponent("corpus/\(corpus)/models").path
        let out = temporaryDirectory().appendingPathComponent("report.sarif").path
        var results = 0
        for target in ["coremltools", "onnxruntime"] {
            // ../shared stands for the repository the models are in.
            let status = runTensorlint(["lint", "--format", "sarif", "--target", target, "--minimum-deployment-target", "iOS16",
                                        "--source-root", Repo.shared!.path, folder, "-o", out])
            #expect(status == 0 || status == 1, "\(corpus) under \(target): exit \(status)")
            let log = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
            let violations = GitHubSARIFRequirements.violations(log, repository: Repo.root)
            let summary = "\(violations.count) violations, first \(violations.prefix(3).joined(separator: "; "))"
            #expect(violations.isEmpty, "\(corpus) under \(target): \(summary)")
            results += ((log["runs"] as? [[String: Any]])?.first?["results"] as? [Any])?.count ?? 0
        }
        #expect(results > 0, "\(corpus): no result under either target")
    }

    /// A grouped finding's SARIF fix is every node's edits as one change: applied to the file, it gives a
    /// model that reads (replacements computed per node would each rewrite the lengths the others change).
    @Test func groupedSARIFFixesApplyAsOneChange() throws {
        let folder = Repo.shared!.appendingPathComponent("corpus/onnx/models").path
        let scratch = temporaryDirectory()
        let sarif = scratch.appendingPathComponent("r.sarif").path
        _ = runTensorlint(["lint", "--format", "sarif", "--unsafe-fixes", "--source-root", folder, folder, "-o", sarif])
        let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sarif))) as? [String: Any]
        let results = ((log?["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]]) ?? []
        let grouped = results.filter { ($0["locations"] as? [Any])?.count ?? 0 > 1 && $0["fixes"] != nil }
        #expect(grouped.count >= 10, "grouped results with fixes: \(grouped.count)")
        for (number, result) in grouped.prefix(60).enumerated() {
            let change = try #require(((result["fixes"] as? [[String: Any]])?.first?["artifactChanges"] as? [[String: Any]])?.first)
            let uri = try #require((change["artifactLocation"] as? [String: Any])?["uri"] as? String)
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + (uri.removingPercentEncoding ?? uri))))
            let replacements = (change["replacements"] as? [[String: Any]] ?? []).compactMap { replacement -> (Int, Int, [UInt8])? in
                guard let region = replacement["deletedRegion"] as? [String: Int], let content = replacement["insertedContent"] as? [String: String],
                      let offset = region["byteOffset"], let length = region["byteLength"],
                      let data = Data(base64Encoded: content["binary"] ?? "") else { return nil }
                return (offset, length, [UInt8](data))
            }
            for (offset, length, inserted) in replacements.sorted(by: { $0.0 > $1.0 }) {
                bytes.replaceSubrange(offset..<(offset + length), with: inserted)
            }
            let fixed = scratch.appendingPathComponent("fixed-\(number).onnx").path
            try Data(bytes).write(to: URL(fileURLWithPath: fixed))
            #expect(throws: Never.self, "\(uri): \(result["ruleId"] ?? "")") { _ = try ModelLoader.load(path: fixed) }
        }
    }
}
