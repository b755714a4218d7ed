import TensorlintIR

/// Runs a set of rules over a model for given settings.
public struct Linter: Sendable {
    public let rules: [Rule]
    public let knowledge: Knowledge

    public init(rules: [Rule], knowledge: Knowledge) {
        self.rules = rules
        self.knowledge = knowledge
    }

    /// The converter version whose knowledge a lint for these settings uses (the newest known at or below
    /// the one asked for); `nil` when tensorlint has no knowledge of the target.
    public func knowledgeVersion(for settings: Settings) -> Version? {
        knowledge.resolvedVersion(target: settings.target, version: settings.converterVersion)
    }

    /// Nodes a thread checks at a time: enough that a run's overhead is nothing beside its checks.
    static let nodesPerRun = 2048

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
        @Sendable func finding(_ rule: Rule, graph: Graph?, node: Node?, bindings: Bindings, context: MatchContext) -> Finding {
            self.finding(rule, model: model, graph: graph, node: node, bindings: bindings, generic: generic, fix: automaticFix(rule, context))
        }
        let settingsContext = context(graph: 0, node: nil)
        var modelRules: [Rule] = [], nodeRules: [Rule] = []
        for rule in rules.map({ $0.variant(for: model.format) }) where rule.applies(to: model, settings: settings) {
            if let when = rule.when, when.evaluate(settingsContext) == nil { continue }
            switch rule.scope {
            case .model: modelRules.append(rule)
            case .node: nodeRules.append(rule)
            }
        }
        // The model-wide rules are a run of their own, checked beside the nodes' (a large model's dtype conditions
        // go over all its values); their findings come first.
        let runs = [Run.model] + model.graphs.indices.flatMap { graph in
            stride(from: 0, to: model.graphs[graph].nodes.count, by: Self.nodesPerRun).map { start in
                Run.nodes(graph: graph, start..<min(start + Self.nodesPerRun, model.graphs[graph].nodes.count))
            }
        }
        let (modelRuleList, nodeRuleList) = (modelRules, nodeRules)
        // One run of nodes is not worth a second thread beside the model-wide rules.
        var findings = Array(runs.parallelMap(jobs: runs.count > 2 ? jobs : 1) { run in
            guard case .nodes(let graphIndex, let nodes) = run else {
                return modelRuleList.compactMap { rule in
                    rule.match.evaluate(settingsContext).map { finding(rule, graph: nil, node: nil, bindings: $0, context: settingsContext) }
                }
            }
            var found: [Finding] = []
            // A rule's fix text is most often the same on every node: kept once, not a copy a node.
            var lastFixText: [String: String] = [:]
            let graph = model.graphs[graphIndex]
            for nodeIndex in nodes {
                // One context a node, for every rule: a node's context is most of what a rule's check costs.
                let nodeContext = context(graph: graphIndex, node: nodeIndex)
                for rule in nodeRuleList {
                    guard let bindings = rule.match.evaluate(nodeContext) else { continue }
                    var new = finding(rule, graph: graph, node: graph.nodes[nodeIndex], bindings: bindings, context: nodeContext)
                    if let last = lastFixText[rule.id], last == new.fix { new.fix = last } else { lastFixText[rule.id] = new.fix }
                    found.append(new)
                }
            }
            return found
        }.joined())
        // A stable sort: a rule's findings stay in the order of their nodes.
        findings.sort { ($0.severity, $1.ruleId) > ($1.severity, $0.ruleId) }
        return findings
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
    private func finding(_ rule: Rule, model: Model, graph: Graph?, node: Node?, bindings: Bindings, generic: Bindings,
                         fix: (names: [String], edits: [ModelEdit])) -> Finding {
        // Looked up as the templates name them, rather than merged into one dictionary a finding.
        let lookup = { (key: String) -> String? in
            if let node {
                switch key {
                case "op": return node.op.description
                case "node": return node.name
                case "module": return node.source.modulePath ?? "root"
                case "module_type": return node.source.moduleType ?? "unknown"
                case "source": return node.source.userFrame.map { ", \($0.file):\($0.line)" } ?? ""
                default: break
                }
            }
            return bindings[key] ?? generic[key] ?? (key == "dialect" ? model.dialect ?? "unknown" : nil)
        }
        // A rule's automatic fix that has nothing to do here (lstm has no rewrite) leaves only advice.
        let fixed = !fix.edits.isEmpty
        // As in Ruff, the edit decides for this occurrence: a fix that rounds the model's values is unsafe.
        var applicability = fixed ? rule.fix.applicability : .displayOnly
        if applicability == .safe, fix.edits.contains(where: { $0.rounds(in: model) }) { applicability = .unsafe }
        let nameKeys = node == nil ? nil : knowledge.vocabulary.pack(rule.targets.first ?? "")?.nameKeys
        let (texts, cause) = Self.rendered([rule.message, rule.fix.suggestion], lookup, causeMasking: nameKeys)
        let message = texts[0]
        var finding = Finding(ruleId: rule.id, severity: rule.severity, headline: rule.headline.map { MessageTemplate.render($0, lookup) } ?? message,
                              message: message,
                              fix: texts[1],
                              fixApplicability: applicability,
                              automaticFix: fixed ? fix.names.joined(separator: ", ") : nil, edits: fix.edits, file: model.path, graph: graph?.name, node: node?.name,
                              op: node?.op.description, source: node?.source)
        if var cause {
            // Rendered as bytes and hashed: the text, a kilobyte a node, is never made a string nor kept.
            cause += "\u{0}\(applicability.rawValue)\u{0}\(finding.automaticFix ?? "")".utf8
            finding.cause = Fingerprint.hash(cause)
        }
        return finding
    }

