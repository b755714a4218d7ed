import Foundation
import Testing
import TensorlintCLI
import TensorlintEngine
import TensorlintIR

/// Checks the verdicts and messages against the labelled corpora in `../shared` (coremltools 9.0 run on
/// each file). Skipped when `../shared` is absent, as on a clone without it.
@Suite(.enabled(if: Repo.shared != nil, "../shared/corpus is absent"))
struct CorpusTests {
    struct Label: Decodable {
        let id: String
        let file: String
        let target: String
        let minimum_deployment_target: String?
        let compute_precision: String?
        let verdict: String
        let model_dtype: String?
        let mil_op: String?
        let torch_op: String?
    }

    static func labels(_ corpus: String) throws -> [Label] {
        let path = Repo.shared!.appendingPathComponent("corpus/\(corpus)/export.jsonl").path
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

    @Test(arguments: ["synthetic", "synthetic-torch2.13"])
    func verdictsAndMessagesMatchTheConverter(_ corpus: String) throws {
        var models: [String: Model] = [:]
        var right = 0, falseFailsOnFP32 = 0
        let labels = try Self.labels(corpus)
        for label in labels where label.id.hasPrefix("export/") {
            let path = Repo.shared!.appendingPathComponent("corpus/\(corpus)/\(label.file)").path
            let model = try models[path] ?? ModelLoader.load(path: path)
            models[path] = model
            let settings = Settings(target: ConversionTarget(rawValue: label.target)!,
                                    deploymentTarget: DeploymentTarget(label.minimum_deployment_target ?? "iOS15")!,
                                    computePrecision: ComputePrecision(rawValue: label.compute_precision ?? "float16")!)
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
        }
        #expect(falseFailsOnFP32 == 0)
        #expect(Double(right) / Double(labels.count) >= 0.99, "\(right)/\(labels.count) right on \(corpus)")
    }
}
