import Foundation
import SystemZlib
import TensorlintIR

/// Bytes read by offset from a file, or from a range of one (a `torch.save` archive stored inside another).
public struct ByteSource {
    public let size: UInt64
    private let readAt: (UInt64, Int) throws(ReadError) -> Data
    /// The source's bytes in memory, when it is a memory map (or a range of one): read in place, never copied.
    private let mapped: UnsafeRawBufferPointer?
    /// The file `mapped` lies in, which can give back pages a reading has passed.
    private let file: MappedFile?

    /// Reads through `handle`, which the caller keeps open while the source is used.
    public init(handle: FileHandle, size: UInt64) {
        self.size = size
        mapped = nil
        file = nil
        readAt = { offset, count throws(ReadError) in
            do {
                try handle.seek(toOffset: offset)
                return try handle.read(upToCount: count) ?? Data()
            } catch {
                throw .unreadable(error.localizedDescription)
            }
        }
    }

    /// Reads the file `mapped` holds, kept mapped while the source is used.
    public init(mapped file: MappedFile) {
        size = UInt64(file.bytes.count)
        // `readAt` holds the file, and with it the memory `mapped` points to, as long as the source lives.
        mapped = file.bytes
        self.file = file
        readAt = { offset, count in
            let from = Int(offset), to = min(file.bytes.count, from + count)
            return from < to ? Data(UnsafeRawBufferPointer(rebasing: file.bytes[from..<to])) : Data()
        }
    }

    public init(data: Data) {
        size = UInt64(data.count)
        mapped = nil
        file = nil
        readAt = { offset, count in
            let from = data.startIndex + Int(offset), to = min(data.endIndex, from + count)
            return from < to ? data.subdata(in: from..<to) : Data()
        }
    }

    private init(size: UInt64, mapped: UnsafeRawBufferPointer?, file: MappedFile?, readAt: @escaping (UInt64, Int) throws(ReadError) -> Data) {
        self.size = size
        self.mapped = mapped
        self.file = file
        self.readAt = readAt
    }

    /// `count` bytes at `offset`, all of them: fewer is a truncated file.
    public func read(_ offset: UInt64, _ count: Int) throws(ReadError) -> Data {
        try checkBounds(offset, count)
        let data = try readAt(offset, count)
        guard data.count == count else { throw .malformed("zip archive: truncated at offset \(offset + UInt64(data.count))") }
        return data
    }

    /// `count` bytes at `offset` handed to `body`: in place when the source is a memory map (a 300 MB program
    /// is not copied next to its map), else read first.
    public func withBytes<Result>(_ offset: UInt64, _ count: Int,
                                  _ body: (UnsafeRawBufferPointer) throws(ReadError) -> Result) throws(ReadError) -> Result {
        try checkBounds(offset, count)
        if let mapped { return try body(UnsafeRawBufferPointer(rebasing: mapped[Int(offset)..<Int(offset) + count])) }
        return try Self.withBytes(of: try read(offset, count), body)
    }

    /// Pages of `bytes` (handed out by `withBytes`) that a reading from front to back may give back.
    public func passedPages(of bytes: UnsafeRawBufferPointer) -> PassedPages {
        file?.passedPages(of: bytes) ?? .kept
    }

    /// `data`'s bytes handed to `body` (`Data.withUnsafeBytes` rethrows untyped errors: the outcome is carried out
    /// of it as a typed result).
    public static func withBytes<Result>(of data: Data, _ body: (UnsafeRawBufferPointer) throws(ReadError) -> Result) throws(ReadError) -> Result {
        try data.withUnsafeBytes { bytes in Swift.Result { () throws(ReadError) -> Result in try body(bytes) } }.get()
    }

    private func checkBounds(_ offset: UInt64, _ count: Int) throws(ReadError) {
        guard count >= 0, offset <= size, UInt64(count) <= size - offset else {
            throw .malformed("zip archive: \(count) bytes at offset \(offset) lie outside its \(size) bytes")
        }
    }

