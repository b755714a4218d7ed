import Testing
@testable import TensorlintEngine

/// A finding's cause (what baselines fingerprint): the failure without the names that say where it happened.
@Suite struct CauseTests {
    @Test(arguments: [("weight", "·"), ("", "·"), ("a `x` b `y`", "a `·` b `·`"), ("a `x", "a `·"), ("``", "`·`"),
                      ("`é` and `😀`", "`·` and `·`")])
    func quotedNamesAreMasked(text: String, masked: String) {
        #expect(MessageTemplate.maskingQuotedNames(text) == masked)
    }

    @Test func nodeKeysAndNamesAreMaskedAndRuleWordsAreNot() {
        let bindings = ["op": "aten.add.Tensor", "node": "add_1", "module": "block.0", "source": ", model.py:3",
                        "input": "`x` and `y`", "mil_op": "add"]
        let templates = ["{op} in {module} at {node}{source}: {input} reach {mil_op} {unknown}", "{mil_op}"]
        var cause: Fingerprint.Hasher? = Fingerprint.Hasher()
        let texts = templates.map { MessageTemplate.Compiled($0, nameKeys: ["input"]).rendered({ bindings[$0.key] }, cause: &cause) }
        #expect(cause?.value == Fingerprint.hash("aten.add.Tensor in · at ··: `·` and `·` reach add {unknown}add".utf8))
        #expect(texts == ["aten.add.Tensor in block.0 at add_1, model.py:3: `x` and `y` reach add {unknown}", "add"])
        #expect(texts == templates.map { MessageTemplate.render($0, bindings) })
    }
}