    /// Each template rendered with what `lookup` fills and, given the pack's name keys, the cause: the same texts,
    /// a 0 byte between them, with what names the node masked: the node, its module and source line, and the
    /// model's value names in the bindings that hold them (`bias` = tensor `·`). Rule words (MIL ops,
    /// converters) are never masked, whatever a value happens to be called. One pass over each template makes both.
    static func rendered(_ templates: [String], _ lookup: (String) -> String?, causeMasking nameKeys: Set<String>?) -> (texts: [String], cause: [UInt8]?) {
        var cause: [UInt8] = []
        let texts = templates.enumerated().map { index, template in
            var text: [UInt8] = []
            if index > 0 { cause.append(0) }
            MessageTemplate.walk(template) { literal in
                text.append(contentsOf: literal)
                if nameKeys != nil { cause.append(contentsOf: literal) }
            } placeholder: { key, unfilled in
                let value = lookup(key)
                if var value { value.withUTF8 { text.append(contentsOf: $0) } } else { text.append(contentsOf: unfilled) }
                guard let nameKeys else { return }
                // Compared, not hashed: this runs for every placeholder of every finding.
                if maskedNodeKeys.contains(key) {
                    cause.append(contentsOf: "·".utf8)
                } else if let value {
                    var masked = nameKeys.contains(key) ? maskingQuotedNames(value) : value
                    masked.withUTF8 { cause.append(contentsOf: $0) }
                } else {
                    cause.append(contentsOf: unfilled)
                }
            }
            return String(decoding: text, as: UTF8.self)
        }
        return (texts, nameKeys == nil ? nil : cause)
    }

    /// `·` for a bare name; each `quoted` part of a longer text.
    static func maskingQuotedNames(_ text: String) -> String {
        var text = text
        return text.withUTF8 { units in
            guard units.contains(UInt8(ascii: "`")) else { return "·" }
            var masked: [UInt8] = []
            masked.reserveCapacity(units.count)
            var quoted = false
            for unit in units {
                if unit == UInt8(ascii: "`") {
                    quoted.toggle()
                    masked.append(unit)
                    if quoted { masked.append(contentsOf: "·".utf8) }
                } else if !quoted {
                    masked.append(unit)
                }
            }
            return String(decoding: masked, as: UTF8.self)
        }
    }
}

extension Linter {
    /// Bindings every finding has, whatever its rule matched, with what they hold.
    static let modelKeys = ["converter_version": "the converter version whose knowledge was used",
                            "dialect": "the program's IR dialect"]
    /// The node bindings a finding's cause leaves out: which node, not what failed.
    static let maskedNodeKeys = ["node", "module", "module_type", "source"]
    /// Bindings every finding on a node has.
    static let nodeKeys = ["op": "the node's op", "node": "the node's name", "module": "the module it belongs to",
                           "module_type": "that module's class", "source": "`, file:line` of the Python source, when known"]
}
