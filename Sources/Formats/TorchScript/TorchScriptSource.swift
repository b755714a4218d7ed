/// The code torch's `PythonPrint` writes into `code/**/*.py` of a TorchScript archive, parsed (never run):
/// class bodies, function signatures and the statement and expression forms the printer emits
/// (calls, attribute chains, subscripts, literals, tuples, lists, dicts, `if`/`for`/`while`).
indirect enum Expression: Sendable {
    case name(String)
    case int(Int64)
    case float(Double)
    case string(String)
    case bool(Bool)
    case none
    case negate(Expression)
    case attribute(Expression, String)
    /// `offset`: where the callee's first token starts in the file.
    case call(Expression, arguments: [Expression], keywords: [(name: String, value: Expression)], offset: Int)
    case subscripted(Expression, Expression)
    case slice(Expression?, Expression?)
    case tuple([Expression])
    case list([Expression])
    case dict([(key: Expression, value: Expression)])

    /// `torch.nn.functional` for an attribute chain of names, else nil.
    var dottedName: String? {
        switch self {
        case .name(let name): return name
        case .attribute(let base, let name): return base.dottedName.map { "\($0).\(name)" }
        default: return nil
        }
    }
}

struct Statement: Sendable {
    indirect enum Kind: Sendable {
        case assign(targets: [String], value: Expression)
        case expression(Expression)
        case `return`(Expression?)
        case `if`(Expression, then: [Statement], else: [Statement])
        case `for`(variable: String, iterable: Expression, body: [Statement])
        case `while`(Expression, body: [Statement])
        case with(Expression, name: String?, body: [Statement])
        case pass
    }

    var kind: Kind
    /// 1-based line in the code file.
    var line: Int
}

struct Parameter: Sendable {
    var name: String
    var type: String?
    var defaultValue: Expression?
}

struct FunctionDefinition: Sendable {
    var name: String
    var parameters: [Parameter]
    var body: [Statement]
    var line: Int
}

struct ClassDefinition: Sendable {
    var name: String
    var base: String?
    var parameters: [String] = []
    var buffers: [String] = []
    /// Attribute → its declared type, in declaration order.
    var attributes: [(name: String, type: String)] = []
    var methods: [String: FunctionDefinition] = [:]
}

struct SourceError: Error, Sendable {
    var line: Int
    var reason: String
}

/// One code file's classes and free functions (scripted helpers such as `_get_activation_fn`).
struct SourceFile: Sendable {
    var classes: [ClassDefinition]
    var functions: [FunctionDefinition]

    static let maximumNesting = 200

    init(parsing text: String) throws(SourceError) {
        var parser = SourceParser(tokens: try SourceLexer.tokens(text))
        (classes, functions) = try parser.file()
    }
}

enum Token: Sendable, Equatable {
    case name(String)
    case int(Int64)
    case float(Double)
    case string(String)
    case symbol(String)
    case newline, indent, dedent, end
}

