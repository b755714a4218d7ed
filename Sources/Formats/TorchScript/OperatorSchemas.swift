import Foundation

/// torch's operator schemas (generated: `OperatorSchemaTable`), which the TorchScript importer binds printed
/// calls to: the printer drops trailing arguments equal to their defaults, and the importer puts them back.
struct OperatorSchema: Sendable {
    struct Argument: Sendable {
        var name: String
        var type: String
        /// The default as JSON text (`0.01`, `null`, `[1, 1]`), when the schema has one.
        var defaultJSON: String?
        var keywordOnly: Bool
    }

    var name: String
    var overload: String
    /// Return types (`Tensor`, `int`, `Tuple[Tensor, Tensor]` is two entries).
    var returns: [String]
    var arguments: [Argument]

    /// The table's bytes and where each line starts, found once; lines are sorted by operator name.
    private static let table: (bytes: [UInt8], lineStarts: [Int]) = {
        let bytes = Array(OperatorSchemaTable.lines.utf8)
        var starts = [0]
        for (index, byte) in bytes.enumerated() where byte == 0x0A { starts.append(index + 1) }
        return (bytes, starts)
    }()

    /// The schemas of an operator (`aten::leaky_relu`) in registration order, found by binary search and
    /// parsed only then: reading a model costs the lines of the operators it calls, not the whole table.
    static func schemas(named name: String) -> [OperatorSchema] {
        let (bytes, starts) = table
        let key = Array(name.utf8)
        func operatorName(at line: Int) -> ArraySlice<UInt8> {
            let start = starts[line]
            var end = start
            while end < bytes.count, bytes[end] != 0x09, bytes[end] != 0x0A { end += 1 }
            return bytes[start..<end]
        }
        var low = 0, high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if operatorName(at: middle).lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
        }
        var schemas: [OperatorSchema] = []
        var line = low
        while line < starts.count, operatorName(at: line).elementsEqual(key) {
            let end = line + 1 < starts.count ? starts[line + 1] - 1 : bytes.count
            if let schema = parse(String(decoding: bytes[starts[line]..<end], as: UTF8.self)) { schemas.append(schema) }
            line += 1
        }
        return schemas
    }

    private static func parse(_ line: String) -> OperatorSchema? {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count == 4 else { return nil }
        let arguments = fields[3].split(separator: ";").compactMap { text -> Argument? in
            var rest = Substring(text)
            let keywordOnly = rest.hasSuffix(":kw")
            if keywordOnly { rest = rest.dropLast(3) }
            guard let colon = rest.firstIndex(of: ":") else { return nil }
            let name = String(rest[..<colon])
            let typeAndDefault = rest[rest.index(after: colon)...]
            if let equals = typeAndDefault.firstIndex(of: "=") {
                return Argument(name: name, type: String(typeAndDefault[..<equals]),
                                defaultJSON: String(typeAndDefault[typeAndDefault.index(after: equals)...]), keywordOnly: keywordOnly)
            }
            return Argument(name: name, type: String(typeAndDefault), defaultJSON: nil, keywordOnly: keywordOnly)
        }
        return OperatorSchema(name: String(fields[0]), overload: String(fields[1]), returns: fields[2].split(separator: ",").map(String.init),
                              arguments: arguments)
    }

    /// The kind of a value a call passes, as far as choosing an overload needs it.
    enum Kind {
        case tensor, tensorList, integer, floating, boolean, string, none, intList, floatList, list, device, other
    }

    /// The first schema (in registration order, `out=` variants aside) whose arguments accept these, as
    /// `matchSchemas` chooses: a first pass without implicit conversions, a second with them.
    static func match(_ name: String, positional: [Kind], keywords: [String: Kind]) -> OperatorSchema? {
        let schemas = schemas(named: name)
        for allowConversions in [false, true] {
            for schema in schemas where !schema.arguments.contains(where: { $0.name == "out" && $0.keywordOnly }) {
                if schema.accepts(positional: positional, keywords: keywords, allowConversions: allowConversions) { return schema }
            }
        }
        return nil
    }

    /// Positional actuals fill the positional formals in order; the rest come from keywords or defaults.
    private func accepts(positional: [Kind], keywords: [String: Kind], allowConversions: Bool) -> Bool {
        guard positional.count <= arguments.filter({ !$0.keywordOnly }).count,
              keywords.keys.allSatisfy({ key in arguments.contains { $0.name == key } }) else { return false }
        var positionalIndex = 0
        for argument in arguments {
            if !argument.keywordOnly, positionalIndex < positional.count {
                guard keywords[argument.name] == nil, Self.accepts(argument.type, positional[positionalIndex], allowConversions) else { return false }
                positionalIndex += 1
            } else if let kind = keywords[argument.name] {
                guard Self.accepts(argument.type, kind, allowConversions) else { return false }
            } else if argument.defaultJSON == nil {
                return false
            }
        }
        return true
    }

    private static func accepts(_ type: String, _ kind: Kind, _ allowConversions: Bool) -> Bool {
        if type.hasPrefix("Optional[") {
            return kind == .none || accepts(String(type.dropFirst("Optional[".count).dropLast()), kind, allowConversions)
        }
        switch type {
        case "Tensor": return kind == .tensor || (allowConversions && [.integer, .floating, .boolean].contains(kind))
        case "int", "SymInt": return kind == .integer || kind == .boolean || (allowConversions && kind == .tensor)
        case "float": return kind == .floating || kind == .integer || (allowConversions && kind == .tensor)
        case "number", "Scalar": return [.integer, .floating, .boolean].contains(kind) || (allowConversions && kind == .tensor)
        case "bool": return kind == .boolean || (allowConversions && kind == .tensor)
        case "str": return kind == .string
        case "Device": return kind == .device || kind == .string
        case "List[Tensor]", "List[Optional[Tensor]]": return kind == .tensorList || kind == .list
        case "List[int]", "List[SymInt]", "List[bool]": return kind == .intList || kind == .list || (allowConversions && kind == .integer)
        case "List[float]": return kind == .floatList || kind == .intList || kind == .list
        case "t", "Any": return true
        default:
            if type.hasPrefix("List[") { return [.list, .intList, .floatList, .tensorList].contains(kind) }
            return kind == .other
        }
    }
}
