import Foundation
import RuleDocument

/// The rules and knowledge tensorlint ships, embedded at build time from `rules/`, plus user rule files.
public enum RuleSet {
    /// Built-in rules, sorted by id. A broken built-in rule is a build defect, caught by the tests.
    public static func builtin(_ vocabulary: RuleVocabulary) throws -> [Rule] {
        var rules: [Rule] = []
        for file in EmbeddedFiles.all where isRuleFile(file.path) {
            let origin = "builtin:\(file.path)"
            guard let document = DocumentNode(compiled: file.contents) else {
                throw RuleFileError(file: origin, line: nil, reason: "the compiled rule in the binary is damaged")
            }
            rules.append(try RuleLoader.parse(document: document, origin: origin, vocabulary: vocabulary))
        }
        return rules.sorted { $0.id < $1.id }
    }

    /// The embedded knowledge of the given targets (all when `nil`).
    public static func builtinKnowledge(_ vocabulary: RuleVocabulary, targets: Set<String>? = nil) -> Knowledge {
        Knowledge.load(files: EmbeddedFiles.all.filter { $0.path.hasPrefix("knowledge/") }, vocabulary: vocabulary, targets: targets)
    }

    /// The paths of the embedded files, as they were under `rules/` when the binary was built.
    public static var embeddedPaths: [String] { EmbeddedFiles.all.map(\.path) }

    static func isRuleFile(_ path: String) -> Bool {
        !path.hasPrefix("knowledge/") && (path.hasSuffix(".yml") || path.hasSuffix(".yaml"))
    }

    /// Loads the rule files at a path: a file, or every `*.yml` / `*.yaml` below a folder.
    public static func load(from path: String, vocabulary: RuleVocabulary) throws -> [Rule] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RuleFileError(file: path, line: nil, reason: "no such rule file or folder")
        }
        var files = [path]
        if isDirectory.boolValue {
            let enumerator = FileManager.default.enumerator(atPath: path)
            files = (enumerator?.allObjects as? [String] ?? []).filter(isRuleFile).sorted().map { "\(path)/\($0)" }
        }
        var rules: [Rule] = []
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw RuleFileError(file: file, line: nil, reason: "cannot read the file as UTF-8 text")
            }
            rules.append(try RuleLoader.parse(yaml: text, origin: file, vocabulary: vocabulary))
        }
        return rules
    }
}