enum SourceLexer {
    /// Each token with its line and the byte offset where it starts.
    static func tokens(_ text: String) throws(SourceError) -> [(token: Token, line: Int, offset: Int)] {
        let bytes = Array(text.utf8)
        var tokens: [(Token, Int, Int)] = []
        var indents = [0]
        var depth = 0
        var line = 1
        var index = 0
        var atLineStart = true
        func error(_ reason: String) -> SourceError { SourceError(line: line, reason: reason) }
        while index < bytes.count {
            if atLineStart && depth == 0 {
                var width = 0
                while index < bytes.count, bytes[index] == 0x20 { width += 1; index += 1 }
                if index >= bytes.count { break }
                if bytes[index] == 0x0A || bytes[index] == 0x23 || bytes[index] == 0x0D {
                    while index < bytes.count, bytes[index] != 0x0A { index += 1 }
                    index += 1
                    line += 1
                    continue
                }
                atLineStart = false
                if width > indents.last! {
                    guard indents.count < SourceFile.maximumNesting else { throw error("nesting deeper than \(SourceFile.maximumNesting) blocks") }
                    indents.append(width)
                    tokens.append((.indent, line, index))
                } else {
                    while width < indents.last! {
                        indents.removeLast()
                        tokens.append((.dedent, line, index))
                    }
                    guard width == indents.last! else { throw error("inconsistent indentation") }
                }
            }
            let byte = bytes[index]
            switch byte {
            case 0x0A:
                if depth == 0 { tokens.append((.newline, line, index)); atLineStart = true }
                line += 1
                index += 1
            case 0x20, 0x09, 0x0D:
                index += 1
            case 0x5C where index + 1 < bytes.count && bytes[index + 1] == 0x0A:   // backslash continuation
                index += 2
                line += 1
            case 0x23:
                while index < bytes.count, bytes[index] != 0x0A { index += 1 }
            case 0x22, 0x27:
                let (value, next) = try string(bytes, from: index, line: line)
                tokens.append((.string(value), line, index))
                index = next
            case 0x30...0x39:
                var end = index
                var isFloat = false
                while end < bytes.count {
                    let c = bytes[end]
                    if (0x30...0x39).contains(c) { end += 1 } else if c == 0x2E { isFloat = true; end += 1 } else if c == 0x65 || c == 0x45 {
                        isFloat = true
                        end += 1
                        if end < bytes.count, bytes[end] == 0x2D || bytes[end] == 0x2B { end += 1 }
                    } else { break }
                }
                let text = String(decoding: bytes[index..<end], as: UTF8.self)
                if isFloat {
                    guard let value = Double(text.hasSuffix(".") ? text + "0" : text) else { throw error("bad number \(text)") }
                    tokens.append((.float(value), line, index))
                } else {
                    guard let value = Int64(text) else { throw error("integer \(text) out of range") }
                    tokens.append((.int(value), line, index))
                }
                index = end
            case 0x41...0x5A, 0x61...0x7A, 0x5F, 0x80...0xFF:
                var end = index
                while end < bytes.count, isNameByte(bytes[end]) { end += 1 }
                tokens.append((.name(String(decoding: bytes[index..<end], as: UTF8.self)), line, index))
                index = end
            default:
                let two = index + 1 < bytes.count ? String(decoding: bytes[index...index + 1], as: UTF8.self) : ""
                if ["->", "==", "!=", "<=", ">=", "**", "//"].contains(two) {
                    tokens.append((.symbol(two), line, index))
                    index += 2
                    continue
                }
                let symbol = String(UnicodeScalar(byte))
                guard "()[]{},:.=-+*/<>%@|&^~!".contains(symbol) else { throw error("unexpected character `\(symbol)`") }
                if "([{".contains(symbol) {
                    depth += 1
                    guard depth <= SourceFile.maximumNesting else { throw error("brackets nested deeper than \(SourceFile.maximumNesting)") }
                } else if ")]}".contains(symbol) {
                    depth = max(0, depth - 1)
                }
                tokens.append((.symbol(symbol), line, index))
                index += 1
            }
        }
        if !atLineStart { tokens.append((.newline, line, index)) }
        for _ in indents.dropFirst() { tokens.append((.dedent, line, index)) }
        tokens.append((.end, line, index))
        return tokens
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F || byte >= 0x80
    }

    /// A quoted string as `c10::printQuotedString` writes it: `\\ \' \" \a \b \f \n \r \t \v` and 3-digit octal escapes.
    private static func string(_ bytes: [UInt8], from start: Int, line: Int) throws(SourceError) -> (String, Int) {
        let quote = bytes[start]
        var index = start + 1
        var value: [UInt8] = []
        while index < bytes.count, bytes[index] != quote {
            guard bytes[index] != 0x0A else { break }
            if bytes[index] == 0x5C, index + 1 < bytes.count {
                let escaped = bytes[index + 1]
                let simple: [UInt8: UInt8] = [0x5C: 0x5C, 0x27: 0x27, 0x22: 0x22, 0x61: 7, 0x62: 8, 0x66: 12, 0x6E: 10, 0x72: 13, 0x74: 9, 0x76: 11]
                if let replacement = simple[escaped] {
                    value.append(replacement)
                    index += 2
                } else if index + 3 < bytes.count, let octal = UInt8(String(decoding: bytes[index + 1...index + 3], as: UTF8.self), radix: 8) {
                    value.append(octal)
                    index += 4
                } else {
                    throw SourceError(line: line, reason: "unknown escape in a string")
                }
            } else {
                value.append(bytes[index])
                index += 1
            }
        }
        guard index < bytes.count, bytes[index] == quote else { throw SourceError(line: line, reason: "unterminated string") }
        return (String(decoding: value, as: UTF8.self), index + 1)
    }
}

