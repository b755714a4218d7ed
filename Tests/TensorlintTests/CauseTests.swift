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

    /// Each template alone: its text, and the cause it hashes (what the linter hashes between the 0 bytes).
    @Test(arguments: [
        ("a {op", "a {op", "a {op"),  // an unclosed brace is text
        ("run_decompositions({})", "run_decompositions({})", "run_decompositions({})"),  // so is `{}`
        ("at {node}", "at {node}", "at ·"),  // a node key is masked, filled or not
        ("{input} reaches", "{input} reaches", "{input} reaches"),  // a name key left unfilled stays as written
        ("{bias} and {weight}", "`b` and w", "`·` and ·"),
        ("{plain} é", "ü`n` é", "ü`n` é"),  // a value of no name key is kept, whatever it holds
        ("", "", ""),
    ])
    func templateEdges(template: String, text: String, cause: String) {
        let bindings = ["bias": "`b`", "weight": "w", "plain": "ü`n`"]
        let compiled = MessageTemplate.Compiled(template, nameKeys: ["input", "bias", "weight"])
        var hashed: Fingerprint.Hasher? = Fingerprint.Hasher()
        #expect(compiled.rendered({ bindings[$0.key] }, cause: &hashed) == text)
        #expect(hashed?.value == Fingerprint.hash(cause.utf8))
        #expect(compiled.rendered { bindings[$0.key] } == text)
    }

    /// The node keys a template may name are the ones findings document, and those a cause masks are among them.
    @Test func nodeKeysAreTheDocumentedOnes() {
        let keys = Set(MessageTemplate.Compiled.NodeKey.allCases.map(\.rawValue))
        #expect(keys == Set(Linter.nodeKeys.keys))
        #expect(MessageTemplate.Compiled.NodeKey.allCases.filter(\.saysWhere).map(\.rawValue) == ["node", "module", "module_type", "source"])
    }
}