    /// The bytes `range` of this source, as a source of their own.
    public func slice(_ range: Range<UInt64>) -> ByteSource {
        let base = range.lowerBound
        let view = range.upperBound <= size ? mapped.map { UnsafeRawBufferPointer(rebasing: $0[Int(base)..<Int(range.upperBound)]) } : nil
        return ByteSource(size: UInt64(range.count), mapped: view, file: view == nil ? nil : file) { offset, count throws(ReadError) in try self.readAt(base + offset, count) }
    }
}

/// One record of a zip's central directory.
public struct ZipRecord: Sendable {
    public var name: String
    /// 0: stored, 8: deflated.
    public var method: UInt16
    public var crc32: UInt32
    public var compressedSize: UInt64
    public var uncompressedSize: UInt64
    public var localHeaderOffset: UInt64
}

/// A zip's central directory read by tensorlint itself: where each entry's bytes lie, so that entries (and an
/// archive stored inside another) are read in place, never copied to memory. Every record's fields are
/// checked against the archive's size; its local header must name the same entry.
public struct ZipCentralDirectory {
    public let records: [ZipRecord]
    private let source: ByteSource

    /// Directories larger than this are hostile: torch's hold a few hundred bytes per tensor.
    static let maximumDirectoryBytes: UInt64 = 256 << 20

    public init(_ source: ByteSource) throws(ReadError) {
        let directory = try ZipDirectoryCheck.check(source)
        guard directory.size <= Self.maximumDirectoryBytes else {
            throw .tooLarge("zip archive: a central directory of \(directory.size) bytes (limit \(Self.maximumDirectoryBytes))")
        }
        let bytes = [UInt8](try source.read(directory.offset, Int(directory.size)))
        var records: [ZipRecord] = []
        var position = 0
        func uint(_ at: Int, _ width: Int) -> UInt64 { ZipDirectoryCheck.littleEndian(bytes, at: at, width: width) }
        while records.count < directory.entries {
            guard bytes.count - position >= 46, uint(position, 4) == 0x0201_4B50 else {
                throw .malformed("zip archive: central-directory record \(records.count + 1) of \(directory.entries) is missing or damaged")
            }
            let nameLength = Int(uint(position + 28, 2)), extraLength = Int(uint(position + 30, 2)), commentLength = Int(uint(position + 32, 2))
            let end = position + 46 + nameLength + extraLength + commentLength
            guard end <= bytes.count else { throw .malformed("zip archive: central-directory record \(records.count + 1) runs past the directory") }
            var record = ZipRecord(name: String(decoding: bytes[position + 46..<position + 46 + nameLength], as: UTF8.self),
                                   method: UInt16(uint(position + 10, 2)), crc32: UInt32(uint(position + 16, 4)),
                                   compressedSize: uint(position + 20, 4), uncompressedSize: uint(position + 24, 4),
                                   localHeaderOffset: uint(position + 42, 4))
            // ZIP64 extra field: the 8-byte values of the fields that are all ones, in this order.
            var extra = position + 46 + nameLength
            let extraEnd = extra + extraLength
            while extraEnd - extra >= 4 {
                let id = uint(extra, 2), length = Int(uint(extra + 2, 2))
                guard extraEnd - extra - 4 >= length else { break }
                if id == 1 {
                    var field = extra + 4
                    for keyPath in [\ZipRecord.uncompressedSize, \ZipRecord.compressedSize, \ZipRecord.localHeaderOffset]
                    where record[keyPath: keyPath] == 0xFFFF_FFFF && extra + 4 + length - field >= 8 {
                        record[keyPath: keyPath] = uint(field, 8)
                        field += 8
                    }
                }
                extra += 4 + length
            }
            guard record.localHeaderOffset < source.size, record.compressedSize <= source.size else {
                throw .malformed("zip archive: entry \(record.name) lies outside the archive")
            }
            records.append(record)
            position = end
        }
        // An end record that counts fewer entries than the directory holds (a count past 65,535 without ZIP64
        // wraps around): the rest would be lost without a word.
        if bytes.count - position >= 4, uint(position, 4) == 0x0201_4B50 {
            throw .malformed("zip archive: the central directory holds more records than its end record counts (\(directory.entries))")
        }
        self.records = records
        self.source = source
        self.directoryOffset = directory.offset
    }