struct SourceParser {
    let tokens: [(token: Token, line: Int, offset: Int)]
    var index = 0
    var nesting = 0

    init(tokens: [(token: Token, line: Int, offset: Int)]) { self.tokens = tokens }

    var current: Token { tokens[index].token }
    var line: Int { tokens[index].line }

    func error(_ reason: String) -> SourceError { SourceError(line: line, reason: reason) }

    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    mutating func accept(_ token: Token) -> Bool {
        guard current == token else { return false }
        advance()
        return true
    }

    mutating func expect(_ token: Token, _ what: String) throws(SourceError) {
        guard accept(token) else { throw error("expected \(what), found \(Self.describe(current))") }
    }

    mutating func name() throws(SourceError) -> String {
        guard case .name(let name) = current else { throw error("expected a name, found \(Self.describe(current))") }
        advance()
        return name
    }

    static func describe(_ token: Token) -> String {
        switch token {
        case .name(let name): return "`\(name)`"
        case .int(let value): return "`\(value)`"
        case .float(let value): return "`\(value)`"
        case .string: return "a string"
        case .symbol(let symbol): return "`\(symbol)`"
        case .newline: return "the end of the line"
        case .indent: return "an indented block"
        case .dedent: return "the end of a block"
        case .end: return "the end of the file"
        }
    }

    mutating func file() throws(SourceError) -> ([ClassDefinition], [FunctionDefinition]) {
        var classes: [ClassDefinition] = []
        var functions: [FunctionDefinition] = []
        while current != .end {
            if accept(.newline) { continue }
            if case .name("class") = current {
                classes.append(try classDefinition())
            } else if case .name("def") = current {
                functions.append(try functionDefinition())
            } else if case .name(let word) = current, word == "import" || word == "op_version_set" || word == "from" {
                while current != .newline && current != .end { advance() }   // older archives' headers
            } else {
                throw error("expected a class or function definition, found \(Self.describe(current))")
            }
        }
        return (classes, functions)
    }

    mutating func classDefinition() throws(SourceError) -> ClassDefinition {
        advance()
        var definition = ClassDefinition(name: try name())
        if accept(.symbol("(")) {
            definition.base = try typeText()
            try expect(.symbol(")"), "`)`")
        }
        try expect(.symbol(":"), "`:`")
        try expect(.newline, "a new line")
        try expect(.indent, "an indented class body")
        while !accept(.dedent) {
            if accept(.newline) { continue }
            guard case .name(let word) = current else { throw error("unexpected \(Self.describe(current)) in class \(definition.name)") }
            switch word {
            case "def":
                let function = try functionDefinition()
                definition.methods[function.name] = function
            case "pass":
                advance()
            case "__annotations__":
                advance()
                try expect(.symbol("["), "`[`")
                guard case .string(let attribute) = current else { throw error("expected an attribute name") }
                advance()
                try expect(.symbol("]"), "`]`")
                try expect(.symbol("="), "`=`")
                definition.attributes.append((attribute, try typeText()))
            default:
                advance()
                if accept(.symbol("=")) {
                    let value = try expression()
                    let names = Self.strings(in: value)
                    if word == "__parameters__" { definition.parameters = names }
                    if word == "__buffers__" { definition.buffers = names }
                } else {
                    try expect(.symbol(":"), "`:` or `=` after \(word)")
                    definition.attributes.append((word, try typeText()))
                    if accept(.symbol("=")) { _ = try expression() }   // `Final[int] = 4` class constants
                }
            }
            if current == .newline { advance() }
        }
        return definition
    }

