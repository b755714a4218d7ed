import Foundation
import Testing
import TensorlintJSON

/// The reports' writer against the writer whose layout the golden files pin: the same bytes as
/// JSONSerialization (pretty, sorted keys, slashes unescaped) for every kind of value reports hold.
@Suite struct JSONWriterTests {
    static func foundation(_ value: JSONValue) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: foundationObject(value),
                                              options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func foundationObject(_ value: JSONValue) -> Any {
        switch value {
        case .object(let object): return object.mapValues(foundationObject)
        case .array(let array): return array.map(foundationObject)
        case .string(let text): return text
        case .int(let number): return number
        case .bool(let flag): return flag
        case .null: return NSNull()
        case .rendered: preconditionFailure("JSONSerialization has no written parts to compare")
        }
    }

    /// Keys of every kind the order treats apart: plain ones, digits by value, case, and those Foundation decides.
    static let keys = [" ", "_x", "-", "$s", "a", "a_B", "A_b", "a9", "a10", "a010", "a1b", "a_1", "a1_", "b", "B", "é", "rule_id", "rule-id",
                       "ruleId", "ruleIndex", "rules", "x01y", "x1y", "x1", "Z", "_", "__", "9", "09", "z_", "zz", "uri", "uriBaseId",
                       "problem.severity", "precision", "tensorlintFinding/v1", "primaryLocationLineHash"]

    @Test func writesWhatJSONSerializationWrites() throws {
        var object: [String: JSONValue] = Dictionary(uniqueKeysWithValues: Self.keys.enumerated().map { ($1, .int($0)) })
        object["text"] = "q\"\\/\n\r\t\u{08}\u{0C}\u{0B}\u{00}\u{1F}\u{7F}é😀\u{2028}"
        object["flags"] = [true, false]
        object["null"] = nil as JSONValue
        object["extremes"] = [.int(Int.max), .int(Int.min), 0, -1]
        object["empty"] = [[], [:], [[]]]
        object["nested"] = ["runs": [["results": [["ruleId": "r", "level": "error"]]]], "strings": JSONValue(["a", "b"])]
        object["optional"] = [JSONValue(nil as String?), JSONValue("x"), JSONValue(nil as Int?), JSONValue(7)]
        #expect(JSONWriter.pretty(.object(object)) == (try Self.foundation(.object(object))))
        #expect(JSONWriter.pretty([]) == (try Self.foundation([])))
    }

    /// Each object's members are sorted alone, by comparing keys two at a time: every pair must be in
    /// JSONSerialization's order, so that the order is the same whatever else a document holds.
    @Test func everyPairOfKeysIsInJSONSerializationsOrder() throws {
        for (index, first) in Self.keys.enumerated() {
            for second in Self.keys[(index + 1)...] {
                let pair: JSONValue = [first: 1, second: 2]
                #expect(JSONWriter.pretty(pair) == (try Self.foundation(pair)), "\(first) and \(second)")
            }
        }
    }

    /// A report's elements written on threads of their own come out as the whole written at once: indented for
    /// where they go, their keys in the document's order, an empty run leaving no trace.
    @Test func renderedElementsAreWrittenAsInTheWhole() {
        let result: JSONValue = ["ruleId": "r", "message": ["text": "a\nb"], "locations": [["region": ["startLine": 1]]], "empty": [:],
                                 "Zeta": [], "a10": 1, "a9": 2]
        let other: JSONValue = ["ruleId": "s", "level": "note"]
        let whole: JSONValue = ["runs": [["tool": "t", "results": [result, other, result]]]]
        let parts = JSONWriter.rendered([result, other], depth: 4) + JSONWriter.rendered([], depth: 4) + JSONWriter.rendered([result], depth: 4)
        #expect(parts.count == 2)
        #expect(JSONWriter.pretty(["runs": [["tool": "t", "results": .array(parts)]]]) == JSONWriter.pretty(whole))
    }
}
