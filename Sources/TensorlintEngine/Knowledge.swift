import TensorlintIR
import TensorlintJSON

/// What tensorlint knows about each converter version, loaded by the converter packs from the data files
/// under `rules/knowledge/<target>-<version>/`.
public struct Knowledge: Sendable {
    /// Target → version → what the pack loaded.
    public private(set) var versions: [String: [Version: any Sendable]] = [:]
    public let vocabulary: RuleVocabulary

    /// The knowledge used for a requested version: the newest no newer than it (a later converter is judged
    /// by the last one known), else the oldest. The version returned is the one whose knowledge it is.
    public func resolve(target: String, version: Version) -> (version: Version, knowledge: any Sendable)? {
        guard let entries = versions[target] else { return nil }
        guard let used = entries.keys.filter({ $0 <= version }).max() ?? entries.keys.min() else { return nil }
        return (used, entries[used]!)
    }

    /// One pack's knowledge of one version, as the type the pack loads.
    public func knowledge<Entry>(_ type: Entry.Type, target: String, version: Version) -> Entry? {
        versions[target]?[version] as? Entry
    }

    /// Loads the knowledge folders (`knowledge/<target>-<version>/<file>`) from the given files (path →
    /// contents), for the given targets only: parsing tables a run does not need would only slow its start.
    public static func load(files: [(path: String, contents: String)], vocabulary: RuleVocabulary,
                            targets: Set<String>? = nil) throws -> Knowledge {
        var folders: [String: KnowledgeFolder] = [:]
        for file in files {
            let parts = file.path.split(separator: "/")
            guard parts.count == 3, parts[0] == "knowledge" else { continue }
            folders[String(parts[1]), default: [:]][String(parts[2])] = file.contents
        }
        var knowledge = Knowledge(vocabulary: vocabulary)
        for pack in vocabulary.packs where targets?.contains(pack.target) ?? true {
            for (name, folder) in folders {
                guard name.hasPrefix(pack.target + "-"), let version = Version(String(name.dropFirst(pack.target.count + 1))) else { continue }
                knowledge.versions[pack.target, default: [:]][version] = try pack.loadKnowledge(version: version, folder: folder, folders: folders)
            }
        }
        return knowledge
    }

    init(vocabulary: RuleVocabulary) {
        self.vocabulary = vocabulary
    }
}

/// A knowledge table written in YAML (`torch-lowering.yml`), as the build embeds it: the JSON of its values
/// (EmbedRules converts it, so that no YAML is parsed at start), read as a YAML loader would give it.
public func knowledgeTable(_ text: String?, file: String) throws(KnowledgeError) -> [String: Any] {
    guard let text else { throw KnowledgeError(file: file, reason: "missing") }
    let root: Any
    do { root = try JSONReader.read(text) { (reader: inout JSONReader) throws(JSONError) in try reader.readAny() } } catch {
        throw KnowledgeError(file: file, reason: error.description)
    }
    guard let table = root as? [String: Any] else { throw KnowledgeError(file: file, reason: "not a mapping") }
    return table
}

public struct KnowledgeError: Error, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
}