    static func strings(in expression: Expression) -> [String] {
        guard case .list(let items) = expression else { return [] }
        return items.compactMap { if case .string(let text) = $0 { return text } else { return nil } }
    }

    /// A type annotation as text (`Optional[List[int]]`, `__torch__.torch.nn.modules.conv.Conv2d`).
    mutating func typeText() throws(SourceError) -> String {
        var text = try name()
        while accept(.symbol(".")) { text += "." + (try name()) }
        if accept(.symbol("[")) {
            var parts: [String] = []
            repeat {
                if current == .symbol("]") { break }
                parts.append(try typeText())
            } while accept(.symbol(","))
            try expect(.symbol("]"), "`]`")
            text += "[" + parts.joined(separator: ", ") + "]"
        }
        return text
    }

    mutating func functionDefinition() throws(SourceError) -> FunctionDefinition {
        let start = line
        advance()
        let functionName = try name()
        try expect(.symbol("("), "`(`")
        var parameters: [Parameter] = []
        while !accept(.symbol(")")) {
            var parameter = Parameter(name: try name())
            if accept(.symbol(":")) { parameter.type = try typeText() }
            if accept(.symbol("=")) { parameter.defaultValue = try expression() }
            parameters.append(parameter)
            if !accept(.symbol(",")) {
                try expect(.symbol(")"), "`)`")
                break
            }
        }
        if accept(.symbol("->")) { _ = try typeText() }
        try expect(.symbol(":"), "`:`")
        return FunctionDefinition(name: functionName, parameters: parameters, body: try block(), line: start)
    }

    mutating func block() throws(SourceError) -> [Statement] {
        try expect(.newline, "a new line")
        try expect(.indent, "an indented block")
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= SourceFile.maximumNesting else { throw error("nesting deeper than \(SourceFile.maximumNesting) blocks") }
        var statements: [Statement] = []
        while !accept(.dedent) {
            if accept(.newline) { continue }
            statements.append(try statement())
        }
        return statements
    }

    mutating func statement() throws(SourceError) -> Statement {
        let start = line
        var kind: Statement.Kind
        switch current {
        case .name("pass"):
            advance()
            kind = .pass
        case .name("return"):
            advance()
            kind = .return(current == .newline ? nil : try expressionList())
        case .name("if"), .name("elif"):
            advance()
            let condition = try expression()
            try expect(.symbol(":"), "`:`")
            let then = try block()
            var otherwise: [Statement] = []
            if case .name("elif") = current {
                otherwise = [try statement()]
            } else if accept(.name("else")) {
                try expect(.symbol(":"), "`:`")
                otherwise = try block()
            }
            return Statement(kind: .if(condition, then: then, else: otherwise), line: start)
        case .name("for"):
            advance()
            let variable = try name()
            try expect(.name("in"), "`in`")
            let iterable = try expression()
            try expect(.symbol(":"), "`:`")
            return Statement(kind: .for(variable: variable, iterable: iterable, body: try block()), line: start)
        case .name("while"):
            advance()
            let condition = try expression()
            try expect(.symbol(":"), "`:`")
            return Statement(kind: .while(condition, body: try block()), line: start)
        case .name("with"):
            advance()
            let context = try expression()
            let bound = accept(.name("as")) ? try name() : nil
            try expect(.symbol(":"), "`:`")
            return Statement(kind: .with(context, name: bound, body: try block()), line: start)
        case .name(let target) where tokens[index + 1].token == .symbol(":"):
            // `_0 : Optional[int] = None`: an annotated assignment.
            advance()
            advance()
            _ = try typeText()
            try expect(.symbol("="), "`=`")
            kind = .assign(targets: [target], value: try expressionList())
        default:
            let value = try expressionList()
            if accept(.symbol("=")) {
                kind = .assign(targets: try targets(of: value), value: try expressionList())
            } else {
                kind = .expression(value)
            }
        }
        guard accept(.newline) || current == .dedent || current == .end else {
            throw error("expected the end of the statement, found \(Self.describe(current))")
        }
        return Statement(kind: kind, line: start)
    }

