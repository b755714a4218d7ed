import Testing
import RuleDocument
import Yams

/// The compiled form the build gives the built-in rules: read back, it is the tree YAML gave, and a form
/// the build did not write is refused rather than read as something else.
@Suite struct RuleDocumentTests {
    static let yaml = """
        id: some-rule
        message: "a `{op}` with ünïcode, a colon: and 12:34"
        empty: ""
        list: [a, "b c", 3]
        nested:
          - key: value
            text: |
              two
              lines
        """

    @Test func theCompiledFormReadsBackAsTheTree() throws {
        let tree = DocumentNode(try #require(try Yams.compose(yaml: Self.yaml, .basic, .default, .utf8)))
        let compiled = tree.compiled
        let decoded = try #require(DocumentNode(compiled: compiled))
        #expect(decoded.compiled == compiled)
        let top = try #require(decoded.mapping)
        #expect(top.keys.compactMap(\.string) == ["id", "message", "empty", "list", "nested"])
        #expect(top["message"]?.string == "a `{op}` with ünïcode, a colon: and 12:34")
        #expect(top["message"]?.line == 2)
        #expect(top["empty"]?.string == "")
        #expect(top["list"]?.sequence?.compactMap(\.string) == ["a", "b c", "3"])
        #expect(top["nested"]?.sequence?.first?.mapping?["text"]?.string == "two\nlines")
        #expect(top["nested"]?.sequence?.first?.line == 6)
    }

    @Test func aDamagedFormIsRefused() throws {
        let compiled = DocumentNode(try #require(try Yams.compose(yaml: Self.yaml, .basic, .default, .utf8))).compiled
        for damaged in [String(compiled.dropLast()), compiled + "S1:0:", "X" + compiled.dropFirst(), "", "S1:999:short",
                        "M1:2:S1:1:a", String(repeating: "Q-:1:", count: 10_000) + "S-:0:"] {
            #expect(DocumentNode(compiled: damaged) == nil, "\(damaged.prefix(40))")
        }
    }
}
