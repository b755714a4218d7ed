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
        let cause = String(decoding: Linter.cause(["{op} in {module} at {node}{source}: {input} reach {mil_op} {unknown}", "{mil_op}"], bindings, nameKeys: ["input"]), as: UTF8.self)
        #expect(cause == "aten.add.Tensor in · at ··: `·` and `·` reach add {unknown}\u{0}add")
    }
}