    func targets(of expression: Expression) throws(SourceError) -> [String] {
        switch expression {
        case .name(let name): return [name]
        case .tuple(let items):
            return try items.map { item throws(SourceError) in
                guard case .name(let name) = item else { throw error("assignment to something other than names") }
                return name
            }
        default: throw error("assignment to something other than names")
        }
    }

    /// `a, b, c` (a tuple without parentheses, trailing comma allowed) or one expression.
    mutating func expressionList() throws(SourceError) -> Expression {
        let first = try expression()
        guard current == .symbol(",") else { return first }
        var items = [first]
        while accept(.symbol(",")) {
            if current == .symbol("=") || current == .newline { break }
            items.append(try expression())
        }
        return .tuple(items)
    }

    mutating func expression() throws(SourceError) -> Expression {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= SourceFile.maximumNesting else { throw error("expression nested deeper than \(SourceFile.maximumNesting)") }
        if accept(.symbol("-")) { return .negate(try expression()) }
        if case .name("not") = current { throw error("`not` is not printed by TorchScript") }
        let start = tokens[index].offset
        var value = try atom()
        while true {
            if accept(.symbol(".")) {
                value = .attribute(value, try name())
            } else if accept(.symbol("(")) {
                var arguments: [Expression] = []
                var keywords: [(String, Expression)] = []
                while !accept(.symbol(")")) {
                    if case .name(let keyword) = current, tokens[index + 1].token == .symbol("=") {
                        advance()
                        advance()
                        keywords.append((keyword, try expression()))
                    } else {
                        arguments.append(try expression())
                    }
                    if !accept(.symbol(",")) {
                        try expect(.symbol(")"), "`)`")
                        break
                    }
                }
                value = .call(value, arguments: arguments, keywords: keywords, offset: start)
            } else if accept(.symbol("[")) {
                // One index, a slice, or several (`Dict[str, Tensor]` in `annotate`, `x[:, 0]`).
                var indices: [Expression] = []
                repeat {
                    if current == .symbol("]") { break }
                    var lower: Expression?
                    if current != .symbol(":") { lower = try expression() }
                    if accept(.symbol(":")) {
                        let upper = current == .symbol("]") || current == .symbol(",") ? nil : try expression()
                        indices.append(.slice(lower, upper))
                    } else {
                        indices.append(lower!)
                    }
                } while accept(.symbol(","))
                try expect(.symbol("]"), "`]`")
                value = .subscripted(value, indices.count == 1 ? indices[0] : .tuple(indices))
            } else {
                return value
            }
        }
    }

    mutating func atom() throws(SourceError) -> Expression {
        let token = current
        advance()
        switch token {
        case .name("True"): return .bool(true)
        case .name("False"): return .bool(false)
        case .name("None"): return .none
        case .name("inf"): return .float(.infinity)
        case .name("nan"): return .float(.nan)
        case .name(let name): return .name(name)
        case .int(let value): return .int(value)
        case .float(let value): return .float(value)
        case .string(var text):
            while case .string(let more) = current { text += more; advance() }
            return .string(text)
        case .symbol("("):
            if accept(.symbol(")")) { return .tuple([]) }
            let first = try expression()
            if accept(.symbol(")")) { return first }
            var items = [first]
            while accept(.symbol(",")) {
                if current == .symbol(")") { break }
                items.append(try expression())
            }
            try expect(.symbol(")"), "`)`")
            return .tuple(items)
        case .symbol("["):
            var items: [Expression] = []
            while !accept(.symbol("]")) {
                items.append(try expression())
                if !accept(.symbol(",")) {
                    try expect(.symbol("]"), "`]`")
                    break
                }
            }
            return .list(items)
        case .symbol("{"):
            var pairs: [(Expression, Expression)] = []
            while !accept(.symbol("}")) {
                let key = try expression()
                try expect(.symbol(":"), "`:`")
                pairs.append((key, try expression()))
                if !accept(.symbol(",")) {
                    try expect(.symbol("}"), "`}`")
                    break
                }
            }
            return .dict(pairs)
        default:
            index -= 1
            throw error("unexpected \(Self.describe(token))")
        }
    }
}
