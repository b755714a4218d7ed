import Foundation
import TensorlintIR

/// Rewrites calls in TorchScript code: `torch.celu(x, 2.)` becomes one nested expression of the replacement's
/// ops (`torch.where(torch.gt(x, 0), x, …)`), each printed as torch's printer prints a call, its tensors the
/// call's own argument texts and the earlier ops' expressions.
enum CallRewriter {
    typealias Tokens = [(token: Token, line: Int, offset: Int)]

    /// The code with each call (by the byte offset of its first token) replaced.
    static func rewrite(_ data: Data, calls: [Int: (node: Node, nodes: [InsertedNode])], file: String) throws -> Data {
        var bytes = [UInt8](data)
        // From the end, so that the offsets of the calls before stay valid.
        for offset in calls.keys.sorted(by: >) {
            let (node, nodes) = calls[offset]!
            guard let text = String(bytes: bytes, encoding: .utf8) else { throw WriteError("\(file) is not UTF-8 text") }
            let tokens: Tokens
            do { tokens = try SourceLexer.tokens(text) } catch { throw WriteError("\(file):\(error.line): \(error.reason)") }
            guard let start = tokens.firstIndex(where: { $0.offset == offset }) else { throw WriteError("\(file): no call at byte \(offset)") }
            let (arguments, end) = try callArguments(tokens, from: start, bytes: bytes, file: file)
            let expression = try replacement(for: node, by: nodes, arguments: arguments, file: file)
            bytes.replaceSubrange(offset..<end, with: Array(expression.utf8))
        }
        return Data(bytes)
    }

    /// The texts of the call's arguments (keyword name or nil, text), and the offset just past its `)`.
    static func callArguments(_ tokens: Tokens, from start: Int, bytes: [UInt8], file: String) throws -> ([(String?, String)], Int) {
        var index = start
        while index < tokens.count, tokens[index].token != .symbol("(") { index += 1 }
        var arguments: [(String?, String)] = []
        var depth = 0
        var argumentStart = index + 1
        func text(_ from: Int, _ to: Int) -> String {
            String(decoding: bytes[tokens[from].offset..<tokens[to].offset], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func close(at position: Int) {
            guard position > argumentStart else { return }
            if case .name(let keyword) = tokens[argumentStart].token, tokens[argumentStart + 1].token == .symbol("=") {
                arguments.append((keyword, text(argumentStart + 2, position)))
            } else {
                arguments.append((nil, text(argumentStart, position)))
            }
        }
        for position in (index + 1)..<tokens.count {
            switch tokens[position].token {
            case .symbol("("), .symbol("["), .symbol("{"): depth += 1
            case .symbol("]"), .symbol("}"): depth -= 1
            case .symbol(")"):
                if depth == 0 {
                    close(at: position)
                    return (arguments, tokens[position].offset + 1)
                }
                depth -= 1
            case .symbol(","):
                if depth == 0 {
                    close(at: position)
                    argumentStart = position + 1
                }
            default: break
            }
        }
        throw WriteError("\(file): a call without its closing parenthesis")
    }

    static func replacement(for node: Node, by nodes: [InsertedNode], arguments: [(String?, String)], file: String) throws -> String {
        // The call's positional arguments are the schema's first arguments, in order; the rest are keywords or defaults.
        var argumentText: [String: String] = [:]
        for (position, argument) in arguments.enumerated() {
            if let keyword = argument.0 { argumentText[keyword] = argument.1 } else if position < node.inputs.count { argumentText[node.inputs[position].name] = argument.1 }
        }
        var expressions: [String: String] = [:]
        var uses: [String: Int] = [:]
        func tensor(_ name: String) throws -> String {
            if let expression = expressions[name] { return expression }
            guard let formal = node.inputs.first(where: { $0.argument == .tensor(name) })?.name, let text = argumentText[formal] else {
                throw WriteError("\(file): `\(name)` is none of `\(node.op)`'s arguments")
            }
            uses[text, default: 0] += 1
            return text
        }
        for inserted in nodes {
            let schema = OperatorSchema.schemas(named: "\(inserted.op.namespace)::\(inserted.op.name)")
                .first { $0.overload == (inserted.op.overload == "default" ? "" : inserted.op.overload ?? "") }
            var printed: [String] = []
            for input in inserted.inputs {
                let value: String
                switch input.argument {
                case .tensor(let name): value = try tensor(name)
                default:
                    guard let literal = literal(input.argument) else { throw WriteError("\(file): cannot print \(input.argument) in TorchScript") }
                    value = literal
                }
                let keywordOnly = schema?.arguments.first { $0.name == input.name }?.keywordOnly == true
                printed.append(keywordOnly ? "\(input.name)=\(value)" : value)
            }
            expressions[inserted.output] = "torch.\(inserted.op.name)(\(printed.joined(separator: ", ")))"
        }
        // An argument computed by an expression must not be computed twice.
        if let twice = uses.first(where: { $0.value > 1 && !isName($0.key) })?.key {
            throw WriteError("\(file): `\(node.op)`'s argument `\(twice)` would be computed twice by the rewrite")
        }
        guard let last = nodes.last, let result = expressions[last.output] else { throw WriteError("\(file): an empty rewrite") }
        return result
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "." }
    }

    /// A literal as torch's printer writes it (`1.`, `-0.5`, `True`, `[1, 2]`; dtypes as ScalarType numbers).
    static func literal(_ argument: Argument) -> String? {
        func float(_ value: Double) -> String {
            if value.isNaN { return "nan" }
            if value.isInfinite { return value > 0 ? "inf" : "-inf" }
            let text = "\(value)"
            return text.contains(".") || text.contains("e") ? text : text + "."
        }
        switch argument {
        case .int(let value): return String(value)
        case .float(let value): return float(value)
        case .bool(let value): return value ? "True" : "False"
        case .none: return "None"
        case .string(let value): return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .ints(let values): return "[" + values.map(String.init).joined(separator: ", ") + "]"
        case .floats(let values): return "[" + values.map(float).joined(separator: ", ") + "]"
        case .scalarType(let dtype?): return TorchScriptGraphBuilder.scalarTypes.first { $0.value == dtype }.map { String($0.key) }
        default: return nil
        }
    }
}
