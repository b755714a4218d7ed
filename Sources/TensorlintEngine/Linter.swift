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
        let coreml = settings.target == .coremltools ? knowledge.coremltools(for: settings.converterVersion) : nil
        let onnxruntime = settings.target == .onnxruntime ? knowledge.onnxruntime(for: settings.converterVersion) : nil
        let analysis = onnxruntime.flatMap { runtime in
            model.format == .onnx ? ONNXTypeChecker.analyze(model, runtime: runtime) : nil
        }
        let valueTypes = Set(model.graphs.flatMap { $0.values.values.compactMap(\.dtype) })
        func context(graph: Int, node: Int?) -> MatchContext {
            let graphValue = model.graphs[graph]
            return MatchContext(model: model, valueTypes: valueTypes, graph: graphValue, node: node.map { graphValue.nodes[$0] }, settings: settings,
                                coreml: coreml, onnx: analysis, onnxruntime: onnxruntime, graphIndex: graph, nodeIndex: node)
        }
        for rule in rules where rule.applies(to: model, settings: settings) {
            let settingsContext = context(graph: 0, node: nil)
            if let when = rule.when, when.evaluate(settingsContext) == nil { continue }
            switch rule.scope {
            case .model:
                if let bindings = rule.match.evaluate(settingsContext) {
                    findings.append(finding(rule, model: model, graph: nil, node: nil, bindings: bindings, settings: settings,
                                            fix: automaticFix(rule, settingsContext)))
                }
            case .node:
                for (graphIndex, graph) in model.graphs.enumerated() {
                    for (nodeIndex, node) in graph.nodes.enumerated() {
                        let nodeContext = context(graph: graphIndex, node: nodeIndex)
                        if let bindings = rule.match.evaluate(nodeContext) {
                            findings.append(finding(rule, model: model, graph: graph, node: node, bindings: bindings, settings: settings,
                                                    fix: automaticFix(rule, nodeContext)))
                        }
                    }
                }
            }
        }
        return findings.sorted { ($0.severity, $1.ruleId) > ($1.severity, $0.ruleId) }
    }

    /// The rule's automatic fixes that have something to do here, and their edits.
    private func automaticFix(_ rule: Rule, _ context: MatchContext) -> (names: [String], edits: [ModelEdit]) {
        var names: [String] = []
        var edits: [ModelEdit] = []
        for name in rule.fix.automatic {
            let new = (Fixers.all[name]?(context) ?? []).filter { !edits.contains($0) }
            guard !new.isEmpty else { continue }
            names.append(name)
            edits += new
        }
        return (names, edits)
    }

    private func finding(_ rule: Rule, model: Model, graph: Graph?, node: Node?, bindings: Bindings, settings: Settings,
                         fix: (names: [String], edits: [ModelEdit])) -> Finding {
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
        // A rule's automatic fix that has nothing to do here (lstm has no rewrite) leaves only advice.
        let fixed = !fix.edits.isEmpty
        return Finding(ruleId: rule.id, severity: rule.severity, message: MessageTemplate.render(rule.message, all),
                       fix: MessageTemplate.render(rule.fix.suggestion, all),
                       fixApplicability: fixed ? rule.fix.applicability : .displayOnly,
                       automaticFix: fixed ? fix.names.joined(separator: ", ") : nil, edits: fix.edits, file: model.path, graph: graph?.name, node: node?.name,
                       op: node?.op.description, source: node?.source)
    }
}
