import Testing
import TensorlintJSON

/// The streaming reader the torch.export program is decoded with: JSON's grammar, and errors that say where.
@Suite struct JSONReaderTests {
    @Test func scalarsAndEscapes() throws {
        #expect(try JSONReader.read(#" "a\"b\\c\/d\n\u00e9\ud83d\ude00" "#, JSONReader.string) == "a\"b\\c/d\né😀")
        #expect(try JSONReader.read("-12", JSONReader.int) == -12)
        #expect(try JSONReader.read("1.5e3", { (r: inout JSONReader) throws(JSONError) in try r.readDouble() }) == 1500)
        #expect(try JSONReader.read("[true, false, null]", { (r: inout JSONReader) throws(JSONError) in
            try r.readList { (r: inout JSONReader) throws(JSONError) in try r.optional(JSONReader.bool) }
        }) == [true, false, nil])
    }

    @Test func objectsGiveTheirKeysInOrderAndSkippedValuesAreChecked() throws {
        let keys = try JSONReader.read(#"{"b": {"deep": [1, {"x": "y"}]}, "a": 2}"#) { (reader: inout JSONReader) throws(JSONError) -> [String] in
            var keys: [String] = []
            try reader.readObject { (reader: inout JSONReader, key: String) throws(JSONError) in
                keys.append(key)
                try reader.skipValue()
            }
            return keys
        }
        #expect(keys == ["b", "a"])
        #expect(throws: JSONError.self) {
            try JSONReader.read(#"{"b": [1, 2}"#) { (reader: inout JSONReader) throws(JSONError) in try reader.skipValue() }
        }
    }

    /// Strings are scanned eight bytes at a time: a quote, an escape, a control character, a byte past ASCII or
    /// bad UTF-8 at any offset of a long run, read or skipped, gives what a byte-by-byte reading gives.
    @Test func everyByteOfALongStringIsSeenAtEveryOffset() throws {
        let skipped = { (reader: inout JSONReader) throws(JSONError) -> String in
            try reader.readList { (reader: inout JSONReader) throws(JSONError) in try reader.skipValue() }
            return "skipped"
        }
        for length in 0..<20 {
            for offset in 0...length {
                func text(_ middle: String) -> String { String(repeating: "a", count: offset) + middle + String(repeating: "b", count: length - offset) }
                func json(_ middle: String) -> [UInt8] { Array("\"\(text(middle))\"".utf8) }
                #expect(try JSONReader.read(json(#"\""#), JSONReader.string) == text("\""))
                #expect(try JSONReader.read(json("é😀"), JSONReader.string) == text("é😀"))
                #expect(try JSONReader.read(json(#"é\n"#), JSONReader.string) == text("é\n"))
                #expect(try JSONReader.read(json(""), JSONReader.string) == text(""))
                #expect(try JSONReader.read(Array("[\"\(text("é"))\", 1]".utf8), skipped) == "skipped")
                for bad in [json("\u{01}"), json("\u{1F}"), Array(json("").dropLast()), Array("\"\(text(""))".utf8) + [0xFF, 0x22],
                            Array("\"\(String(repeating: "a", count: offset))".utf8) + [0xC3, 0x28] + Array("\(String(repeating: "b", count: length - offset))\"".utf8)] {
                    #expect(throws: JSONError.self) { try JSONReader.read(bad, JSONReader.string) }
                    #expect(throws: JSONError.self) { try JSONReader.read(Array("[".utf8) + bad + Array("]".utf8), skipped) }
                }
            }
        }
    }

    /// Every departure from the grammar is refused, never read as something else.
    @Test(arguments: [#""open"#, #""\x""#, "01x", "-", "1.", "1e", "[1,]", "{\"a\" 1}", "{1: 2}", "tru", "\"\u{01}\"",
                      #""\ud800""#, "[1] 2", ""])
    func malformedDocumentsAreSyntaxErrors(_ text: String) {
        do {
            try JSONReader.read(text) { (reader: inout JSONReader) throws(JSONError) in try reader.skipValue() }
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.isSyntax, "\(text): \(error)")
        }
    }

    @Test func invalidUTF8IsASyntaxError() {
        #expect(throws: JSONError.self) { try JSONReader.read([UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")], JSONReader.string) }
    }

    @Test func nestingBeyondTheLimitIsRefusedWithoutRecursingFurther() {
        let text = String(repeating: "[", count: JSONReader.maximumDepth + 1) + String(repeating: "]", count: JSONReader.maximumDepth + 1)
        do {
            try JSONReader.read(text) { (reader: inout JSONReader) throws(JSONError) in try reader.skipValue() }
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("nested more than \(JSONReader.maximumDepth) deep"))
        }
    }

    @Test func schemaErrorsNameThePathFromTheRoot() {
        do {
            try JSONReader.read(#"{"nodes": [{"target": "a"}, {"target": 3}]}"#) { (reader: inout JSONReader) throws(JSONError) in
                try reader.readObject { (reader: inout JSONReader, _: String) throws(JSONError) in
                    try reader.readArray { (reader: inout JSONReader, _: Int) throws(JSONError) in
                        try reader.readObject { (reader: inout JSONReader, _: String) throws(JSONError) in _ = try reader.readString() }
                    }
                }
            }
            Issue.record("accepted")
        } catch {
            #expect(!error.isSyntax)
            #expect(error.description == "nodes[1].target is not a string")
        }
    }

    @Test func aUnionHasExactlyOneKey() throws {
        #expect(throws: JSONError.self) {
            try JSONReader.read(#"{"as_int": 1, "as_float": 2.0}"#) { (reader: inout JSONReader) throws(JSONError) in
                try reader.readUnion { (reader: inout JSONReader, _: JSONKey) throws(JSONError) in try reader.readInt() }
            }
        }
        #expect(try JSONReader.read(#"{"as_int": 1}"#) { (reader: inout JSONReader) throws(JSONError) in
            try reader.readUnion { (reader: inout JSONReader, kind: JSONKey) throws(JSONError) in "\(kind)=\(try reader.readInt())" }
        } == "as_int=1")
    }

    /// A field's key matches a name when its bytes do, escapes decoded; it is checked as UTF-8 as a string is,
    /// and an error under it names it.
    @Test func fieldKeysMatchNamesByTheirBytes() throws {
        let matched = try JSONReader.read(#"{"na\u006De": 1, "nam": 2, "names": 3, "name": 4, "\u00e9": 5, "nome": 6, "é": 7, "ê": 8}"#) { (reader: inout JSONReader) throws(JSONError) -> [String] in
            var matched: [String] = []
            try reader.readFields { (reader: inout JSONReader, key: JSONKey) throws(JSONError) in
                let value = try reader.readInt()
                switch key {
                case "name": matched.append("name=\(value)")
                case "é": matched.append("é=\(value)")
                default: matched.append("other \(key.text)")
                }
            }
            return matched
        }
        #expect(matched == ["name=1", "other nam", "other names", "name=4", "é=5", "other nome", "é=7", "other ê"])
        #expect(throws: JSONError.self) {
            try JSONReader.read([UInt8]("{\"".utf8) + [0xC3, 0x28] + [UInt8]("\": 1}".utf8)) { (reader: inout JSONReader) throws(JSONError) in
                try reader.readFields { (reader: inout JSONReader, _: JSONKey) throws(JSONError) in try reader.skipValue() }
            }
        }
        do {
            try JSONReader.read(#"{"graph": {"target": 3}}"#) { (reader: inout JSONReader) throws(JSONError) in
                try reader.readFields { (reader: inout JSONReader, _: JSONKey) throws(JSONError) in
                    try reader.readFields { (reader: inout JSONReader, _: JSONKey) throws(JSONError) in _ = try reader.readString() }
                }
            }
            Issue.record("a number read as a string")
        } catch {
            #expect(error.description == "graph.target is not a string")
        }
    }
}
