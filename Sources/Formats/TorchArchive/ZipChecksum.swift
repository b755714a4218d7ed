import Foundation
import TensorlintIR

/// Zip's CRC-32 (IEEE 802.3, reflected), eight bytes a step ("slice-by-8"): ZIPFoundation's table takes a
/// byte a step, and every entry tensorlint reads or writes is checked.
public enum ZipChecksum {
    /// Table `t` holds, for each byte, its CRC advanced by `t` more zero bytes.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
            tables[byte] = crc
        }
        for table in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(table - 1) * 256 + byte]
                tables[table * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    public static func of(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { of(UnsafeRawBufferPointer($0)) }
    }

    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var pages = PassedPages.kept
        return of(bytes, passing: &pages)
    }

    /// The checksum of `bytes`, giving back their pages as it passes them.
    public static func of(_ bytes: UnsafeRawBufferPointer, passing pages: inout PassedPages) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        var done = 0
        while done < bytes.count {
            let end = min(bytes.count, done + PassedPages.step)
            crc = update(crc, UnsafeRawBufferPointer(rebasing: bytes[done..<end]))
            pages.passed(end)
            done = end
        }
        return crc ^ 0xFFFF_FFFF
    }

    private static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var crc = crc
            var index = 0
            while index + 8 <= bytes.count {
                let low = crc ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian
                let high = bytes.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
                crc = table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                index += 8
            }
            while index < bytes.count {
                crc = (crc >> 8) ^ table[Int((crc ^ UInt32(bytes[index])) & 0xFF)]
                index += 1
            }
            return crc
        }
    }
}
