import Foundation
import TensorlintEngine
import TensorlintIR

/// A rewrite of one torch op into ops coremltools converts, from
/// `knowledge/coremltools-<version>/torch-rewrites.yml` (its header describes the notation).
public struct TorchRewrite: Sendable {
    public struct Step: Sendable {
        public var value: String
        public var op: OpName
        public var arguments: [(name: String, expression: Expression)]
        public var isBoolean: Bool
    }

    public enum Expression: Sendable, Equatable {
        /// An input of the replaced node or the value of an earlier step.
        case reference(String)
        case literal(Argument)
        /// `N - input` or `N / input`, for a scalar input.
        case difference(Double, String)
        case quotient(Double, String)
        /// `abs(input)`, for a scalar input.
        case absolute(String)
        /// A scalar input written as a float when the replaced node's output is floating.
        case likeOutput(String)

        /// The name of the input or step value the expression reads, if any.
        var source: String? {
            switch self {
            case .reference(let name), .difference(_, let name), .quotient(_, let name), .absolute(let name), .likeOutput(let name):
                return name
            case .literal:
                return nil
            }
        }
    }

    public enum Condition: Sendable, Equatable {
        case absoluteBelow(String, Double)
        case equals(String, Double)
        case isInt(String)
    }

    public struct Variant: Sendable {
        public var when: Condition?
        public var steps: [Step]
    }

    public var defaults: [String: Argument]
    public var variants: [Variant]

    /// Rewrites are written for programs that compute in float32 or float64: each step rounds once in the
    /// output's type, where torch computes fp16/bf16 ops in float and rounds once at the end.
    public static let outputTypes: Set<DType> = [.float32, .float64]

    /// The nodes that replace `node`, or `nil` when the output is not float32/float64, a tensor input the
    /// rewrite reads has another dtype (the steps would need type promotion), no variant applies, an
    /// argument cannot be resolved or written, the node's other outputs are read, or the rewrite would
    /// write the node unchanged.
    public func replacement(for node: TensorlintIR.Node, in graph: Graph) -> [InsertedNode]? {
        guard let output = node.outputs.first ?? nil, let outputDType = graph.dtype(of: output), Self.outputTypes.contains(outputDType),
              unusedLaterOutputs(of: node, in: graph) else { return nil }
        func argument(_ name: String) -> Argument? { node.input(named: name)?.argument ?? defaults[name] }
        func scalar(_ name: String) -> Double? {
            switch argument(name) {
            case .int(let value)?: return Double(value)
            case .float(let value)?: return value
            default: return nil
            }
        }
        guard let variant = variants.first(where: { variant in
            switch variant.when {
            case nil: return true
            case .absoluteBelow(let name, let bound)?: return scalar(name).map { abs($0) < bound } ?? false
            case .equals(let name, let value)?: return scalar(name) == value
            case .isInt(let name)?: if case .int = argument(name) { return true } else { return false }
            }
        }) else { return nil }

        var stepValues: [String: String] = [:]
        var inserted: [InsertedNode] = []
        for (index, step) in variant.steps.enumerated() {
            var inputs: [NodeInput] = []
            for (name, expression) in step.arguments {
                let resolved: Argument?
                switch expression {
                case .reference(let source):
                    resolved = stepValues[source].map(Argument.tensor) ?? argument(source)
                    if stepValues[source] == nil, case .tensor(let tensor)? = resolved,
                       graph.dtype(of: tensor).map({ $0 == outputDType || $0 == .bool }) != true {
                        return nil
                    }
                case .literal(let literal): resolved = literal
                case .difference(let minuend, let source): resolved = scalar(source).map { .float(minuend - $0) }
                case .quotient(let dividend, let source): resolved = scalar(source).flatMap { $0 == 0 ? nil : .float(dividend / $0) }
                case .absolute(let source):
                    switch argument(source) {
                    case .int(let value)? where value != .min: resolved = .int(abs(value))
                    case .float(let value)?: resolved = .float(abs(value))
                    default: resolved = nil
                    }
                case .likeOutput(let source): resolved = scalar(source).map(Argument.float)
                }
                guard let resolved else { return nil }
                switch resolved {
                case .tensor, .int, .float, .bool, .none: inputs.append(NodeInput(name: name, argument: resolved))
                default: return nil  // symbols and other arguments cannot be written into a new node
                }
            }
            // Intermediate values are named after the output; the writer names them apart from the graph's.
            let name = index == variant.steps.count - 1 ? output : "\(output)_\(step.value)"
            stepValues[step.value] = name
            inserted.append(InsertedNode(op: step.op, inputs: inputs, output: name, dtype: step.isBoolean ? .bool : outputDType))
        }
        if inserted.count == 1, inserted[0].op == node.op, inserted[0].inputs == node.inputs { return nil }
        return inserted
    }

