import TensorlintIR

/// Runs a set of rules over a model for given settings.
public struct Linter: Sendable {
    public let rules: [Rule]
    public let knowledge: Knowledge

    /// Each rule's texts, compiled for every model the linter checks, the first time one has a finding: the
    /// rule's, then its variants'.
    private let texts: [[Once<RuleTexts>]]

    public init(rules: [Rule], knowledge: Knowledge) {
        self.rules = rules
        self.knowledge = knowledge
        texts = rules.map { rule in
            rule.allVariants.map { variant in
                Once { RuleTexts(variant, nameKeys: knowledge.vocabulary.pack(variant.targets.first ?? "")?.nameKeys) }
            }
        }
    }

    /// The converter version whose knowledge a lint for these settings uses (the newest known at or below
    /// the one asked for); `nil` when tensorlint has no knowledge of the target.
    public func knowledgeVersion(for settings: Settings) -> Version? {
        knowledge.resolvedVersion(target: settings.target, version: settings.converterVersion)
    }

    /// The fewest nodes a thread checks at a time: enough that a run's overhead is nothing beside its checks.
    static let smallestRun = 256
    /// Runs a graph is cut into for each thread, at most: a thread that finishes first takes another, so that
    /// none waits long for the last (with runs of 2,048 nodes, one of two threads idled for a tenth of the
    /// checks of 8,002 nodes).
    static let runsPerJob = 8

    /// What a thread checks at a time: the model-wide rules, or a run of a graph's nodes.
    private enum Run: Sendable {
        case model
        case nodes(graph: Int, Range<Int>)
    }

    /// The findings; none when the target has no knowledge, or its knowledge does not load (which the command
    /// line reports before it lints, from `Knowledge.resolve`). A large graph's nodes are checked on up to
    /// `jobs` threads, a run of nodes each; the findings are the same, in the same order.
    public func lint(_ model: Model, settings: Settings, jobs: Int = 1) -> [Finding] {
        guard let pack = knowledge.vocabulary.pack(settings.target),
              let (usedVersion, packKnowledge) = (try? knowledge.resolve(target: settings.target, version: settings.converterVersion)) ?? nil
        else { return [] }
        let packState = pack.prepare(model, knowledge: packKnowledge, settings: settings)
        let generic = pack.settingBindings(settings).merging(pack.modelBindings(model, settings: settings)) { own, _ in own }
            .merging(["converter_version": usedVersion.description]) { _, version in version }
        let valueTypes = Set(model.graphs.flatMap { $0.values.values.compactMap(\.dtype) })
        @Sendable func context(graph: Int, node: Int?) -> MatchContext {
            MatchContext(model: model, valueTypes: valueTypes, graph: graph, node: node, settings: settings, packState: packState)
        }
        @Sendable func finding(_ checked: CheckedRule, graph: Graph?, node: Node?, bindings: Bindings, context: MatchContext) -> Finding {
            self.finding(checked, model: model, graph: graph, node: node, bindings: bindings, generic: generic, fix: automaticFix(checked.rule, context))
        }
        let settingsContext = context(graph: 0, node: nil)
        var modelRules: [CheckedRule] = [], nodeRules: [CheckedRule] = []
        for (declared, variantTexts) in zip(rules, texts) {
            let rule = declared.variant(for: model.format)
            guard rule.applies(to: model, settings: settings) else { continue }
            if let when = rule.when, when.evaluate(settingsContext) == nil { continue }
            let checked = CheckedRule(rule, texts: variantTexts[declared.variantIndex(for: model.format).map { $0 + 1 } ?? 0])
            switch rule.scope {
            case .model: modelRules.append(checked)
            case .node: nodeRules.append(checked)
            }
        }
        // The model-wide rules are a run of their own, checked beside the nodes' (a large model's dtype conditions
        // go over all its values); their findings come first.
        let runs = [Run.model] + model.graphs.indices.flatMap { graph in
            let count = model.graphs[graph].nodes.count
            let length = max(Self.smallestRun, count / Self.runsPerJob / max(1, jobs))
            return stride(from: 0, to: count, by: length).map { start in Run.nodes(graph: graph, start..<min(start + length, count)) }
        }
        let (modelRuleList, nodeRuleList) = (modelRules, nodeRules)
        // One run of nodes is not worth a second thread beside the model-wide rules.
        var findings = Array(runs.parallelMap(jobs: runs.count > 2 ? jobs : 1) { run in
            guard case .nodes(let graphIndex, let nodes) = run else {
                return modelRuleList.compactMap { checked in
                    checked.rule.match.evaluate(settingsContext).map { finding(checked, graph: nil, node: nil, bindings: $0, context: settingsContext) }
                }
            }
            var found: [Finding] = []
            // A rule's fix text is most often the same on every node: kept once, not a copy a node.
            var lastFixText = [String?](repeating: nil, count: nodeRuleList.count)
            let graph = model.graphs[graphIndex]
            for nodeIndex in nodes {
                // One context a node, for every rule: a node's context is most of what a rule's check costs.
                let nodeContext = context(graph: graphIndex, node: nodeIndex)
                for (ruleIndex, checked) in nodeRuleList.enumerated() {
                    guard let bindings = checked.rule.match.evaluate(nodeContext) else { continue }
                    var new = finding(checked, graph: graph, node: graph.nodes[nodeIndex], bindings: bindings, context: nodeContext)
                    if let last = lastFixText[ruleIndex], last == new.fix { new.fix = last } else { lastFixText[ruleIndex] = new.fix }
                    found.append(new)
                }
            }
            return found
        }.joined())
        // A stable sort: a rule's findings stay in the order of their nodes.
        findings.sort { ($0.severity, $1.ruleId) > ($1.severity, $0.ruleId) }
        return findings
    }

