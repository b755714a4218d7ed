import Foundation
import TensorlintIR

/// Writes a zip of stored entries as torch's `PyTorchStreamWriter` does: each entry's bytes aligned to 64
/// (padding in an extra field), the directory written once at the end, ZIP64 records where sizes, offsets or
/// the entry count need them. One pass, so writing N entries costs N (ZIPFoundation rewrites its directory
/// after every entry it adds, which is quadratic).
public struct StoredZipWriter {
    static let alignment = 64
    /// The extra-field id torch pads with (`'F' 'B'`).
    static let paddingField: UInt16 = 0x4246

    private let sink: (Data) throws -> Void
    private var offset: UInt64 = 0
    private var directory = Data()
    private var count = 0
    /// What was written, in order: name, CRC-32, size.
    public private(set) var written: [(name: String, crc32: UInt32, size: UInt64)] = []

    /// `sink` receives the archive's bytes in order.
    public init(sink: @escaping (Data) throws -> Void) {
        self.sink = sink
    }

    private static func little<T: FixedWidthInteger>(_ value: T, into data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    public mutating func add(_ name: String, _ contents: Data) throws {
        let nameBytes = Data(name.utf8)
        let size = UInt64(contents.count)
        let crc = ZipChecksum.of(contents)
        let large = size >= 0xFFFF_FFFF || offset >= 0xFFFF_FFFF
        var header = Data()
        Self.little(UInt32(0x0403_4B50), into: &header)
        Self.little(UInt16(large ? 45 : 20), into: &header)
        Self.little(UInt16(name.utf8.allSatisfy { $0 < 0x80 } ? 0 : 0x0800), into: &header)   // bit 11: the name is UTF-8
        Self.little(UInt16(0), into: &header)                                                  // stored
        Self.little(UInt32(0), into: &header)                                                  // time and date
        Self.little(crc, into: &header)
        Self.little(UInt32(large ? 0xFFFF_FFFF : size), into: &header)
        Self.little(UInt32(large ? 0xFFFF_FFFF : size), into: &header)
        Self.little(UInt16(nameBytes.count), into: &header)
        var extra = Data()
        if large {
            Self.little(UInt16(1), into: &extra)
            Self.little(UInt16(16), into: &extra)
            Self.little(size, into: &extra)
            Self.little(size, into: &extra)
        }
        // Pad so that the bytes start on a multiple of 64, as torch's reader expects for mmap loading.
        let unpadded = Int(offset) + 30 + nameBytes.count + extra.count
        if unpadded % Self.alignment != 0 {
            let padding = (Self.alignment - (unpadded + 4) % Self.alignment) % Self.alignment
            Self.little(Self.paddingField, into: &extra)
            Self.little(UInt16(padding), into: &extra)
            extra.append(Data(repeating: 0x5A, count: padding))
        }
        Self.little(UInt16(extra.count), into: &header)
        header.append(nameBytes)
        header.append(extra)

        var record = Data()
        Self.little(UInt32(0x0201_4B50), into: &record)
        Self.little(UInt16(45), into: &record)                                                 // made by
        record.append(header[4..<28])                                                          // version needed … name length
        Self.little(UInt16(large ? 28 : 0), into: &record)                                     // extra length
        Self.little(UInt16(0), into: &record)                                                  // comment length
        Self.little(UInt16(0), into: &record)                                                  // disk
        Self.little(UInt16(0), into: &record)                                                  // internal attributes
        Self.little(UInt32(0o100644 << 16), into: &record)                                     // a regular file, rw-r--r--
        Self.little(UInt32(large ? 0xFFFF_FFFF : offset), into: &record)
        record.append(nameBytes)
        if large {
            Self.little(UInt16(1), into: &record)
            Self.little(UInt16(24), into: &record)
            Self.little(size, into: &record)
            Self.little(size, into: &record)
            Self.little(offset, into: &record)
        }
        directory.append(record)
        try sink(header)
        try sink(contents)
        offset += UInt64(header.count) + size
        count += 1
        written.append((name, crc, size))
    }

    /// The central directory and the end records.
    public mutating func finish() throws {
        var tail = directory
        let directoryOffset = offset, directorySize = UInt64(directory.count)
        let large = count >= 0xFFFF || directoryOffset >= 0xFFFF_FFFF || directorySize >= 0xFFFF_FFFF
        if large {
            let recordOffset = directoryOffset + directorySize
            Self.little(UInt32(0x0606_4B50), into: &tail)
            Self.little(UInt64(44), into: &tail)
            Self.little(UInt16(45), into: &tail)
            Self.little(UInt16(45), into: &tail)
            Self.little(UInt32(0), into: &tail)
            Self.little(UInt32(0), into: &tail)
            Self.little(UInt64(count), into: &tail)
            Self.little(UInt64(count), into: &tail)
            Self.little(directorySize, into: &tail)
            Self.little(directoryOffset, into: &tail)
            Self.little(UInt32(0x0706_4B50), into: &tail)
            Self.little(UInt32(0), into: &tail)
            Self.little(recordOffset, into: &tail)
            Self.little(UInt32(1), into: &tail)
        }
        Self.little(UInt32(0x0605_4B50), into: &tail)
        Self.little(UInt32(0), into: &tail)
        Self.little(UInt16(large ? 0xFFFF : count), into: &tail)
        Self.little(UInt16(large ? 0xFFFF : count), into: &tail)
        Self.little(UInt32(large ? 0xFFFF_FFFF : directorySize), into: &tail)
        Self.little(UInt32(large ? 0xFFFF_FFFF : directoryOffset), into: &tail)
        Self.little(UInt16(0), into: &tail)
        try sink(tail)
    }
}
