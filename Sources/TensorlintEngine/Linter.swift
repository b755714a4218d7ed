import TensorlintIR

/// Runs a set of rules over a model for given settings.
public struct Linter: Sendable {
    public let rules: [Rule]
    public let knowledge: Knowledge

    public init(rules: [Rule], knowledge: Knowledge) {
        self.rules = rules
        self.knowledge = knowledge
    }

    public func lint(_ model: Model, settings: Settings) -> [Finding] {
        var findings: [Finding] = []
        let coreml = knowledge.coremltools(for: settings.converterVersion)
        for rule in rules where rule.applies(to: model, settings: settings) {
            let settingsContext = MatchContext(model: model, graph: model.mainGraph, node: nil, settings: settings, coreml: coreml)
            if let when = rule.when, when.evaluate(settingsContext) == nil { continue }
            switch rule.scope {
            case .model:
                if let bindings = rule.match.evaluate(settingsContext) {
                    findings.append(finding(rule, model: model, graph: nil, node: nil, bindings: bindings, settings: settings))
                }
            case .node:
                for graph in model.graphs {
                    for node in graph.nodes {
                        let context = MatchContext(model: model, graph: graph, node: node, settings: settings, coreml: coreml)
                        if let bindings = rule.match.evaluate(context) {
                            findings.append(finding(rule, model: model, graph: graph, node: node, bindings: bindings, settings: settings))
                        }
                    }
                }
            }
        }
        return findings.sorted { ($0.severity, $1.ruleId) > ($1.severity, $0.ruleId) }
    }

    private func finding(_ rule: Rule, model: Model, graph: Graph?, node: Node?, bindings: Bindings, settings: Settings) -> Finding {
        var all = bindings
        all["deployment_target"] = settings.deploymentTarget.name
        all["compute_precision"] = settings.computePrecision.rawValue
        all["converter_version"] = settings.converterVersion.description
        all["dialect"] = all["dialect"] ?? model.dialect ?? "unknown"
        if let node {
            all["op"] = node.op.description
            all["node"] = node.name
            all["module"] = node.source.modulePath ?? "the root module"
            all["module_type"] = node.source.moduleType ?? "unknown"
            all["source"] = node.source.userFrame.map { ", \($0.file):\($0.line)" } ?? ""
        }
        return Finding(ruleId: rule.id, severity: rule.severity, message: MessageTemplate.render(rule.message, all),
                       fix: MessageTemplate.render(rule.fix.suggestion, all), fixApplicability: rule.fix.applicability,
                       automaticFix: rule.fix.automatic, file: model.path, graph: graph?.name, node: node?.name,
                       op: node?.op.description, source: node?.source)
    }
}