    /// A rule as a lint checks it: held by reference, so that checking it on a node does not copy it.
    private final class CheckedRule: Sendable {
        let rule: Rule
        let texts: Once<RuleTexts>

        init(_ rule: Rule, texts: Once<RuleTexts>) {
            self.rule = rule
            self.texts = texts
        }
    }

    /// A rule's message, fix and headline compiled, so that a finding does not read them again.
    private struct RuleTexts: Sendable {
        let message, suggestion: MessageTemplate.Compiled
        let headline: MessageTemplate.Compiled?
        /// Whether its findings on nodes have a cause: its pack says which keys name the model's values.
        let hasCause: Bool

        /// `nameKeys`: the keys of the rule's pack whose values name the model's values; `nil` without a pack.
        init(_ rule: Rule, nameKeys: Set<String>?) {
            message = MessageTemplate.Compiled(rule.message, nameKeys: nameKeys ?? [])
            suggestion = MessageTemplate.Compiled(rule.fix.suggestion, nameKeys: nameKeys ?? [])
            headline = rule.headline.map { MessageTemplate.Compiled($0, nameKeys: nameKeys ?? []) }
            hasCause = nameKeys != nil
        }
    }

    /// The rule's automatic fixes that have something to do here, and their edits.
    private func automaticFix(_ rule: Rule, _ context: MatchContext) -> (names: [String], edits: [ModelEdit]) {
        var names: [String] = []
        var edits: [ModelEdit] = []
        for fixer in rule.fix.automatic {
            let new = fixer.edits(context).filter { !edits.contains($0) }
            guard !new.isEmpty else { continue }
            names.append(fixer.name)
            edits += new
        }
        return (names, edits)
    }

    /// `bindings`, the rule's match, before `generic`, the settings' and model's; a node's own keys before both.
    private func finding(_ checked: CheckedRule, model: Model, graph: Graph?, node: Node?, bindings: Bindings, generic: Bindings,
                         fix: (names: [String], edits: [ModelEdit])) -> Finding {
        let rule = checked.rule
        // Looked up as the templates name them, rather than merged into one dictionary a finding.
        let lookup = { (placeholder: MessageTemplate.Compiled.Placeholder) -> String? in
            if let node, let nodeKey = placeholder.nodeKey {
                switch nodeKey {
                case .op: return node.op.description
                case .node: return node.name
                case .module: return node.source.modulePath ?? "root"
                case .moduleType: return node.source.moduleType ?? "unknown"
                case .source: return node.source.userFrame.map { ", \($0.file):\($0.line)" } ?? ""
                }
            }
            let key = placeholder.key
            return bindings[key] ?? generic[key] ?? (key == "dialect" ? model.dialect ?? "unknown" : nil)
        }
        // A rule's automatic fix that has nothing to do here (lstm has no rewrite) leaves only advice.
        let fixed = !fix.edits.isEmpty
        // As in Ruff, the edit decides for this occurrence: a fix that rounds the model's values is unsafe.
        var applicability = fixed ? rule.fix.applicability : .displayOnly
        if applicability == .safe, fix.edits.contains(where: { $0.rounds(in: model) }) { applicability = .unsafe }
        // The cause (what baselines fingerprint), of a finding on a node: the message and fix with what names the
        // node masked, a 0 byte between them, hashed as the texts are rendered: the cause is never made a text.
        let ruleTexts = checked.texts.value
        var cause: Fingerprint.Hasher? = node != nil && ruleTexts.hasCause ? Fingerprint.Hasher() : nil
        let message = ruleTexts.message.rendered(lookup, cause: &cause)
        cause?.combine([0])
        let fixText = ruleTexts.suggestion.rendered(lookup, cause: &cause)
        var finding = Finding(ruleId: rule.id, severity: rule.severity, headline: ruleTexts.headline?.rendered(lookup) ?? message,
                              message: message,
                              fix: fixText,
                              fixApplicability: applicability,
                              automaticFix: fixed ? fix.names.joined(separator: ", ") : nil, edits: fix.edits, file: model.path, graph: graph?.name, node: node?.name,
                              op: node?.op.description, source: node?.source)
        if var cause {
            cause.combine("\u{0}\(applicability.rawValue)\u{0}\(finding.automaticFix ?? "")".utf8)
            finding.cause = cause.value
        }
        return finding
    }
}

extension Linter {
    /// Bindings every finding has, whatever its rule matched, with what they hold.
    static let modelKeys = ["converter_version": "the converter version whose knowledge was used",
                            "dialect": "the program's IR dialect"]
    /// Bindings every finding on a node has.
    static let nodeKeys = ["op": "the node's op", "node": "the node's name", "module": "the module it belongs to",
                           "module_type": "that module's class", "source": "`, file:line` of the Python source, when known"]
}
