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

    public init(path: String) throws(ReadError) {
        let url = URL(fileURLWithPath: path)
        try ZipDirectoryCheck.check(path: path)
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
        self.archive = archive
        self.path = path
        self.entriesByName = byName
        self.names = names
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
            _ = try archive.extract(entry, bufferSize: 1 << 16, skipCRC32: false) { chunk in
                guard UInt64(data.count + chunk.count) <= limit else { throw ReadError.tooLarge("archive entry \(name)") }
                data.append(chunk)
            }
        } catch let error as ReadError {
            throw error
        } catch {
            throw .malformed("archive entry \(name) cannot be extracted (truncated or corrupted)")
        }
        return data
    }

    /// A new stored archive at `destination` with this archive's entries in their order, each as `contents`
    /// gives it (`nil`: left out), flushed to disk. One entry is held at a time.
    public func copy(to destination: String, contents: (String) throws -> Data?) throws {
        guard !FileManager.default.fileExists(atPath: destination) else { throw WriteError("\(destination) already exists") }
        let output = try Archive(url: URL(fileURLWithPath: destination), accessMode: .create)
        for name in names {
            guard let data = try contents(name) else { continue }
            try output.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .none) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        let descriptor = open(destination, O_RDONLY)
        guard descriptor >= 0, fsync(descriptor) == 0 else { throw WriteError("cannot flush \(destination)") }
        close(descriptor)
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