    private let directoryOffset: UInt64

    /// Each record's local header names the same entry, stored entries hold as many bytes as they declare,
    /// names are unique, and no entry's bytes overlap another's or the directory: a record that lies about its
    /// size, or many records that share one entry's bytes (a zip bomb for whatever copies each), is refused.
    public func verifyLayout() throws(ReadError) {
        var spans: [(start: UInt64, end: UInt64, name: String)] = []
        var names = Set<String>()
        spans.reserveCapacity(records.count)
        for record in records {
            guard names.insert(record.name).inserted else { throw .malformed("zip archive: two entries are named \(record.name)") }
            if record.method == 0, record.compressedSize != record.uncompressedSize {
                throw .malformed("zip archive: stored entry \(record.name) declares \(record.compressedSize) bytes and \(record.uncompressedSize) uncompressed")
            }
            let range = try dataRange(of: record)
            spans.append((record.localHeaderOffset, range.upperBound, record.name))
        }
        spans.sort { $0.start < $1.start }
        for (index, span) in spans.enumerated() {
            let next = spans.indices.contains(index + 1) ? spans[index + 1] : nil
            guard span.end > next?.start ?? directoryOffset else { continue }
            throw .malformed("zip archive: entry \(span.name)'s bytes overlap \(next.map { "entry " + $0.name } ?? "the central directory")")
        }
    }

    /// The fields of an entry's local header that `dataRange` checks.
    private struct LocalHeader {
        let signature: UInt32
        let flags: UInt16
        let compressedSize: UInt32
        let uncompressedSize: UInt32
        let nameLength: UInt16
        let extraLength: UInt16

        init(_ bytes: UnsafeRawBufferPointer) {
            func field<Field: FixedWidthInteger>(_ at: Int) -> Field {
                Field(truncatingIfNeeded: ZipDirectoryCheck.littleEndian(bytes, at: at, width: Field.bitWidth / 8))
            }
            signature = field(0)
            flags = field(6)
            compressedSize = field(18)
            uncompressedSize = field(22)
            nameLength = field(26)
            extraLength = field(28)
        }
    }

    /// Where the record's bytes lie, from its local header, which must name the same entry.
    public func dataRange(of record: ZipRecord) throws(ReadError) -> Range<UInt64> {
        // Read in place, its fields only (every entry of a large archive passes here).
        let header = try source.withBytes(record.localHeaderOffset, 30) { bytes throws(ReadError) in LocalHeader(bytes) }
        guard header.signature == 0x0403_4B50 else { throw .malformed("zip archive: entry \(record.name) has no local header where the directory points") }
        let nameLength = Int(header.nameLength), extraLength = Int(header.extraLength)
        var name = record.name
        let localName = try source.withBytes(record.localHeaderOffset + 30, nameLength) { bytes throws(ReadError) in
            name.withUTF8 { $0.elementsEqual(bytes) } ? nil : [UInt8](bytes)
        }
        if let localName {
            throw .malformed("zip archive: entry \(record.name) is named `\(String(decoding: localName, as: UTF8.self))` in its local header")
        }
        // Sizes in the local header must be the directory's (zero with a data descriptor, all ones with ZIP64):
        // a reader that trusts the local ones allocates what they say (4 GB, found by fuzzing).
        let usesDescriptor = header.flags & 0x8 != 0
        func check(_ local: UInt32, against central: UInt64) throws(ReadError) {
            guard (usesDescriptor && local == 0) || local == 0xFFFF_FFFF || UInt64(local) == central else {
                throw .malformed("zip archive: entry \(record.name)'s local header says \(local) bytes where the directory says \(central)")
            }
        }
        try check(header.compressedSize, against: record.compressedSize)
        try check(header.uncompressedSize, against: record.uncompressedSize)
        let start = record.localHeaderOffset + 30 + UInt64(nameLength + extraLength)
        let (end, overflow) = start.addingReportingOverflow(record.compressedSize)
        guard !overflow, end <= source.size else { throw .malformed("zip archive: entry \(record.name)'s \(record.compressedSize) bytes run past the archive") }
        return start..<end
    }

