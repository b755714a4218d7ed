import Foundation
import TensorlintIR

/// Picks the format of a file by its content, never by its extension.
public enum ModelLoader {
    /// Reads a file the user named, on up to `threads` threads: a file no format recognises is an error.
    public static func load(path: String, formats: [any ModelFormat.Type] = Registry.formats, threads: Int = 1) throws(ReadError) -> Model {
        let file = try ModelFile(path: path, threads: threads)
        return try format(ofNamed: file, formats: formats).read(file)
    }

    /// The format that reads a file the user named; the error says why none does.
    private static func format(ofNamed file: ModelFile, formats: [any ModelFormat.Type] = Registry.formats) throws(ReadError) -> any ModelFormat.Type {
        var signatures: [(format: any ModelFormat.Type, reason: String)] = []
        for format in formats {
            switch format.recognize(file) {
            case .recognized: return format
            case .signature(let reason): signatures.append((format, reason))
            case .unrecognized: break
            }
        }
        // The one format whose signature the file carries reads it and says what is wrong in its own terms.
        if signatures.count == 1 { return signatures[0].format }
        if !signatures.isEmpty {
            throw .notThisFormat(signatures.map(\.reason).uniqued().joined(separator: "; "))
        }
        if let pointer = GitLFSPointer(file.prefix) { throw .notThisFormat(pointer.explanation) }
        let expected = formats.map { $0.displayName }
        throw .notThisFormat(file.prefix.isEmpty ? "the file is empty"
            : "unrecognized content (expected \(expected.dropLast().joined(separator: ", ")) or \(expected.last!))")
    }

    /// The format of a file met while walking a folder, if it is a model.
    public static func format(ofFoundFile path: String) -> (any ModelFormat.Type)? {
        (try? ModelFile(path: path)).flatMap(recognizedFormat)
    }

    private static func recognizedFormat(_ file: ModelFile) -> (any ModelFormat.Type)? {
        Registry.formats.first { $0.recognize(file) == .recognized }
    }

    /// What became of a file: read, or (met in a folder walk, not a model) passed by, with why.
    enum Loaded {
        case model(Model)
        case skipped(String)
    }

    /// Reads a file named on the command line, or one met in a folder walk if a format recognises it. A Git
    /// LFS pointer named as a model is an error: the model it stands for was never checked out (other LFS
    /// files, images or datasets, are passed by).
    static func load(_ item: FileCollector.Item, threads: Int) throws(ReadError) -> Loaded {
        guard item.foundInFolder else { return .model(try load(path: item.path, threads: threads)) }
        let file: ModelFile
        do { file = try ModelFile(path: item.path, threads: threads) } catch { return .skipped("unreadable") }
        if let format = recognizedFormat(file) { return .model(try format.read(file)) }
        if let pointer = GitLFSPointer(file.prefix) {
            let suffix = URL(fileURLWithPath: item.path).pathExtension.lowercased()
            guard Registry.formats.contains(where: { $0.fileExtensions.contains(suffix) }) else { return .skipped("Git LFS pointers") }
            throw .notThisFormat(pointer.explanation)
        }
        return .skipped(file.prefix.isEmpty ? "empty" : "not a model format tensorlint reads")
    }
}

/// What a checkout without `git lfs pull` holds in place of a large file: a few lines naming the object
/// (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
struct GitLFSPointer {
    /// The object's size in bytes, when the pointer says.
    let size: Int?

    init?(_ prefix: [UInt8]) {
        guard prefix.starts(with: Array("version https://git-lfs.github.com/spec/v1\n".utf8)) else { return nil }
        let text = String(decoding: prefix, as: UTF8.self)
        size = text.split(separator: "\n").first { $0.hasPrefix("size ") }.flatMap { Int($0.dropFirst(5)) }
    }

    var explanation: String {
        let object = size.map { " to a \(ByteCountFormatter.string(fromByteCount: Int64($0), countStyle: .file)) object" } ?? ""
        return "Git LFS pointer\(object), not the model: run `git lfs pull` (in CI, check out with `lfs: true`)"
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
