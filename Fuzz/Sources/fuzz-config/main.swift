import FuzzSupport
import TensorlintCLI
import TensorlintEngine

/// The configuration and rule-file loaders on any text.
runFuzzer { input, size in
    guard let data = input else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? Configuration.parse(yaml: text, path: ".tensorlint.yml", targets: Registry.vocabulary.targets)
    _ = try? RuleLoader.parse(yaml: text, origin: "rule.yml", vocabulary: Registry.vocabulary)
    return 0
}
