import Foundation
import TensorlintIR

/// Picks the format of a file by its content, never by its extension.
public enum ModelLoader {
    /// Reads a file the user named: a file no format recognises is an error.
    public static func load(path: String, formats: [any ModelFormat.Type] = Registry.formats) throws(ReadError) -> Model {
        let file = try ModelFile(path: path)
        var signatures: [(format: any ModelFormat.Type, reason: String)] = []
        for format in formats {
            switch format.recognize(file) {
            case .recognized: return try format.read(file)
            case .signature(let reason): signatures.append((format, reason))
            case .unrecognized: break
            }
        }
        // The one format whose signature the file carries reads it and says what is wrong in its own terms.
        if signatures.count == 1 { return try signatures[0].format.read(file) }
        if !signatures.isEmpty {
            throw .notThisFormat(signatures.map(\.reason).uniqued().joined(separator: "; "))
        }
        let expected = formats.map { $0.displayName }
        throw .notThisFormat(file.prefix.isEmpty ? "the file is empty"
            : "unrecognized content (expected \(expected.dropLast().joined(separator: ", ")) or \(expected.last!))")
    }

    /// The format of a file met while walking a folder, if it is a model (anything else is skipped silently).
    public static func format(ofFoundFile path: String) -> (any ModelFormat.Type)? {
        (try? ModelFile(path: path)).flatMap(format(of:))
    }

    private static func format(of file: ModelFile) -> (any ModelFormat.Type)? {
        Registry.formats.first { $0.recognize(file) == .recognized }
    }

    /// Reads a file named on the command line, or one met in a folder walk if a format recognises it
    /// (`nil` when none does: such a file is passed by).
    static func load(_ item: FileCollector.Item) throws(ReadError) -> Model? {
        guard item.foundInFolder else { return try load(path: item.path) }
        guard let file = try? ModelFile(path: item.path), let format = format(of: file) else { return nil }
        return try format.read(file)
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
