import Foundation
import Testing
import TensorlintJSON

/// The reports' writer against the writer whose layout the golden files pin: the same bytes as
/// JSONSerialization (pretty, sorted keys, slashes unescaped) for every kind of value reports hold.
@Suite struct JSONWriterTests {
    static func foundation(_ value: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    @Test func writesWhatJSONSerializationWrites() throws {
        let keys = [" ", "_x", "-", "$s", "a", "a_B", "A_b", "a9", "a10", "b", "B", "é", "rule_id", "rule-id", "ruleId", "ruleIndex", "x01y", "Z"]
        var object: [String: Any] = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        object["text"] = "q\"\\/\n\r\t\u{08}\u{0C}\u{0B}\u{00}\u{1F}\u{7F}é😀\u{2028}"
        object["flags"] = [true, false]
        object["null"] = NSNull()
        object["extremes"] = [Int.max, Int.min, 0, -1]
        object["empty"] = [[] as [Any], [:] as [String: Any], [[] as [Any]]]
        object["nested"] = ["runs": [["results": [["ruleId": "r", "level": "error"]]]], "strings": ["a", "b"]]
        #expect(try JSONWriter.pretty(object) == Self.foundation(object))
        #expect(try JSONWriter.pretty([] as [Any]) == Self.foundation([] as [Any]))
    }

    @Test func aValueJSONDoesNotHoldIsRefused() {
        #expect(throws: JSONWriter.UnsupportedValue.self) { try JSONWriter.pretty(["date": Date()]) }
    }
}
