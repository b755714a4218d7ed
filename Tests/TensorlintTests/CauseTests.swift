import Testing
@testable import TensorlintEngine

/// A finding's cause (what baselines fingerprint): the failure without the names that say where it happened.
@Suite struct CauseTests {
    @Test(arguments: [("weight", "·"), ("", "·"), ("a `x` b `y`", "a `·` b `·`"), ("a `x", "a `·"), ("``", "`·`"),
                      ("`é` and `😀`", "`·` and `·`")])
    func quotedNamesAreMasked(text: String, masked: String) {
        #expect(Linter.maskingQuotedNames(text) == masked)
    }

    @Test func nodeKeysAndNamesAreMaskedAndRuleWordsAreNot() {
        let bindings = ["op": "aten.add.Tensor", "node": "add_1", "module": "block.0", "source": ", model.py:3",
                        "input": "`x` and `y`", "mil_op": "add"]
        let templates = ["{op} in {module} at {node}{source}: {input} reach {mil_op} {unknown}", "{mil_op}"]
        let (texts, cause) = Linter.rendered(templates, { bindings[$0] }, causeMasking: ["input"])
        #expect(cause.map { String(decoding: $0, as: UTF8.self) } == "aten.add.Tensor in · at ··: `·` and `·` reach add {unknown}\u{0}add")
        #expect(texts == ["aten.add.Tensor in block.0 at add_1, model.py:3: `x` and `y` reach add {unknown}", "add"])
        #expect(texts == templates.map { MessageTemplate.render($0, bindings) })
        #expect(Linter.rendered(templates, { bindings[$0] }, causeMasking: nil).cause == nil)
    }
}