    /// Outputs after the first are neither read by a node nor graph outputs.
    private func unusedLaterOutputs(of node: TensorlintIR.Node, in graph: Graph) -> Bool {
        let later = Set(node.outputs.dropFirst().compactMap { $0 })
        guard !later.isEmpty else { return true }
        if graph.outputs.contains(where: later.contains) { return false }
        return !graph.nodes.contains { $0.inputs.contains { $0.argument.tensorNames.contains(where: later.contains) } }
    }
}

extension TorchRewrite {
    /// Reads `torch-rewrites.yml`, as the build embeds it (the JSON of its values); every error names the
    /// file and the op.
    static func load(_ text: String, file: String) throws -> [String: TorchRewrite] {
        try entries(text, file: file).reduce(into: [:]) { rewrites, entry in
            rewrites[entry.key] = try load(op: entry.key, entry: entry.value, file: file)
        }
    }

    /// The table's entries (op → its body as the YAML gives it), each read by `load(op:entry:file:)`: a lint
    /// reads only the rewrites its fixes need, since reading all of them cost a tenth of a start.
    static func entries(_ text: String, file: String) throws -> [String: Any] {
        guard let entries = try knowledgeTable(text, file: file)["rewrites"] as? [String: Any] else {
            throw KnowledgeError(file: file, reason: "missing or not a mapping with `rewrites`")
        }
        return entries
    }

    static func load(op: String, entry raw: Any, file: String) throws -> TorchRewrite {
        func fail(_ reason: String) -> KnowledgeError { KnowledgeError(file: file, reason: "\(op): \(reason)") }
        guard let body = raw as? [String: Any] else { throw fail("not a mapping") }
        if let unknown = Set(body.keys).subtracting(["reference", "defaults", "steps", "variants"]).first { throw fail("unknown key `\(unknown)`") }
        // The reference is for people reading the table: what the rewrite follows.
        guard body["reference"] is String else { throw fail("missing `reference`") }
        guard (body["steps"] == nil) != (body["variants"] == nil) else { throw fail("needs either `steps` or `variants`") }
        var defaults: [String: Argument] = [:]
        for (name, value) in body["defaults"] as? [String: Any] ?? [:] {
            guard let literal = literal(value) else { throw fail("default `\(name)` is not a number or boolean") }
            defaults[name] = literal
        }
        let rawVariants: [Any]
        if let listed = body["variants"] {
            guard let list = listed as? [Any] else { throw fail("`variants` must be a list of mappings") }
            rawVariants = list
        } else {
            rawVariants = [["steps": body["steps"] as Any]]
        }
        var variants: [Variant] = []
        for rawVariant in rawVariants {
            guard let rawVariant = rawVariant as? [String: Any] else { throw fail("`variants` must be a list of mappings") }
            if let unknown = Set(rawVariant.keys).subtracting(["when", "steps"]).first { throw fail("unknown key `\(unknown)` in a variant") }
            guard let texts = rawVariant["steps"] as? [String], !texts.isEmpty else { throw fail("a variant without `steps`") }
            let when = try rawVariant["when"].map { raw in
                guard let text = raw as? String, let condition = condition(text) else { throw fail("cannot read condition `\(raw)`") }
                return condition
            }
            let steps = try texts.map { text in
                guard let step = step(text) else { throw fail("cannot read step `\(text)`") }
                return step
            }
            // A step reads the node's inputs and earlier steps, never its own or a later step's value.
            for (index, step) in steps.enumerated() {
                let ahead = Set(steps[index...].map(\.value))
                if let read = step.arguments.compactMap(\.expression.source).first(where: ahead.contains) {
                    throw fail("step `\(step.value)` reads `\(read)` before it is computed")
                }
            }
            guard Set(steps.map(\.value)).count == steps.count else { throw fail("two steps compute the same value") }
            variants.append(Variant(when: when, steps: steps))
        }
        return TorchRewrite(defaults: defaults, variants: variants)
    }

