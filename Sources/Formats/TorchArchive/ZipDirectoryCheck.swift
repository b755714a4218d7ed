import Foundation
import TensorlintIR

/// The end records of a zip archive checked against the archive's size before anything reads the directory:
/// a directory offset or size past the end (a ZIP64 offset of 2^63, say) traps inside ZIPFoundation, and one
/// such file in a folder would end the whole run. Every sum is checked for overflow.
public enum ZipDirectoryCheck {
    static let endOfDirectory: UInt32 = 0x0605_4B50
    static let zip64Locator: UInt32 = 0x0706_4B50
    static let zip64EndOfDirectory: UInt32 = 0x0606_4B50
    /// The end record (22 bytes) and the longest comment it may carry.
    static let tailLength = 22 + 0xFFFF
    /// The smallest central-directory record: no entry takes less.
    static let smallestRecord: UInt64 = 46

    /// The central directory's place, once the end records agree with the archive's size.
    struct Directory {
        var entries: UInt64
        var offset: UInt64
        var size: UInt64
    }

    @discardableResult
    static func check(_ source: ByteSource) throws(ReadError) -> Directory {
        let size = source.size
        let tailStart = size > UInt64(tailLength) ? size - UInt64(tailLength) : 0
        let bytes = [UInt8](try source.read(tailStart, Int(size - tailStart)))
        func uint(_ at: Int, _ width: Int) -> UInt64 { littleEndian(bytes, at: at, width: width) }
        // The last end record: scanning back from the end, as every zip reader does.
        guard bytes.count >= 22, let end = stride(from: bytes.count - 22, through: 0, by: -1)
            .first(where: { uint($0, 4) == UInt64(endOfDirectory) }) else {
            throw .malformed("not a zip archive: no end-of-central-directory record")
        }
        var entries = uint(end + 10, 2), directorySize = uint(end + 12, 4), directoryOffset = uint(end + 16, 4)
        if entries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: the locator sits just before the end record and names the ZIP64 end record.
            guard end >= 20, uint(end - 20, 4) == UInt64(zip64Locator) else {
                throw .malformed("zip archive: the end record says ZIP64 but there is no ZIP64 locator")
            }
            let recordOffset = uint(end - 20 + 8, 8)
            guard recordOffset < size, size - recordOffset >= 56 else {
                throw .malformed("zip archive: the ZIP64 end record's offset \(recordOffset) lies outside the file (\(size) bytes)")
            }
            let record = [UInt8](try source.read(recordOffset, 56))
            guard record.count == 56 else { throw .malformed("zip archive: truncated ZIP64 end record") }
            func field(_ at: Int) -> UInt64 { littleEndian(record, at: at, width: 8) }
            guard littleEndian(record, at: 0, width: 4) == UInt64(zip64EndOfDirectory) else {
                throw .malformed("zip archive: no ZIP64 end record where the locator points")
            }
            entries = field(32)
            directorySize = field(40)
            directoryOffset = field(48)
        }
        let (directoryEnd, overflow) = directoryOffset.addingReportingOverflow(directorySize)
        guard !overflow, directoryEnd <= size else {
            throw .malformed("zip archive: the central directory (\(directorySize) bytes at offset \(directoryOffset)) lies outside the file (\(size) bytes)")
        }
        guard entries <= directorySize / smallestRecord else {
            throw .malformed("zip archive: \(entries) entries cannot fit in a central directory of \(directorySize) bytes")
        }
        return Directory(entries: entries, offset: directoryOffset, size: directorySize)
    }

    /// The unsigned little-endian number of `width` bytes at `at`, as zip records store every field.
    static func littleEndian<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, at: Int, width: Int) -> UInt64 where Bytes.Index == Int {
        (0..<width).reduce(UInt64(0)) { value, index in value | UInt64(bytes[at + index]) << (8 * UInt64(index)) }
    }
}
