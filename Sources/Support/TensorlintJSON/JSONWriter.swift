import Foundation

/// Writes a `JSONValue` as the same bytes as `JSONSerialization` with `.prettyPrinted`, `.sortedKeys` and `.withoutEscapingSlashes` — the reports'
/// layout, which golden files pin — as bytes, and parts written apart as strings. Foundation's writer costs more than the
/// rest of a lint together on a large report: it compares keys with a locale-aware compare at every
/// object and escapes character by character.
public enum JSONWriter {
    /// Consecutive elements of an array at `depth` of a document (the top level is 0, its members 1), written
    /// as they will be there, as one part for `pretty` to put in as it is: a large report's elements rendered on
    /// threads of their own. No part for no elements.
    public static func rendered(_ elements: [JSONValue], depth: Int) -> [JSONValue] {
        guard !elements.isEmpty else { return [] }
        return [.rendered(RenderedJSON(text: written(elements, depth: depth), depth: depth))]
    }

    public static func pretty(_ value: JSONValue) -> String {
        written([value], depth: 0)
    }

    /// Consecutive values at `depth`, each on a line of its own.
    private static func written(_ values: [JSONValue], depth: Int) -> String {
        var writer = Writer()
        for (index, value) in values.enumerated() {
            if index > 0 { writer.separate(depth: depth) }
            writer.write(value, depth: depth)
        }
        return writer.finished()
    }

    /// One JSON string literal, escaped as the reports' strings are: for writers that put JSON text together
    /// themselves (a program node spliced into an archive, the build tool's embedded tables).
    public static func quoted(_ text: String) -> String {
        var writer = Writer()
        writer.string(text)
        return writer.finished()
    }

    /// Foundation's order for two keys of ASCII letters, digits and `_` (nearly every key a report has),
    /// without its collator: `_` before digits before letters, letters without case, runs of digits by
    /// value, a prefix first. `nil` where that does not decide (another character; keys equal but for case
    /// or leading zeros), for Foundation's compare to decide.
    static func plainKeyOrder(_ a: String, _ b: String) -> Bool? {
        var (a, b) = (a, b)
        return a.withUTF8 { x in b.withUTF8 { y in plainKeyOrder(x, y) } }
    }

    private static func plainKeyOrder(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool? {
        func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        func rank(_ byte: UInt8) -> Int? {
            switch byte {
            case UInt8(ascii: "_"): return 0
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return 1
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return 2
            default: return nil
            }
        }
        var i = 0, j = 0
        while i < x.count, j < y.count {
            guard let rankX = rank(x[i]), let rankY = rank(y[j]) else { return nil }
            if rankX != rankY { return rankX < rankY }
            if rankX == 1 {
                let startX = i, startY = j
                while i < x.count, isDigit(x[i]) { i += 1 }
                while j < y.count, isDigit(y[j]) { j += 1 }
                let valueX = x[startX..<i].drop { $0 == UInt8(ascii: "0") }, valueY = y[startY..<j].drop { $0 == UInt8(ascii: "0") }
                if valueX.count != valueY.count { return valueX.count < valueY.count }
                if !valueX.elementsEqual(valueY) { return valueX.lexicographicallyPrecedes(valueY) }
                if i - startX != j - startY { return nil }
                continue
            }
            let lowerX = x[i] | 0x20, lowerY = y[j] | 0x20
            if lowerX != lowerY { return lowerX < lowerY }
            i += 1
            j += 1
        }
        if i == x.count, j == y.count { return nil }
        return i == x.count
    }

    /// Foundation's key order (numeric, case-insensitive, forced, in the system locale), without its
    /// collator for the keys `plainKeyOrder` decides. It is an order of two keys alone, so that parts written
    /// apart agree.
    static func keyOrder(_ a: String, _ b: String) -> Bool {
        plainKeyOrder(a, b) ?? (a.compare(b, options: [.numeric, .caseInsensitive, .forcedOrdering], range: a.startIndex..<a.endIndex,
                                          locale: NSLocale.system) == .orderedAscending)
    }

    private struct Writer {
        /// What is written, but for `bytes`.
        private var text = ""
        /// What is written since the last part rendered apart.
        var bytes: [UInt8] = []

        /// The whole text. The parts rendered apart were made strings on their own threads: only what lies
        /// between them is checked as UTF-8 here, not the whole of a large report again.
        mutating func finished() -> String {
            flush()
            return text
        }

        private mutating func flush() {
            text += String(decoding: bytes, as: UTF8.self)
            bytes.removeAll(keepingCapacity: true)
        }

        mutating func write(_ value: JSONValue, depth: Int) {
            switch value {
            case .string(let text): string(text)
            case .object(let object):
                let members = object.sorted { keyOrder($0.key, $1.key) }
                container("{", "}", count: members.count, depth: depth) { writer, index in
                    writer.string(members[index].key)
                    writer.bytes.append(contentsOf: " : ".utf8)
                    writer.write(members[index].value, depth: depth + 1)
                }
            case .array(let array):
                container("[", "]", count: array.count, depth: depth) { writer, index in
                    writer.write(array[index], depth: depth + 1)
                }
            case .int(let number): bytes.append(contentsOf: String(number).utf8)
            case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
            case .null: bytes.append(contentsOf: "null".utf8)
            case .rendered(let part):
                // Its indentation is fixed: in at another depth, the document's layout would be wrong.
                precondition(part.depth == depth, "a value rendered for depth \(part.depth) written at \(depth)")
                flush()
                text += part.text
            }
        }

        /// `{`, each member on a line of its own, indented two spaces a level; an empty one holds a blank line.
        private mutating func container(_ open: Character, _ close: Character, count: Int, depth: Int,
                                        member: (inout Writer, Int) -> Void) {
            bytes.append(UInt8(ascii: open.unicodeScalars.first!))
            bytes.append(UInt8(ascii: "\n"))
            for index in 0..<count {
                if index == 0 { indent(depth + 1) } else { separate(depth: depth + 1) }
                member(&self, index)
            }
            bytes.append(UInt8(ascii: "\n"))
            indent(depth)
            bytes.append(UInt8(ascii: close.unicodeScalars.first!))
        }

        /// Between two members at `depth`: each on a line of its own.
        mutating func separate(depth: Int) {
            bytes.append(UInt8(ascii: ","))
            bytes.append(UInt8(ascii: "\n"))
            indent(depth)
        }

        private mutating func indent(_ depth: Int) {
            bytes += repeatElement(UInt8(ascii: " "), count: 2 * depth)
        }

        /// Quoted, with `"`, `\` and control characters escaped (`/` and everything past ASCII as it is): runs of
        /// bytes that need no escape go in at once.
        mutating func string(_ text: String) {
            var text = text
            bytes.append(UInt8(ascii: "\""))
            text.withUTF8 { units in
                var runStart = 0
                for (index, byte) in units.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: units[runStart..<index]))
                    escape(byte)
                    runStart = index + 1
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: units[runStart...]))
            }
            bytes.append(UInt8(ascii: "\""))
        }

        private mutating func escape(_ byte: UInt8) {
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: "u00".utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
    }
}
