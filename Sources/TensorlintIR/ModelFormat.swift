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

    /// The cause alone, without the kind of failure.
    public var reason: String {
        switch self {
        case .unreadable(let why), .notThisFormat(let why), .malformed(let why), .tooLarge(let why): return why
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let why): return "cannot read file: \(why)"
        case .notThisFormat(let why): return "not a model file: \(why)"
        case .malformed(let why): return "malformed model: \(why)"
        case .tooLarge(let why): return "too large: \(why)"
        }
    }
}

/// A model file format: how a file is recognised, read into the IR and, where the format supports edits,
/// written back. Readers know nothing of rules. The formats tensorlint handles are one list (the CLI's
/// `Registry`), asked in order.
public protocol ModelFormat: Sendable {
    static var id: Model.Format { get }
    /// How messages name the format: `a torch.export .pt2 archive`.
    static var displayName: String { get }
    /// The extensions its files are usually named with (never used to recognise one): a placeholder met in a
    /// folder walk, such as a Git LFS pointer, is a model that was not checked out only under such a name.
    static var fileExtensions: [String] { get }
    /// Whether this format reads the file, judged from its first bytes and, for containers, their entries.
    static func recognize(_ file: ModelFile) -> Recognition
    static func read(_ file: ModelFile) throws(ReadError) -> Model
    /// The writer that carries out fixes, if the format has one.
    static var writer: (any ModelWriter.Type)? { get }
}

extension ModelFormat {
    /// Reads the file at `path`, which this format is known to read.
    public static func read(fileAt path: String) throws(ReadError) -> Model {
        try read(ModelFile(path: path))
    }
}

/// A file being recognised and read: its first bytes, and what the formats open of it (a zip's directory),
/// opened once for all of them: recognising a container by its entries and then reading it must not read
/// its directory again for each format that asks.
public final class ModelFile {
    public let path: String
    public let prefix: [UInt8]
    /// Threads its reader may use (one, unless the caller has cores to spare for one large file).
    public let threads: Int
    /// View type → what opening the file as it gave (the view, or the error).
    private var views: [ObjectIdentifier: Any] = [:]

    public init(path: String, threads: Int = 1) throws(ReadError) {
        self.path = path
        self.threads = threads
        prefix = try FilePrefix.read(path)
    }

    /// What `open` makes of the file, or the error it gives: made the first time a view of this type is asked for.
    public func view<View>(_ open: (String) throws(ReadError) -> View) throws(ReadError) -> View {
        let key = ObjectIdentifier(View.self)
        if let opened = views[key] as? Result<View, ReadError> { return try opened.get() }
        let opened = Result { () throws(ReadError) -> View in try open(path) }
        views[key] = opened
        return try opened.get()
    }
}

/// A format's verdict on a file.
public enum Recognition: Sendable, Equatable {
    /// The content is this format's.
    case recognized
    /// The file carries this format's signature (or its container's), but the content does not confirm it:
    /// damaged, or a container whose entries are another format's. A file named explicitly is read by the
    /// only format with this verdict, so that its damage is reported; the reason says what is missing.
    case signature(reason: String)
    case unrecognized
}

/// The first bytes of a file, which decide its format: enough for a signature, or for the first fields of
/// a format without one (ONNX).
public enum FilePrefix {
    public static let length = 256

    /// The first bytes of a regular file. A FIFO, socket or device is refused without blocking (opened
    /// non-blocking and checked before anything is read): a pre-commit hook must never hang on one.
    public static func read(_ path: String) throws(ReadError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(reason(errno)) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .unreadable(reason(errno)) }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .unreadable("is a directory")
        case S_IFIFO: throw .unreadable("a FIFO (named pipe), not a regular file")
        case S_IFSOCK: throw .unreadable("a socket, not a regular file")
        case S_IFCHR, S_IFBLK: throw .unreadable("a device, not a regular file")
        default: throw .unreadable("not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: length)
        var filled = 0
        while filled < length {
            let count = bytes.withUnsafeMutableBytes { buffer in
                Foundation.read(descriptor, buffer.baseAddress! + filled, length - filled)
            }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw .unreadable(reason(errno)) }
            if count == 0 { break }
            filled += count
        }
        return Array(bytes[..<filled])
    }

    /// The cause of a failed open or read, in words.
    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "permission denied"
        case ELOOP: return "a loop of symbolic links"
        case ENOTDIR: return "a folder in its path is a file"
        case ENAMETOOLONG: return "the path is too long"
        default: return String(cString: strerror(code))
        }
    }
}