    private static func literal(_ value: Any) -> Argument? {
        switch value {
        case let bool as Bool: return .bool(bool)
        case let int as Int: return .int(Int64(int))
        case let double as Double: return .float(double)
        default: return nil
        }
    }

    // Plain string handling rather than Swift regexes: the table is read at every start, and compiling
    // regexes made a lint three times slower.

    /// `value: namespace.op.overload(name=expression, ...) [-> bool]`
    static func step(_ text: String) -> Step? {
        var rest = trimmed(text)
        let isBoolean = rest.hasSuffix("-> bool")
        if isBoolean { rest = trimmed(rest.dropLast("-> bool".count)) }
        guard rest.hasSuffix(")"), let colon = rest.firstIndex(of: ":"), let open = rest.firstIndex(of: "("), colon < open else { return nil }
        let value = trimmed(rest[..<colon])
        let parts = trimmed(rest[rest.index(after: colon)..<open]).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard isIdentifier(value), parts.count == 3, parts.allSatisfy(isIdentifier) else { return nil }
        var arguments: [(String, Expression)] = []
        for pair in rest[rest.index(after: open)..<rest.index(before: rest.endIndex)].split(separator: ",") {
            let sides = pair.split(separator: "=", maxSplits: 1).map(trimmed)
            guard sides.count == 2, isIdentifier(sides[0]), let expression = expression(sides[1]) else { return nil }
            arguments.append((sides[0], expression))
        }
        return Step(value: value, op: OpName(namespace: parts[0], name: parts[1], overload: parts[2]),
                    arguments: arguments, isBoolean: isBoolean)
    }

    static func expression(_ text: String) -> Expression? {
        if text == "true" || text == "false" { return .literal(.bool(text == "true")) }
        if let int = Int64(text) { return .literal(.int(int)) }
        if let double = Double(text) { return .literal(.float(double)) }
        if let name = argument(of: "like_output", in: text) { return .likeOutput(name) }
        if let name = argument(of: "abs", in: text) { return .absolute(name) }
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        if words.count == 3, let number = Double(words[0]), isIdentifier(words[2]) {
            switch words[1] {
            case "-": return .difference(number, words[2])
            case "/": return .quotient(number, words[2])
            default: return nil
            }
        }
        return isIdentifier(text) ? .reference(text) : nil
    }

    static func condition(_ text: String) -> Condition? {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count == 3 else { return nil }
        switch (words[1], Double(words[2])) {
        case ("<", let bound?): return argument(of: "abs", in: words[0]).map { .absoluteBelow($0, bound) }
        case ("==", let value?): return isIdentifier(words[0]) ? .equals(words[0], value) : nil
        case ("is", nil) where words[2] == "int": return isIdentifier(words[0]) ? .isInt(words[0]) : nil
        default: return nil
        }
    }

    /// `name` in `function(name)`.
    private static func argument(of function: String, in text: String) -> String? {
        guard text.hasPrefix(function + "("), text.hasSuffix(")") else { return nil }
        let name = String(text.dropFirst(function.count + 1).dropLast())
        return isIdentifier(name) ? name : nil
    }

    // Character tests of the standard library, not Foundation's CharacterSet: the table is read at every start.
    private static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
    }

    /// Without the spaces and tabs around it (line breaks are not blanks here, as in Foundation's `.whitespaces`).
    private static func trimmed<S: StringProtocol>(_ text: S) -> String {
        let isBlank = { (character: Character) in character.isWhitespace && !character.isNewline }
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(text[first...last])
    }
}
