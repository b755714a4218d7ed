/// A JSON value as the reports build it. Typed, so that writing one needs no runtime type checks: a
/// `[String: Any]` tree is converted element by element at every cast, which was most of the cost of a
/// large report.
public enum JSONValue: Sendable, Equatable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    /// Written already, by `JSONWriter.rendered`: a report's parts rendered on several threads.
    case rendered(RenderedJSON)

    /// The text, or `null` when there is none.
    public init(_ text: String?) { self = text.map(JSONValue.string) ?? .null }

    public init(_ number: Int?) { self = number.map(JSONValue.int) ?? .null }

    public init(_ texts: [String]) { self = .array(texts.map(JSONValue.string)) }
}

extension JSONValue: ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral text: String) { self = .string(text) }
    public init(integerLiteral number: Int) { self = .int(number) }
    public init(booleanLiteral flag: Bool) { self = .bool(flag) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral members: (String, JSONValue)...) {
        self = .object(Dictionary(members, uniquingKeysWith: { _, last in last }))
    }
}

/// A value's pretty text, indented for the depth it goes in at.
public struct RenderedJSON: Sendable, Equatable {
    let text: String
    let depth: Int
}
