import Foundation

/// A streaming JSON reader over UTF-8 bytes: the caller pulls values in document order and decodes them
/// straight into its own typed structures, so no tree of the document is ever built (a 10 MB program
/// costs its bytes, not fifty times them). A value of the wrong kind, or bytes that are not JSON, is a
/// `JSONError` naming where it is (`graph_module.graph.nodes[3].target is not a string`).
public struct JSONReader {
    public enum Kind: Sendable, Equatable {
        case object, array, string, number, bool, null
    }

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    /// Containers open around the current position: deep nesting is refused, never a stack overflow.
    private var depth = 0
    public static let maximumDepth = 512

    /// Where the reader is in the document, in bytes: the span of a value read over, to read it later on its own.
    public var offset: Int { position }

    /// Reads `bytes`, which must stay valid while the reader is used (inside `withUnsafeBytes`).
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The document `bytes` hold, decoded by `body`; nothing but whitespace may follow its value.
    public static func read<Value>(_ bytes: some ContiguousBytes,
                                   _ body: (inout JSONReader) throws(JSONError) -> Value) throws(JSONError) -> Value {
        // `withUnsafeBytes` rethrows untyped errors: the outcome is carried out of it as a typed result.
        let outcome = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) -> Value in
                var reader = JSONReader(raw)
                let value = try body(&reader)
                try reader.finish()
                return value
            }
        }
        return try outcome.get()
    }

    /// The document `text` holds, decoded by `body`.
    public static func read<Value>(_ text: String, _ body: (inout JSONReader) throws(JSONError) -> Value) throws(JSONError) -> Value {
        try read(Array(text.utf8), body)
    }

    // MARK: what comes next

    /// The kind of the next value; a syntax error when no value starts here.
    public mutating func peek() throws(JSONError) -> Kind {
        skipWhitespace()
        guard position < bytes.count else { throw syntax("the document ends where a value is expected") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw syntax("unexpected `\(Character(Unicode.Scalar(bytes[position])))`")
        }
    }

    /// Checks that nothing but whitespace follows the document's value.
    public mutating func finish() throws(JSONError) {
        skipWhitespace()
        guard position == bytes.count else { throw syntax("text after the document's value") }
    }

    // MARK: containers

    /// Calls `member` with each key of the object that comes next; `member` must read (or skip) the value.
    /// An error below names the key it happened under.
    public mutating func readObject(_ member: (inout JSONReader, String) throws(JSONError) -> Void) throws(JSONError) {
        try members(key: { (reader: inout JSONReader) throws(JSONError) in try reader.scanString() }, member)
    }

    /// `readObject` for a schema's fields, whose keys are matched against names and never kept: each key is
    /// its bytes in the document, made into no string (a program's keys are most of the strings it has).
    public mutating func readFields(_ member: (inout JSONReader, JSONKey) throws(JSONError) -> Void) throws(JSONError) {
        try members(key: { (reader: inout JSONReader) throws(JSONError) in try reader.scanKey() }, member)
    }

    /// The members of the object that comes next, each key read by `key` (an object read over has no use for
    /// its keys but in an error).
    private mutating func members<Key>(key readKey: (inout JSONReader) throws(JSONError) -> Key,
                                       _ member: (inout JSONReader, Key) throws(JSONError) -> Void) throws(JSONError) {
        try open(UInt8(ascii: "{"), as: .object)
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return close() }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw syntax("an object key must be a string") }
            let keyStart = position
            let key = try readKey(&self)
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw syntax("`:` expected after the key \"\(self.key(at: keyStart))\"") }
            do { try member(&self, key) } catch { throw error.under(.key(self.key(at: keyStart))) }
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "}")) else { throw syntax("`,` or `}` expected in an object") }
            return close()
        }
    }

    /// The key whose string starts at `start` (already read over, so it reads), decoded for an error.
    private func key(at start: Int) -> String {
        var reader = self
        reader.position = start
        return (try? reader.scanString()) ?? ""
    }

    /// Calls `element` with the index of each element of the array that comes next; `element` must read
    /// (or skip) it.
    public mutating func readArray(_ element: (inout JSONReader, Int) throws(JSONError) -> Void) throws(JSONError) {
        try readArray(element) { _ in nil }
    }

    /// `readArray`, where a run of the array's elements may have been read elsewhere (on another thread, by a
    /// reader from `reader(at:)`): before each element, `readElsewhere` is given a reader at it, and answers
    /// `nil` to have it read here, or where to go on, an element's start or the array's `]`, and how many
    /// elements that passes.
    public mutating func readArray(_ element: (inout JSONReader, Int) throws(JSONError) -> Void,
                                   readElsewhere: (JSONReader) -> (resumeAt: Int, elements: Int)?) throws(JSONError) {
        try open(UInt8(ascii: "["), as: .array)
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return close() }
        var index = 0
        while true {
            skipWhitespace()
            // Runs read elsewhere may follow one another.
            while let (resumeAt, elements) = readElsewhere(self) {
                position = resumeAt
                index += elements
                if consume(UInt8(ascii: "]")) { return close() }
            }
            do { try element(&self, index) } catch { throw error.under(.index(index)) }
            index += 1
            guard try nextElement() else {
                position += 1
                return close()
            }
        }
    }

    /// After an array's element: `true`, past the `,`, when another follows; `false`, at the `]`, when it was the last.
    public mutating func nextElement() throws(JSONError) -> Bool {
        skipWhitespace()
        if consume(UInt8(ascii: ",")) { return true }
        guard position < bytes.count, bytes[position] == UInt8(ascii: "]") else { throw syntax("`,` or `]` expected in an array") }
        return false
    }

    /// A reader of the same document at `position`, counting its nesting from this one's: to read ahead,
    /// elsewhere, what this one reaches later. What it reads there is only the document's if this reader,
    /// arriving, is at that very position, as deeply nested (a position inside a string reads as something else).
    public func reader(at position: Int) -> JSONReader {
        var reader = self
        reader.position = position
        return reader
    }

    /// Where the next value starts, past whitespace.
    public mutating func valueStart() -> Int {
        skipWhitespace()
        return position
    }

    /// The document's bytes, to look ahead in.
    public var document: UnsafeRawBufferPointer { bytes }

    /// The array that comes next, each element read by `element`.
    public mutating func readList<Element>(_ element: (inout JSONReader) throws(JSONError) -> Element) throws(JSONError) -> [Element] {
        var list: [Element] = []
        try readArray { (reader: inout JSONReader, _: Int) throws(JSONError) in list.append(try element(&reader)) }
        return list
    }

    /// The object that comes next as a dictionary, each value read by `value`.
    public mutating func readDictionary<Value>(_ value: (inout JSONReader) throws(JSONError) -> Value) throws(JSONError) -> [String: Value] {
        var dictionary: [String: Value] = [:]
        try readObject { (reader: inout JSONReader, key: String) throws(JSONError) in dictionary[key] = try value(&reader) }
        return dictionary
    }

    /// The one key of a union object (`{"as_int": 3}`), with its value read by `body`.
    public mutating func readUnion<Result>(_ body: (inout JSONReader, JSONKey) throws(JSONError) -> Result) throws(JSONError) -> Result {
        var result: Result?
        var keys = 0
        try readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
            keys += 1
            if keys == 1 { result = try body(&reader, key) } else { try reader.skipValue() }
        }
        guard keys == 1, let result else { throw JSONError(schema: "a union object has \(keys) keys, not one") }
        return result
    }

    /// `nil` (and the `null` read) when a null comes next, else the value `read` reads: an optional field.
    public mutating func optional<Value>(_ read: (inout JSONReader) throws(JSONError) -> Value) throws(JSONError) -> Value? {
        try readNull() ? nil : try read(&self)
    }

    // MARK: scalars

    public mutating func readString() throws(JSONError) -> String {
        guard try peek() == .string else { throw JSONError(schema: "is not a string") }
        return try scanString()
    }

    public mutating func readBool() throws(JSONError) -> Bool {
        guard try peek() == .bool else { throw JSONError(schema: "is not a boolean") }
        if consumeLiteral("true") { return true }
        if consumeLiteral("false") { return false }
        throw syntax("`true` or `false` expected")
    }

    /// `true` (and the `null` read) when a null comes next; `false`, reading nothing, otherwise.
    public mutating func readNull() throws(JSONError) -> Bool {
        guard try peek() == .null else { return false }
        guard consumeLiteral("null") else { throw syntax("`null` expected") }
        return true
    }

    /// A number that must be an integer in 64 bits.
    public mutating func readInt() throws(JSONError) -> Int64 {
        let text = try numberText()
        guard let value = Int64(text) else {
            throw JSONError(schema: text.contains(where: { ".eE".contains($0) }) ? "is not an integer (\(text))" : "\(text) does not fit in 64 bits")
        }
        return value
    }

    public mutating func readDouble() throws(JSONError) -> Double {
        let text = try numberText()
        guard let value = Double(text) else { throw syntax("`\(text)` is not a number") }
        return value
    }

    /// The next value as Foundation-style data: `[String: Any]`, `[Any]`, `String`, `Int` (a number written
    /// without fraction or exponent), `Double`, `Bool` or `NSNull` — what a YAML loader gives for the same
    /// document, for tables read as such.
    public mutating func readAny() throws(JSONError) -> Any {
        switch try peek() {
        case .object:
            var object: [String: Any] = [:]
            try readObject { (reader: inout JSONReader, key: String) throws(JSONError) in object[key] = try reader.readAny() }
            return object
        case .array: return try readList { (reader: inout JSONReader) throws(JSONError) in try reader.readAny() }
        case .string: return try readString()
        case .bool: return try readBool()
        case .null:
            _ = try readNull()
            return NSNull()
        case .number:
            let text = try numberText()
            if let integer = Int(text) { return integer }
            guard let value = Double(text) else { throw syntax("`\(text)` is not a number") }
            return value
        }
    }

    /// Reads over the next value, whatever it is.
    public mutating func skipValue() throws(JSONError) {
        switch try peek() {
        case .object:
            try members(key: { (reader: inout JSONReader) throws(JSONError) in try reader.skipString() },
                        { (reader: inout JSONReader, _: Void) throws(JSONError) in try reader.skipValue() })
        case .array: try readArray { (reader: inout JSONReader, _: Int) throws(JSONError) in try reader.skipValue() }
        case .string: try skipString()
        case .number: _ = try numberText()
        case .bool: _ = try readBool()
        case .null: _ = try readNull()
        }
    }

    // The scalar readers as functions of a reader, to hand to `optional` and `readList`.
    public static func string(_ reader: inout JSONReader) throws(JSONError) -> String { try reader.readString() }
    public static func int(_ reader: inout JSONReader) throws(JSONError) -> Int64 { try reader.readInt() }
    public static func bool(_ reader: inout JSONReader) throws(JSONError) -> Bool { try reader.readBool() }

    // MARK: bytes

    /// JSON's whitespace: space, line feed, carriage return, tab.
    @inlinable public static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, Self.isWhitespace(bytes[position]) { position += 1 }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[position + $0] == expected[$0] }
        }
        if matches { position += count }
        return matches
    }

    private mutating func open(_ byte: UInt8, as kind: Kind) throws(JSONError) {
        guard try peek() == kind else { throw JSONError(schema: kind == .object ? "is not an object" : "is not a list") }
        guard depth < Self.maximumDepth else { throw syntax("nested more than \(Self.maximumDepth) deep") }
        depth += 1
        position += 1
    }

    private mutating func close() {
        depth -= 1
    }

    /// The text of the number that comes next, checked against JSON's number grammar.
    private mutating func numberText() throws(JSONError) -> String {
        guard try peek() == .number else { throw JSONError(schema: "is not a number") }
        let start = position
        func digits() -> Int {
            let first = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position - first
        }
        _ = consume(UInt8(ascii: "-"))
        guard digits() > 0 else { throw syntax("a number without digits") }
        if consume(UInt8(ascii: ".")), digits() == 0 { throw syntax("a number without digits after `.`") }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            _ = consume(UInt8(ascii: "+")) || consume(UInt8(ascii: "-"))
            guard digits() > 0 else { throw syntax("a number without an exponent") }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    /// The key that starts at the current `"`: its bytes where it has no escape, which must be UTF-8.
    private mutating func scanKey() throws(JSONError) -> JSONKey {
        let start = position + 1
        guard let (raw, ascii) = try unescapedString() else { return JSONKey(decoded: try scanEscapedString(from: start)) }
        if !ascii { _ = try utf8(raw) }
        return JSONKey(raw)
    }

    /// The string that starts at the current `"`, unescaped; its bytes must be UTF-8.
    private mutating func scanString() throws(JSONError) -> String {
        let start = position + 1
        guard let (raw, ascii) = try unescapedString() else { return try scanEscapedString(from: start) }
        return ascii ? String(decoding: raw, as: UTF8.self) : try utf8(raw)
    }

    /// Reads the string that starts at the current `"` to its closing quote when it holds no escape: its bytes
    /// (not yet checked as UTF-8) and whether they are all ASCII. `nil`, left at the backslash, when it has one.
    private mutating func unescapedString() throws(JSONError) -> (raw: UnsafeRawBufferPointer, ascii: Bool)? {
        position += 1
        let start = position
        var ascii = true
        while true {
            position = plainRunEnd(from: position)
            guard position < bytes.count else { throw syntax("a string is not closed") }
            switch bytes[position] {
            case UInt8(ascii: "\""):
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
                position += 1
                return (raw, ascii)
            case UInt8(ascii: "\\"): return nil
            case 0x80...:
                ascii = false
                position += 1
            default: throw syntax("a control character inside a string")
            }
        }
    }

    /// Where the run of plain ASCII string bytes starting at `start` ends: at a quote, a backslash, a control
    /// character, a byte past ASCII, or the end. Eight bytes are tested at a time, since strings (stack traces,
    /// names) are most of a program's bytes.
    private func plainRunEnd(from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return start }
        let ones: UInt64 = 0x0101_0101_0101_0101, highBits: UInt64 = 0x8080_8080_8080_8080
        /// A high bit set in some byte where `word` has a zero byte (exact as a whole, which is all that is asked).
        func zeroByte(_ word: UInt64) -> UInt64 { (word &- ones) & ~word & highBits }
        var index = start
        while index + 8 <= bytes.count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let special = zeroByte(word ^ (ones &* 0x22)) | zeroByte(word ^ (ones &* 0x5C))
                | ((word &- ones &* 0x20) & ~word & highBits) | (word & highBits)
            if special != 0 { break }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { break }
            index += 1
        }
        return index
    }

    private mutating func scanEscapedString(from start: Int) throws(JSONError) -> String {
        var decoded = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try utf8(decoded)
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard consumeLiteral("\\u") else { throw syntax("a lone surrogate in a string") }
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw syntax("a lone surrogate in a string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let character = Unicode.Scalar(scalar) else { throw syntax("a lone surrogate in a string") }
                    decoded += Array(String(Character(character)).utf8)
                default: throw syntax("an unknown escape `\\\(Character(Unicode.Scalar(escape)))` in a string")
                }
            default:
                guard byte >= 0x20 else { throw syntax("a control character inside a string") }
                // The run of plain bytes up to the next quote, escape or control character goes in at once
                // (bytes past ASCII are plain here: the whole string's UTF-8 is checked at its end).
                let runStart = position - 1
                while true {
                    position = plainRunEnd(from: position)
                    guard position < bytes.count, bytes[position] >= 0x80 else { break }
                    position += 1
                }
                decoded.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<position]))
            }
        }
        throw syntax("a string is not closed")
    }

    /// Reads over a string, checking it as `scanString` does, without making it.
    private mutating func skipString() throws(JSONError) {
        let open = position
        guard let (raw, ascii) = try unescapedString() else {
            position = open
            _ = try scanString()
            return
        }
        // Bytes past ASCII are rare in what is skipped; only then is the string's UTF-8 checked.
        if !ascii { _ = try utf8(raw) }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw syntax("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(Unicode.Scalar(bytes[position])).hexDigitValue else {
                throw syntax("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private func utf8(_ raw: UnsafeRawBufferPointer) throws(JSONError) -> String {
        try utf8(raw.bindMemory(to: UInt8.self))
    }

    private func utf8(_ units: some Collection<UInt8>) throws(JSONError) -> String {
        guard let text = String(validating: units, as: UTF8.self) else { throw syntax("a string is not UTF-8") }
        return text
    }

    private func syntax(_ reason: String) -> JSONError {
        JSONError(syntax: "\(reason) (byte \(position))")
    }
}

/// An object's key as the document has it, compared with names without making a string of it: as bytes (a
/// key written with escapes, as text), so not by Unicode canonical equivalence, which no schema's ASCII names
/// need. Its bytes are the document's: it is valid only while its member is read.
public struct JSONKey: Equatable, ExpressibleByStringLiteral, CustomStringConvertible {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    /// A key written with escapes, decoded.
    @usableFromInline let decoded: String?

    @usableFromInline init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        decoded = nil
    }

    @usableFromInline init(decoded: String) {
        bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        self.decoded = decoded
    }

    /// Inlined, so that a schema's names are made where they are matched, at no cost.
    @inlinable public init(stringLiteral name: StaticString) {
        // A literal always has its bytes; a StaticString made of one scalar does not.
        guard name.hasPointerRepresentation else {
            self.init(decoded: name.description)
            return
        }
        self.init(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    public var text: String { decoded ?? String(decoding: bytes, as: UTF8.self) }

    public var description: String { text }

    /// Inlined where a schema matches its fields: most keys differ from a name in length alone.
    @inlinable public static func == (a: JSONKey, b: JSONKey) -> Bool {
        if a.decoded == nil, b.decoded == nil, a.bytes.count != b.bytes.count { return false }
        return sameText(a, b)
    }

    @usableFromInline static func sameText(_ a: JSONKey, _ b: JSONKey) -> Bool {
        guard a.decoded == nil, b.decoded == nil else { return a.text == b.text }
        return a.bytes.count == b.bytes.count && (a.bytes.isEmpty || memcmp(a.bytes.baseAddress!, b.bytes.baseAddress!, a.bytes.count) == 0)
    }
}

/// Where a JSON document is not what its reader expects: bad syntax, or a value of the wrong kind.
public struct JSONError: Error, Sendable, CustomStringConvertible {
    public enum Component: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    /// From the document's root down to the value.
    public private(set) var path: [Component] = []
    public let reason: String
    /// Not JSON at all (as opposed to JSON that does not follow the expected schema).
    public let isSyntax: Bool

    public init(schema reason: String) {
        self.reason = reason
        isSyntax = false
    }

    /// A required key that the object does not have.
    public static func missing(_ key: String) -> JSONError {
        var error = JSONError(schema: "is missing")
        error.path = [.key(key)]
        return error
    }

    init(syntax reason: String) {
        self.reason = reason
        isSyntax = true
    }

    /// The same error, one level further down from the root.
    func under(_ component: Component) -> JSONError {
        var error = self
        error.path.insert(component, at: 0)
        return error
    }

    /// `graph_module.graph.nodes[3].target`.
    public var location: String {
        path.reduce(into: "") { text, component in
            switch component {
            case .index(let index): text += "[\(index)]"
            case .key(let key): text += text.isEmpty ? key : "." + key
            }
        }
    }

    /// `graph_module.graph.nodes[3].target is not a string` (a reason that is a sentence of its own,
    /// such as "a union object has 2 keys", follows a colon).
    public var description: String {
        if isSyntax { return "not valid JSON: \(reason)" }
        guard !path.isEmpty else { return reason }
        return reason.hasPrefix("is ") || reason.hasPrefix("is not") ? "\(location) \(reason)" : "\(location): \(reason)"
    }
}
