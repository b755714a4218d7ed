import Foundation
import TensorlintIR
import ZIPFoundation

/// The zip container torch writes (`torch.export.save`, `torch.jit.save`, `torch.save`).
/// Bounded reads of its entries: a hostile archive cannot make us allocate more than `limit`.
public struct ZipEntries {
    public let archive: Archive
    public let path: String
    public let entriesByName: [String: Entry]
    /// Entry names in the archive's order.
    public let names: [String]

    public static let maximumJSONBytes: UInt64 = 1 << 30

    /// CRC-32 of each entry, as the central directory records it.
    private let checksums: [String: UInt32]
    /// The directory as tensorlint reads it, over the mapped file: where each entry's bytes lie.
    public let directory: ZipCentralDirectory

    /// The archive's directory, read and checked by tensorlint (`ZipCentralDirectory.verifyLayout`) before
    /// ZIPFoundation opens it, which must then list the same entries: it stops silently at a bad record.
    public init(path: String) throws(ReadError) {
        let url = URL(fileURLWithPath: path)
        let directory = try ZipCentralDirectory(ByteSource(mapped: MappedFile(path: path)))
        try directory.verifyLayout()
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw .malformed("unreadable zip archive (truncated or corrupted)")
        }
        var byName: [String: Entry] = [:]
        var names: [String] = []
        for entry in archive {
            let name = Self.name(of: entry)
            names.append(name)
            byName[name] = entry
        }
        guard names.count == directory.records.count else {
            throw .malformed("zip archive: \(names.count) of its \(directory.records.count) entries can be read")
        }
        self.archive = archive
        self.path = path
        self.entriesByName = byName
        self.names = names
        // In directory order, as both list them (ZIPFoundation decodes names that are not UTF-8 its own way).
        checksums = Dictionary(zip(names, directory.records.map(\.crc32))) { first, _ in first }
        self.directory = directory
    }

    /// The entry's name. Names of ASCII bytes (what torch writes) read the same in UTF-8 and in code page
    /// 437, the encoding zip assumes without the UTF-8 flag: they are decoded at once, where ZIPFoundation's
    /// `path` maps code page 437 byte by byte.
    static func name(of entry: Entry) -> String {
        let name = entry.path(using: .utf8)
        return !name.isEmpty && name.utf8.allSatisfy({ $0 < 0x80 }) ? name : entry.path
    }

    public func data(_ name: String, limit: UInt64 = maximumJSONBytes) throws(ReadError) -> Data {
        guard let entry = entriesByName[name] else { throw .malformed("missing archive entry \(name)") }
        guard entry.uncompressedSize <= limit else {
            throw .tooLarge("archive entry \(name) declares \(entry.uncompressedSize) bytes (limit \(limit))")
        }
        var data = Data()
        data.reserveCapacity(Int(entry.uncompressedSize))
        do {
            // The CRC-32 is checked once, below, against the central directory.
            _ = try archive.extract(entry, bufferSize: 1 << 16, skipCRC32: true) { chunk in
                guard UInt64(data.count + chunk.count) <= limit else { throw ReadError.tooLarge("archive entry \(name)") }
                data.append(chunk)
            }
        } catch let error as ReadError {
            throw error
        } catch {
            throw .malformed("archive entry \(name) cannot be extracted (truncated or corrupted)")
        }
        guard ZipChecksum.of(data) == checksums[name] else {
            throw .malformed("archive entry \(name): its bytes do not match the CRC-32 the directory records")
        }
        return data
    }

    /// A new stored archive at `destination` with this archive's entries in their order, each as `contents`
    /// gives it (`nil`: left out), flushed to disk. One entry is held at a time.
    public func copy(to destination: String, contents: (String) throws -> Data?) throws {
        let descriptor = open(destination, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw WriteError("cannot create \(destination): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var writer = StoredZipWriter { try handle.write(contentsOf: $0) }
        for name in names {
            guard let data = try contents(name) else { continue }
            try writer.add(name, data)
        }
        try writer.finish()
        try handle.synchronize()
        try Self.verify(destination, holds: writer.written)
    }

    /// The archive on disk, read back, holds exactly the entries written, with their sizes and CRC-32s: a
    /// short write or a lost entry fails the fix before its output replaces anything.
    static func verify(_ path: String, holds written: [(name: String, crc32: UInt32, size: UInt64)]) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw WriteError("\(path): cannot read back the written archive") }
        defer { try? handle.close() }
        let records: [ZipRecord]
        do {
            let directory = try ZipCentralDirectory(ByteSource(handle: handle, size: try handle.seekToEnd()))
            try directory.verifyLayout()
            records = directory.records
        } catch {
            throw WriteError("\(path): the written archive does not read back: \(error)")
        }
        guard records.map(\.name) == written.map(\.name),
              zip(records, written).allSatisfy({ $0.crc32 == $1.crc32 && $0.uncompressedSize == $1.size }) else {
            throw WriteError("\(path): the written archive does not hold what was written")
        }
    }

    public func text(_ name: String) -> String? {
        guard let data = try? data(name, limit: 4096) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}

extension ModelFile {
    /// The file's zip directory, read once for every torch format that asks.
    public func zipEntries() throws(ReadError) -> ZipEntries {
        try view(ZipEntries.init(path:))
    }
}
