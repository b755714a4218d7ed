import Foundation
import TensorlintJSON

/// Where each value of a JSON text lies, so that a few values can be replaced and every other byte kept
/// (float literals, key order, spacing), and where an object's members end, so that members can be added.
indirect enum JSONSpan {
    case object([(key: String, value: JSONSpan)], Range<Int>)
    case array([JSONSpan], Range<Int>)
    case scalar(Range<Int>)

    var range: Range<Int> {
        switch self {
        case .object(_, let range), .array(_, let range), .scalar(let range): return range
        }
    }

    subscript(key: String) -> JSONSpan? {
        guard case .object(let members, _) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    var elements: [JSONSpan] {
        guard case .array(let elements, _) = self else { return [] }
        return elements
    }

    var members: [(key: String, value: JSONSpan)] {
        guard case .object(let members, _) = self else { return [] }
        return members
    }

    struct SyntaxError: Error, CustomStringConvertible {
        var offset: Int
        var description: String { "malformed JSON at byte \(offset)" }
    }

    /// Parses JSON text (already accepted by a full JSON parser; this only locates values).
    static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONSpan {
        var parser = Parser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == bytes.count else { throw SyntaxError(offset: parser.position) }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0
        static let maximumDepth = 512

        mutating func skipSpace() {
            while position < bytes.count, JSONReader.isWhitespace(bytes[position]) { position += 1 }
        }

        mutating func expect(_ byte: UInt8) throws(SyntaxError) {
            skipSpace()
            guard position < bytes.count, bytes[position] == byte else { throw SyntaxError(offset: position) }
            position += 1
        }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONSpan {
            skipSpace()
            guard position < bytes.count, depth < Self.maximumDepth else { throw SyntaxError(offset: position) }
            let start = position
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                var members: [(String, JSONSpan)] = []
                var keys = Set<String>()
                try items(closedBy: UInt8(ascii: "}")) { parser throws(SyntaxError) in
                    parser.skipSpace()
                    let keyRange = try parser.string()
                    let key = try parser.decodedString(keyRange)
                    // JSON parsers disagree on which of two equal keys wins: such a text is not edited.
                    guard keys.insert(key).inserted else { throw SyntaxError(offset: keyRange.lowerBound) }
                    try parser.expect(UInt8(ascii: ":"))
                    members.append((key, try parser.value(depth: depth + 1)))
                }
                return .object(members, start..<position)
            case UInt8(ascii: "["):
                position += 1
                var elements: [JSONSpan] = []
                try items(closedBy: UInt8(ascii: "]")) { parser throws(SyntaxError) in elements.append(try parser.value(depth: depth + 1)) }
                return .array(elements, start..<position)
            case UInt8(ascii: "\""):
                return .scalar(try string())
            default:
                while position < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[position]),
                      !JSONReader.isWhitespace(bytes[position]) {
                    position += 1
                }
                guard position > start else { throw SyntaxError(offset: start) }
                return .scalar(start..<position)
            }
        }

        /// The comma-separated items of an object or array, up to and including its closing bracket.
        mutating func items(closedBy closing: UInt8, item: (inout Parser) throws(SyntaxError) -> Void) throws(SyntaxError) {
            skipSpace()
            if position < bytes.count, bytes[position] == closing {
                position += 1
                return
            }
            while true {
                try item(&self)
                skipSpace()
                guard position < bytes.count else { throw SyntaxError(offset: position) }
                position += 1
                if bytes[position - 1] == closing { return }
                guard bytes[position - 1] == UInt8(ascii: ",") else { throw SyntaxError(offset: position - 1) }
            }
        }

        /// A string literal's value (escapes such as `\u00e9`, which Python's json writes, decoded).
        func decodedString(_ range: Range<Int>) throws(SyntaxError) -> String {
            let inner = bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]
            guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
            guard let value = try? JSONSerialization.jsonObject(with: Data(bytes[range]), options: .fragmentsAllowed) as? String else {
                throw SyntaxError(offset: range.lowerBound)
            }
            return value
        }

        /// A string literal's range, quotes included.
        mutating func string() throws(SyntaxError) -> Range<Int> {
            let start = position
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw SyntaxError(offset: position) }
            position += 1
            while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                position += bytes[position] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard position < bytes.count else { throw SyntaxError(offset: start) }
            position += 1
            return start..<position
        }
    }
}
