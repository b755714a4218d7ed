import Foundation
import TensorlintIR

/// The zip container torch writes (`torch.export.save`, `torch.jit.save`, `torch.save`), read through a memory
/// map of the file. Bounded reads of its entries: a hostile archive cannot make us allocate more than `limit`.
public struct ZipEntries {
    public let path: String
    /// Each entry's directory record, by name.
    public let entriesByName: [String: ZipRecord]
    /// Entry names in the archive's order.
    public let names: [String]

    public static let maximumJSONBytes: UInt64 = 1 << 30

    /// The directory as tensorlint reads it, over the mapped file: where each entry's bytes lie.
    public let directory: ZipCentralDirectory

    /// The archive's directory, read and checked (`ZipCentralDirectory.verifyLayout`): names are unique.
    public init(path: String) throws(ReadError) {
        let directory = try ZipCentralDirectory(ByteSource(mapped: MappedFile(path: path)))
        try directory.verifyLayout()
        self.path = path
        self.directory = directory
        names = directory.records.map(\.name)
        entriesByName = Dictionary(directory.records.map { ($0.name, $0) }) { first, _ in first }
    }

    public func data(_ name: String, limit: UInt64 = maximumJSONBytes) throws(ReadError) -> Data {
        try withData(name, limit: limit) { bytes, _ in Data(bytes) }
    }

    /// The entry's bytes, checked against the CRC-32 the directory records, handed to `body`: a stored entry's in
    /// place in the memory map, a deflated one's inflated first. With them, the pages that `body`, reading them
    /// once from front to back, may give back (the checksum gives them back as it goes, too).
    public func withData<Result>(_ name: String, limit: UInt64 = maximumJSONBytes,
                                 _ body: (UnsafeRawBufferPointer, inout PassedPages) throws(ReadError) -> Result) throws(ReadError) -> Result {
        guard let record = entriesByName[name] else { throw .malformed("missing archive entry \(name)") }
        guard record.uncompressedSize <= limit else {
            throw .tooLarge("archive entry \(name) declares \(record.uncompressedSize) bytes (limit \(limit))")
        }
        func checked(_ bytes: UnsafeRawBufferPointer, _ pages: PassedPages) throws(ReadError) -> Result {
            var checksumPages = pages
            guard ZipChecksum.of(bytes, passing: &checksumPages) == record.crc32 else {
                throw .malformed("archive entry \(name): its bytes do not match the CRC-32 the directory records")
            }
            var pages = pages
            return try body(bytes, &pages)
        }
        switch record.method {
        case 0: return try directory.withStoredBytes(record, limit: limit, checked)
        case 8: return try ByteSource.withBytes(of: try directory.inflatedBytes(record, limit: limit)) { bytes throws(ReadError) in try checked(bytes, .kept) }
        default: throw .malformed("archive entry \(name) is compressed with method \(record.method), which torch never writes")
        }
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
