import Foundation

/// Why a reader could not produce a model. The description is one line, without the path:
/// the caller prefixes the file name.
public enum ReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(String)
    /// The file is not of the format the reader handles (wrong magic, missing entries).
    case notThisFormat(String)
    /// The file claims the format but its content is damaged or inconsistent.
    case malformed(String)
    /// The file is larger than the reader is willing to hold in memory.
    case tooLarge(String)

    public var description: String {
        switch self {
        case .unreadable(let why): return "cannot read file: \(why)"
        case .notThisFormat(let why): return "not a model file: \(why)"
        case .malformed(let why): return "malformed model: \(why)"
        case .tooLarge(let why): return "too large: \(why)"
        }
    }
}

/// A format reader: turns a file into the IR. Readers know nothing of rules.
public protocol ModelReader: Sendable {
    static var format: Model.Format { get }
    /// Whether the first bytes carry this format's signature: an explicitly named file that has it
    /// is read (and its damage reported) by this reader.
    static func claims(prefix: [UInt8]) -> Bool
    /// A closer look for files found while walking folders (e.g. a zip that is a torch archive); never throws.
    static func recognizes(fileAt path: String, prefix: [UInt8]) -> Bool
    static func read(fileAt path: String) throws(ReadError) -> Model
}

/// The first bytes of a file, which decide its format: enough for a signature, or for the first fields of
/// a format without one (ONNX).
public enum FilePrefix {
    public static let length = 256

    public static func read(_ path: String) throws(ReadError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .unreadable("no such file") }
        guard !isDirectory.boolValue else { throw .unreadable("is a directory") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable("permission denied") }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.read(upToCount: length) ?? Data())
        } catch {
            throw .unreadable(error.localizedDescription)
        }
    }
}
