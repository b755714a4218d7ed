import Foundation
import TensorlintIR
import TensorlintJSON

/// What tensorlint knows about each converter version, loaded by the converter packs from the data files
/// under `rules/knowledge/<target>-<version>/`. A version's tables are loaded the first time a lint asks for
/// that version: a run pays for the one it checks against, not for every release known.
public struct Knowledge: Sendable {
    /// Target → version → that version's knowledge.
    private let entries: [String: [Version: Entry]]
    public let vocabulary: RuleVocabulary

    /// One version's knowledge, loaded once, whichever thread asks first.
    private typealias Entry = Once<Result<any Sendable, any Error>>

    /// The versions known for a target, oldest first.
    public func versions(of target: String) -> [Version] { (entries[target]?.keys).map { $0.sorted() } ?? [] }

    /// The version whose knowledge a lint asking for `version` uses: a known release of the same series
    /// (`1.18` or `1.18.0` → the `1.18.1` known), else the newest known before it (a later converter is judged
    /// by the last one known), else the oldest.
    public func resolvedVersion(target: String, version: Version) -> Version? {
        let known = versions(of: target)
        return known.last { Self.sameSeries($0, version) || $0 <= version } ?? known.first
    }

    /// Whether two versions are releases of the same minor series (`1.18.1` and `1.18`), whose knowledge is the same.
    public static func sameSeries(_ first: Version, _ second: Version) -> Bool {
        func series(_ version: Version) -> [Int] { (0..<2).map { $0 < version.components.count ? version.components[$0] : 0 } }
        return series(first) == series(second)
    }

    /// The knowledge a lint asking for `version` uses, and the version it is of; loaded now if it was not.
    public func resolve(target: String, version: Version) throws -> (version: Version, knowledge: any Sendable)? {
        guard let used = resolvedVersion(target: target, version: version), let entry = entries[target]?[used] else { return nil }
        return (used, try entry.value.get())
    }

    /// One pack's knowledge of one version, as the type the pack loads.
    public func knowledge<Loaded>(_ type: Loaded.Type, target: String, version: Version) throws -> Loaded? {
        try entries[target]?[version]?.value.get() as? Loaded
    }

    /// Finds the knowledge folders (`knowledge/<target>-<version>/<file>`) among the given files (path →
    /// contents), for the given targets only; nothing is parsed until a version is asked for.
    public static func load(files: [(path: String, contents: String)], vocabulary: RuleVocabulary,
                            targets: Set<String>? = nil) -> Knowledge {
        var folders: [String: KnowledgeFolder] = [:]
        for file in files {
            let parts = file.path.split(separator: "/")
            guard parts.count == 3, parts[0] == "knowledge" else { continue }
            folders[String(parts[1]), default: [:]][String(parts[2])] = file.contents
        }
        var entries: [String: [Version: Entry]] = [:]
        for pack in vocabulary.packs where targets?.contains(pack.target) ?? true {
            for name in folders.keys {
                guard name.hasPrefix(pack.target + "-"), let version = Version(String(name.dropFirst(pack.target.count + 1))) else { continue }
                let allFolders = folders
                entries[pack.target, default: [:]][version] = Entry { Result { try pack.loadKnowledge(version: version, folder: name, folders: allFolders) } }
            }
        }
        return Knowledge(entries: entries, vocabulary: vocabulary)
    }

    private init(entries: [String: [Version: Entry]], vocabulary: RuleVocabulary) {
        self.entries = entries
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