    /// A stored entry's bytes as a source of their own (a nested archive read in place).
    public func storedSource(_ record: ZipRecord) throws(ReadError) -> ByteSource? {
        guard record.method == 0 else { return nil }
        return source.slice(try dataRange(of: record))
    }

    /// A stored entry's bytes, at most `limit` of them, handed to `body` (in place when the archive is mapped)
    /// with the pages that a reading of them from front to back may give back.
    public func withStoredBytes<Result>(_ record: ZipRecord, limit: UInt64,
                                        _ body: (UnsafeRawBufferPointer, PassedPages) throws(ReadError) -> Result) throws(ReadError) -> Result {
        guard record.method == 0 else { throw .malformed("archive entry \(record.name) is not stored but compressed (method \(record.method))") }
        guard record.compressedSize <= limit else { throw .tooLarge("archive entry \(record.name) holds \(record.compressedSize) bytes (limit \(limit))") }
        let range = try dataRange(of: record)
        return try source.withBytes(range.lowerBound, Int(range.count)) { bytes throws(ReadError) in
            try body(bytes, source.passedPages(of: bytes))
        }
    }

    /// A deflated entry's bytes, inflated from the file a chunk at a time. Inflation stops as soon as the bytes
    /// pass what the directory records or `limit`, and a stream that needs more bytes than the entry holds, or
    /// inflates to fewer than the directory records, is refused.
    public func inflatedBytes(_ record: ZipRecord, limit: UInt64) throws(ReadError) -> Data {
        let range = try dataRange(of: record)
        // zlib keeps the stream's address (and checks it): it must not move between calls.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deinitialize(count: 1).deallocate() }
        // Raw deflate, as zip stores it (no zlib header).
        guard inflateInit2_(stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .unreadable("zlib cannot start inflating")
        }
        defer { inflateEnd(stream) }
        let chunkSize = 1 << 16
        var inflated = Data()
        inflated.reserveCapacity(Int(min(record.uncompressedSize, limit)))
        var output = [UInt8](repeating: 0, count: chunkSize)
        var input: [UInt8] = [], used = 0, offset = range.lowerBound
        while true {
            if used == input.count, offset < range.upperBound {
                let count = Int(min(UInt64(chunkSize), range.upperBound - offset))
                input = [UInt8](try source.read(offset, count))
                offset += UInt64(count)
                used = 0
            }
            // Called again with no input left: zlib may still hold output for a full buffer.
            let result = input.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { output in
                    stream.pointee.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0 + used) }
                    stream.pointee.avail_in = UInt32(input.count - used)
                    stream.pointee.next_out = output.baseAddress
                    stream.pointee.avail_out = UInt32(output.count)
                    let result = inflate(stream, Z_NO_FLUSH)
                    used = input.count - Int(stream.pointee.avail_in)
                    return result
                }
            }
            let produced = chunkSize - Int(stream.pointee.avail_out)
            let total = UInt64(inflated.count + produced)
            guard total <= record.uncompressedSize else {
                throw .malformed("archive entry \(record.name) inflates past the \(record.uncompressedSize) bytes the directory records")
            }
            guard total <= limit else { throw .tooLarge("archive entry \(record.name) inflates past \(limit) bytes") }
            inflated.append(contentsOf: output[..<produced])
            switch result {
            case Z_STREAM_END:
                guard total == record.uncompressedSize else {
                    throw .malformed("archive entry \(record.name) inflates to \(total) bytes where the directory says \(record.uncompressedSize)")
                }
                return inflated
            case Z_OK: continue
            // No progress: without input left, the stream wants more bytes than the entry holds.
            case Z_BUF_ERROR where used == input.count && offset == range.upperBound:
                throw .malformed("archive entry \(record.name): its deflated stream is truncated")
            default: throw .malformed("archive entry \(record.name) cannot be inflated (corrupted)")
            }
        }
    }
}
