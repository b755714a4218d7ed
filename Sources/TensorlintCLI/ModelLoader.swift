import Foundation
import TensorlintIR

/// Picks the format of a file by its content, never by its extension.
public enum ModelLoader {
    /// Reads a file the user named: a file no format recognises is an error.
    public static func load(path: String, formats: [any ModelFormat.Type] = Registry.formats) throws(ReadError) -> Model {
        let prefix = try FilePrefix.read(path)
        var signatures: [(format: any ModelFormat.Type, reason: String)] = []
        for format in formats {
            switch format.recognize(fileAt: path, prefix: prefix) {
            case .recognized: return try format.read(fileAt: path)
            case .signature(let reason): signatures.append((format, reason))
            case .unrecognized: break
            }
        }
        // The one format whose signature the file carries reads it and says what is wrong in its own terms.
        if signatures.count == 1 { return try signatures[0].format.read(fileAt: path) }
        if !signatures.isEmpty {
            throw .notThisFormat(signatures.map(\.reason).uniqued().joined(separator: "; "))
        }
        let expected = formats.map { $0.displayName }
        throw .notThisFormat(prefix.isEmpty ? "the file is empty"
            : "unrecognized content (expected \(expected.dropLast().joined(separator: ", ")) or \(expected.last!))")
    }

    /// The format of a file met while walking a folder, if it is a model (anything else is skipped silently).
    public static func format(ofFoundFile path: String) -> (any ModelFormat.Type)? {
        guard let prefix = try? FilePrefix.read(path) else { return nil }
        return Registry.formats.first { $0.recognize(fileAt: path, prefix: prefix) == .recognized }
    }

    /// Reads a file named on the command line, or one met in a folder walk if a format recognises it
    /// (`nil` when none does: such a file is passed by).
    static func load(_ item: FileCollector.Item) throws(ReadError) -> Model? {
        guard item.foundInFolder else { return try load(path: item.path) }
        return try format(ofFoundFile: item.path)?.read(fileAt: item.path)
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
