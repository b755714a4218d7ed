import Foundation

/// The rules and knowledge tensorlint ships, embedded at build time from `rules/`, plus user rule files.
public enum RuleSet {
    /// Built-in rules, sorted by id. A broken built-in rule is a build defect, caught by the tests.
    public static func builtin() throws -> [Rule] {
        var rules: [Rule] = []
        for file in EmbeddedFiles.all where isRuleFile(file.path) {
            rules.append(try RuleLoader.parse(yaml: file.contents, origin: "builtin:\(file.path)"))
        }
        return rules.sorted { $0.id < $1.id }
    }

    public static func builtinKnowledge(for targets: Set<ConversionTarget> = Set(ConversionTarget.allCases)) throws -> Knowledge {
        try Knowledge.load(files: EmbeddedFiles.all.filter { $0.path.hasPrefix("knowledge/") }, targets: targets)
    }

    static func isRuleFile(_ path: String) -> Bool {
        !path.hasPrefix("knowledge/") && (path.hasSuffix(".yml") || path.hasSuffix(".yaml"))
    }

    /// Loads the rule files at a path: a file, or every `*.yml` / `*.yaml` below a folder.
    public static func load(from path: String) throws -> [Rule] {
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
            rules.append(try RuleLoader.parse(yaml: text, origin: file))
        }
        return rules
    }
}
